using Rag.Storage;

namespace Rag.Retriever;

/// <summary>Who may be searched: always one tenant, optionally narrowed to documents or tags.</summary>
public sealed record SearchFilter(string TenantId, IReadOnlyCollection<string>? DocumentIds = null, IReadOnlyCollection<string>? Tags = null);

/// <summary>A chunk's vector with the fields the index filters on.</summary>
public sealed record VectorRecord(string ChunkId, string TenantId, string DocumentId, float[] Vector, IReadOnlyList<string> Tags);

/// <summary>A chunk's text for the lexical index.</summary>
public sealed record LexicalRecord(string ChunkId, string Text);

public sealed record ScoredChunk(string ChunkId, string DocumentId, float Score);

public enum VectorDistance { Cosine, Dot }

/// <summary>Nearest-neighbour search over chunk vectors. Embedded (files in the data folder) or Qdrant.</summary>
public interface IVectorIndex
{
    /// <summary>Creates or opens the index for vectors of this dimension; throws a clear error on a dimension mismatch.</summary>
    Task EnsureReadyAsync(int dimension, CancellationToken ct = default);
    Task UpsertAsync(IReadOnlyList<VectorRecord> records, CancellationToken ct = default);
    Task<IReadOnlyList<ScoredChunk>> SearchAsync(float[] query, SearchFilter filter, int k, CancellationToken ct = default);
    Task DeleteDocumentAsync(string tenantId, string documentId, CancellationToken ct = default);
    Task<long> CountAsync(string tenantId, CancellationToken ct = default);
}

/// <summary>BM25 over chunk texts.</summary>
public interface ILexicalIndex
{
    /// <summary>Replaces every chunk of the document with these.</summary>
    Task IndexDocumentAsync(string tenantId, string documentId, IReadOnlyList<string> tags, IReadOnlyList<LexicalRecord> chunks, CancellationToken ct = default);
    Task<IReadOnlyList<ScoredChunk>> SearchAsync(string query, SearchFilter filter, int k, CancellationToken ct = default);
    Task DeleteDocumentAsync(string tenantId, string documentId, CancellationToken ct = default);
}

public enum RetrievalMode { Hybrid, Dense, Bm25 }

public sealed record RetrievalRequest(string Query, SearchFilter Filter, int K = 5, RetrievalMode Mode = RetrievalMode.Hybrid);

/// <summary>A retrieved chunk with its document and how each retriever ranked it (1-based; null when absent).</summary>
public sealed record RetrievedPassage(ChunkRecord Chunk, string DocumentTitle, float Score, int? DenseRank, int? LexicalRank);

/// <summary>The passages, the mode actually used (BM25 when no encoder is configured) and a notice saying why it differs.</summary>
/// <param name="Retrieval">What ran, for people: "hybrid: arctic-embed-xs + BM25", "dense: arctic-embed-xs", "BM25 only".</param>
public sealed record RetrievalResult(IReadOnlyList<RetrievedPassage> Passages, RetrievalMode Mode, string? Notice, TimeSpan Elapsed, string? Retrieval = null);

/// <summary>One wording of what retrieval runs, shared by /readyz, /v1/search, the CLI and the web page.</summary>
public static class RetrievalLabels
{
    /// <param name="encoder">The question encoder's display name; null when none is configured.</param>
    public static string Describe(RetrievalMode mode, string? encoder) => (encoder, mode) switch
    {
        (null, _) => "BM25 only (no question encoder)",
        (_, RetrievalMode.Bm25) => "BM25",
        (_, RetrievalMode.Dense) => $"dense: {encoder}",
        _ => $"hybrid: {encoder} + BM25",
    };
}

public interface IRetriever
{
    /// <summary>True when a question encoder is configured, so dense and hybrid modes are available.</summary>
    bool HasDenseEncoder { get; }
    Task<RetrievalResult> RetrieveAsync(RetrievalRequest request, CancellationToken ct = default);
}
