namespace Rag.Retriever.Hybrid;

/// <summary>How hybrid retrieval fuses the dense and the BM25 list.</summary>
public enum FusionMethod
{
    /// <summary>Reciprocal rank fusion (ranks only).</summary>
    Rrf,

    /// <summary>A convex combination of min-max normalised scores (the scores' gaps count, not only their order).</summary>
    MinMax,
}

/// <summary>
/// Convex combination of normalised scores, as analysed by Bruch, Gai and Ingber (2023), "An analysis of fusion
/// functions for hybrid retrieval": each list's scores are min-max normalised over that list's candidates, then
/// fused = w * dense + (1 - w) * lexical, with 0 for a side that did not return the chunk. Unlike RRF it keeps how
/// far apart the candidates are, so a confident BM25 hit is not dragged down by a weak dense list (or the reverse).
/// </summary>
public static class ScoreFusion
{
    public const float DefaultDenseWeight = 0.5f;

    /// <summary>Both lists best first. Ties keep the better dense rank, then the better lexical rank.</summary>
    public static IReadOnlyList<FusedChunk> MinMax(IReadOnlyList<ScoredChunk> dense, IReadOnlyList<ScoredChunk> lexical, float denseWeight = DefaultDenseWeight)
    {
        if (denseWeight is < 0 or > 1 || float.IsNaN(denseWeight)) throw new ArgumentOutOfRangeException(nameof(denseWeight), "the dense weight lies in [0, 1]");
        var fused = new Dictionary<string, (string DocumentId, float Score, int? Dense, int? Lexical)>(StringComparer.Ordinal);
        var denseScale = Normaliser(dense);
        for (var i = 0; i < dense.Count; i++)
            if (!fused.ContainsKey(dense[i].ChunkId))
                fused[dense[i].ChunkId] = (dense[i].DocumentId, denseWeight * denseScale(dense[i].Score), i + 1, null);
        var lexicalScale = Normaliser(lexical);
        for (var i = 0; i < lexical.Count; i++)
        {
            var c = lexical[i];
            var s = (1 - denseWeight) * lexicalScale(c.Score);
            if (fused.TryGetValue(c.ChunkId, out var e)) { if (e.Lexical is null) fused[c.ChunkId] = e with { Score = e.Score + s, Lexical = i + 1 }; }
            else fused[c.ChunkId] = (c.DocumentId, s, null, i + 1);
        }
        return [.. fused
            .Select(kv => new FusedChunk(kv.Key, kv.Value.DocumentId, kv.Value.Score, kv.Value.Dense, kv.Value.Lexical))
            .OrderByDescending(f => f.Score)
            .ThenBy(f => f.DenseRank ?? int.MaxValue)
            .ThenBy(f => f.LexicalRank ?? int.MaxValue)];
    }

    /// <summary>(s - min) / (max - min) over the list; a list of one, or of equal scores, maps to 1.</summary>
    static Func<float, float> Normaliser(IReadOnlyList<ScoredChunk> list)
    {
        if (list.Count == 0) return _ => 0f;
        float min = float.MaxValue, max = float.MinValue;
        foreach (var c in list) { min = Math.Min(min, c.Score); max = Math.Max(max, c.Score); }
        var range = max - min;
        return range > 0 && float.IsFinite(range) ? s => (s - min) / range : _ => 1f;
    }

    /// <summary>The fusion a method names.</summary>
    public static IReadOnlyList<FusedChunk> Fuse(FusionMethod method, IReadOnlyList<ScoredChunk> dense, IReadOnlyList<ScoredChunk> lexical, float denseWeight = DefaultDenseWeight) =>
        method switch
        {
            FusionMethod.Rrf => ReciprocalRankFusion.Fuse(dense, lexical),
            FusionMethod.MinMax => MinMax(dense, lexical, denseWeight),
            _ => throw new ArgumentOutOfRangeException(nameof(method), method, "unknown fusion method"),
        };
}
