using Rag.Retriever.Hybrid;

namespace Rag.Retriever.Tests;

public class ScoreFusionTests
{
    static ScoredChunk C(string id, float score) => new(id, id.Split(':')[0], score);

    [Fact]
    public void Min_max_keeps_score_gaps_that_rrf_discards()
    {
        // BM25 is sure of x (a wide gap); the dense list barely prefers y over x.
        var dense = new[] { C("y:0", 0.81f), C("x:0", 0.80f), C("z:0", 0.10f) };
        var lexical = new[] { C("x:0", 30f), C("y:0", 5f), C("z:0", 4f) };
        var fused = ScoreFusion.MinMax(dense, lexical, 0.5f);
        Assert.Equal("x:0", fused[0].ChunkId);
        // dense: x (0.80 - 0.10) / 0.71; lexical: x 1; fused 0.5 * 0.9859 + 0.5 * 1
        Assert.Equal(0.5f * (0.70f / 0.71f) + 0.5f, fused[0].Score, 4);
        Assert.Equal((2, 1), (fused[0].DenseRank, fused[0].LexicalRank));
        // RRF sees only ranks: x and y tie, and the dense rank breaks the tie for y.
        Assert.Equal("y:0", ReciprocalRankFusion.Fuse(dense, lexical)[0].ChunkId);
    }

    [Fact]
    public void A_chunk_one_side_missed_gets_zero_from_it_and_weights_are_checked()
    {
        var fused = ScoreFusion.MinMax([C("a:0", 0.9f), C("b:0", 0.5f)], [C("c:0", 12f)], 0.5f);
        Assert.Equal(["a:0", "c:0", "b:0"], fused.Select(f => f.ChunkId)); // a: 0.5, c: 0.5 (one-item list maps to 1), b: 0
        Assert.Null(fused[1].DenseRank);
        Assert.Empty(ScoreFusion.MinMax([], [], 0.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => ScoreFusion.MinMax([], [], 1.5f));
    }
}
