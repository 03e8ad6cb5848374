using Rag.Neural.Generation;

namespace Rag.Neural.Tests;

public class SamplingTests
{
    static float[] LogProbs(params double[] p) => p.Select(x => (float)Math.Log(x)).ToArray();

    static Dictionary<int, int> Draw(GenerationOptions o, float[] logits, int n = 2000)
    {
        var s = new Sampler(o, logits.Length);
        var counts = new Dictionary<int, int>();
        for (int i = 0; i < n; i++) { int t = s.Next(logits); counts[t] = counts.GetValueOrDefault(t) + 1; }
        return counts;
    }

    [Fact]
    public void TemperatureZeroIsArgmaxAndPenaltyCanMoveIt()
    {
        var logits = new float[] { 1f, 3f, 2.9f, -1f };
        var s = new Sampler(new GenerationOptions(), 4);
        Assert.Equal(1, s.Next(logits));
        var penalised = new Sampler(new GenerationOptions { RepetitionPenalty = 1.2f }, 4);
        penalised.Observe(1);
        Assert.Equal(2, penalised.Next(logits)); // 3 / 1.2 = 2.5 < 2.9
        var negative = new Sampler(new GenerationOptions { RepetitionPenalty = 2f }, 2);
        negative.Observe(0);
        Assert.Equal(1, negative.Next([-1f, -1.5f])); // negative logits are multiplied: -2 < -1.5
    }

    [Fact]
    public void TopKKeepsOnlyTheKMostLikely()
    {
        var logits = LogProbs(0.1, 0.4, 0.3, 0.2);
        var counts = Draw(new GenerationOptions { Temperature = 1f, TopK = 2, Seed = 1 }, logits);
        Assert.Equal([1, 2], counts.Keys.Order());
        Assert.InRange(counts[1] / 2000.0, 0.5, 0.64); // 0.4 / 0.7 = 0.571
        Assert.Equal([1], Draw(new GenerationOptions { Temperature = 1f, TopK = 1, Seed = 1 }, logits, 200).Keys);
    }

    [Fact]
    public void TopPKeepsTheSmallestNucleus()
    {
        var logits = LogProbs(0.2, 0.5, 0.3);
        Assert.Equal([1], Draw(new GenerationOptions { Temperature = 1f, TopP = 0.5f, Seed = 2 }, logits, 300).Keys);
        Assert.Equal([1, 2], Draw(new GenerationOptions { Temperature = 1f, TopP = 0.7f, Seed = 2 }, logits).Keys.Order());
        Assert.Equal([0, 1, 2], Draw(new GenerationOptions { Temperature = 1f, Seed = 2 }, logits).Keys.Order());
    }

    [Fact]
    public void SameSeedSameDraws()
    {
        var logits = LogProbs(0.25, 0.25, 0.25, 0.25);
        var o = new GenerationOptions { Temperature = 1f, Seed = 42 };
        var a = new Sampler(o, 4); var b = new Sampler(o, 4);
        for (int i = 0; i < 50; i++) Assert.Equal(a.Next(logits), b.Next(logits));
    }

    [Fact]
    public void InvalidOptionsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(new GenerationOptions { TopP = 0f }, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(new GenerationOptions { Temperature = -1f }, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(new GenerationOptions { RepetitionPenalty = 0f }, 4));
    }

    [Fact]
    public void StopStringsSplitAcrossPiecesAreHeldBackAndCut()
    {
        var f = new StopStringFilter(["STOP", "\n\n"]);
        Assert.Equal(("Hel", false), f.Push("Hel"));
        Assert.Equal(("lo ", false), f.Push("lo ST"));   // "ST" might begin "STOP"
        Assert.Equal(("", true), f.Push("OP and more"));
        var g = new StopStringFilter(["STOP"]);
        Assert.Equal(("a ", false), g.Push("a S"));
        Assert.Equal(("Sx", false), g.Push("x"));        // not a stop after all: released
        Assert.Equal(("", false), g.Push("ST"));
        Assert.Equal("ST", g.Flush());
    }
}
