namespace Rag.Eval.Tests.Metrics;

public class AnswerMetricsTests
{
    [Fact]
    public void Citation_precision_counts_distinct_cited_passages_that_hold_an_answer()
    {
        string[] passages = ["Denver Broncos won", "Carolina lost", "the Broncos"];
        // cited 1, 2, 2, 4 -> distinct {1, 2, 4}: 1 holds the answer, 2 does not, 4 is not a passage
        Assert.Equal(1.0 / 3, AnswerMetrics.CitationPrecision([1, 2, 2, 4], passages, ["Denver Broncos"])!.Value, 12);
        Assert.Equal(1, AnswerMetrics.CitationPrecision([1], passages, ["Denver Broncos"]));
        Assert.Null(AnswerMetrics.CitationPrecision([], passages, ["Denver Broncos"]));
    }

    [Fact]
    public void Tokens_per_second()
    {
        Assert.Equal(25, AnswerMetrics.TokensPerSecond(50, 2));
        Assert.Null(AnswerMetrics.TokensPerSecond(0, 2));
        Assert.Null(AnswerMetrics.TokensPerSecond(10, 0));
    }

    [Fact]
    public void Percentiles_interpolate_linearly_like_numpy()
    {
        double[] x = [4, 1, 3, 2];
        Assert.Equal(2.5, Percentiles.Of(x, 50)!.Value, 12);  // h = 1.5
        Assert.Equal(3.85, Percentiles.Of(x, 95)!.Value, 12); // h = 2.85
        Assert.Equal(3.97, Percentiles.Of(x, 99)!.Value, 12); // h = 2.97
        Assert.Equal(1, Percentiles.Of(x, 0));
        Assert.Equal(4, Percentiles.Of(x, 100));
    }

    [Fact]
    public void Percentiles_of_ties_single_values_and_nothing()
    {
        Assert.Equal(5, Percentiles.Of([5, 5, 5, 10], 50));
        Assert.Equal(7, Percentiles.Of([7], 99));
        Assert.Null(Percentiles.Of([], 50));
        Assert.Throws<ArgumentOutOfRangeException>(() => Percentiles.Of([1], 101));
    }
}
