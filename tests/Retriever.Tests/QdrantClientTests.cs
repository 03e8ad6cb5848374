using System.Net;
using System.Text.Json.Nodes;
using Rag.Retriever.Qdrant;

namespace Rag.Retriever.Tests;

/// <summary>The Qdrant client's requests, parsing and retries, against a scripted in-process HTTP handler (no network).</summary>
public class QdrantClientTests
{
    sealed record Seen(HttpMethod Method, string PathAndQuery, JsonNode? Body, string? ApiKey);

    /// <summary>Test double: answers each request with the next scripted response (or throws what it is given) and records what was sent.</summary>
    sealed class ScriptedHandler : HttpMessageHandler
    {
        readonly Queue<Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>>> script = new();
        public List<Seen> Requests { get; } = [];

        public ScriptedHandler Then(HttpStatusCode status, string json = "{}")
        {
            script.Enqueue((_, _) => Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(json) }));
            return this;
        }

        public ScriptedHandler Then(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> answer)
        {
            script.Enqueue(answer);
            return this;
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            var body = request.Content is null ? null : JsonNode.Parse(await request.Content.ReadAsStringAsync(ct));
            Requests.Add(new Seen(request.Method, request.RequestUri!.PathAndQuery, body,
                request.Headers.TryGetValues("api-key", out var keys) ? keys.Single() : null));
            if (script.Count == 0) throw new InvalidOperationException($"Unscripted request {request.Method} {request.RequestUri}");
            return await script.Dequeue()(request, ct);
        }
    }

    static QdrantOptions Options(int maxRetries = 3) => new()
    {
        Url = "http://qdrant.test:6333",
        ApiKey = "secret",
        Collection = "chunks",
        OnDiskVectors = true,
        ShardNumber = 2,
        ReplicationFactor = 3,
        Distance = VectorDistance.Dot,
        UpsertBatchSize = 2,
        MaxRetries = maxRetries,
        RetryBaseDelay = TimeSpan.FromMilliseconds(1),
        RequestTimeout = TimeSpan.FromSeconds(5),
    };

    static string Collection(int size, string distance = "Dot") =>
        new JsonObject
        {
            ["result"] = new JsonObject
            {
                ["status"] = "green",
                ["config"] = new JsonObject { ["params"] = new JsonObject { ["vectors"] = new JsonObject { ["size"] = size, ["distance"] = distance } } },
            },
            ["status"] = "ok",
        }.ToJsonString();

    static async Task<(QdrantVectorIndex Index, ScriptedHandler Handler)> ReadyIndex(int dimension = 3, QdrantOptions? options = null)
    {
        var handler = new ScriptedHandler().Then(HttpStatusCode.OK, Collection(dimension));
        var index = new QdrantVectorIndex(options ?? Options(), new HttpClient(handler));
        await index.EnsureReadyAsync(dimension);
        handler.Requests.Clear();
        return (index, handler);
    }

    [Fact]
    public async Task Creates_a_missing_collection_with_its_settings_and_payload_indexes()
    {
        var handler = new ScriptedHandler()
            .Then(HttpStatusCode.NotFound, """{"status":{"error":"Not found: Collection `chunks` doesn't exist!"}}""")
            .Then(HttpStatusCode.OK, """{"result":true}""")
            .Then(HttpStatusCode.OK).Then(HttpStatusCode.OK).Then(HttpStatusCode.OK)
            .Then(HttpStatusCode.OK, Collection(8));
        using var index = new QdrantVectorIndex(Options(), new HttpClient(handler));
        await index.EnsureReadyAsync(8);

        Assert.Equal(
            ["GET /collections/chunks", "PUT /collections/chunks", "PUT /collections/chunks/index?wait=true", "PUT /collections/chunks/index?wait=true",
             "PUT /collections/chunks/index?wait=true", "GET /collections/chunks"],
            handler.Requests.Select(r => $"{r.Method} {r.PathAndQuery}"));
        Assert.All(handler.Requests, r => Assert.Equal("secret", r.ApiKey));
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"vectors":{"size":8,"distance":"Dot","on_disk":true},"shard_number":2,"replication_factor":3}"""),
            handler.Requests[1].Body));
        Assert.Equal(["tenant_id", "document_id", "tags"], handler.Requests.Skip(2).Take(3).Select(r => r.Body!["field_name"]!.GetValue<string>()));
        Assert.All(handler.Requests.Skip(2).Take(3), r => Assert.Equal("keyword", r.Body!["field_schema"]!.GetValue<string>()));
    }

    [Fact]
    public async Task An_existing_collection_of_another_dimension_is_a_clear_error()
    {
        var handler = new ScriptedHandler().Then(HttpStatusCode.OK, Collection(768));
        using var index = new QdrantVectorIndex(Options(), new HttpClient(handler));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.EnsureReadyAsync(384));
        Assert.Equal("Qdrant collection 'chunks' holds vectors of dimension 768, but the encoder produces 384. Use the encoder the collection was built with, or another collection name.", e.Message);
        Assert.Single(handler.Requests); // nothing was created or changed
    }

    [Fact]
    public async Task An_existing_collection_with_another_distance_is_a_clear_error()
    {
        var handler = new ScriptedHandler().Then(HttpStatusCode.OK, Collection(3, "Cosine"));
        using var index = new QdrantVectorIndex(Options(), new HttpClient(handler));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.EnsureReadyAsync(3));
        Assert.Contains("Cosine distance, not Dot", e.Message);
    }

    [Fact]
    public async Task Unreachable_qdrant_is_retried_then_reported_clearly()
    {
        var handler = new ScriptedHandler();
        for (var i = 0; i < 4; i++) handler.Then((_, _) => throw new HttpRequestException("Connection refused (qdrant.test:6333)"));
        using var index = new QdrantVectorIndex(Options(maxRetries: 3), new HttpClient(handler));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.EnsureReadyAsync(3));
        Assert.StartsWith("Qdrant at http://qdrant.test:6333 is unreachable", e.Message);
        Assert.Contains("Connection refused", e.Message);
        Assert.Equal(4, handler.Requests.Count); // the first attempt and 3 retries
    }

    [Fact]
    public async Task Transient_statuses_are_retried_until_success()
    {
        var (index, handler) = await ReadyIndex();
        handler.Then(HttpStatusCode.ServiceUnavailable).Then(HttpStatusCode.TooManyRequests).Then(HttpStatusCode.InternalServerError)
               .Then(HttpStatusCode.OK, """{"result":{"count":7},"status":"ok"}""");
        Assert.Equal(7, await index.CountAsync("t"));
        Assert.Equal(4, handler.Requests.Count);
        Assert.All(handler.Requests, r => Assert.Equal("POST /collections/chunks/points/count", $"{r.Method} {r.PathAndQuery}"));
    }

    [Fact]
    public async Task A_slow_attempt_times_out_and_is_retried()
    {
        var (index, handler) = await ReadyIndex(options: Options() with { RequestTimeout = TimeSpan.FromMilliseconds(100) });
        handler.Then(async (_, ct) => { await Task.Delay(Timeout.Infinite, ct); return new HttpResponseMessage(HttpStatusCode.OK); })
               .Then(HttpStatusCode.OK, """{"result":{"count":1}}""");
        Assert.Equal(1, await index.CountAsync("t"));
        Assert.Equal(2, handler.Requests.Count);
    }

    [Fact]
    public async Task Client_errors_are_not_retried_and_carry_qdrants_message()
    {
        var (index, handler) = await ReadyIndex();
        handler.Then(HttpStatusCode.BadRequest, """{"status":{"error":"Wrong input: bad filter"}}""");
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.CountAsync("t"));
        Assert.Contains("400", e.Message);
        Assert.Contains("Wrong input: bad filter", e.Message);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task A_wrong_api_key_says_so()
    {
        var handler = new ScriptedHandler().Then(HttpStatusCode.Unauthorized, """{"status":{"error":"Invalid api-key"}}""");
        using var index = new QdrantVectorIndex(Options(), new HttpClient(handler));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.EnsureReadyAsync(3));
        Assert.Contains("check the Qdrant API key", e.Message);
    }

    [Fact]
    public async Task Upserts_in_batches_with_deterministic_ids_and_payload()
    {
        var (index, handler) = await ReadyIndex();
        handler.Then(HttpStatusCode.OK).Then(HttpStatusCode.OK).Then(HttpStatusCode.OK);
        VectorRecord[] records =
        [
            new("d1:0", "t", "d1", [1, 0, 0], ["red"]),
            new("d1:1", "t", "d1", [0, 1, 0], []),
            new("d2:0", "t", "d2", [0, 0, 1.5f], ["blue", "red"]),
        ];
        await index.UpsertAsync(records);

        Assert.Equal(2, handler.Requests.Count); // batch size 2
        Assert.All(handler.Requests, r => Assert.Equal("PUT /collections/chunks/points?wait=true", $"{r.Method} {r.PathAndQuery}"));
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
            {"result":[{"id":"a","version":1,"score":0.9,"payload":{"chunk_id":"d1:0","document_id":"d1"}},
                       {"id":"b","version":1,"score":0.5,"payload":{"chunk_id":"d2:3","document_id":"d2"}}],"status":"ok","time":0.001}
            """);
        var hits = await index.SearchAsync([1, 2, 3], new SearchFilter("t", DocumentIds: ["d1", "d2"], Tags: ["red"]), 5);

        Assert.Equal([new ScoredChunk("d1:0", "d1", 0.9f), new ScoredChunk("d2:3", "d2", 0.5f)], hits);
        var seen = Assert.Single(handler.Requests);
        Assert.Equal("POST /collections/chunks/points/search", $"{seen.Method} {seen.PathAndQuery}");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {"vector":[1,2,3],"limit":5,
             "filter":{"must":[{"key":"tenant_id","match":{"value":"t"}},
                               {"key":"document_id","match":{"any":["d1","d2"]}},
                               {"key":"tags","match":{"any":["red"]}}]},
             "with_payload":["chunk_id","document_id"],"with_vector":false,"params":{"exact":true}}
            """), seen.Body));
    }

    [Fact]
    public async Task Delete_and_count_filter_by_tenant()
    {
        var (index, handler) = await ReadyIndex();
        handler.Then(HttpStatusCode.OK, """{"result":{"operation_id":1,"status":"completed"}}""")
               .Then(HttpStatusCode.OK, """{"result":{"count":42}}""");
        await index.DeleteDocumentAsync("t", "d1");
        Assert.Equal(42, await index.CountAsync("t"));

        Assert.Equal("POST /collections/chunks/points/delete?wait=true", $"{handler.Requests[0].Method} {handler.Requests[0].PathAndQuery}");
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
        using var index = new QdrantVectorIndex(Options(), new HttpClient(new ScriptedHandler()));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.UpsertAsync([new VectorRecord("d:0", "t", "d", [1, 2, 3], [])]));
        Assert.Contains("EnsureReadyAsync", e.Message);
    }

    [Fact]
    public async Task A_missing_collection_means_nothing_stored()
    {
        // A BM25-only service still deletes documents from the vector index: no collection is not an error.
        const string missing = """{"status":{"error":"Not found: Collection `chunks` doesn't exist!"}}""";
        var handler = new ScriptedHandler().Then(HttpStatusCode.NotFound, missing).Then(HttpStatusCode.NotFound, missing).Then(HttpStatusCode.NotFound, missing);
        using var index = new QdrantVectorIndex(Options(), new HttpClient(handler));
        await index.DeleteDocumentAsync("t", "d");
        Assert.Equal(0, await index.CountAsync("t"));
        Assert.Empty(await index.SearchAsync([1, 2, 3], new SearchFilter("t"), 3));
        Assert.Equal(3, handler.Requests.Count);
    }
}
