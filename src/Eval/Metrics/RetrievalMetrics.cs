namespace Rag.Eval;

/// <summary>
/// Ranking metrics over one question's ranked list. Ranks are 1-based. Ties in score keep the retriever's
/// order (it breaks them deterministically); a document retrieved through several chunks counts at its best rank.
/// </summary>
public static class RetrievalMetrics
{
    /// <summary>Rank (1-based) of the first item that satisfies the test, or null when none does.</summary>
    public static int? FirstRank<T>(IReadOnlyList<T> ranked, Func<T, bool> isRelevant)
    {
        for (var i = 0; i < ranked.Count; i++)
            if (isRelevant(ranked[i])) return i + 1;
        return null;
    }

    /// <summary>Recall@k as DPR reports it (top-k accuracy): 1 when a gold document is among the first k, else 0.</summary>
    public static double RecallAt(IReadOnlyList<string> rankedDocumentIds, IReadOnlyCollection<string> gold, int k) =>
        FirstRank(rankedDocumentIds, gold.Contains) is { } r && r <= k ? 1 : 0;

    /// <summary>Answer recall@k (DPR's top-k accuracy by answer string): 1 when one of the first k passages contains an answer.</summary>
    public static double AnswerRecallAt(IReadOnlyList<string> rankedPassageTexts, IReadOnlyList<string> answers, int k) =>
        FirstRank(rankedPassageTexts.Take(k).ToList(), t => SquadText.ContainsAnswer(t, answers)) is null ? 0 : 1;

    /// <summary>Reciprocal rank of the first gold document within the cutoff: 1/rank, or 0.</summary>
    public static double ReciprocalRank(IReadOnlyList<string> rankedDocumentIds, IReadOnlyCollection<string> gold, int cutoff = 10)
    {
        var ranked = DistinctInOrder(rankedDocumentIds);
        return FirstRank(ranked, gold.Contains) is { } r && r <= cutoff ? 1.0 / r : 0;
    }

    /// <summary>
    /// nDCG@cutoff as BEIR computes it (pytrec_eval's ndcg_cut): DCG = Σ_{i≤cutoff} rel_i / log2(i + 1) with the
    /// graded relevance as gain, divided by the DCG of the ideal ordering of the judged documents.
    /// </summary>
    public static double Ndcg(IReadOnlyList<string> rankedDocumentIds, IReadOnlyDictionary<string, int> qrels, int cutoff = 10)
    {
        var ideal = qrels.Values.Where(r => r > 0).OrderByDescending(r => r).Take(cutoff).ToList();
        if (ideal.Count == 0) return 0;
        var ranked = DistinctInOrder(rankedDocumentIds);
        double dcg = 0, idcg = 0;
        for (var i = 0; i < Math.Min(cutoff, ranked.Count); i++)
            if (qrels.TryGetValue(ranked[i], out var rel) && rel > 0) dcg += rel / Math.Log2(i + 2);
        for (var i = 0; i < ideal.Count; i++) idcg += ideal[i] / Math.Log2(i + 2);
        return dcg / idcg;
    }

    /// <summary>Document ids in first-seen order: the document ranking implied by a passage ranking.</summary>
    public static IReadOnlyList<string> DistinctInOrder(IReadOnlyList<string> ids)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var list = new List<string>(ids.Count);
        foreach (var id in ids)
            if (seen.Add(id)) list.Add(id);
        return list;
    }
}
