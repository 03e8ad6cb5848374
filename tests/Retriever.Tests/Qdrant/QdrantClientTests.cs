using System.Net;
using System.Text.Json.Nodes;
using Rag.Retriever.Qdrant;
using static Rag.Retriever.Tests.Qdrant.QdrantBodies;

namespace Rag.Retriever.Tests.Qdrant;

/// <summary>
/// The Qdrant client's request sequences, retries and error messages, against a scripted in-process handler
/// whose answers follow Qdrant's OpenAPI spec (no network, no server: this checks our client against the spec).
/// </summary>
public class QdrantClientTests
{
    static async Task<(QdrantVectorIndex Index, ScriptedQdrantHandler Handler)> ReadyIndex(int dimension = 3, QdrantOptions? options = null)
    {
        var handler = new ScriptedQdrantHandler().Then(HttpStatusCode.OK, Collection(dimension));
        var index = new QdrantVectorIndex(options ?? Options(), new HttpClient(handler));
        await index.EnsureReadyAsync(dimension);
        handler.Requests.Clear();
        return (index, handler);
    }

    [Fact]
    public async Task Creates_a_missing_collection_with_its_settings_and_payload_indexes()
    {
        var handler = new ScriptedQdrantHandler()
            .Then(HttpStatusCode.NotFound, Missing("chunks"))
            .Then(HttpStatusCode.OK, Ok)
            .Then(HttpStatusCode.OK, Collection(8, indexed: []))
            .Then(HttpStatusCode.OK, Completed).Then(HttpStatusCode.OK, Completed).Then(HttpStatusCode.OK, Completed);
        using var index = new QdrantVectorIndex(Options(), new HttpClient(handler));
        await index.EnsureReadyAsync(8);

        Assert.Equal(
            ["GET /collections/chunks", "PUT /collections/chunks", "GET /collections/chunks", "PUT /collections/chunks/index?wait=true",
             "PUT /collections/chunks/index?wait=true", "PUT /collections/chunks/index?wait=true"],
            handler.Requests.Select(r => r.Line));
        Assert.All(handler.Requests, r => Assert.Equal("secret", r.ApiKey));
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"vectors":{"size":8,"distance":"Dot","on_disk":true},"shard_number":2,"replication_factor":3}"""),
            handler.Requests[1].Body));
        Assert.Equal(["tenant_id", "document_id", "tags"], handler.Requests.Skip(3).Select(r => r.Body!["field_name"]!.GetValue<string>()));
        Assert.All(handler.Requests.Skip(3), r => Assert.Equal("keyword", r.Body!["field_schema"]!.GetValue<string>()));
    }

    [Fact]
    public async Task An_existing_complete_collection_is_only_read()
    {
        var handler = new ScriptedQdrantHandler().Then(HttpStatusCode.OK, Collection(3));
        using var index = new QdrantVectorIndex(Options(), new HttpClient(handler));
        await index.EnsureReadyAsync(3);
        Assert.Equal(["GET /collections/chunks"], handler.Requests.Select(r => r.Line)); // a read-only API key suffices
    }

    [Fact]
    public async Task An_existing_collection_missing_a_payload_index_gets_it()
    {
        // A process that created the collection and stopped before its payload indexes leaves it like this.
        var handler = new ScriptedQdrantHandler().Then(HttpStatusCode.OK, Collection(3, "Dot", ["tenant_id"])).Then(HttpStatusCode.OK, Completed).Then(HttpStatusCode.OK, Completed);
        using var index = new QdrantVectorIndex(Options(), new HttpClient(handler));
        await index.EnsureReadyAsync(3);
        Assert.Equal(["document_id", "tags"], handler.Requests.Skip(1).Select(r => r.Body!["field_name"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData(HttpStatusCode.Conflict, "Wrong input: Collection `chunks` already exists!")]    // Qdrant ≥ 1.8 (qdrant/qdrant#3422)
    [InlineData(HttpStatusCode.BadRequest, "Wrong input: Collection `chunks` already exists!")]  // Qdrant 1.0 to 1.7
    public async Task A_collection_created_meanwhile_by_another_process_is_used(HttpStatusCode status, string error)
    {
        var handler = new ScriptedQdrantHandler()
            .Then(HttpStatusCode.NotFound, Missing("chunks"))
            .Then(status, Error(error))
            .Then(HttpStatusCode.OK, Collection(3));
        using var index = new QdrantVectorIndex(Options(), new HttpClient(handler));
        await index.EnsureReadyAsync(3);
        Assert.Equal(3, handler.Requests.Count);
    }

    [Fact]
    public async Task A_bad_create_request_is_not_mistaken_for_an_existing_collection()
    {
        var handler = new ScriptedQdrantHandler()
            .Then(HttpStatusCode.NotFound, Missing("chunks"))
            .Then(HttpStatusCode.BadRequest, Error("Bad request: Replication factor 3 is larger than the number of peers 1"));
        using var index = new QdrantVectorIndex(Options(), new HttpClient(handler));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.EnsureReadyAsync(3));
        Assert.Equal("Qdrant at http://qdrant.test:6333 refused PUT /collections/chunks on collection 'chunks': 400 Bad Request: " +
                     "Bad request: Replication factor 3 is larger than the number of peers 1", e.Message);
    }

    [Fact]
    public async Task An_existing_collection_of_another_dimension_is_a_clear_error()
    {
        var handler = new ScriptedQdrantHandler().Then(HttpStatusCode.OK, Collection(768));
        using var index = new QdrantVectorIndex(Options(), new HttpClient(handler));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.EnsureReadyAsync(384));
        Assert.Equal("Qdrant collection 'chunks' holds vectors of dimension 768, but the encoder produces 384. Use the encoder the collection was built with, or another collection name.", e.Message);
        Assert.Single(handler.Requests); // nothing was created or changed
        await Assert.ThrowsAsync<InvalidOperationException>(() => index.UpsertAsync([new VectorRecord("d:0", "t", "d", new float[384], [])])); // still not ready
    }

    [Fact]
    public async Task An_existing_collection_with_another_distance_is_a_clear_error()
    {
        var handler = new ScriptedQdrantHandler().Then(HttpStatusCode.OK, Collection(3, "Cosine"));
        using var index = new QdrantVectorIndex(Options(), new HttpClient(handler));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.EnsureReadyAsync(3));
        Assert.StartsWith("Qdrant collection 'chunks' uses Cosine distance, not Dot.", e.Message);
    }

    [Fact]
    public async Task An_existing_collection_with_named_vectors_is_a_clear_error()
    {
        var named = """
            {"result":{"status":"green","optimizer_status":"ok","segments_count":1,"payload_schema":{},
             "config":{"params":{"vectors":{"image":{"size":512,"distance":"Cosine"},"text":{"size":384,"distance":"Cosine"}}}}},
             "status":"ok","time":0.0001}
            """;
        var handler = new ScriptedQdrantHandler().Then(HttpStatusCode.OK, named);
        using var index = new QdrantVectorIndex(Options(), new HttpClient(handler));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.EnsureReadyAsync(384));
        Assert.Equal("Qdrant collection 'chunks' has no single unnamed vector (it has named vectors: image, text); it was not created by this service. Use another collection name.", e.Message);
    }

    [Fact]
    public async Task Unreachable_qdrant_is_retried_then_reported_clearly()
    {
        var handler = new ScriptedQdrantHandler();
        for (var i = 0; i < 4; i++) handler.Then((_, _) => throw new HttpRequestException("Connection refused (qdrant.test:6333)"));
        using var index = new QdrantVectorIndex(Options(maxRetries: 3), new HttpClient(handler));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.EnsureReadyAsync(3));
        Assert.Equal("Qdrant at http://qdrant.test:6333 is not reachable (GET /collections/chunks): Connection refused (qdrant.test:6333)", e.Message);
        Assert.Equal(4, handler.Requests.Count); // the first attempt and 3 retries
    }

    [Fact]
    public async Task Transient_statuses_are_retried_until_success()
    {
        var (index, handler) = await ReadyIndex();
        handler.Then(HttpStatusCode.ServiceUnavailable, Error("Service unavailable: shard 0 is not active"))
               .Then(HttpStatusCode.TooManyRequests, Error("Rate limiting exceeded"))
               .Then(HttpStatusCode.InternalServerError, Error("Service internal error: flush failed"))
               .Then(HttpStatusCode.OK, """{"result":{"count":7},"status":"ok","time":0.0001}""");
        Assert.Equal(7, await index.CountAsync("t"));
        Assert.Equal(4, handler.Requests.Count);
        Assert.All(handler.Requests, r => Assert.Equal("POST /collections/chunks/points/count", r.Line));
        Assert.All(handler.Requests, r => Assert.True(JsonNode.DeepEquals(handler.Requests[0].Body, r.Body))); // each retry resends the same body
    }

    [Fact]
    public async Task A_503_then_200_on_upsert_is_retried_once()
    {
        var (index, handler) = await ReadyIndex();
        handler.Then(HttpStatusCode.ServiceUnavailable, Error("Service unavailable")).Then(HttpStatusCode.OK, Completed);
        await index.UpsertAsync([new VectorRecord("d:0", "t", "d", [1, 2, 3], [])]);
        Assert.Equal(["PUT /collections/chunks/points?wait=true", "PUT /collections/chunks/points?wait=true"], handler.Requests.Select(r => r.Line));
        Assert.Equal(0, handler.Unanswered);
    }

    [Fact]
    public async Task Retries_give_up_after_MaxRetries_with_qdrants_message()
    {
        var (index, handler) = await ReadyIndex(options: Options(maxRetries: 2));
        for (var i = 0; i < 3; i++) handler.Then(HttpStatusCode.ServiceUnavailable, Error("Service unavailable: shard 0 is not active"));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.CountAsync("t"));
        Assert.Equal("Qdrant at http://qdrant.test:6333 refused POST /collections/chunks/points/count on collection 'chunks': 503 Service Unavailable: " +
                     "Service unavailable: shard 0 is not active", e.Message);
        Assert.Equal(3, handler.Requests.Count);
    }

    [Fact]
    public async Task A_slow_attempt_times_out_and_is_retried()
    {
        var (index, handler) = await ReadyIndex(options: Options() with { RequestTimeout = TimeSpan.FromMilliseconds(100) });
        handler.Then(async (_, ct) => { await Task.Delay(Timeout.Infinite, ct); return new HttpResponseMessage(HttpStatusCode.OK); })
               .Then(HttpStatusCode.OK, """{"result":{"count":1},"status":"ok","time":0.0001}""");
        Assert.Equal(1, await index.CountAsync("t"));
        Assert.Equal(2, handler.Requests.Count);
    }

    [Fact]
    public async Task Client_errors_are_not_retried_and_name_the_collection()
    {
        var (index, handler) = await ReadyIndex();
        handler.Then(HttpStatusCode.BadRequest, Error("Wrong input: Vector dimension error: expected dim: 3, got 4"));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.SearchAsync([1, 2, 3], new SearchFilter("t"), 5));
        Assert.Equal("Qdrant at http://qdrant.test:6333 refused POST /collections/chunks/points/search on collection 'chunks': 400 Bad Request: " +
                     "Wrong input: Vector dimension error: expected dim: 3, got 4", e.Message);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task Cancellation_is_not_retried()
    {
        var (index, handler) = await ReadyIndex();
        using var cts = new CancellationTokenSource();
        handler.Then(async (_, ct) => { await cts.CancelAsync(); ct.ThrowIfCancellationRequested(); return new HttpResponseMessage(HttpStatusCode.OK); });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => index.CountAsync("t", cts.Token));
        Assert.Single(handler.Requests);
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized, "Invalid API key or JWT")]          // Qdrant ≥ 1.9 middleware: 401, plain text
    [InlineData(HttpStatusCode.Forbidden, "Invalid api-key")]                    // earlier middleware: 403, plain text
    public async Task A_wrong_api_key_says_so_and_is_not_retried(HttpStatusCode status, string body)
    {
        var handler = new ScriptedQdrantHandler().ThenText(status, body);
        using var index = new QdrantVectorIndex(Options(), new HttpClient(handler));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.EnsureReadyAsync(3));
        Assert.Equal($"Qdrant at http://qdrant.test:6333 rejected the API key ({(int)status} {new HttpResponseMessage(status).ReasonPhrase} to GET /collections/chunks: {body}); check the Qdrant API key.", e.Message);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task A_read_only_key_on_a_write_says_so()
    {
        var (index, handler) = await ReadyIndex();
        handler.ThenText(HttpStatusCode.Forbidden, "Forbidden: Write access denied");
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.UpsertAsync([new VectorRecord("d:0", "t", "d", [1, 2, 3], [])]));
        Assert.EndsWith("check the Qdrant API key; a read-only key cannot write.", e.Message);
    }

    [Fact]
    public async Task Qdrants_own_403_is_not_blamed_on_the_key()
    {
        // StorageError::Locked answers 403 with an ErrorResponse body, unlike the api-key middleware.
        var (index, handler) = await ReadyIndex();
        handler.Then(HttpStatusCode.Forbidden, Error("Write operations are forbidden: maintenance"));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.UpsertAsync([new VectorRecord("d:0", "t", "d", [1, 2, 3], [])]));
        Assert.Equal("Qdrant at http://qdrant.test:6333 refused PUT /collections/chunks/points?wait=true on collection 'chunks': 403 Forbidden: " +
                     "Write operations are forbidden: maintenance", e.Message);
    }

    [Fact]
    public async Task Upserts_in_batches_with_deterministic_ids_and_payload()
    {
        var (index, handler) = await ReadyIndex();
        handler.Then(HttpStatusCode.OK, Completed).Then(HttpStatusCode.OK, Completed).Then(HttpStatusCode.OK, Completed);
        VectorRecord[] records =
        [
            new("d1:0", "t", "d1", [1, 0, 0], ["red"]),
            new("d1:1", "t", "d1", [0, 1, 0], []),
            new("d2:0", "t", "d2", [0, 0, 1.5f], ["blue", "red"]),
        ];
        await index.UpsertAsync(records);

        Assert.Equal(2, handler.Requests.Count); // batch size 2
        Assert.All(handler.Requests, r => Assert.Equal("PUT /collections/chunks/points?wait=true", r.Line));
        var points = handler.Requests.SelectMany(r => r.Body!["points"]!.AsArray()).ToList();
        Assert.Equal(3, points.Count);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse($$$"""
            {"id":"{{{QdrantPointId.For("t", "d2:0")}}}","vector":[0,0,1.5],
             "payload":{"tenant_id":"t","document_id":"d2","chunk_id":"d2:0","tags":["blue","red"]}}
            """), points[2]));

        // A retried batch sends the same ids, so Qdrant overwrites rather than duplicates.
        handler.Requests.Clear();
        await index.UpsertAsync(records[..1]);
        Assert.Equal(points[0]!["id"]!.GetValue<string>(), handler.Requests[0].Body!["points"]![0]!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Vectors_json_cannot_carry_are_refused_before_sending()
    {
        var (index, handler) = await ReadyIndex();
        var e = await Assert.ThrowsAsync<ArgumentException>(() => index.UpsertAsync([new VectorRecord("d:7", "t", "d", [1, float.NaN, 0], [])]));
        Assert.Contains("Chunk 'd:7' has a NaN or infinite vector component", e.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => index.SearchAsync([1, float.PositiveInfinity, 0], new SearchFilter("t"), 3));
        Assert.Empty(handler.Requests);
    }

    [Fact]
    public void Point_ids_are_rfc_name_based_uuids()
    {
        // RFC 9562 / Python's uuid.uuid5(uuid.NAMESPACE_DNS, "python.org").
        Assert.Equal(new Guid("886313e1-3b8a-5372-9b90-0c9aee199e5d"), QdrantPointId.NameBased(new Guid("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), "python.org"));
        Assert.Equal(QdrantPointId.For("t", "d:0"), QdrantPointId.For("t", "d:0"));
        Assert.NotEqual(QdrantPointId.For("t", "d:0"), QdrantPointId.For("u", "d:0")); // tenants never share a point
        Assert.Equal(5, QdrantPointId.For("t", "d:0").Version);
    }

    [Fact]
    public async Task Search_sends_the_tenant_filter_and_parses_hits()
    {
        var (index, handler) = await ReadyIndex(options: Options() with { ExactSearch = true });
        handler.Then(HttpStatusCode.OK, """
            {"result":[{"id":"a1b2c3d4-0000-5000-8000-000000000001","version":1,"score":0.9,"payload":{"chunk_id":"d1:0","document_id":"d1"}},
                       {"id":"a1b2c3d4-0000-5000-8000-000000000002","version":1,"score":0.5,"payload":{"chunk_id":"d2:3","document_id":"d2"}}],"status":"ok","time":0.001}
            """);
        var hits = await index.SearchAsync([1, 2, 3], new SearchFilter("t", DocumentIds: ["d1", "d2", "d1"], Tags: ["red"]), 5);

        Assert.Equal([new ScoredChunk("d1:0", "d1", 0.9f), new ScoredChunk("d2:3", "d2", 0.5f)], hits);
        var seen = Assert.Single(handler.Requests);
        Assert.Equal("POST /collections/chunks/points/search", seen.Line);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {"vector":[1,2,3],"limit":5,
             "filter":{"must":[{"key":"tenant_id","match":{"value":"t"}},
                               {"key":"document_id","match":{"any":["d1","d2"]}},
                               {"key":"tags","match":{"any":["red"]}}]},
             "with_payload":["chunk_id","document_id"],"with_vector":false,"params":{"exact":true}}
            """), seen.Body));
    }

    [Fact]
    public async Task A_foreign_point_in_the_collection_is_a_clear_error()
    {
        var (index, handler) = await ReadyIndex();
        handler.Then(HttpStatusCode.OK, """{"result":[{"id":42,"version":0,"score":1.0,"payload":{"city":"Berlin"}}],"status":"ok","time":0.0001}""");
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.SearchAsync([1, 2, 3], new SearchFilter("t"), 3));
        Assert.Equal("Qdrant collection 'chunks' holds point 42 without chunk_id and document_id payload; it holds points this service did not write. Use a collection of its own.", e.Message);
    }

    [Fact]
    public async Task Delete_and_count_filter_by_tenant()
    {
        var (index, handler) = await ReadyIndex();
        handler.Then(HttpStatusCode.OK, Completed).Then(HttpStatusCode.OK, """{"result":{"count":42},"status":"ok","time":0.0001}""");
        await index.DeleteDocumentAsync("t", "d1");
        Assert.Equal(42, await index.CountAsync("t"));

        Assert.Equal("POST /collections/chunks/points/delete?wait=true", handler.Requests[0].Line);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {"filter":{"must":[{"key":"tenant_id","match":{"value":"t"}},{"key":"document_id","match":{"any":["d1"]}}]}}
            """), handler.Requests[0].Body));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {"filter":{"must":[{"key":"tenant_id","match":{"value":"t"}}]},"exact":true}
            """), handler.Requests[1].Body));
    }

    [Fact]
    public async Task Upserting_before_EnsureReady_is_a_clear_error()
    {
        using var index = new QdrantVectorIndex(Options(), new HttpClient(new ScriptedQdrantHandler()));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.UpsertAsync([new VectorRecord("d:0", "t", "d", [1, 2, 3], [])]));
        Assert.Contains("EnsureReadyAsync", e.Message);
    }

    [Fact]
    public async Task A_missing_collection_means_nothing_stored()
    {
        // A BM25-only service still deletes documents from the vector index: no collection is not an error.
        var handler = new ScriptedQdrantHandler()
            .Then(HttpStatusCode.NotFound, Missing("chunks")).Then(HttpStatusCode.NotFound, Missing("chunks")).Then(HttpStatusCode.NotFound, Missing("chunks"))
            .Then(HttpStatusCode.NotFound, Missing("chunks"));
        using var index = new QdrantVectorIndex(Options(), new HttpClient(handler));
        await index.DeleteDocumentAsync("t", "d");
        Assert.Equal(0, await index.CountAsync("t"));
        Assert.Empty(await index.SearchAsync([1, 2, 3], new SearchFilter("t"), 3));
        Assert.False(await index.DeleteCollectionAsync());
        Assert.Equal(4, handler.Requests.Count);
    }

    [Fact]
    public async Task A_bare_404_is_not_taken_for_a_missing_collection()
    {
        // actix's 404 for an unknown route (a URL with a wrong path prefix, or another server) has no ErrorResponse body.
        var handler = new ScriptedQdrantHandler().ThenText(HttpStatusCode.NotFound, "");
        using var index = new QdrantVectorIndex(Options() with { Url = "http://proxy.test/wrong/" }, new HttpClient(handler));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.CountAsync("t"));
        Assert.Equal("Qdrant at http://proxy.test/wrong/ answered 404 Not Found to POST /collections/chunks/points/count without Qdrant's error body; " +
                     "is http://proxy.test/wrong/ Qdrant's REST endpoint (port 6333)?", e.Message);
        Assert.Equal("/wrong/collections/chunks/points/count", handler.Requests[0].PathAndQuery); // a path prefix is kept
    }

    [Fact]
    public async Task Collection_names_are_escaped_in_paths()
    {
        var handler = new ScriptedQdrantHandler().Then(HttpStatusCode.OK, """{"result":{"count":0},"status":"ok","time":0.0001}""");
        using var index = new QdrantVectorIndex(Options() with { Collection = "rag chunks/v2" }, new HttpClient(handler));
        await index.CountAsync("t");
        Assert.Equal("/collections/rag%20chunks%2Fv2/points/count", handler.Requests[0].PathAndQuery);
    }

    [Fact]
    public async Task CheckReachable_lists_collections_with_the_api_key()
    {
        var handler = new ScriptedQdrantHandler().Then(HttpStatusCode.OK, """{"result":{"collections":[{"name":"chunks"}]},"status":"ok","time":0.00001}""");
        using var index = new QdrantVectorIndex(Options(), new HttpClient(handler));
        await index.CheckReachableAsync(CancellationToken.None);
        var seen = Assert.Single(handler.Requests);
        Assert.Equal("GET /collections", seen.Line);
        Assert.Equal("secret", seen.ApiKey); // /readyz would pass without a key; /collections checks it
    }

    [Fact]
    public async Task CheckReachable_reports_a_down_qdrant_after_a_bounded_number_of_attempts()
    {
        var handler = new ScriptedQdrantHandler();
        for (var i = 0; i < 3; i++) handler.Then((_, _) => throw new HttpRequestException("Connection refused (qdrant.test:6333)"));
        using var index = new QdrantVectorIndex(Options(maxRetries: 10), new HttpClient(handler));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.CheckReachableAsync(CancellationToken.None));
        Assert.Equal("Qdrant at http://qdrant.test:6333 is not reachable (GET /collections): Connection refused (qdrant.test:6333)", e.Message);
        Assert.Equal(3, handler.Requests.Count); // start-up fails fast: at most 2 retries whatever MaxRetries says
    }

    [Fact]
    public async Task CheckReachable_names_the_grpc_port_mistake()
    {
        var handler = new ScriptedQdrantHandler().Then((_, _) => throw new HttpRequestException("An HTTP/2 connection could not be established"));
        using var index = new QdrantVectorIndex(Options(maxRetries: 0) with { Url = "http://qdrant.test:6334" }, new HttpClient(handler));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.CheckReachableAsync(CancellationToken.None));
        Assert.EndsWith("Port 6334 is Qdrant's gRPC port; the REST API is on 6333.", e.Message);
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized, "secret", "check the Qdrant API key.")]
    [InlineData(HttpStatusCode.Forbidden, "secret", "check the Qdrant API key.")]
    [InlineData(HttpStatusCode.Unauthorized, null, "no API key is configured (set the Qdrant API key).")]
    public async Task CheckReachable_reports_a_rejected_api_key(HttpStatusCode status, string? key, string advice)
    {
        var handler = new ScriptedQdrantHandler().ThenText(status, "Must provide an API key or an Authorization bearer token");
        using var index = new QdrantVectorIndex(Options() with { ApiKey = key }, new HttpClient(handler));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.CheckReachableAsync(CancellationToken.None));
        Assert.StartsWith("Qdrant at http://qdrant.test:6333 rejected the API key (", e.Message);
        Assert.EndsWith(advice, e.Message);
        Assert.Single(handler.Requests);
    }

    [Theory]
    [InlineData("<html><body>Welcome to nginx!</body></html>")]
    [InlineData("""{"hello":"world"}""")]
    public async Task CheckReachable_says_when_something_else_answers(string body)
    {
        var handler = new ScriptedQdrantHandler().ThenText(HttpStatusCode.OK, body);
        using var index = new QdrantVectorIndex(Options(), new HttpClient(handler));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.CheckReachableAsync(CancellationToken.None));
        Assert.StartsWith("Qdrant at http://qdrant.test:6333 is not reachable: ", e.Message);
        Assert.Contains("is http://qdrant.test:6333 Qdrant's REST endpoint (port 6333)?", e.Message);
    }

    [Fact]
    public void Settings_are_checked_when_the_index_is_built()
    {
        Assert.Throws<ArgumentException>(() => new QdrantVectorIndex(Options() with { Url = "qdrant:6333" }));
        Assert.Throws<ArgumentException>(() => new QdrantVectorIndex(Options() with { Url = "ftp://qdrant.test" }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new QdrantVectorIndex(Options() with { ShardNumber = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new QdrantVectorIndex(Options() with { UpsertBatchSize = 0 }));
    }
}
