using Rag.Neural.Tensors;

namespace Rag.Neural.Tests;

/// <summary>Both GEMM providers against a naive triple loop in double precision, on awkward shapes.</summary>
public class GemmTests
{
    public static TheoryData<int, int, int, bool, bool> Shapes()
    {
        var data = new TheoryData<int, int, int, bool, bool>();
        int[][] shapes = [[1, 1, 1], [1, 7, 13], [3, 5, 2], [7, 17, 31], [13, 1, 257], [37, 41, 43], [97, 101, 263], [6, 16, 256], [100, 40, 300], [5, 3100, 9], [20, 24, 1000]];
        foreach (var s in shapes)
            foreach (var ta in new[] { false, true })
                foreach (var tb in new[] { false, true })
                    data.Add(s[0], s[1], s[2], ta, tb);
        return data;
    }

    static float[] Random(int n, int seed)
    {
        var r = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(r.NextDouble() * 2 - 1);
        return a;
    }

    static double[] Naive(bool ta, bool tb, int m, int n, int k, float[] a, float[] b, float[] c0, float beta)
    {
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = beta * (double)c0[i * n + j];
                for (int p = 0; p < k; p++)
                    s += (double)(ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
                c[i * n + j] = s;
            }
        return c;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public unsafe void ManagedAndOpenBlasMatchNaive(int m, int n, int k, bool ta, bool tb)
    {
        var a = Random(m * k, 1); var b = Random(k * n, 2); var c0 = Random(m * n, 3);
        foreach (var beta in new[] { 0f, 0.5f })
        {
            var expected = Naive(ta, tb, m, n, k, a, b, c0, beta);
            foreach (var provider in new[] { GemmProvider.Managed, GemmProvider.OpenBlas })
            {
                if (provider == GemmProvider.OpenBlas && !Gemm.OpenBlasAvailable) continue;
                foreach (var parallel in new[] { true, false })
                {
                    var c = (float[])c0.Clone();
                    fixed (float* pa = a, pb = b, pc = c)
                        Gemm.Sgemm(ta, tb, m, n, k, pa, ta ? m : k, pb, tb ? k : n, pc, n, beta, parallel, provider);
                    for (int i = 0; i < c.Length; i++)
                        Assert.True(Math.Abs(expected[i] - c[i]) <= 1e-4 * Math.Max(1, Math.Sqrt(k)), $"{provider} parallel={parallel} beta={beta}: C[{i}] = {c[i]}, expected {expected[i]}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public unsafe void PackedWeightsWithBiasAndAddendMatchNaive(int m, int n, int k, bool ta, bool tb)
    {
        if (ta) return; // activations are never transposed on this path
        var a = Random(m * k, 1); var b = Random(k * n, 2); var addend = Random(m * n, 3); var bias = Random(n, 4);
        var expected = Naive(false, tb, m, n, k, a, b, addend, 1f);
        var c = new float[m * n];
        fixed (float* pa = a, pb = b, pc = c, pAdd = addend, pBias = bias)
        {
            var packed = Gemm.Pack(tb, n, k, pb, tb ? k : n);
            foreach (var parallel in new[] { true, false })
            {
                var finished = new int[m * n];
                var ep = new Gemm.Epilogue(pBias, pAdd, n) { Finish = (row, col, count) => { for (int j = col; j < col + count; j++) finished[row * n + j]++; } };
                Gemm.SgemmPacked(m, pa, k, packed, pc, n, ep, parallel);
                for (int i = 0; i < c.Length; i++)
                {
                    Assert.True(Math.Abs(expected[i] + bias[i % n] - c[i]) <= 1e-4 * Math.Max(1, Math.Sqrt(k)), $"parallel={parallel}: C[{i}] = {c[i]}, expected {expected[i] + bias[i % n]}");
                    Assert.Equal(1, finished[i]);
                }
            }
        }
    }

    [Fact]
    public void BatchedMatMulWithBroadcastAndTransposes()
    {
        var ops = CpuBackend.Instance;
        int batch = 3, m = 5, k = 7, n = 4;
        var a = Tensor.FromArray(Random(batch * m * k, 4), batch, m, k);
        var bT = Tensor.FromArray(Random(n * k, 5), n, k);              // shared across the batch, stored transposed
        var c = Tensor.Zeros(batch, m, n);
        ops.MatMul(a, bT, c, transposeB: true);
        for (int i = 0; i < batch; i++)
        {
            var expected = Naive(false, true, m, n, k, a.Span.Slice(i * m * k, m * k).ToArray(), bT.ToArray(), new float[m * n], 0);
            for (int j = 0; j < m * n; j++) Assert.Equal(expected[j], c.Span[i * m * n + j], 1e-4);
        }
        var at = Tensor.FromArray(Random(batch * k * m, 6), batch, k, m); // op(A) = A^T per batch
        var b = Tensor.FromArray(Random(batch * k * n, 7), batch, k, n);
        ops.MatMul(at, b, c, transposeA: true);
        for (int i = 0; i < batch; i++)
        {
            var expected = Naive(true, false, m, n, k, at.Span.Slice(i * k * m, k * m).ToArray(), b.Span.Slice(i * k * n, k * n).ToArray(), new float[m * n], 0);
            for (int j = 0; j < m * n; j++) Assert.Equal(expected[j], c.Span[i * m * n + j], 1e-4);
        }
        Assert.Throws<ArgumentException>(() => ops.MatMul(a, a, c)); // inner dimensions 7 and 5
    }
}
