using Rag.Neural.Tensors;

namespace Rag.Neural.Tests;

/// <summary>Each CPU op against a direct double-precision evaluation of its formula.</summary>
public class OpsTests
{
    static readonly CpuBackend Ops = CpuBackend.Instance;

    static Tensor Random(int seed, float scale, params int[] shape)
    {
        var t = Tensor.Zeros(shape);
        var r = new Random(seed);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = (float)((r.NextDouble() * 2 - 1) * scale);
        return t;
    }

    [Fact]
    public void LayerNormAndRmsNorm()
    {
        var x = Random(1, 3f, 5, 33); var g = Random(2, 1f, 33); var b = Random(3, 1f, 33);
        var y = Tensor.Zeros(5, 33);
        Ops.LayerNorm(x, g, b, 1e-5f, y);
        for (int r = 0; r < 5; r++)
        {
            var row = x.Span.Slice(r * 33, 33).ToArray().Select(v => (double)v).ToArray();
            double mean = row.Average(), variance = row.Select(v => (v - mean) * (v - mean)).Average();
            for (int i = 0; i < 33; i++) Assert.Equal((row[i] - mean) / Math.Sqrt(variance + 1e-5) * g.Span[i] + b.Span[i], y.Span[r * 33 + i], 1e-4);
        }
        Ops.RmsNorm(x, g, 1e-6f, y);
        for (int r = 0; r < 5; r++)
        {
            var row = x.Span.Slice(r * 33, 33).ToArray().Select(v => (double)v).ToArray();
            double rms = Math.Sqrt(row.Select(v => v * v).Average() + 1e-6);
            for (int i = 0; i < 33; i++) Assert.Equal(row[i] / rms * g.Span[i], y.Span[r * 33 + i], 1e-4);
        }
    }

    // erf by its Maclaurin series, accurate in double for |x| < 6.
    static double Erf(double x)
    {
        double sum = 0, term = x;
        for (int n = 0; n < 200; n++)
        {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    [Fact]
    public void GeluBothFormsSiluTanh()
    {
        var x = Random(4, 5f, 2000);
        var y = Tensor.Zeros(2000);
        Ops.Gelu(x, y);
        for (int i = 0; i < 2000; i++) { double v = x.Span[i]; Assert.Equal(0.5 * v * (1 + Erf(v / Math.Sqrt(2))), y.Span[i], 1e-5); }
        Ops.GeluTanh(x, y);
        for (int i = 0; i < 2000; i++) { double v = x.Span[i]; Assert.Equal(0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))), y.Span[i], 1e-5); }
        Ops.Silu(x, y);
        for (int i = 0; i < 2000; i++) { double v = x.Span[i]; Assert.Equal(v / (1 + Math.Exp(-v)), y.Span[i], 1e-5); }
        var up = Random(5, 2f, 2000);
        Ops.SwiGlu(x, up, y);
        for (int i = 0; i < 2000; i++) { double v = x.Span[i]; Assert.Equal(v / (1 + Math.Exp(-v)) * up.Span[i], y.Span[i], 1e-4); }
        // In place is allowed for elementwise ops.
        var copy = x.ToArray();
        Ops.Gelu(x, x);
        for (int i = 0; i < 2000; i++) Assert.Equal(0.5 * copy[i] * (1 + Erf(copy[i] / Math.Sqrt(2))), x.Span[i], 1e-5);
    }

    [Fact]
    public void GeluKeepsItsFormulaAtExtremesAndInTheScalarTail()
    {
        // 13 values: one SIMD vector or two, then a scalar tail; the extremes saturate exp without NaN.
        float[] values = [-100f, -30f, -9f, -3f, -0.5f, -1e-6f, 0f, 1e-6f, 0.5f, 3f, 9f, 30f, 100f];
        var x = Tensor.FromArray(values, values.Length);
        var y = Tensor.Zeros(values.Length);
        Ops.Gelu(x, y);
        for (int i = 0; i < values.Length; i++) { double v = values[i]; Assert.Equal(0.5 * v * (1 + Erf(Math.Clamp(v, -6, 6) / Math.Sqrt(2))), y.Span[i], 1e-5); }
        Ops.GeluTanh(x, y);
        for (int i = 0; i < values.Length; i++) { double v = values[i]; Assert.Equal(0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))), y.Span[i], 1e-5); }
    }

    [Fact]
    public void ExpIsAccurateOverItsRangeAndKeepsNaN()
    {
        // Every lane of several vectors and the scalar tail: relative error near float's own across [-87, 88],
        // 0 below the range (a masked key), and NaN in gives NaN out (the clamp must not turn it into a number).
        var values = Enumerable.Range(0, 1001).Select(i => -87f + 175f * i / 1000f).Concat([-100f, float.NegativeInfinity, 0f]).ToArray();
        var y = new float[values.Length];
        Activations.Exp(values, y);
        for (int i = 0; i < 1001; i++) Assert.True(Math.Abs(y[i] / Math.Exp(values[i]) - 1) < 3e-7, $"exp({values[i]}) = {y[i]}");
        Assert.Equal(0f, y[1001]);
        Assert.Equal(0f, y[1002]);
        Assert.Equal(1f, y[1003]);
        float[] nan = [1f, float.NaN, 2f, 3f, 4f, 5f, 6f, 7f, float.NaN];
        var outputs = new float[nan.Length];
        Activations.Exp(nan, outputs);
        Assert.True(float.IsNaN(outputs[1]) && float.IsNaN(outputs[8]), "exp(NaN) must be NaN");
        Activations.Gelu(nan, outputs);
        Assert.True(float.IsNaN(outputs[1]) && float.IsNaN(outputs[8]), "GELU(NaN) must be NaN");
        Assert.Equal(0.5 * (1 + Erf(1 / Math.Sqrt(2))), outputs[0], 1e-6);
    }

    [Fact]
    public void SoftmaxRowsSumToOne()
    {
        var x = Random(6, 20f, 3, 11);
        var y = Tensor.Zeros(3, 11);
        Ops.Softmax(x, y);
        for (int r = 0; r < 3; r++)
        {
            var row = x.Span.Slice(r * 11, 11).ToArray();
            double max = row.Max(), z = row.Sum(v => Math.Exp(v - max));
            for (int i = 0; i < 11; i++) Assert.Equal(Math.Exp(row[i] - max) / z, y.Span[r * 11 + i], 1e-5);
        }
    }

    [Fact]
    public void SoftmaxOfLogitsPastExpsRangeStaysFinite()
    {
        // exp(89) overflows float: a softmax that exponentiates before subtracting the maximum returns NaN here.
        var x = Tensor.Zeros(2, 3);
        float[] values = [100f, 0f, float.NegativeInfinity, 300f, 299f, -50f];
        values.CopyTo(x.Span);
        var y = Tensor.Zeros(2, 3);
        Ops.Softmax(x, y);
        Assert.Equal(1.0, y.Span[0], 1e-6);
        Assert.Equal(Math.Exp(-100), y.Span[1], 1e-40);
        Assert.Equal(0f, y.Span[2]);
        Assert.Equal(1 / (1 + Math.Exp(-1)), y.Span[3], 1e-6);
        Assert.Equal(Math.Exp(-1) / (1 + Math.Exp(-1)), y.Span[4], 1e-6);
    }

    [Fact]
    public void AttentionWithLargeScoresMatchesTheDefinitionInInferenceAndTraining()
    {
        // Scores of several hundred (q.k / sqrt d with |q|, |k| around 30): the softmax must not overflow.
        var q = Random(17, 12f, 2, 6, 2, 8); var k = Random(18, 12f, 2, 6, 2, 8); var v = Random(19, 1f, 2, 6, 2, 8);
        var mask = new AttentionMask(false, 0, 6, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
        var expected = NaiveAttention(q, k, v, mask);
        var inference = Tensor.Zeros(2, 6, 2, 8);
        Ops.Attention(q, k, v, inference, mask);
        var training = Tensor.Zeros(2, 6, 2, 8);
        Rag.Neural.Training.CpuTrainingOps.Instance.AttentionForward(q, k, v, training, Tensor.Zeros(2, 2, 6, 6), null, mask);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], inference.Span[i], 1e-4);
            Assert.Equal(expected[i], training.Span[i], 1e-4);
        }
    }

    /// <summary>Attention by the definition: softmax(q k^T / sqrt d + mask) v, per head, GQA head sharing.</summary>
    static double[] NaiveAttention(Tensor q, Tensor k, Tensor v, AttentionMask mask)
    {
        int b = q.Dim(0), t = q.Dim(1), hq = q.Dim(2), d = q.Dim(3), s = k.Dim(1), hkv = k.Dim(2);
        var o = new double[q.Length];
        for (int bi = 0; bi < b; bi++)
            for (int h = 0; h < hq; h++)
                for (int ti = 0; ti < t; ti++)
                {
                    var w = new double[mask.KeyLength];
                    for (int j = 0; j < mask.KeyLength; j++)
                    {
                        bool visible = (!mask.Causal || j <= mask.StartPosition + ti) && (mask.KeyPadding is null || mask.KeyPadding[bi * mask.KeyLength + j] != 0);
                        double dot = 0;
                        for (int e = 0; e < d; e++) dot += (double)q.Span[((bi * t + ti) * hq + h) * d + e] * k.Span[((bi * s + j) * hkv + h / (hq / hkv)) * d + e];
                        w[j] = visible ? dot / Math.Sqrt(d) : double.NegativeInfinity;
                    }
                    double max = w.Max(), z = w.Sum(x => Math.Exp(x - max));
                    for (int e = 0; e < d; e++)
                    {
                        double acc = 0;
                        for (int j = 0; j < mask.KeyLength; j++) acc += Math.Exp(w[j] - max) / z * v.Span[((bi * s + j) * hkv + h / (hq / hkv)) * d + e];
                        o[((bi * t + ti) * hq + h) * d + e] = acc;
                    }
                }
        return o;
    }

    [Fact]
    public void AttentionWithPaddingMask()
    {
        var q = Random(7, 1f, 2, 5, 4, 8); var k = Random(8, 1f, 2, 5, 4, 8); var v = Random(9, 1f, 2, 5, 4, 8);
        var o = Tensor.Zeros(2, 5, 4, 8);
        var mask = new AttentionMask(false, 0, 5, [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
        Ops.Attention(q, k, v, o, mask);
        var expected = NaiveAttention(q, k, v, mask);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], o.Span[i], 1e-5);
    }

    [Fact]
    public void AttentionAcrossSeveralTilesWithAHoleInThePaddingAndAnEmptySequence()
    {
        // 30 queries and 40 keys span several micro-tiles each way; head size 20 is not a multiple of the tile width.
        // Sequence 0 has a masked key in the middle (masked key by key), 1 trailing padding (keys cut short), 2 no key.
        int b = 3, t = 30, h = 2, d = 20;
        var q = Random(21, 1f, b, t, h, d); var k = Random(22, 1f, b, t + 10, h, d); var v = Random(23, 1f, b, t + 10, h, d);
        var padding = new int[b * (t + 10)];
        for (int j = 0; j < t + 10; j++) { padding[j] = j == 17 ? 0 : 1; padding[(t + 10) + j] = j < 23 ? 1 : 0; }
        foreach (var causal in new[] { false, true })
        {
            var mask = new AttentionMask(causal, causal ? 10 : 0, t + 10, padding);
            var o = Tensor.Zeros(b, t, h, d);
            Ops.Attention(q, k, v, o, mask);
            var expected = NaiveAttention(q, k, v, mask);
            for (int i = 0; i < expected.Length; i++)
                Assert.Equal(double.IsNaN(expected[i]) ? 0 : expected[i], o.Span[i], 1e-5); // no visible key: zeros
        }
    }

    [Fact]
    public void CausalGroupedQueryAttentionOverACache()
    {
        // 3 new queries at positions 4..6 over a cache of 10 slots with 7 in use; 6 query heads share 2 kv heads.
        var q = Random(10, 1f, 1, 3, 6, 4); var k = Random(11, 1f, 1, 10, 2, 4); var v = Random(12, 1f, 1, 10, 2, 4);
        var o = Tensor.Zeros(1, 3, 6, 4);
        var mask = new AttentionMask(true, 4, 7);
        Ops.Attention(q, k, v, o, mask);
        var expected = NaiveAttention(q, k, v, mask);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], o.Span[i], 1e-5);
    }

    [Fact]
    public void RopeRotatesHalvesByPositionAngles()
    {
        var table = new RopeTable(8, 32, 10000f);
        var x = Random(13, 1f, 3, 2, 8);
        var y = Tensor.Zeros(3, 2, 8);
        Ops.Rope(x, table, 5, y);
        for (int t = 0; t < 3; t++)
            for (int h = 0; h < 2; h++)
                for (int i = 0; i < 4; i++)
                {
                    double angle = (5 + t) * Math.Pow(10000, -2.0 * i / 8);
                    int o = (t * 2 + h) * 8;
                    double x1 = x.Span[o + i], x2 = x.Span[o + 4 + i];
                    Assert.Equal(x1 * Math.Cos(angle) - x2 * Math.Sin(angle), y.Span[o + i], 1e-5);
                    Assert.Equal(x2 * Math.Cos(angle) + x1 * Math.Sin(angle), y.Span[o + 4 + i], 1e-5);
                }
        // Rotation keeps the norm of every pair.
        Assert.Equal(x.Span.ToArray().Sum(a => a * a), y.Span.ToArray().Sum(a => a * a), 1e-3);
    }

    [Fact]
    public void RopeScalingLinearDividesFrequencies()
    {
        var plain = new RopeTable(8, 64, 10000f);
        var scaled = new RopeTable(8, 64, 10000f, new RopeScaling("linear", 4f));
        var x = Random(14, 1f, 1, 1, 8);
        var a = Tensor.Zeros(1, 1, 8); var b = Tensor.Zeros(1, 1, 8);
        Ops.Rope(x, scaled, 40, a);
        Ops.Rope(x, plain, 10, b);  // position 40 at 1/4 speed is position 10
        for (int i = 0; i < 8; i++) Assert.Equal(b.Span[i], a.Span[i], 1e-5);
        Assert.Throws<NotSupportedException>(() => new RopeTable(8, 4, 10000f, new RopeScaling("yarn", 2f)));
    }

    [Fact]
    public void PoolingAndNormalisation()
    {
        var x = Random(15, 1f, 2, 3, 4);
        var mask = new[] { 1, 1, 0, 1, 0, 0 };
        var mean = Tensor.Zeros(2, 4); var cls = Tensor.Zeros(2, 4);
        Ops.MeanPool(x, mask, mean);
        Ops.ClsPool(x, cls);
        for (int c = 0; c < 4; c++)
        {
            Assert.Equal((x.Span[c] + x.Span[4 + c]) / 2, mean.Span[c], 1e-6);
            Assert.Equal(x.Span[12 + c], mean.Span[4 + c], 1e-6);
            Assert.Equal(x.Span[c], cls.Span[c]);
            Assert.Equal(x.Span[12 + c], cls.Span[4 + c]);
        }
        var n = Tensor.Zeros(2, 4);
        Ops.L2Normalize(mean, n);
        for (int r = 0; r < 2; r++) Assert.Equal(1.0, Math.Sqrt(n.Span.Slice(r * 4, 4).ToArray().Sum(v => (double)v * v)), 1e-5);
        var zeros = Tensor.Zeros(1, 4);
        Ops.L2Normalize(zeros, zeros); // no division by zero
        Assert.All(zeros.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void EmbeddingLinearSplitArgmax()
    {
        var table = Random(16, 1f, 10, 3);
        var y = Tensor.Zeros(2, 3);
        Ops.Embedding(table, [7, 2], y);
        Assert.Equal(table.Span.Slice(21, 3).ToArray(), y.Span[..3].ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.Embedding(table, [10, 0], y));
        var w = new LinearWeights(Random(17, 1f, 4, 3), Random(18, 1f, 4));
        var o = Tensor.Zeros(2, 4);
        Ops.Linear(y, w, o);
        for (int r = 0; r < 2; r++)
            for (int j = 0; j < 4; j++)
            {
                double s = w.Bias!.Span[j];
                for (int i = 0; i < 3; i++) s += (double)y.Span[r * 3 + i] * w.Weight.Span[j * 3 + i];
                Assert.Equal(s, o.Span[r * 4 + j], 1e-5);
            }
        var a = Tensor.Zeros(2, 1); var b = Tensor.Zeros(2, 3);
        Ops.Split(o, a, b);
        Assert.Equal(o.Span[4], a.Span[1]);
        Assert.Equal(o.Span[5], b.Span[3]);
        Assert.Equal(2, Ops.Argmax(Tensor.FromArray([0f, 1f, 5f, -2f], 4)));
    }
}
