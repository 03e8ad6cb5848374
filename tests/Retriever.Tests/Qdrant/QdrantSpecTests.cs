using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Rag.Retriever.Qdrant;
using static Rag.Retriever.Tests.Qdrant.QdrantBodies;

namespace Rag.Retriever.Tests.Qdrant;

/// <summary>
/// Our request bodies and response parsing against Qdrant's OpenAPI spec (qdrant/qdrant docs/redoc/master/openapi.json,
/// the 1.x line), with no server: each schema below is hand-copied from the spec's components/schemas (its required and
/// declared properties), and the expected bodies are the spec's own examples (its info.description). These tests catch a
/// misspelt field, a wrong nesting or a wrong enum value; only the contract suite against a real Qdrant (QDRANT_URL)
/// shows that a server agrees.
/// </summary>
public class QdrantSpecTests
{
    // ---- components/schemas, as declared in the spec: (required, properties) ----

    static readonly string[] DistanceEnum = ["Cosine", "Euclid", "Dot", "Manhattan"];                                    // Distance
    static readonly string[] PayloadSchemaTypeEnum = ["keyword", "integer", "float", "geo", "text", "bool", "datetime"];  // PayloadSchemaType

    /// <summary>Asserts the node is an object with every required property and no undeclared one.</summary>
    static JsonObject Shape(JsonNode? node, string schema, string[] required, string[] properties)
    {
        var obj = Assert.IsType<JsonObject>(node);
        foreach (var r in required) Assert.True(obj.ContainsKey(r), $"{schema} requires '{r}'; body: {obj.ToJsonString()}");
        foreach (var (key, _) in obj) Assert.True(properties.Contains(key), $"{schema} declares no '{key}'; body: {obj.ToJsonString()}");
        return obj;
    }

    static void CreateCollection(JsonNode? node)
    {
        var o = Shape(node, "CreateCollection", [],
            ["vectors", "shard_number", "sharding_method", "replication_factor", "write_consistency_factor", "on_disk_payload",
             "hnsw_config", "wal_config", "optimizers_config", "init_from", "quantization_config", "sparse_vectors"]);
        VectorParams(o["vectors"]); // VectorsConfig: a single VectorParams for an unnamed vector
        if (o["shard_number"] is { } s) Assert.True(s.GetValue<int>() >= 1, "shard_number: uint32, minimum 1");
        if (o["replication_factor"] is { } r) Assert.True(r.GetValue<int>() >= 1, "replication_factor: uint32, minimum 1");
    }

    static void VectorParams(JsonNode? node)
    {
        var o = Shape(node, "VectorParams", ["distance", "size"], ["size", "distance", "hnsw_config", "quantization_config", "on_disk", "datatype", "multivec_config"]);
        Assert.True(o["size"]!.GetValue<long>() >= 1, "size: uint64, minimum 1");
        Assert.Contains(o["distance"]!.GetValue<string>(), DistanceEnum);
        if (o["on_disk"] is { } d) Assert.Equal("boolean", JsonValueKindOf(d));
    }

    static void CreateFieldIndex(JsonNode? node)
    {
        var o = Shape(node, "CreateFieldIndex", ["field_name"], ["field_name", "field_schema"]);
        Assert.Contains(o["field_schema"]!.GetValue<string>(), PayloadSchemaTypeEnum); // PayloadFieldSchema: a PayloadSchemaType
    }

    static void PointsList(JsonNode? node)
    {
        var o = Shape(node, "PointsList", ["points"], ["points", "shard_key"]);
        foreach (var point in o["points"]!.AsArray())
        {
            var p = Shape(point, "PointStruct", ["id", "vector"], ["id", "vector", "payload"]);
            ExtendedPointId(p["id"]);
            Assert.All(p["vector"]!.AsArray(), x => Assert.Equal("number", JsonValueKindOf(x)));  // VectorStruct: float[]
            Assert.IsType<JsonObject>(p["payload"]);                                                 // Payload: object
        }
    }

    /// <summary>ExtendedPointId: uint64 or a string of format uuid.</summary>
    static void ExtendedPointId(JsonNode? node) =>
        Assert.Matches(new Regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"), node!.GetValue<string>());

    static void SearchRequest(JsonNode? node)
    {
        var o = Shape(node, "SearchRequest", ["limit", "vector"],
            ["shard_key", "vector", "filter", "params", "limit", "offset", "with_payload", "with_vector", "score_threshold"]);
        Assert.All(o["vector"]!.AsArray(), x => Assert.Equal("number", JsonValueKindOf(x)));  // NamedVectorStruct, unnamed: float[]
        Assert.True(o["limit"]!.GetValue<int>() >= 1, "limit: uint, minimum 1");
        Filter(o["filter"]);
        if (o["params"] is { } p) Shape(p, "SearchParams", [], ["hnsw_ef", "exact", "quantization", "indexed_only"]);
        // WithPayloadInterface: boolean, or an array of field names.
        Assert.All(o["with_payload"]!.AsArray(), x => Assert.Equal("string", JsonValueKindOf(x)));
        Assert.Equal("boolean", JsonValueKindOf(o["with_vector"]!));                         // WithVector: boolean or names
    }

    static void Filter(JsonNode? node)
    {
        var o = Shape(node, "Filter", [], ["should", "min_should", "must", "must_not"]); // additionalProperties: false
        foreach (var condition in o["must"]!.AsArray())
        {
            var c = Shape(condition, "FieldCondition", ["key"], ["key", "match", "range", "geo_bounding_box", "geo_radius", "geo_polygon", "values_count"]);
            var match = Assert.IsType<JsonObject>(c["match"]);
            if (match.ContainsKey("value")) Shape(match, "MatchValue", ["value"], ["value"]);
            else
            {
                var any = Shape(match, "MatchAny", ["any"], ["any"])["any"]!.AsArray().Select(x => x!.GetValue<string>()).ToList();
                Assert.Equal(any.Count, any.Distinct().Count()); // AnyVariants: uniqueItems
                Assert.NotEmpty(any);
            }
        }
    }

    static void CountRequest(JsonNode? node)
    {
        var o = Shape(node, "CountRequest", [], ["shard_key", "filter", "exact"]);
        Filter(o["filter"]);
    }

    static void FilterSelector(JsonNode? node) => Filter(Shape(node, "FilterSelector", ["filter"], ["filter", "shard_key"])["filter"]);

    /// <summary>The body as the server receives it: serialized, then parsed.</summary>
    static JsonNode Wire(JsonNode body) => JsonNode.Parse(body.ToJsonString())!;

    static string JsonValueKindOf(JsonNode? node) => node?.GetValueKind() switch
    {
        System.Text.Json.JsonValueKind.Number => "number",
        System.Text.Json.JsonValueKind.String => "string",
        System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False => "boolean",
        null => "null",
        var k => k.ToString()!,
    };

    // ---- request bodies ----

    [Fact]
    public void Create_collection_with_defaults_is_the_specs_own_example()
    {
        // info.description, "Create collection": PUT /collections/test_collection {"vectors": {"size": 4, "distance": "Dot"}}
        using var index = new QdrantVectorIndex(new QdrantOptions { Collection = "test_collection", Distance = VectorDistance.Dot });
        var body = index.CreateCollectionBody(4);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"vectors":{"size":4,"distance":"Dot"}}"""), body), body.ToJsonString());
        CreateCollection(Wire(body));
    }

    [Theory]
    [InlineData(VectorDistance.Cosine, false, null, null)]
    [InlineData(VectorDistance.Dot, true, 3, 2)]
    public void Create_collection_body_fits_CreateCollection(VectorDistance distance, bool onDisk, int? shards, int? replicas)
    {
        using var index = new QdrantVectorIndex(new QdrantOptions { Distance = distance, OnDiskVectors = onDisk, ShardNumber = shards, ReplicationFactor = replicas });
        var body = index.CreateCollectionBody(768);
        CreateCollection(Wire(body));
        Assert.Equal(onDisk, body["vectors"]!["on_disk"]?.GetValue<bool>() ?? false);
        Assert.Equal(shards, body["shard_number"]?.GetValue<int>());
        Assert.Equal(replicas, body["replication_factor"]?.GetValue<int>());
    }

    [Theory]
    [InlineData("tenant_id")]
    [InlineData("document_id")]
    [InlineData("tags")]
    public void Payload_index_body_fits_CreateFieldIndex(string field) => CreateFieldIndex(Wire(QdrantVectorIndex.CreateFieldIndexBody(field)));

    [Fact]
    public void Upsert_body_fits_PointsList()
    {
        VectorRecord[] batch = [new("d1:0", "t", "d1", [0.05f, 0.61f, -0.76f], ["red"]), new("d1:1", "t", "d1", [1e-8f, 0, 3.5e7f], [])];
        var body = QdrantVectorIndex.UpsertBody(batch);
        PointsList(Wire(body));
        // The floats survive the JSON round trip exactly.
        Assert.Equal(batch[1].Vector, body["points"]![1]!["vector"]!.AsArray().Select(x => x!.GetValue<float>()));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Search_body_fits_SearchRequest(bool exact)
    {
        SearchRequest(Wire(QdrantVectorIndex.SearchBody([0.2f, 0.1f, 0.9f, 0.7f], new SearchFilter("t"), 3, exact)));
        var filtered = QdrantVectorIndex.SearchBody([0.2f, 0.1f, 0.9f, 0.7f], new SearchFilter("t", ["d1", "d2", "d2"], ["red", "red"]), 3, exact);
        SearchRequest(Wire(filtered));
        Assert.Equal(exact, filtered.ContainsKey("params"));
    }

    [Fact]
    public void Count_body_fits_CountRequest() => CountRequest(Wire(QdrantVectorIndex.CountBody("t")));

    [Fact]
    public void Delete_body_fits_PointsSelector_as_FilterSelector() => FilterSelector(Wire(QdrantVectorIndex.DeleteBody("t", "d1")));

    [Fact]
    public void The_shape_checker_rejects_what_the_spec_does_not_declare()
    {
        // The checker itself can fail: a misspelt field, a missing required one, a filter key Qdrant rejects.
        Assert.ThrowsAny<Exception>(() => PointsList(JsonNode.Parse("""{"points":[{"id":"6ba7b810-9dad-11d1-80b4-00c04fd430c8","vectors":[1],"payload":{}}]}""")));
        Assert.ThrowsAny<Exception>(() => SearchRequest(JsonNode.Parse("""{"vector":[1],"top":3,"filter":{"must":[]},"with_payload":[],"with_vector":false}""")));
        Assert.ThrowsAny<Exception>(() => Filter(JsonNode.Parse("""{"must":[{"key":"a","match":{"value":"b"}}],"any":[]}""")));
        Assert.ThrowsAny<Exception>(() => VectorParams(JsonNode.Parse("""{"size":4,"distance":"cosine"}""")));
        Assert.ThrowsAny<Exception>(() => ExtendedPointId(JsonNode.Parse("\"{6BA7B810-9DAD-11D1-80B4-00C04FD430C8}\"")));
    }

    // ---- responses: the spec's own example bodies ----

    /// <summary>info.description, "We can ensure that collection was created": GET /collections/test_collection.</summary>
    const string SpecCollectionInfo = """
        {
          "result": {
            "status": "green",
            "vectors_count": 0,
            "segments_count": 5,
            "disk_data_size": 0,
            "ram_data_size": 0,
            "config": {
              "params": {
                "vectors": {
                  "size": 4,
                  "distance": "Dot"
                }
              },
              "hnsw_config": {
                "m": 16,
                "ef_construct": 100,
                "full_scan_threshold": 10000
              },
              "optimizer_config": {
                "deleted_threshold": 0.2,
                "vacuum_min_vector_number": 1000,
                "max_segment_number": 5,
                "memmap_threshold": 50000,
                "indexing_threshold": 20000,
                "flush_interval_sec": 1
              },
              "wal_config": {
                "wal_capacity_mb": 32,
                "wal_segments_ahead": 0
              }
            }
          },
          "status": "ok",
          "time": 2.1199e-05
        }
        """;

    /// <summary>info.description, "Add points": the UpdateResult of PUT /points?wait=true.</summary>
    const string SpecUpsertResult = """
        {
            "result": {
                "operation_id": 0,
                "status": "completed"
            },
            "status": "ok",
            "time": 0.000206061
        }
        """;

    static QdrantOptions SpecOptions => new()
    {
        Url = "http://localhost:6333",
        Collection = "test_collection",
        Distance = VectorDistance.Dot,
        MaxRetries = 0,
        RetryBaseDelay = TimeSpan.FromMilliseconds(1),
    };

    [Fact]
    public async Task The_specs_collection_info_example_is_read_and_its_dimension_checked()
    {
        // The example predates payload_schema, so the client adds its three payload indexes.
        var handler = new ScriptedQdrantHandler().Then(HttpStatusCode.OK, SpecCollectionInfo)
            .Then(HttpStatusCode.OK, SpecUpsertResult).Then(HttpStatusCode.OK, SpecUpsertResult).Then(HttpStatusCode.OK, SpecUpsertResult)
            .Then(HttpStatusCode.OK, SpecUpsertResult);
        using var index = new QdrantVectorIndex(SpecOptions, new HttpClient(handler));
        await index.EnsureReadyAsync(4);
        await index.UpsertAsync([new VectorRecord("c:0", "t", "c", [0.05f, 0.61f, 0.76f, 0.74f], [])]);
        Assert.Equal(0, handler.Unanswered);

        using var wrong = new QdrantVectorIndex(SpecOptions, new HttpClient(new ScriptedQdrantHandler().Then(HttpStatusCode.OK, SpecCollectionInfo)));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => wrong.EnsureReadyAsync(768));
        Assert.Equal("Qdrant collection 'test_collection' holds vectors of dimension 4, but the encoder produces 768. " +
                     "Use the encoder the collection was built with, or another collection name.", e.Message);
    }

    [Fact]
    public async Task The_specs_search_example_without_our_payload_is_a_clear_error_not_a_crash()
    {
        // info.description, "Search with filtering": hits carry "payload": null when with_payload is not asked for.
        const string specSearch = """
            {
                "result": [
                    { "id": 4, "score": 1.362, "payload": null, "version": 0 },
                    { "id": 1, "score": 1.273, "payload": null, "version": 0 },
                    { "id": 3, "score": 1.208, "payload": null, "version": 0 }
                ],
                "status": "ok",
                "time": 0.000055785
            }
            """;
        var handler = new ScriptedQdrantHandler().Then(HttpStatusCode.OK, specSearch);
        using var index = new QdrantVectorIndex(SpecOptions, new HttpClient(handler));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.SearchAsync([0.2f, 0.1f, 0.9f, 0.7f], new SearchFilter("t"), 3));
        Assert.StartsWith("Qdrant collection 'test_collection' holds point 4 without chunk_id and document_id payload", e.Message);
    }

    [Fact]
    public async Task ScoredPoint_results_parse_with_uuid_ids_and_extra_fields()
    {
        // ScoredPoint: required id, version, score; payload, vector, shard_key, order_value optional.
        const string hits = """
            {"result":[{"id":"886313e1-3b8a-5372-9b90-0c9aee199e5d","version":3,"score":0.8125,
                        "payload":{"chunk_id":"d:0","document_id":"d"},"vector":null,"shard_key":null,"order_value":null}],
             "status":"ok","time":0.0002,"usage":{"hardware":null}}
            """;
        using var index = new QdrantVectorIndex(SpecOptions, new HttpClient(new ScriptedQdrantHandler().Then(HttpStatusCode.OK, hits)));
        Assert.Equal([new ScoredChunk("d:0", "d", 0.8125f)], await index.SearchAsync([1, 0, 0, 0], new SearchFilter("t"), 1));
    }

    [Fact]
    public async Task CountResult_and_collection_delete_results_parse()
    {
        var handler = new ScriptedQdrantHandler()
            .Then(HttpStatusCode.OK, """{"result":{"count":12345678901},"status":"ok","time":0.0001}""")   // CountResult.count: uint
            .Then(HttpStatusCode.OK, Ok);                                                                // delete_collection: result boolean
        using var index = new QdrantVectorIndex(SpecOptions, new HttpClient(handler));
        Assert.Equal(12345678901L, await index.CountAsync("t"));
        Assert.True(await index.DeleteCollectionAsync());
    }

    [Theory]
    [InlineData("""{"time":0.001,"status":{"error":"Wrong input: Vector dimension error: expected dim: 4, got 3"},"result":null}""", "Wrong input: Vector dimension error: expected dim: 4, got 3")]
    [InlineData("""{"status":{"error":"Not found: Collection `x` doesn't exist!"},"time":0.0}""", "Not found: Collection `x` doesn't exist!")]
    [InlineData("""{"result":true,"status":"ok","time":0.1}""", null)]
    [InlineData("Invalid API key or JWT", null)]
    [InlineData("", null)]
    public void ErrorResponse_status_error_is_extracted(string body, string? expected) => Assert.Equal(expected, QdrantRestClient.ErrorText(body));
}
