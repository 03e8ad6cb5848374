namespace Rag.Eval;

/// <summary>Averages the per-question results into the run's summary figures.</summary>
public static class EvalScorer
{
    public static IReadOnlyList<MetricValue> Summarize(IReadOnlyList<QuestionResult> results, IReadOnlyList<int> ks, bool generate, double? questionsPerSecond = null)
    {
        var metrics = new List<MetricValue>();
        var withGold = results.Where(r => r.HasGold).ToList();
        var withAnswers = results.Where(r => r.HasAnswers).ToList();
        var sortedKs = ks.Distinct().Order().ToList();

        if (withGold.Count > 0)
        {
            foreach (var k in sortedKs)
                metrics.Add(Mean($"Recall@{k}", withGold, r => r.FirstGoldRank <= k ? 1 : 0));
            metrics.Add(Mean("MRR@10", withGold, r => r.ReciprocalRank10));
            metrics.Add(Mean("nDCG@10", withGold, r => r.Ndcg10));
        }
        if (withAnswers.Count > 0)
            foreach (var k in sortedKs)
                metrics.Add(Mean($"AnswerRecall@{k}", withAnswers, r => r.FirstAnswerRank <= k ? 1 : 0));

        if (generate)
        {
            var answered = withAnswers.Where(r => r.GeneratedAnswer is not null).ToList();
            if (answered.Count > 0)
            {
                metrics.Add(Mean("EM", answered, r => r.ExactMatch ?? 0));
                metrics.Add(Mean("F1", answered, r => r.F1 ?? 0));
            }
            var cited = withAnswers.Where(r => r.CitationPrecision is not null).ToList();
            if (cited.Count > 0) metrics.Add(Mean("CitationPrecision", cited, r => r.CitationPrecision!.Value));
        }

        AddLatency(metrics, "Retrieval", results.Where(r => r.Error is null).Select(r => r.RetrievalMs).ToList());
        if (generate)
            AddLatency(metrics, "Generation", results.Where(r => r.GenerationMs is not null).Select(r => r.GenerationMs!.Value).ToList());
        AddLatency(metrics, "EndToEnd", results.Where(r => r.Error is null).Select(r => r.EndToEndMs).ToList());

        if (generate)
        {
            var tokens = results.Sum(r => (long)r.GeneratedTokens);
            var seconds = results.Sum(r => r.GenerationMs ?? 0) / 1000;
            if (AnswerMetrics.TokensPerSecond(tokens, seconds) is { } tps)
                metrics.Add(new("TokensPerSecond", tps, results.Count(r => r.GeneratedTokens > 0), HigherIsBetter: true, "tok/s"));
        }
        if (questionsPerSecond is { } qps)
            metrics.Add(new("QuestionsPerSecond", qps, results.Count, HigherIsBetter: true, "q/s"));
        metrics.Add(new("Errors", results.Count(r => r.Error is not null), results.Count, HigherIsBetter: false, "count"));
        return metrics;
    }

    static MetricValue Mean(string name, IReadOnlyList<QuestionResult> rows, Func<QuestionResult, double> value) =>
        new(name, rows.Count == 0 ? 0 : rows.Average(value), rows.Count, HigherIsBetter: true);

    static void AddLatency(List<MetricValue> metrics, string stage, IReadOnlyList<double> ms)
    {
        foreach (var p in new[] { 50, 95, 99 })
            if (Percentiles.Of(ms, p) is { } v)
                metrics.Add(new($"{stage}P{p}ms", v, ms.Count, HigherIsBetter: false, "ms"));
    }
}
