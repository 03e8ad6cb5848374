namespace Rag.Retriever.Qdrant;

/// <summary>Where and how vectors live in Qdrant. The creation settings apply only when the collection is first created.</summary>
public sealed record QdrantOptions
{
    /// <summary>gRPC endpoint (Qdrant.Client), e.g. http://localhost:6334; https for TLS.</summary>
    public string Url { get; init; } = "http://localhost:6334";

    /// <summary>Sent as the api-key metadata of every call when set.</summary>
    public string? ApiKey { get; init; }

    public string Collection { get; init; } = "rag_chunks";

    /// <summary>Keep original vectors on disk (memory-mapped) rather than in RAM.</summary>
    public bool OnDiskVectors { get; init; }

    /// <summary>Shards of a new collection; null leaves Qdrant's default (1 standalone, one per node in a cluster).</summary>
    public int? ShardNumber { get; init; }

    /// <summary>Replicas of each shard of a new collection; null leaves Qdrant's default (1).</summary>
    public int? ReplicationFactor { get; init; }

    public VectorDistance Distance { get; init; } = VectorDistance.Cosine;

    /// <summary>Points per upsert call.</summary>
    public int UpsertBatchSize { get; init; } = 256;

    /// <summary>Ask Qdrant for exact (full-scan) search instead of its HNSW graph.</summary>
    public bool ExactSearch { get; init; }

    /// <summary>Retries after the first attempt on transient failures (Unavailable, DeadlineExceeded, ResourceExhausted, Aborted).</summary>
    public int MaxRetries { get; init; } = 4;

    /// <summary>First back-off delay; it doubles on each retry (with jitter).</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>gRPC deadline of one attempt of one call.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
