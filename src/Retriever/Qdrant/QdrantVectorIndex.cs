using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Rag.Retriever.Qdrant;

/// <summary>
/// IVectorIndex over Qdrant's REST API (https://api.qdrant.tech): one collection for every tenant, with
/// tenant_id, document_id and tags as indexed keyword payload; every search and count is filtered by tenant.
/// Point ids are name-based UUIDs of (tenant, chunk id), so a retried upsert never duplicates.
/// Writes use wait=true, so they are visible to searches when they return. Transient failures (5xx, 429,
/// timeouts, refused connections) are retried with exponential back-off through a Polly pipeline.
/// </summary>
public sealed class QdrantVectorIndex : IVectorIndex, IDisposable
{
    readonly QdrantOptions options;
    readonly HttpClient http;
    readonly bool ownsHttp;
    readonly Uri baseUri;
    readonly ResiliencePipeline<HttpResponseMessage> pipeline;
    int dimension;

    /// <param name="httpClient">Optional client (its handler is used as is; its Timeout should be infinite, each attempt has its own).</param>
    public QdrantVectorIndex(QdrantOptions options, HttpClient? httpClient = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.Collection);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.UpsertBatchSize, 1);
        if (!Uri.TryCreate(options.Url.TrimEnd('/') + "/", UriKind.Absolute, out var uri))
            throw new ArgumentException($"Qdrant URL '{options.Url}' is not an absolute URL.", nameof(options));
        this.options = options;
        baseUri = uri;
        ownsHttp = httpClient is null;
        http = httpClient ?? new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        pipeline = BuildPipeline(options);
    }

    public QdrantOptions Options => options;

    static ResiliencePipeline<HttpResponseMessage> BuildPipeline(QdrantOptions options)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>();
        if (options.MaxRetries > 0)
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>()      // refused, reset, DNS
                    .Handle<TimeoutRejectedException>()  // this attempt ran past RequestTimeout
                    .HandleResult(IsTransient),
                OnRetry = args =>
                {
                    args.Outcome.Result?.Dispose(); // the failed response is not returned to anyone
                    return ValueTask.CompletedTask;
                },
            });
        return builder.AddTimeout(options.RequestTimeout).Build();
    }

    static bool IsTransient(HttpResponseMessage r) => (int)r.StatusCode >= 500 || r.StatusCode == HttpStatusCode.TooManyRequests;

    string CollectionPath => "collections/" + Uri.EscapeDataString(options.Collection);

    public async Task EnsureReadyAsync(int dimension, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        var existing = await SendAsync(HttpMethod.Get, CollectionPath, null, ct, allowNotFound: true);
        if (existing is null)
        {
            var create = new JsonObject
            {
                ["vectors"] = new JsonObject { ["size"] = dimension, ["distance"] = DistanceName(options.Distance), ["on_disk"] = options.OnDiskVectors },
                ["shard_number"] = options.ShardNumber,
                ["replication_factor"] = options.ReplicationFactor,
            };
            // Another process may create it at the same moment: a conflict means it exists now, so check it below.
            await SendAsync(HttpMethod.Put, CollectionPath, create, ct, allowConflict: true);
            foreach (var field in new[] { "tenant_id", "document_id", "tags" })
                await SendAsync(HttpMethod.Put, CollectionPath + "/index?wait=true", new JsonObject { ["field_name"] = field, ["field_schema"] = "keyword" }, ct);
            existing = await SendAsync(HttpMethod.Get, CollectionPath, null, ct);
        }
        var vectors = existing?["result"]?["config"]?["params"]?["vectors"];
        if (vectors?["size"] is not JsonValue sizeValue)
            throw new InvalidOperationException($"Qdrant collection '{options.Collection}' has no single unnamed vector; it was not created by this service. Use another collection name.");
        var size = sizeValue.GetValue<int>();
        var distance = vectors["distance"]?.GetValue<string>();
        if (size != dimension)
            throw new InvalidOperationException(
                $"Qdrant collection '{options.Collection}' holds vectors of dimension {size}, but the encoder produces {dimension}. " +
                "Use the encoder the collection was built with, or another collection name.");
        if (!string.Equals(distance, DistanceName(options.Distance), StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"Qdrant collection '{options.Collection}' uses {distance} distance, not {DistanceName(options.Distance)}.");
        this.dimension = dimension;
    }

    static string DistanceName(VectorDistance d) => d switch
    {
        VectorDistance.Cosine => "Cosine",
        VectorDistance.Dot => "Dot",
        _ => throw new NotSupportedException($"Distance {d} is not supported."),
    };

    public async Task UpsertAsync(IReadOnlyList<VectorRecord> records, CancellationToken ct = default)
    {
        RequireReady();
        foreach (var r in records)
            if (r.Vector.Length != dimension)
                throw new ArgumentException($"Chunk '{r.ChunkId}' has a vector of dimension {r.Vector.Length}; the collection holds dimension {dimension}.", nameof(records));
        foreach (var batch in records.Chunk(options.UpsertBatchSize))
        {
            var points = new JsonArray();
            foreach (var r in batch)
                points.Add(new JsonObject
                {
                    ["id"] = QdrantPointId.For(r.TenantId, r.ChunkId).ToString(),
                    ["vector"] = new JsonArray([.. r.Vector.Select(x => (JsonNode)x)]),
                    ["payload"] = new JsonObject
                    {
                        ["tenant_id"] = r.TenantId,
                        ["document_id"] = r.DocumentId,
                        ["chunk_id"] = r.ChunkId,
                        ["tags"] = new JsonArray([.. r.Tags.Select(t => (JsonNode)t)]),
                    },
                });
            await SendAsync(HttpMethod.Put, CollectionPath + "/points?wait=true", new JsonObject { ["points"] = points }, ct);
        }
    }

    public async Task<IReadOnlyList<ScoredChunk>> SearchAsync(float[] query, SearchFilter filter, int k, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        // Before EnsureReadyAsync the dimension is unknown here; Qdrant itself then checks the query's length.
        if (dimension != 0 && query.Length != dimension)
            throw new ArgumentException($"The query vector has dimension {query.Length}; the collection holds dimension {dimension}.", nameof(query));
        if (k <= 0) return [];
        var body = new JsonObject
        {
            ["vector"] = new JsonArray([.. query.Select(x => (JsonNode)x)]),
            ["limit"] = k,
            ["filter"] = Filter(filter.TenantId, filter.DocumentIds, filter.Tags),
            ["with_payload"] = new JsonArray("chunk_id", "document_id"),
            ["with_vector"] = false,
        };
        if (options.ExactSearch) body["params"] = new JsonObject { ["exact"] = true };
        var response = await SendAsync(HttpMethod.Post, CollectionPath + "/points/search", body, ct, allowNotFound: true);
        if (response is null) return []; // no collection yet: nothing was ever stored
        var hits = response["result"]?.AsArray() ?? throw new InvalidOperationException("Qdrant search returned no result array.");
        return [.. hits.Select(h => new ScoredChunk(
            h!["payload"]!["chunk_id"]!.GetValue<string>(),
            h["payload"]!["document_id"]!.GetValue<string>(),
            h["score"]!.GetValue<float>()))];
    }

    /// <summary>Works before EnsureReadyAsync too; a missing collection means nothing to delete.</summary>
    public async Task DeleteDocumentAsync(string tenantId, string documentId, CancellationToken ct = default)
    {
        await SendAsync(HttpMethod.Post, CollectionPath + "/points/delete?wait=true",
            new JsonObject { ["filter"] = Filter(tenantId, [documentId], null) }, ct, allowNotFound: true);
    }

    /// <summary>Exact count of the tenant's points; 0 when the collection does not exist yet.</summary>
    public async Task<long> CountAsync(string tenantId, CancellationToken ct = default)
    {
        var response = await SendAsync(HttpMethod.Post, CollectionPath + "/points/count",
            new JsonObject { ["filter"] = Filter(tenantId, null, null), ["exact"] = true }, ct, allowNotFound: true);
        if (response is null) return 0;
        return response["result"]?["count"]?.GetValue<long>() ?? throw new InvalidOperationException("Qdrant count returned no count.");
    }

    /// <summary>Drops the whole collection (tests, and an operator resetting an index). True when it existed.</summary>
    public async Task<bool> DeleteCollectionAsync(CancellationToken ct = default)
    {
        var response = await SendAsync(HttpMethod.Delete, CollectionPath, null, ct, allowNotFound: true);
        dimension = 0;
        return response?["result"]?.GetValue<bool>() ?? false;
    }

    /// <summary>must: tenant_id = tenant, and document_id / tags matching any of the given values.</summary>
    static JsonObject Filter(string tenantId, IReadOnlyCollection<string>? documentIds, IReadOnlyCollection<string>? tags)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        var must = new JsonArray { Match("tenant_id", new JsonObject { ["value"] = tenantId }) };
        if (documentIds is { Count: > 0 }) must.Add(Match("document_id", new JsonObject { ["any"] = new JsonArray([.. documentIds.Select(d => (JsonNode)d)]) }));
        if (tags is { Count: > 0 }) must.Add(Match("tags", new JsonObject { ["any"] = new JsonArray([.. tags.Select(t => (JsonNode)t)]) }));
        return new JsonObject { ["must"] = must };

        static JsonObject Match(string key, JsonObject match) => new() { ["key"] = key, ["match"] = match };
    }

    void RequireReady()
    {
        if (dimension == 0) throw new InvalidOperationException("The Qdrant index is not ready: call EnsureReadyAsync(dimension) first.");
    }

    /// <summary>Sends one request through the retry pipeline; returns the parsed body, or null for an allowed 404.</summary>
    async Task<JsonNode?> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken ct, bool allowNotFound = false, bool allowConflict = false)
    {
        var url = new Uri(baseUri, path);
        var json = body?.ToJsonString();
        HttpResponseMessage response;
        try
        {
            response = await pipeline.ExecuteAsync(async token =>
            {
                using var request = new HttpRequestMessage(method, url);
                if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
                if (!string.IsNullOrEmpty(options.ApiKey)) request.Headers.Add("api-key", options.ApiKey);
                return await http.SendAsync(request, token);
            }, ct);
        }
        catch (HttpRequestException e)
        {
            throw new InvalidOperationException($"Qdrant at {options.Url} is unreachable ({method} /{path}): {e.Message}", e);
        }
        catch (TimeoutRejectedException e)
        {
            throw new InvalidOperationException($"Qdrant at {options.Url} did not answer {method} /{path} within {options.RequestTimeout.TotalSeconds:0.#} s.", e);
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            if (allowNotFound && response.StatusCode == HttpStatusCode.NotFound) return null;
            if (allowConflict && response.StatusCode == HttpStatusCode.Conflict) return null;
            if (!response.IsSuccessStatusCode)
            {
                var hint = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden ? " (check the Qdrant API key)" : "";
                throw new InvalidOperationException(
                    $"Qdrant at {options.Url} answered {(int)response.StatusCode} {response.ReasonPhrase} to {method} /{path}{hint}: {Truncate(text)}");
            }
            return text.Length == 0 ? null : JsonNode.Parse(text);
        }
    }

    static string Truncate(string s) => s.Length <= 500 ? s : s[..500] + "…";

    public void Dispose()
    {
        if (ownsHttp) http.Dispose();
    }
}
