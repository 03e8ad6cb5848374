using Grpc.Core;
using Polly;
using Polly.Retry;
using Qdrant.Client;
using Qdrant.Client.Grpc;
using static Qdrant.Client.Grpc.Conditions;

namespace Rag.Retriever.Qdrant;

/// <summary>
/// IVectorIndex over Qdrant's gRPC API through the official Qdrant.Client: one collection for every tenant
/// (Qdrant's multitenancy layout), with tenant_id a keyword payload index marked is_tenant, so Qdrant stores
/// each tenant's points together, and document_id and tags keyword indexes for the filters. Every search and
/// count is filtered by tenant. Point ids are name-based UUIDs of (tenant, chunk id), so a retried upsert
/// overwrites instead of duplicating. Writes wait for the operation to be applied, so they are visible to
/// searches when they return. Transient gRPC failures are retried with exponential back-off (Polly).
/// </summary>
public sealed class QdrantVectorIndex : IVectorIndex, IDisposable
{
    internal const string TenantField = "tenant_id", DocumentField = "document_id", TagsField = "tags", ChunkField = "chunk_id";

    static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    readonly QdrantOptions options;
    readonly QdrantClient client;
    readonly ResiliencePipeline pipeline;
    readonly ResiliencePipeline probe;
    int dimension;

    public QdrantVectorIndex(QdrantOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.Collection);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.UpsertBatchSize, 1);
        if (options.ShardNumber is < 1) throw new ArgumentOutOfRangeException(nameof(options), "Qdrant ShardNumber must be at least 1 (or null for Qdrant's default).");
        if (options.ReplicationFactor is < 1) throw new ArgumentOutOfRangeException(nameof(options), "Qdrant ReplicationFactor must be at least 1 (or null for Qdrant's default).");
        this.options = options;
        client = new QdrantClient(Address(options.Url), apiKey: string.IsNullOrEmpty(options.ApiKey) ? null : options.ApiKey,
            grpcTimeout: options.RequestTimeout, loggerFactory: null);
        pipeline = BuildPipeline(options.MaxRetries, options.RetryBaseDelay);
        // Start-up check: fail fast when Qdrant is down, but ride out a container that is still starting.
        probe = BuildPipeline(Math.Min(options.MaxRetries, 2), options.RetryBaseDelay);
    }

    public QdrantOptions Options => options;

    /// <summary>The gRPC address: an absolute http(s) URL; gRPC needs HTTP/2, which Qdrant serves on 6334 (6333 is REST).</summary>
    internal static Uri Address(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
            throw new ArgumentException($"Qdrant URL '{url}' is not an absolute http(s) URL such as http://localhost:6334 (Qdrant's gRPC port).", nameof(url));
        return uri;
    }

    static ResiliencePipeline BuildPipeline(int maxRetries, TimeSpan baseDelay)
    {
        var builder = new ResiliencePipelineBuilder();
        if (maxRetries > 0)
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = maxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = baseDelay,
                ShouldHandle = new PredicateBuilder().Handle<RpcException>(e => IsTransient(e.StatusCode)),
            });
        return builder.Build();
    }

    /// <summary>Refused or dropped connections, deadlines and overload may pass; anything else will not.</summary>
    static bool IsTransient(StatusCode code) =>
        code is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.ResourceExhausted or StatusCode.Aborted;

    /// <summary>
    /// Cheap start-up check: lists collections (needs the API key). Throws InvalidOperationException
    /// "Qdrant at URL is not reachable: ..." when nothing answers or something that is not Qdrant's gRPC API does,
    /// and "Qdrant at URL rejected the API key ..." when the key is missing or wrong.
    /// </summary>
    public async Task CheckReachableAsync(CancellationToken ct = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(ProbeTimeout * (1 + Math.Min(options.MaxRetries, 2)));
        try
        {
            await CallAsync("list collections", t => client.ListCollectionsAsync(t), timeout.Token, probe);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new InvalidOperationException($"Qdrant at {options.Url} is not reachable: no answer within {ProbeTimeout.TotalSeconds:0} s.{PortHint()}");
        }
        catch (InvalidOperationException e) when (!e.Message.StartsWith($"Qdrant at {options.Url} is not reachable", StringComparison.Ordinal)
                                                  && !e.Message.StartsWith($"Qdrant at {options.Url} rejected the API key", StringComparison.Ordinal))
        {
            // Something answered, but not as Qdrant does: one message shape for every start-up failure.
            throw new InvalidOperationException($"Qdrant at {options.Url} is not reachable: {e.Message[($"Qdrant at {options.Url} ").Length..]}", e);
        }
    }

    public async Task EnsureReadyAsync(int dimension, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (!await CallAsync("check the collection", t => client.CollectionExistsAsync(options.Collection, t), ct))
        {
            try
            {
                await CallAsync("create the collection", t => client.CreateCollectionAsync(CreateCollectionRequest(dimension), t), ct);
            }
            // Another process created it at the same moment: it exists now, so check it below.
            catch (InvalidOperationException e) when (e.InnerException is RpcException r && IsAlreadyExists(r)) { }
        }
        var info = await CallAsync("read the collection", t => client.GetCollectionInfoAsync(options.Collection, t), ct);
        CheckVectors(info, dimension);
        // Also repairs a collection whose creator stopped before indexing its payload.
        foreach (var (field, indexParams) in PayloadIndexes().Where(i => !info.PayloadSchema.ContainsKey(i.Field)))
            await CallAsync($"index payload field {field}", t => client.CreatePayloadIndexAsync(options.Collection, field, PayloadSchemaType.Keyword,
                indexParams, wait: true, cancellationToken: t), ct);
        this.dimension = dimension;
    }

    static bool IsAlreadyExists(RpcException e) =>
        e.StatusCode == StatusCode.AlreadyExists || e.Status.Detail.Contains("already exists", StringComparison.OrdinalIgnoreCase);

    /// <summary>One unnamed vector of this dimension and distance; null settings are left to Qdrant's defaults.</summary>
    internal CreateCollection CreateCollectionRequest(int dimension)
    {
        var vector = new VectorParams { Size = (ulong)dimension, Distance = ToQdrant(options.Distance) };
        // on_disk is deprecated in 1.20 for `memory`, which servers before 1.20 (compose runs 1.19) ignore.
#pragma warning disable CS0612
        if (options.OnDiskVectors) vector.OnDisk = true;
#pragma warning restore CS0612
        var request = new CreateCollection { CollectionName = options.Collection, VectorsConfig = new VectorsConfig { Params = vector } };
        if (options.ShardNumber is { } shards) request.ShardNumber = (uint)shards;
        if (options.ReplicationFactor is { } replicas) request.ReplicationFactor = (uint)replicas;
        return request;
    }

    /// <summary>Keyword indexes of the filtered fields; the tenant's is marked is_tenant (Qdrant's multitenancy layout, 1.11+).</summary>
    internal static IReadOnlyList<(string Field, PayloadIndexParams? Params)> PayloadIndexes() =>
    [
        (TenantField, new PayloadIndexParams { KeywordIndexParams = new KeywordIndexParams { IsTenant = true } }),
        (DocumentField, null),
        (TagsField, null),
    ];

    void CheckVectors(CollectionInfo info, int dimension)
    {
        var config = info.Config?.Params?.VectorsConfig;
        if (config?.ConfigCase != VectorsConfig.ConfigOneofCase.Params)
            throw new InvalidOperationException(
                $"Qdrant collection '{options.Collection}' at {options.Url} has no single unnamed vector" +
                (config?.ParamsMap is { } map ? $" (it has named vectors: {string.Join(", ", map.Map.Keys)})" : "") +
                "; it was not created by this service. Use another collection name.");
        var size = (long)config.Params.Size;
        if (size != dimension)
            throw new InvalidOperationException(
                $"Qdrant collection '{options.Collection}' at {options.Url} holds vectors of dimension {size}, but the encoder produces {dimension}. " +
                "Use the encoder the collection was built with, or another collection name.");
        if (config.Params.Distance != ToQdrant(options.Distance))
            throw new InvalidOperationException(
                $"Qdrant collection '{options.Collection}' at {options.Url} uses {config.Params.Distance} distance, not {ToQdrant(options.Distance)}. " +
                "Configure the distance it was built with, or use another collection name.");
    }

    internal static Distance ToQdrant(VectorDistance d) => d switch
    {
        VectorDistance.Cosine => Distance.Cosine,
        VectorDistance.Dot => Distance.Dot,
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
                throw new ArgumentException($"Chunk '{r.ChunkId}' has a NaN or infinite vector component.", nameof(records));
        }
        foreach (var batch in records.Chunk(options.UpsertBatchSize))
        {
            var points = batch.Select(ToPoint).ToList();
            await CallAsync("upsert points", t => client.UpsertAsync(options.Collection, points, wait: true, cancellationToken: t), ct);
        }
    }

    /// <summary>Our chunk as a Qdrant point: deterministic id, the vector, and the payload the filters and results read.</summary>
    internal static PointStruct ToPoint(VectorRecord r) => new()
    {
        Id = PointIdFor(r.TenantId, r.ChunkId),
        Vectors = r.Vector,
        Payload =
        {
            [TenantField] = r.TenantId,
            [DocumentField] = r.DocumentId,
            [ChunkField] = r.ChunkId,
            [TagsField] = r.Tags.ToArray(),
        },
    };

    internal static PointId PointIdFor(string tenantId, string chunkId) => QdrantPointId.For(tenantId, chunkId);

    public async Task<IReadOnlyList<ScoredChunk>> SearchAsync(float[] query, SearchFilter filter, int k, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(filter);
        // Before EnsureReadyAsync the dimension is unknown here; Qdrant itself then checks the query's length.
        if (dimension != 0 && query.Length != dimension)
            throw new ArgumentException($"The query vector has dimension {query.Length}; the collection holds dimension {dimension}.", nameof(query));
        if (!AllFinite(query)) throw new ArgumentException("The query vector has a NaN or infinite component.", nameof(query));
        if (k <= 0) return [];
        var qdrantFilter = ToFilter(filter);
        var searchParams = options.ExactSearch ? new SearchParams { Exact = true } : null;
        var payload = new WithPayloadSelector { Include = new PayloadIncludeSelector { Fields = { ChunkField, DocumentField } } };
        IReadOnlyList<ScoredPoint> hits;
        try
        {
            hits = await CallAsync("search", t => client.QueryAsync(options.Collection, query: query, filter: qdrantFilter, searchParams: searchParams,
                limit: (ulong)k, payloadSelector: payload, cancellationToken: t), ct);
        }
        catch (InvalidOperationException e) when (IsMissingCollection(e)) { return []; } // nothing was ever stored
        return [.. hits.Select(ToScoredChunk)];
    }

    ScoredChunk ToScoredChunk(ScoredPoint hit)
    {
        if (!hit.Payload.TryGetValue(ChunkField, out var chunk) || !hit.Payload.TryGetValue(DocumentField, out var document)
            || chunk.KindCase != Value.KindOneofCase.StringValue || document.KindCase != Value.KindOneofCase.StringValue)
            throw new InvalidOperationException(
                $"Qdrant collection '{options.Collection}' holds point {hit.Id} without chunk_id and document_id payload; " +
                "it holds points this service did not write. Use a collection of its own.");
        return new ScoredChunk(chunk.StringValue, document.StringValue, hit.Score);
    }

    /// <summary>Works before EnsureReadyAsync too; a missing collection means nothing to delete.</summary>
    public async Task DeleteDocumentAsync(string tenantId, string documentId, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        var filter = ToFilter(new SearchFilter(tenantId, [documentId]));
        try
        {
            await CallAsync("delete a document's points", t => client.DeleteAsync(options.Collection, filter, wait: true, cancellationToken: t), ct);
        }
        catch (InvalidOperationException e) when (IsMissingCollection(e)) { }
    }

    /// <summary>Exact count of the tenant's points; 0 when the collection does not exist yet.</summary>
    public async Task<long> CountAsync(string tenantId, CancellationToken ct = default)
    {
        var filter = ToFilter(new SearchFilter(tenantId));
        try
        {
            return (long)await CallAsync("count points", t => client.CountAsync(options.Collection, filter, exact: true, cancellationToken: t), ct);
        }
        catch (InvalidOperationException e) when (IsMissingCollection(e)) { return 0; }
    }

    /// <summary>Drops the whole collection (tests, and an operator resetting an index). True when it existed.</summary>
    public async Task<bool> DeleteCollectionAsync(CancellationToken ct = default)
    {
        var existed = await CallAsync("check the collection", t => client.CollectionExistsAsync(options.Collection, t), ct);
        if (existed) await CallAsync("delete the collection", t => client.DeleteCollectionAsync(options.Collection, cancellationToken: t), ct);
        dimension = 0;
        return existed;
    }

    /// <summary>Our filter as Qdrant's: must = tenant keyword, then any-of document ids and any-of tags when given.</summary>
    internal static Filter ToFilter(SearchFilter filter)
    {
        ArgumentException.ThrowIfNullOrEmpty(filter.TenantId);
        var result = new Filter { Must = { MatchKeyword(TenantField, filter.TenantId) } };
        if (filter.DocumentIds is { Count: > 0 } documents) result.Must.Add(Match(DocumentField, [.. documents.Distinct(StringComparer.Ordinal)]));
        if (filter.Tags is { Count: > 0 } tags) result.Must.Add(Match(TagsField, [.. tags.Distinct(StringComparer.Ordinal)]));
        return result;
    }

    static bool IsMissingCollection(InvalidOperationException e) => e.InnerException is RpcException { StatusCode: StatusCode.NotFound };

    /// <summary>One call through the retry pipeline, with gRPC failures turned into one clear line naming the address.</summary>
    Task<T> CallAsync<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken ct) => CallAsync(what, call, ct, pipeline);

    Task CallAsync(string what, Func<CancellationToken, Task> call, CancellationToken ct) =>
        CallAsync(what, async t => { await call(t); return true; }, ct, pipeline);

    async Task<T> CallAsync<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken ct, ResiliencePipeline through)
    {
        try
        {
            return await through.ExecuteAsync(async t => await call(t), ct);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && ct.IsCancellationRequested)
        {
            throw new OperationCanceledException(ct);
        }
        catch (RpcException e)
        {
            throw Failure(e, what);
        }
    }

    InvalidOperationException Failure(RpcException e, string what)
    {
        var at = $"Qdrant at {options.Url}";
        var detail = string.IsNullOrEmpty(e.Status.Detail) ? e.StatusCode.ToString() : e.Status.Detail;
        return e.StatusCode switch
        {
            StatusCode.Unauthenticated or StatusCode.PermissionDenied => new InvalidOperationException(
                $"{at} rejected the API key ({e.StatusCode} to {what}: {detail}); " +
                (string.IsNullOrEmpty(options.ApiKey) ? "no API key is configured (set the Qdrant API key)." : "check the Qdrant API key; a read-only key cannot write."), e),
            StatusCode.Unavailable or StatusCode.DeadlineExceeded =>
                new InvalidOperationException($"{at} is not reachable ({what}): {detail}{PortHint()}", e),
            // An HTTP/1.1 server (Qdrant's REST port, a proxy) or anything else that does not speak gRPC.
            StatusCode.Internal or StatusCode.Unknown =>
                new InvalidOperationException($"{at} did not answer as Qdrant's gRPC API ({what}): {detail}{PortHint()}", e),
            StatusCode.NotFound => new InvalidOperationException($"{at} has no collection '{options.Collection}' ({what}): {detail}", e),
            _ => new InvalidOperationException($"{at} refused to {what} on collection '{options.Collection}': {e.StatusCode}: {detail}", e),
        };
    }

    /// <summary>6333 is Qdrant's REST port; this client speaks gRPC, served on 6334 by default.</summary>
    string PortHint() => Uri.TryCreate(options.Url, UriKind.Absolute, out var u) && u.Port == 6333
        ? " Port 6333 is Qdrant's REST port; this service speaks gRPC, on 6334 by default."
        : "";

    static bool AllFinite(float[] v) => v.All(float.IsFinite);

    void RequireReady()
    {
        if (dimension == 0) throw new InvalidOperationException("The Qdrant index is not ready: call EnsureReadyAsync(dimension) first.");
    }

    public void Dispose() => client.Dispose();
}
