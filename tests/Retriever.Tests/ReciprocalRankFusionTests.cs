using Rag.Retriever.Hybrid;

namespace Rag.Retriever.Tests;

public class ReciprocalRankFusionTests
{
    static ScoredChunk C(string id, float score = 0) => new(id, id.Split(':')[0], score);

    [Fact]
    public void Scores_are_sums_of_reciprocal_ranks_with_k_60()
    {
        // dense: a, b, c; lexical: c, a, d.
        // a = 1/61 + 1/62 = 0.032523; c = 1/63 + 1/61 = 0.032266; b = 1/62 = 0.016129; d = 1/63 = 0.015873.
        var fused = ReciprocalRankFusion.Fuse([C("a:0", 0.9f), C("b:0", 0.8f), C("c:0", 0.1f)], [C("c:0", 12), C("a:0", 7), C("d:0", 1)]);
        Assert.Equal(["a:0", "c:0", "b:0", "d:0"], fused.Select(f => f.ChunkId));
        Assert.Equal(1f / 61 + 1f / 62, fused[0].Score, 6);
        Assert.Equal(1f / 63 + 1f / 61, fused[1].Score, 6);
        Assert.Equal(1f / 62, fused[2].Score, 6);
        Assert.Equal(1f / 63, fused[3].Score, 6);
        Assert.Equal((1, 2), (fused[0].DenseRank, fused[0].LexicalRank));
        Assert.Equal((2, (int?)null), (fused[2].DenseRank, fused[2].LexicalRank));
        Assert.Equal(((int?)null, 3), (fused[3].DenseRank, fused[3].LexicalRank));
        Assert.Equal("d", fused[3].DocumentId);
    }

    [Fact]
    public void Ties_prefer_the_better_dense_rank()
    {
        // b is rank 1 lexically, a rank 1 densely: equal RRF scores.
        var fused = ReciprocalRankFusion.Fuse([C("a:0")], [C("b:0")]);
        Assert.Equal(["a:0", "b:0"], fused.Select(f => f.ChunkId));
        Assert.Equal(fused[0].Score, fused[1].Score);
    }

    [Fact]
    public void One_empty_list_keeps_the_other_lists_order()
    {
        var fused = ReciprocalRankFusion.Fuse([], [C("x:0"), C("y:0"), C("z:0")]);
        Assert.Equal(["x:0", "y:0", "z:0"], fused.Select(f => f.ChunkId));
        Assert.All(fused, f => Assert.Null(f.DenseRank));
        Assert.Empty(ReciprocalRankFusion.Fuse([], []));
    }

    [Fact]
    public void A_smaller_k_weights_top_ranks_more()
    {
        var fused = ReciprocalRankFusion.Fuse([C("a:0")], [], k: 0);
        Assert.Equal(1f, fused[0].Score);
    }
}
