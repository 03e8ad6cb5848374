namespace Rag.Eval;

/// <summary>One metric of two runs side by side. Delta = B - A; RelativeDelta = Delta / |A| (null when A is 0).</summary>
public sealed record MetricDelta(string Name, double? A, double? B, double? Delta, double? RelativeDelta, bool HigherIsBetter, bool Regression, string Unit = "");

public sealed record EvalComparison(string RunA, string RunB, IReadOnlyList<MetricDelta> Deltas, IReadOnlyList<string> Notes)
{
    public bool HasRegression => Deltas.Any(d => d.Regression);
}

/// <summary>
/// Thresholds for calling a change a regression. Quality scores (0..1) regress on an absolute drop (default one
/// point, 0.01); latencies and throughput are noisy, so they regress on a relative change (default 10%).
/// </summary>
public sealed record CompareThresholds(double ScoreDrop = 0.01, double LatencyIncrease = 0.10, double ThroughputDrop = 0.10);

public static class EvalComparer
{
    /// <summary>Deltas for every metric either run has, in A's order then B's extras; B is the candidate, A the baseline.</summary>
    public static EvalComparison Compare(EvalRunResult a, EvalRunResult b, CompareThresholds? thresholds = null)
    {
        var t = thresholds ?? new CompareThresholds();
        var notes = new List<string>();
        if (a.DatasetHash != b.DatasetHash)
            notes.Add($"The runs used different datasets ({a.DatasetName} {a.DatasetHash[..8]} vs {b.DatasetName} {b.DatasetHash[..8]}): deltas compare different questions.");
        if (a.Mode != b.Mode) notes.Add($"Retrieval mode changed: {a.Mode} -> {b.Mode}.");

        var names = a.Metrics.Select(m => m.Name).Concat(b.Metrics.Select(m => m.Name)).Distinct().ToList();
        var deltas = new List<MetricDelta>();
        foreach (var name in names)
        {
            var ma = a.Metric(name);
            var mb = b.Metric(name);
            var meta = mb ?? ma!;
            double? delta = ma is not null && mb is not null ? mb.Value - ma.Value : null;
            double? relative = delta is { } d && ma!.Value != 0 ? d / Math.Abs(ma.Value) : null;
            deltas.Add(new MetricDelta(name, ma?.Value, mb?.Value, delta, relative, meta.HigherIsBetter, IsRegression(meta, ma, mb, delta, relative, t), meta.Unit));
        }
        return new EvalComparison(a.RunId, b.RunId, deltas, notes);
    }

    static bool IsRegression(MetricValue meta, MetricValue? a, MetricValue? b, double? delta, double? relative, CompareThresholds t)
    {
        if (a is null || b is null || delta is not { } d) return false;
        if (meta.Unit == "count") return d > 0;
        // Eps keeps a drop of exactly the threshold (0.95 -> 0.94 is -0.010000000000000009) from being flagged.
        const double Eps = 1e-9;
        if (meta.Unit == "ms") return relative is { } r ? r > t.LatencyIncrease + Eps : d > 0;
        if (meta.Unit is "q/s" or "tok/s") return relative is { } r2 && r2 < -t.ThroughputDrop - Eps;
        return meta.HigherIsBetter ? d < -t.ScoreDrop - Eps : d > t.ScoreDrop + Eps;
    }
}
