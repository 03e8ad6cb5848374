namespace Rag.Retriever.Hybrid;

/// <summary>A fused chunk: its RRF score and its 1-based rank in each input list (null when absent).</summary>
public sealed record FusedChunk(string ChunkId, string DocumentId, float Score, int? DenseRank, int? LexicalRank);

/// <summary>
/// Cormack, Clarke and Büttcher (2009), "Reciprocal rank fusion outperforms Condorcet and individual rank
/// learning methods": RRF(d) = Σ_lists 1 / (k + rank(d)), with k = 60. Only ranks matter, so scores on
/// different scales (cosine, BM25) fuse without calibration.
/// </summary>
public static class ReciprocalRankFusion
{
    public const int DefaultK = 60;

    /// <summary>Both lists best first. Ties keep the better dense rank, then the better lexical rank.</summary>
    public static IReadOnlyList<FusedChunk> Fuse(IReadOnlyList<ScoredChunk> dense, IReadOnlyList<ScoredChunk> lexical, int k = DefaultK)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        var fused = new Dictionary<string, (string DocumentId, int? Dense, int? Lexical)>(StringComparer.Ordinal);
        for (var i = 0; i < dense.Count; i++)
            if (!fused.ContainsKey(dense[i].ChunkId)) fused[dense[i].ChunkId] = (dense[i].DocumentId, i + 1, null);
        for (var i = 0; i < lexical.Count; i++)
        {
            var c = lexical[i];
            if (fused.TryGetValue(c.ChunkId, out var e)) { if (e.Lexical is null) fused[c.ChunkId] = e with { Lexical = i + 1 }; }
            else fused[c.ChunkId] = (c.DocumentId, null, i + 1);
        }
        return [.. fused
            .Select(kv => new FusedChunk(kv.Key, kv.Value.DocumentId, Score(kv.Value.Dense, k) + Score(kv.Value.Lexical, k), kv.Value.Dense, kv.Value.Lexical))
            .OrderByDescending(f => f.Score)
            .ThenBy(f => f.DenseRank ?? int.MaxValue)
            .ThenBy(f => f.LexicalRank ?? int.MaxValue)];
    }

    static float Score(int? rank, int k) => rank is { } r ? 1f / (k + r) : 0f;
}
