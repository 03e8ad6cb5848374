using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Rag.Retriever.Qdrant;

namespace Rag.Retriever.Tests.Qdrant;

/// <summary>A request the client sent: method, path with query, JSON body and api-key header.</summary>
sealed record SeenRequest(HttpMethod Method, string PathAndQuery, JsonNode? Body, string? ApiKey)
{
    public string Line => $"{Method} {PathAndQuery}";
}

/// <summary>
/// Test double standing in for Qdrant (no network): answers each request with the next scripted response, or throws
/// what it is given, and records what was sent. Its answers are shaped after Qdrant's OpenAPI spec; passing tests
/// show our client agrees with the spec, not that a server agrees with us.
/// </summary>
sealed class ScriptedQdrantHandler : HttpMessageHandler
{
    readonly Queue<Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>>> script = new();
    public List<SeenRequest> Requests { get; } = [];
    public int Unanswered => script.Count;

    /// <summary>A JSON answer (Qdrant answers JSON from every handler).</summary>
    public ScriptedQdrantHandler Then(HttpStatusCode status, string json = """{"result":true,"status":"ok","time":0.001}""") =>
        Then((_, _) => Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") }));

    /// <summary>A plain-text answer, as Qdrant's api-key middleware and actix's own 404 give.</summary>
    public ScriptedQdrantHandler ThenText(HttpStatusCode status, string text) =>
        Then((_, _) => Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(text, Encoding.UTF8, "text/plain") }));

    public ScriptedQdrantHandler Then(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> answer)
    {
        script.Enqueue(answer);
        return this;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var body = request.Content is null ? null : JsonNode.Parse(await request.Content.ReadAsStringAsync(ct));
        Requests.Add(new SeenRequest(request.Method, request.RequestUri!.PathAndQuery, body,
            request.Headers.TryGetValues("api-key", out var keys) ? keys.Single() : null));
        if (script.Count == 0) throw new InvalidOperationException($"Unscripted request {request.Method} {request.RequestUri}");
        return await script.Dequeue()(request, ct);
    }
}

/// <summary>Spec-shaped bodies shared by the Qdrant client tests.</summary>
static class QdrantBodies
{
    public const string Ok = """{"result":true,"status":"ok","time":0.031095451}""";
    public const string Completed = """{"result":{"operation_id":0,"status":"completed"},"status":"ok","time":0.000206061}""";

    /// <summary>ErrorResponse: {time, status: {error}, result: null}.</summary>
    public static string Error(string message) => new JsonObject
    {
        ["time"] = 0.0001,
        ["status"] = new JsonObject { ["error"] = message },
        ["result"] = null,
    }.ToJsonString();

    /// <summary>404 from get_collection for a collection that does not exist (StorageError::NotFound).</summary>
    public static string Missing(string collection) => Error($"Not found: Collection `{collection}` doesn't exist!");

    /// <summary>CollectionInfo with one unnamed vector and payload indexes on the given fields (all of ours by default).</summary>
    public static string Collection(int size, string distance = "Dot", string[]? indexed = null)
    {
        var schema = new JsonObject();
        foreach (var field in indexed ?? ["tenant_id", "document_id", "tags"])
            schema[field] = new JsonObject { ["data_type"] = "keyword", ["points"] = 0 };
        return new JsonObject
        {
            ["result"] = new JsonObject
            {
                ["status"] = "green",
                ["optimizer_status"] = "ok",
                ["segments_count"] = 2,
                ["config"] = new JsonObject
                {
                    ["params"] = new JsonObject
                    {
                        ["vectors"] = new JsonObject { ["size"] = size, ["distance"] = distance },
                        ["shard_number"] = 1,
                        ["replication_factor"] = 1,
                    },
                },
                ["payload_schema"] = schema,
            },
            ["status"] = "ok",
            ["time"] = 0.00002,
        }.ToJsonString();
    }

    public static QdrantOptions Options(int maxRetries = 3) => new()
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
}
