namespace Rag.Eval;

/// <summary>Metrics of a generated answer beyond EM / F1.</summary>
public static class AnswerMetrics
{
    /// <summary>
    /// Citation precision: the share of distinct cited passages (1-based numbers into the passages the answer was
    /// grounded on) whose text contains a gold answer. Null when nothing is cited (undefined, not zero);
    /// a citation number outside the passages counts as a wrong citation.
    /// </summary>
    public static double? CitationPrecision(IReadOnlyList<int> citedNumbers, IReadOnlyList<string> passageTexts, IReadOnlyList<string> answers)
    {
        var cited = citedNumbers.Distinct().ToList();
        if (cited.Count == 0) return null;
        var good = cited.Count(n => n >= 1 && n <= passageTexts.Count && SquadText.ContainsAnswer(passageTexts[n - 1], answers));
        return (double)good / cited.Count;
    }

    /// <summary>Generated tokens per second of generation time, over all answers; null when nothing was generated.</summary>
    public static double? TokensPerSecond(long tokens, double generationSeconds) =>
        tokens > 0 && generationSeconds > 0 ? tokens / generationSeconds : null;
}

/// <summary>Latency percentiles.</summary>
public static class Percentiles
{
    /// <summary>
    /// The p-th percentile (0..100) with linear interpolation between closest ranks (numpy's default):
    /// position h = (n - 1) p / 100, value = x[⌊h⌋] + (h - ⌊h⌋)(x[⌊h⌋+1] - x[⌊h⌋]). Null for no values.
    /// </summary>
    public static double? Of(IEnumerable<double> values, double p)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(p, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(p, 100);
        var x = values.ToArray();
        if (x.Length == 0) return null;
        Array.Sort(x);
        var h = (x.Length - 1) * p / 100.0;
        var lo = (int)Math.Floor(h);
        var hi = Math.Min(lo + 1, x.Length - 1);
        return x[lo] + (h - lo) * (x[hi] - x[lo]);
    }
}
