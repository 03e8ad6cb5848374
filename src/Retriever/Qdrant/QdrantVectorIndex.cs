using System.Text.Json.Nodes;
using Polly;

namespace Rag.Retriever.Qdrant;

/// <summary>
/// IVectorIndex over Qdrant's REST API (https://api.qdrant.tech): one collection for every tenant, with
/// tenant_id, document_id and tags as indexed keyword payload; every search and count is filtered by tenant.
/// Point ids are name-based UUIDs of (tenant, chunk id), so a retried upsert never duplicates.
/// Writes use wait=true, so they are visible to searches when they return. Transient failures (5xx, 429,
/// timeouts, refused connections) are retried with exponential back-off through a Polly pipeline.
/// Request and response shapes are those of Qdrant 1.x's OpenAPI spec (qdrant/qdrant docs/redoc/master/openapi.json);
/// the tests in tests/Retriever.Tests/Qdrant check them against the spec, and the contract suite against a server.
/// </summary>
public sealed class QdrantVectorIndex : IVectorIndex, IDisposable
{
    /// <summary>Payload fields this index filters on; each gets a keyword payload index.</summary>
    static readonly string[] IndexedFields = ["tenant_id", "document_id", "tags"];

    readonly QdrantOptions options;
    readonly QdrantRestClient rest;
    readonly ResiliencePipeline<HttpResponseMessage> probe;
    int dimension;

    /// <param name="httpClient">Optional client (its handler is used as is; its Timeout should be infinite, each attempt has its own).</param>
    public QdrantVectorIndex(QdrantOptions options, HttpClient? httpClient = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.Collection);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.UpsertBatchSize, 1);
        if (options.ShardNumber is < 1) throw new ArgumentOutOfRangeException(nameof(options), "Qdrant ShardNumber must be at least 1 (or null for Qdrant's default).");
        if (options.ReplicationFactor is < 1) throw new ArgumentOutOfRangeException(nameof(options), "Qdrant ReplicationFactor must be at least 1 (or null for Qdrant's default).");
        this.options = options;
        rest = new QdrantRestClient(options, httpClient);
        // Start-up check: fail fast when Qdrant is down, but ride out a container that is still starting.
        probe = QdrantRestClient.BuildPipeline(Math.Min(options.MaxRetries, 2), options.RetryBaseDelay,
            options.RequestTimeout < ProbeTimeout ? options.RequestTimeout : ProbeTimeout);
    }

    static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    public QdrantOptions Options => options;

    string CollectionPath => "collections/" + Uri.EscapeDataString(options.Collection);

    /// <summary>
    /// Cheap start-up check: GET /collections (spec: get_collections; needs the API key, unlike /readyz, which
    /// Qdrant exempts from auth). Throws InvalidOperationException "Qdrant at URL is not reachable: ..." when
    /// nothing answers, "Qdrant at URL rejected the API key ..." on 401/403, and says so when something that is
    /// not Qdrant answers.
    /// </summary>
    public async Task CheckReachableAsync(CancellationToken ct = default)
    {
        JsonNode? response;
        try
        {
            response = await rest.SendAsync(HttpMethod.Get, "collections", null, probe, ct);
        }
        catch (InvalidOperationException e) when (!e.Message.Contains(" is not reachable", StringComparison.Ordinal)
                                                  && !e.Message.Contains(" rejected the API key", StringComparison.Ordinal))
        {
            // Something answered, but not as Qdrant does: one message shape for every start-up failure.
            var prefix = $"Qdrant at {options.Url} ";
            var why = e.Message.StartsWith(prefix, StringComparison.Ordinal) ? e.Message[prefix.Length..] : e.Message;
            throw new InvalidOperationException($"Qdrant at {options.Url} is not reachable: {why}", e);
        }
        if (response?["result"]?["collections"] is not JsonArray)
            throw new InvalidOperationException(
                $"Qdrant at {options.Url} is not reachable: GET /collections answered without a collection list; is {options.Url} Qdrant's REST endpoint (port 6333)?");
    }

    public async Task EnsureReadyAsync(int dimension, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        var existing = await rest.SendAsync(HttpMethod.Get, CollectionPath, null, ct, QdrantAllow.MissingCollection);
        if (existing is null)
        {
            // Another process may create it at the same moment: "already exists" means it exists now, so check it below.
            await rest.SendAsync(HttpMethod.Put, CollectionPath, CreateCollectionBody(dimension), ct, QdrantAllow.AlreadyExists);
            existing = await rest.SendAsync(HttpMethod.Get, CollectionPath, null, ct);
        }
        var info = existing?["result"] as JsonObject
            ?? throw new InvalidOperationException($"Qdrant at {options.Url} returned no collection info for '{options.Collection}'.");
        CheckVectors(info, dimension);
        // Also repairs a collection whose creator stopped before indexing its payload.
        var schema = info["payload_schema"] as JsonObject;
        foreach (var field in IndexedFields.Where(f => schema?.ContainsKey(f) != true))
            await rest.SendAsync(HttpMethod.Put, CollectionPath + "/index?wait=true", CreateFieldIndexBody(field), ct);
        this.dimension = dimension;
    }

    /// <summary>Spec CreateCollection: vectors is one VectorParams (size, distance, on_disk); null settings are left to Qdrant's defaults.</summary>
    internal JsonObject CreateCollectionBody(int dimension)
    {
        var vectors = new JsonObject { ["size"] = dimension, ["distance"] = DistanceName(options.Distance) };
        if (options.OnDiskVectors) vectors["on_disk"] = true; // VectorParams.on_disk, default false
        var body = new JsonObject { ["vectors"] = vectors };
        if (options.ShardNumber is { } shards) body["shard_number"] = shards;
        if (options.ReplicationFactor is { } replicas) body["replication_factor"] = replicas;
        return body;
    }

    /// <summary>Spec CreateFieldIndex: field_name and a PayloadSchemaType.</summary>
    internal static JsonObject CreateFieldIndexBody(string field) => new() { ["field_name"] = field, ["field_schema"] = "keyword" };

    /// <summary>CollectionInfo.config.params.vectors: one VectorParams {size, distance}, or a map of named vectors (not ours).</summary>
    void CheckVectors(JsonObject info, int dimension)
    {
        var vectors = info["config"]?["params"]?["vectors"] as JsonObject;
        if (vectors?["size"] is not JsonValue sizeValue || !sizeValue.TryGetValue(out long size))
            throw new InvalidOperationException(
                $"Qdrant collection '{options.Collection}' has no single unnamed vector (it has {(vectors is null ? "none" : "named vectors: " + string.Join(", ", vectors.Select(v => v.Key)))}); " +
                "it was not created by this service. Use another collection name.");
        var distance = vectors["distance"] is JsonValue d && d.TryGetValue(out string? name) ? name : "unknown";
        if (size != dimension)
            throw new InvalidOperationException(
                $"Qdrant collection '{options.Collection}' holds vectors of dimension {size}, but the encoder produces {dimension}. " +
                "Use the encoder the collection was built with, or another collection name.");
        if (!string.Equals(distance, DistanceName(options.Distance), StringComparison.Ordinal))
            throw new InvalidOperationException(
                $"Qdrant collection '{options.Collection}' uses {distance} distance, not {DistanceName(options.Distance)}. " +
                "Configure the distance it was built with, or use another collection name.");
    }

    /// <summary>Spec Distance enum: Cosine, Euclid, Dot, Manhattan (case-sensitive).</summary>
    static string DistanceName(VectorDistance d) => d switch
    {
        VectorDistance.Cosine => "Cosine",
        VectorDistance.Dot => "Dot",
        _ => throw new NotSupportedException($"Distance {d} is not supported."),
    };

    public async Task UpsertAsync(IReadOnlyList<VectorRecord> records, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        RequireReady();
        foreach (var r in records)
        {
            if (r.Vector.Length != dimension)
                throw new ArgumentException($"Chunk '{r.ChunkId}' has a vector of dimension {r.Vector.Length}; the collection holds dimension {dimension}.", nameof(records));
            if (!AllFinite(r.Vector))
                throw new ArgumentException($"Chunk '{r.ChunkId}' has a NaN or infinite vector component; JSON cannot carry it.", nameof(records));
        }
        foreach (var batch in records.Chunk(options.UpsertBatchSize))
            await rest.SendAsync(HttpMethod.Put, CollectionPath + "/points?wait=true", UpsertBody(batch), ct);
    }

    /// <summary>Spec PointsList: points of PointStruct {id: UUID string, vector: float[], payload}.</summary>
    internal static JsonObject UpsertBody(IEnumerable<VectorRecord> batch)
    {
        var points = new JsonArray();
        foreach (var r in batch)
            points.Add(new JsonObject
            {
                ["id"] = QdrantPointId.For(r.TenantId, r.ChunkId).ToString("D"),
                ["vector"] = Floats(r.Vector),
                ["payload"] = new JsonObject
                {
                    ["tenant_id"] = r.TenantId,
                    ["document_id"] = r.DocumentId,
                    ["chunk_id"] = r.ChunkId,
                    ["tags"] = Strings(r.Tags),
                },
            });
        return new JsonObject { ["points"] = points };
    }

    public async Task<IReadOnlyList<ScoredChunk>> SearchAsync(float[] query, SearchFilter filter, int k, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(filter);
        // Before EnsureReadyAsync the dimension is unknown here; Qdrant itself then checks the query's length.
        if (dimension != 0 && query.Length != dimension)
            throw new ArgumentException($"The query vector has dimension {query.Length}; the collection holds dimension {dimension}.", nameof(query));
        if (!AllFinite(query)) throw new ArgumentException("The query vector has a NaN or infinite component.", nameof(query));
        if (k <= 0) return []; // spec SearchRequest.limit: minimum 1
        var response = await rest.SendAsync(HttpMethod.Post, CollectionPath + "/points/search", SearchBody(query, filter, k, options.ExactSearch), ct,
            QdrantAllow.MissingCollection);
        if (response is null) return []; // no collection yet: nothing was ever stored
        return ParseHits(response);
    }

    /// <summary>Spec SearchRequest: vector (unnamed), limit, filter, with_payload (field list), with_vector, params (SearchParams.exact).</summary>
    internal static JsonObject SearchBody(float[] query, SearchFilter filter, int k, bool exact)
    {
        var body = new JsonObject
        {
            ["vector"] = Floats(query),
            ["limit"] = k,
            ["filter"] = Filter(filter.TenantId, filter.DocumentIds, filter.Tags),
            ["with_payload"] = Strings(["chunk_id", "document_id"]),
            ["with_vector"] = false,
        };
        if (exact) body["params"] = new JsonObject { ["exact"] = true };
        return body;
    }

    /// <summary>result: ScoredPoint[] with {id, version, score, payload}; the payload carries our chunk and document ids.</summary>
    IReadOnlyList<ScoredChunk> ParseHits(JsonNode response)
    {
        if (response["result"] is not JsonArray hits)
            throw new InvalidOperationException($"Qdrant search on collection '{options.Collection}' returned no result array.");
        var chunks = new List<ScoredChunk>(hits.Count);
        foreach (var hit in hits)
        {
            var chunkId = hit?["payload"]?["chunk_id"] is JsonValue c && c.TryGetValue(out string? cs) ? cs : null;
            var documentId = hit?["payload"]?["document_id"] is JsonValue d && d.TryGetValue(out string? ds) ? ds : null;
            if (chunkId is null || documentId is null || hit?["score"] is not JsonValue score || !score.TryGetValue(out double s))
                throw new InvalidOperationException(
                    $"Qdrant collection '{options.Collection}' holds point {hit?["id"]?.ToJsonString() ?? "?"} without chunk_id and document_id payload; " +
                    "it holds points this service did not write. Use a collection of its own.");
            chunks.Add(new ScoredChunk(chunkId, documentId, (float)s));
        }
        return chunks;
    }

    /// <summary>Works before EnsureReadyAsync too; a missing collection means nothing to delete.</summary>
    public async Task DeleteDocumentAsync(string tenantId, string documentId, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        await rest.SendAsync(HttpMethod.Post, CollectionPath + "/points/delete?wait=true", DeleteBody(tenantId, documentId), ct, QdrantAllow.MissingCollection);
    }

    /// <summary>Spec PointsSelector as FilterSelector: {filter}.</summary>
    internal static JsonObject DeleteBody(string tenantId, string documentId) => new() { ["filter"] = Filter(tenantId, [documentId], null) };

    /// <summary>Exact count of the tenant's points; 0 when the collection does not exist yet.</summary>
    public async Task<long> CountAsync(string tenantId, CancellationToken ct = default)
    {
        var response = await rest.SendAsync(HttpMethod.Post, CollectionPath + "/points/count", CountBody(tenantId), ct, QdrantAllow.MissingCollection);
        if (response is null) return 0;
        return response["result"]?["count"] is JsonValue count && count.TryGetValue(out long n)
            ? n
            : throw new InvalidOperationException($"Qdrant count on collection '{options.Collection}' returned no result.count.");
    }

    /// <summary>Spec CountRequest: {filter, exact}.</summary>
    internal static JsonObject CountBody(string tenantId) => new() { ["filter"] = Filter(tenantId, null, null), ["exact"] = true };

    /// <summary>Drops the whole collection (tests, and an operator resetting an index). True when it existed.</summary>
    public async Task<bool> DeleteCollectionAsync(CancellationToken ct = default)
    {
        var response = await rest.SendAsync(HttpMethod.Delete, CollectionPath, null, ct, QdrantAllow.MissingCollection);
        dimension = 0;
        return response?["result"] is JsonValue r && r.TryGetValue(out bool existed) && existed;
    }

    /// <summary>Spec Filter: must = [FieldCondition {key, match: MatchValue {value} | MatchAny {any}}]; tenant always, documents / tags when given.</summary>
    static JsonObject Filter(string tenantId, IReadOnlyCollection<string>? documentIds, IReadOnlyCollection<string>? tags)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        var must = new JsonArray { Match("tenant_id", new JsonObject { ["value"] = tenantId }) };
        // AnyVariants is a set (uniqueItems): send each value once.
        if (documentIds is { Count: > 0 }) must.Add(Match("document_id", new JsonObject { ["any"] = Strings(documentIds.Distinct(StringComparer.Ordinal)) }));
        if (tags is { Count: > 0 }) must.Add(Match("tags", new JsonObject { ["any"] = Strings(tags.Distinct(StringComparer.Ordinal)) }));
        return new JsonObject { ["must"] = must };

        static JsonObject Match(string key, JsonObject match) => new() { ["key"] = key, ["match"] = match };
    }

    static JsonArray Floats(float[] v) => new([.. v.Select(x => (JsonNode)x)]);
    static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(x => (JsonNode)x)]);
    static bool AllFinite(float[] v) => v.All(float.IsFinite);

    void RequireReady()
    {
        if (dimension == 0) throw new InvalidOperationException("The Qdrant index is not ready: call EnsureReadyAsync(dimension) first.");
    }

    public void Dispose() => rest.Dispose();
}
