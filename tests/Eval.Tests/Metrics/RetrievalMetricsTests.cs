namespace Rag.Eval.Tests.Metrics;

public class RetrievalMetricsTests
{
    static readonly HashSet<string> GoldD1 = ["d1"];

    [Fact]
    public void Recall_at_k_is_gold_in_top_k()
    {
        string[] ranked = ["d3", "d1", "d1", "d2"];
        Assert.Equal(0, RetrievalMetrics.RecallAt(ranked, GoldD1, 1));
        Assert.Equal(1, RetrievalMetrics.RecallAt(ranked, GoldD1, 2));
        Assert.Equal(1, RetrievalMetrics.RecallAt(ranked, GoldD1, 100));
    }

    [Fact]
    public void Empty_retrieval_scores_zero_everywhere()
    {
        Assert.Equal(0, RetrievalMetrics.RecallAt([], GoldD1, 20));
        Assert.Equal(0, RetrievalMetrics.ReciprocalRank([], GoldD1));
        Assert.Equal(0, RetrievalMetrics.Ndcg([], new Dictionary<string, int> { ["d1"] = 1 }));
        Assert.Equal(0, RetrievalMetrics.AnswerRecallAt([], ["Paris"], 5));
        Assert.Null(RetrievalMetrics.FirstRank(Array.Empty<string>(), _ => true));
    }

    [Fact]
    public void Reciprocal_rank_counts_a_document_once_at_its_best_rank()
    {
        // passages of d3, d3, d1: as documents d3, d1, so d1 is rank 2
        Assert.Equal(0.5, RetrievalMetrics.ReciprocalRank(["d3", "d3", "d1"], GoldD1));
        Assert.Equal(1, RetrievalMetrics.ReciprocalRank(["d1", "d1"], GoldD1));
    }

    [Fact]
    public void Reciprocal_rank_is_cut_at_ten()
    {
        var ranked = Enumerable.Range(0, 10).Select(i => $"x{i}").Append("d1").ToList();
        Assert.Equal(0, RetrievalMetrics.ReciprocalRank(ranked, GoldD1, 10));
        Assert.Equal(1.0 / 11, RetrievalMetrics.ReciprocalRank(ranked, GoldD1, 11), 12);
    }

    [Fact]
    public void Ndcg_uses_graded_gains_and_the_ideal_ordering()
    {
        // DCG = 0 + 2/log2(3) + 1/log2(4); IDCG = 2/log2(2) + 1/log2(3) + 1/log2(4) (d4 judged but not retrieved)
        var qrels = new Dictionary<string, int> { ["d2"] = 2, ["d3"] = 1, ["d4"] = 1 };
        Assert.Equal(0.5627272554209044, RetrievalMetrics.Ndcg(["d1", "d2", "d3"], qrels), 12);
        Assert.Equal(1, RetrievalMetrics.Ndcg(["d2", "d3", "d4"], qrels), 12);
    }

    [Fact]
    public void Ndcg_tied_chunks_of_one_document_count_once()
    {
        // d2 twice (two chunks, equal scores), then d1: documents d2, d1 -> DCG = 1/log2(3), IDCG = 1
        var qrels = new Dictionary<string, int> { ["d1"] = 1 };
        Assert.Equal(0.6309297535714575, RetrievalMetrics.Ndcg(["d2", "d2", "d1"], qrels), 12);
    }

    [Fact]
    public void Ndcg_ignores_zero_relevance_judgements()
    {
        var qrels = new Dictionary<string, int> { ["d1"] = 0, ["d2"] = 1 };
        Assert.Equal(0.6309297535714575, RetrievalMetrics.Ndcg(["d1", "d2"], qrels), 12);
        Assert.Equal(0, RetrievalMetrics.Ndcg(["d1"], new Dictionary<string, int> { ["d1"] = 0 }));
    }

    [Fact]
    public void Answer_recall_looks_only_at_the_first_k_passages()
    {
        string[] passages = ["Carolina Panthers lost", "The Denver Broncos won Super Bowl 50"];
        Assert.Equal(0, RetrievalMetrics.AnswerRecallAt(passages, ["Denver Broncos"], 1));
        Assert.Equal(1, RetrievalMetrics.AnswerRecallAt(passages, ["Denver Broncos"], 2));
        Assert.Equal(1, RetrievalMetrics.AnswerRecallAt(passages, ["Santa Clara", "Carolina"], 1)); // any gold answer
    }
}
