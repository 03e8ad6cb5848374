namespace Rag.Eval.Tests.Reports;

public class ScorerAndComparerTests
{
    [Fact]
    public void Summary_averages_per_question_results()
    {
        var run = Fixtures.Run("r", [Fixtures.Question("a", 1, 1, 10), Fixtures.Question("b", 3, null, 20), Fixtures.Question("c", null, 2, 30)]);
        Assert.Equal(1.0 / 3, run.Metric("Recall@1")!.Value, 12);
        Assert.Equal(2.0 / 3, run.Metric("Recall@5")!.Value, 12);
        Assert.Equal(1.0 / 3, run.Metric("AnswerRecall@1")!.Value, 12);
        Assert.Equal(2.0 / 3, run.Metric("AnswerRecall@5")!.Value, 12);
        Assert.Equal((1 + 1.0 / 3 + 0) / 3, run.Metric("MRR@10")!.Value, 12);
        Assert.Equal(20, run.Metric("RetrievalP50ms")!.Value, 12);
        Assert.Equal(29.8, run.Metric("RetrievalP99ms")!.Value, 12); // h = 1.98 between 20 and 30
        Assert.Equal(0, run.Metric("Errors")!.Value);
        Assert.Null(run.Metric("EM")); // nothing generated
    }

    [Fact]
    public void Generated_answers_add_em_and_f1()
    {
        var run = Fixtures.Run("r", [Fixtures.Question("a", 1, 1, 10, "Denver Broncos"), Fixtures.Question("b", 1, 1, 10, "the Broncos won")], generate: true);
        Assert.Equal(0.5, run.Metric("EM")!.Value, 12);
        // F1("the Broncos won", "Denver Broncos"): tokens {broncos, won} vs {denver, broncos}: P = R = 1/2
        Assert.Equal((1 + 0.5) / 2, run.Metric("F1")!.Value, 12);
    }

    [Fact]
    public void Plain_summary_is_one_metric_value_pair_per_line()
    {
        var run = Fixtures.Run("r", [Fixtures.Question("a", 1, 1, 10), Fixtures.Question("b", 3, null, 20)]);
        var lines = EvalText.Summary(run).TrimEnd('\n').Split('\n');
        Assert.Contains("Recall@1 0.500", lines);
        Assert.Contains("Recall@5 1.000", lines);
        Assert.Contains("RetrievalP50ms 15.0", lines);
        Assert.Contains("Errors 0", lines);
        Assert.All(lines, l => Assert.Matches(@"^\S+ -?[0-9.]+$", l));
    }

    [Fact]
    public void Compare_flags_drops_beyond_the_threshold_and_slower_latency()
    {
        var a = Fixtures.WithMetrics("A", ("Recall@20", 0.96, ""), ("nDCG@10", 0.70, ""), ("RetrievalP50ms", 10, "ms"), ("RetrievalP95ms", 10, "ms"), ("Errors", 0, "count"), ("EM", 0.40, ""));
        var b = Fixtures.WithMetrics("B", ("Recall@20", 0.95, ""), ("nDCG@10", 0.68, ""), ("RetrievalP50ms", 10.5, "ms"), ("RetrievalP95ms", 11.5, "ms"), ("Errors", 1, "count"), ("F1", 0.5, ""));

        var c = EvalComparer.Compare(a, b);

        var byName = c.Deltas.ToDictionary(d => d.Name);
        Assert.False(byName["Recall@20"].Regression); // exactly one point: within the default threshold
        Assert.Equal(-0.01, byName["Recall@20"].Delta!.Value, 12);
        Assert.True(byName["nDCG@10"].Regression);
        Assert.False(byName["RetrievalP50ms"].Regression); // +5%
        Assert.True(byName["RetrievalP95ms"].Regression);  // +15%
        Assert.Equal(0.15, byName["RetrievalP95ms"].RelativeDelta!.Value, 12);
        Assert.True(byName["Errors"].Regression);
        Assert.Null(byName["EM"].B);
        Assert.False(byName["EM"].Regression);
        Assert.Null(byName["F1"].A);
        Assert.True(c.HasRegression);
        Assert.Empty(c.Notes);

        Assert.True(EvalComparer.Compare(a, b, new CompareThresholds(ScoreDrop: 0.005)).Deltas.Single(d => d.Name == "Recall@20").Regression);
        Assert.False(EvalComparer.Compare(a, a).HasRegression);
    }

    [Fact]
    public void Compare_improvements_are_not_regressions_and_a_changed_dataset_is_noted()
    {
        var a = Fixtures.WithMetrics("A", ("Recall@20", 0.90, ""), ("RetrievalP50ms", 20, "ms"));
        var b = Fixtures.WithMetrics("B", ("Recall@20", 0.95, ""), ("RetrievalP50ms", 10, "ms")) with { DatasetHash = new string('b', 64) };
        var c = EvalComparer.Compare(a, b);
        Assert.False(c.HasRegression);
        Assert.Contains(c.Notes, n => n.Contains("different datasets"));
        Assert.Contains("| Recall@20 | 0.900 | 0.950 | +0.050 |", EvalText.Markdown(c));
    }
}
