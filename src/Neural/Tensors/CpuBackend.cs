using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Rag.Neural.Tensors;

/// <summary>The reference backend: managed code, TensorPrimitives for elementwise work, <see cref="Gemm"/> for products.</summary>
public sealed unsafe class CpuBackend : IBackend
{
    public static CpuBackend Instance { get; } = new();

    public Device Device => Device.Cpu;

    public Tensor Allocate(params int[] shape) => Tensor.Zeros(shape);

    static int Rows(Tensor x) => x.Length / Math.Max(1, x.Dim(-1));

    static void SameLength(Tensor a, Tensor b, string op)
    {
        if (a.Length != b.Length) throw new ArgumentException($"{op}: shapes [{string.Join(", ", a.Shape)}] and [{string.Join(", ", b.Shape)}] differ in size");
    }

    public void Embedding(Tensor table, ReadOnlySpan<int> ids, Tensor output)
    {
        int c = table.Dim(1);
        if (output.Length != ids.Length * c) throw new ArgumentException($"Embedding: output [{string.Join(", ", output.Shape)}] does not hold {ids.Length} x {c}");
        var src = table.Span; var dst = output.Span;
        for (int i = 0; i < ids.Length; i++)
        {
            if ((uint)ids[i] >= (uint)table.Dim(0)) throw new ArgumentOutOfRangeException(nameof(ids), $"token id {ids[i]} outside the vocabulary of {table.Dim(0)}");
            src.Slice(ids[i] * c, c).CopyTo(dst.Slice(i * c, c));
        }
    }

    public void EmbeddingAddInPlace(Tensor table, ReadOnlySpan<int> ids, Tensor x)
    {
        int c = table.Dim(1);
        if (x.Length != ids.Length * c) throw new ArgumentException($"EmbeddingAdd: x [{string.Join(", ", x.Shape)}] does not hold {ids.Length} x {c}");
        var src = table.Span; var dst = x.Span;
        for (int i = 0; i < ids.Length; i++)
        {
            if ((uint)ids[i] >= (uint)table.Dim(0)) throw new ArgumentOutOfRangeException(nameof(ids), $"index {ids[i]} outside the table of {table.Dim(0)} rows");
            var row = dst.Slice(i * c, c);
            TensorPrimitives.Add(row, src.Slice(ids[i] * c, c), row);
        }
    }

    public void MatMul(Tensor a, Tensor b, Tensor output, bool transposeA = false, bool transposeB = false)
    {
        var (batch, batchA, batchB, m, n, k) = MatMulShape.Check(a, b, output, transposeA, transposeB);
        for (int i = 0; i < batch; i++)
            Gemm.Sgemm(transposeA, transposeB, m, n, k,
                a.Pointer + (batchA == 1 ? 0 : (long)i * m * k), a.Dim(-1),
                b.Pointer + (batchB == 1 ? 0 : (long)i * k * n), b.Dim(-1),
                output.Pointer + (long)i * m * n, n);
    }

    public void Linear(Tensor x, LinearWeights w, Tensor output) => LinearCore(x, w, null, output, Activation.None);

    public LinearWeights Prepare(LinearWeights w) =>
        w.Packed is not null ? w : w with { Packed = Gemm.Pack(!w.WeightIsInOut, w.OutFeatures, w.InFeatures, w.Weight.Pointer, w.Weight.Dim(1)) };

    public void LinearAdd(Tensor x, LinearWeights w, Tensor residual, Tensor output)
    {
        SameLength(residual, output, "LinearAdd");
        LinearCore(x, w, residual, output, Activation.None);
    }

    public void LinearGelu(Tensor x, LinearWeights w, Tensor output, bool tanhForm = false) =>
        LinearCore(x, w, null, output, tanhForm ? Activation.GeluTanh : Activation.Gelu);

    enum Activation { None, Gelu, GeluTanh }

    void LinearCore(Tensor x, LinearWeights w, Tensor? residual, Tensor output, Activation activation)
    {
        int inF = w.InFeatures, outF = w.OutFeatures;
        if (x.Dim(-1) != inF) throw new ArgumentException($"Linear: input width {x.Dim(-1)} but the layer takes {inF}");
        int rows = Rows(x);
        if (output.Length != rows * outF) throw new ArgumentException($"Linear: output [{string.Join(", ", output.Shape)}] is not {rows} x {outF}");
        if (w.Packed is { } packed)
        {
            // Bias and residual are added as each tile is stored; GELU runs on each finished block while it is in cache.
            float* o = output.Pointer;
            Action<int, int, int>? finish = activation switch
            {
                Activation.Gelu => (r, col, count) => Activations.Gelu(new Span<float>(o + (long)r * outF + col, count), new Span<float>(o + (long)r * outF + col, count)),
                Activation.GeluTanh => (r, col, count) => Activations.GeluTanh(new Span<float>(o + (long)r * outF + col, count), new Span<float>(o + (long)r * outF + col, count)),
                _ => null,
            };
            var epilogue = new Gemm.Epilogue(w.Bias is null ? null : w.Bias.Pointer, residual is null ? null : residual.Pointer, outF) { Finish = finish };
            Gemm.SgemmPacked(rows, x.Pointer, inF, packed, o, outF, epilogue);
            GC.KeepAlive(w);
            GC.KeepAlive(residual);
            return;
        }
        if (w.Bias is not null)
        {
            // Seed C with the bias so the GEMM adds onto it (beta = 1).
            var bias = w.Bias.Span; var o = output.Span;
            for (int r = 0; r < rows; r++) bias.CopyTo(o.Slice(r * outF, outF));
        }
        Gemm.Sgemm(false, !w.WeightIsInOut, rows, outF, inF, x.Pointer, inF, w.Weight.Pointer, w.Weight.Dim(1),
            output.Pointer, outF, w.Bias is null ? 0f : 1f);
        if (residual is not null) AddInPlace(output, residual);
        if (activation == Activation.Gelu) Gelu(output, output);
        else if (activation == Activation.GeluTanh) GeluTanh(output, output);
    }

    public void Add(Tensor a, Tensor b, Tensor output)
    {
        SameLength(a, b, "Add"); SameLength(a, output, "Add");
        TensorPrimitives.Add(a.Span, b.Span, output.Span);
    }

    public void AddInPlace(Tensor x, Tensor y)
    {
        SameLength(x, y, "AddInPlace");
        TensorPrimitives.Add(x.Span, y.Span, x.Span);
    }

    public void Mul(Tensor a, Tensor b, Tensor output)
    {
        SameLength(a, b, "Mul"); SameLength(a, output, "Mul");
        TensorPrimitives.Multiply(a.Span, b.Span, output.Span);
    }

    public void LayerNorm(Tensor x, Tensor gamma, Tensor? beta, float eps, Tensor output)
    {
        SameLength(x, output, "LayerNorm");
        int c = x.Dim(-1);
        if (gamma.Length != c) throw new ArgumentException($"LayerNorm: gamma has {gamma.Length} values for width {c}");
        CpuParallelism.ForRows(Rows(x), c, r =>
        {
            var row = x.Span.Slice(r * c, c); var o = output.Span.Slice(r * c, c);
            float mean = TensorPrimitives.Sum(row) / c;
            TensorPrimitives.Subtract(row, mean, o);
            float variance = TensorPrimitives.SumOfSquares(o) / c;
            TensorPrimitives.Multiply(o, 1f / MathF.Sqrt(variance + eps), o);
            TensorPrimitives.Multiply(o, gamma.Span, o);
            if (beta is not null) TensorPrimitives.Add(o, beta.Span, o);
        });
    }

    public void RmsNorm(Tensor x, Tensor gamma, float eps, Tensor output)
    {
        SameLength(x, output, "RmsNorm");
        int c = x.Dim(-1);
        if (gamma.Length != c) throw new ArgumentException($"RmsNorm: gamma has {gamma.Length} values for width {c}");
        CpuParallelism.ForRows(Rows(x), c, r =>
        {
            var row = x.Span.Slice(r * c, c); var o = output.Span.Slice(r * c, c);
            float scale = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(row) / c + eps);
            TensorPrimitives.Multiply(row, scale, o);
            TensorPrimitives.Multiply(o, gamma.Span, o);
        });
    }

    public void Gelu(Tensor x, Tensor output)
    {
        SameLength(x, output, "Gelu");
        CpuParallelism.ForChunks(x.Length, (start, len) => Activations.Gelu(x.Span.Slice(start, len), output.Span.Slice(start, len)));
    }

    public void GeluTanh(Tensor x, Tensor output)
    {
        SameLength(x, output, "GeluTanh");
        CpuParallelism.ForChunks(x.Length, (start, len) => Activations.GeluTanh(x.Span.Slice(start, len), output.Span.Slice(start, len)));
    }

    public void Silu(Tensor x, Tensor output)
    {
        SameLength(x, output, "Silu");
        CpuParallelism.ForChunks(x.Length, (start, len) => Activations.Silu(x.Span.Slice(start, len), output.Span.Slice(start, len)));
    }

    public void Tanh(Tensor x, Tensor output)
    {
        SameLength(x, output, "Tanh");
        TensorPrimitives.Tanh(x.Span, output.Span);
    }

    public void SwiGlu(Tensor gate, Tensor up, Tensor output)
    {
        SameLength(gate, up, "SwiGlu"); SameLength(gate, output, "SwiGlu");
        CpuParallelism.ForChunks(gate.Length, (start, len) =>
        {
            var o = output.Span.Slice(start, len);
            Activations.Silu(gate.Span.Slice(start, len), o);
            TensorPrimitives.Multiply(o, up.Span.Slice(start, len), o);
        });
    }

    public void Softmax(Tensor x, Tensor output)
    {
        SameLength(x, output, "Softmax");
        int c = x.Dim(-1);
        for (int r = 0; r < Rows(x); r++) Activations.Softmax(x.Span.Slice(r * c, c), output.Span.Slice(r * c, c));
    }

    public void Rope(Tensor x, RopeTable table, int startPosition, Tensor output)
    {
        SameLength(x, output, "Rope");
        int d = x.Dim(-1), h = x.Dim(-2), t = x.Length / (h * d), half = d / 2;
        if (d != table.HeadDim) throw new ArgumentException($"Rope: head dimension {d} but the table was built for {table.HeadDim}");
        if (startPosition + t > table.MaxPositions) throw new ArgumentOutOfRangeException(nameof(startPosition), $"position {startPosition + t - 1} beyond the RoPE table's {table.MaxPositions}");
        var xs = x.Span; var os = output.Span;
        for (int ti = 0; ti < t; ti++)
        {
            var cos = table.Cos.AsSpan((startPosition + ti) * half, half);
            var sin = table.Sin.AsSpan((startPosition + ti) * half, half);
            for (int hi = 0; hi < h; hi++)
            {
                int o = (ti * h + hi) * d;
                for (int i = 0; i < half; i++)
                {
                    // rotate_half: pairs (i, i + D/2) rotate by angle i.
                    float x1 = xs[o + i], x2 = xs[o + half + i];
                    os[o + i] = x1 * cos[i] - x2 * sin[i];
                    os[o + half + i] = x2 * cos[i] + x1 * sin[i];
                }
            }
        }
    }

    public void Attention(Tensor q, Tensor k, Tensor v, Tensor output, AttentionMask mask)
    {
        int b = q.Dim(0), t = q.Dim(1), hq = q.Dim(2), d = q.Dim(3);
        int s = k.Dim(1), hkv = k.Dim(2), keys = mask.KeyLength;
        if (hq % hkv != 0) throw new ArgumentException($"Attention: {hq} query heads are not a multiple of {hkv} key/value heads");
        if (k.Dim(0) != b || v.Dim(0) != b || k.Dim(3) != d || v.Dim(3) != d || keys > s) throw new ArgumentException("Attention: q, k, v shapes disagree");
        if (output.Length != q.Length) throw new ArgumentException("Attention: output shape differs from q");
        if (mask.KeyPadding is { } pad && pad.Length != b * keys) throw new ArgumentException($"Attention: key padding has {pad.Length} flags for {b} x {keys} keys");
        float scale = 1f / MathF.Sqrt(d);
        int group = hq / hkv;
        float* qp = q.Pointer, kp = k.Pointer, vp = v.Pointer, op = output.Pointer;
        int work = b * hq;
        // Each (sequence, head) pair is independent and runs on one core, its keys and values in cache.
        CpuParallelism.For(work, 2L * work * t * keys * d, bh =>
        {
            int bi = bh / hq, h = bh % hq, hk = h / group;
            FusedAttention.Head(t, keys, d, qp + ((long)bi * t * hq + h) * d, hq * d,
                kp + ((long)bi * s * hkv + hk) * d, vp + ((long)bi * s * hkv + hk) * d, hkv * d,
                op + ((long)bi * t * hq + h) * d, scale, mask.Causal, mask.StartPosition + 1,
                mask.KeyPadding is { } pad ? pad.AsSpan(bi * keys, keys) : default);
        });
    }

    public void ClsPool(Tensor x, Tensor output)
    {
        int b = x.Dim(0), t = x.Dim(1), c = x.Dim(2);
        for (int i = 0; i < b; i++) x.Span.Slice(i * t * c, c).CopyTo(output.Span.Slice(i * c, c));
    }

    public void MeanPool(Tensor x, ReadOnlySpan<int> mask, Tensor output)
    {
        int b = x.Dim(0), t = x.Dim(1), c = x.Dim(2);
        if (mask.Length != b * t) throw new ArgumentException($"MeanPool: mask has {mask.Length} flags for {b} x {t} tokens");
        var o = output.Span;
        for (int i = 0; i < b; i++)
        {
            var sum = o.Slice(i * c, c);
            sum.Clear();
            int count = 0;
            for (int j = 0; j < t; j++)
                if (mask[i * t + j] != 0) { TensorPrimitives.Add(sum, x.Span.Slice((i * t + j) * c, c), sum); count++; }
            TensorPrimitives.Divide(sum, Math.Max(count, 1e-9f), sum); // sentence-transformers clamps the count at 1e-9
        }
    }

    public void L2Normalize(Tensor x, Tensor output)
    {
        SameLength(x, output, "L2Normalize");
        int c = x.Dim(-1);
        for (int r = 0; r < Rows(x); r++)
        {
            var row = x.Span.Slice(r * c, c);
            TensorPrimitives.Divide(row, Math.Max(TensorPrimitives.Norm(row), 1e-12f), output.Span.Slice(r * c, c));
        }
    }

    public void WriteCacheInPlace(Tensor cache, Tensor x, int startPosition)
    {
        int b = x.Dim(0), t = x.Dim(1), row = x.Dim(2) * x.Dim(3), s = cache.Dim(1);
        if (cache.Dim(0) != b || cache.Dim(2) * cache.Dim(3) != row) throw new ArgumentException("WriteCache: cache and x shapes disagree");
        if (startPosition + t > s) throw new ArgumentOutOfRangeException(nameof(startPosition), $"KV cache of {s} positions is full (writing {startPosition}..{startPosition + t - 1})");
        for (int i = 0; i < b; i++)
            x.Span.Slice(i * t * row, t * row).CopyTo(cache.Span.Slice((i * s + startPosition) * row, t * row));
    }

    public void Copy(Tensor source, Tensor destination)
    {
        SameLength(source, destination, "Copy");
        source.Span.CopyTo(destination.Span);
    }

    public void Split(Tensor x, params Tensor[] outputs)
    {
        int c = x.Dim(-1), rows = Rows(x), total = 0;
        foreach (var o in outputs)
        {
            if (Rows(o) != rows) throw new ArgumentException($"Split: output [{string.Join(", ", o.Shape)}] does not have {rows} rows");
            total += o.Dim(-1);
        }
        if (total != c) throw new ArgumentException($"Split: parts add up to {total}, not {c}");
        var src = x.Span;
        for (int r = 0; r < rows; r++)
        {
            int at = 0;
            foreach (var o in outputs)
            {
                int w = o.Dim(-1);
                src.Slice(r * c + at, w).CopyTo(o.Span.Slice(r * w, w));
                at += w;
            }
        }
    }

    public int Argmax(Tensor x) => TensorPrimitives.IndexOfMax(x.Span);
}

/// <summary>Elementwise activations on spans: SIMD vectors of our own (exp, GELU) or TensorPrimitives (the rest).</summary>
public static class Activations
{
    /// <summary>
    /// exp(x - max x) / sum exp(x - max x). TensorPrimitives.SoftMax exponentiates x as it is, so a logit over about 88
    /// overflows to infinity and the row becomes NaN (met in training: one attention row of arctic-embed-xs under
    /// dropout); subtracting the maximum first keeps every exponent at or below 0. -inf entries (masked keys) give 0.
    /// </summary>
    public static void Softmax(ReadOnlySpan<float> x, Span<float> output)
    {
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, output);
        Exp(output, output);
        TensorPrimitives.Multiply(output, 1f / TensorPrimitives.Sum(output), output);
    }

    /// <summary>e^x elementwise (see <see cref="Exp(Vector{float})"/>).</summary>
    public static void Exp(ReadOnlySpan<float> x, Span<float> output) => Map<ExpFunction>(x, output);

    /// <summary>A function of one SIMD vector, as a type, so <see cref="Map"/> is compiled with it inlined.</summary>
    interface IVectorFunction { static abstract Vector<float> Apply(Vector<float> x); }
    struct ExpFunction : IVectorFunction { public static Vector<float> Apply(Vector<float> x) => Exp(x); }
    struct GeluErfFunction : IVectorFunction { public static Vector<float> Apply(Vector<float> x) => GeluErf(x); }
    struct GeluTanhFunction : IVectorFunction { public static Vector<float> Apply(Vector<float> x) => GeluTanh(x); }

    /// <summary>output[i] = F(x[i]), a vector at a time; the tail goes through F in a vector of its own.</summary>
    static unsafe void Map<F>(ReadOnlySpan<float> x, Span<float> output) where F : struct, IVectorFunction
    {
        if (output.Length < x.Length) throw new ArgumentException($"output of {output.Length} values for {x.Length} inputs");
        int i = 0, n = x.Length;
        fixed (float* src = x, dst = output)                        // pointers: no slice and bounds check per vector
        {
            if (Vector.IsHardwareAccelerated)
                for (; i <= n - Vector<float>.Count; i += Vector<float>.Count) F.Apply(Vector.Load(src + i)).Store(dst + i);
            for (; i < n; i++) dst[i] = F.Apply(new Vector<float>(src[i]))[0];
        }
    }

    /// <summary>
    /// e^x to about 2 ulp, the way Cephes' expf and ggml compute it: x = n ln 2 + r with |r| &lt;= ln 2 / 2, e^r by a
    /// degree-6 polynomial, 2^n written into the exponent bits. The runtime's Exp (TensorPrimitives, Vector) measured
    /// 2-4 ns an element here, more than the rest of a softmax or GELU together; this is a few multiply-adds.
    /// Below -87.3 it gives 0 (so -inf, a masked key, gives exactly 0); above 88 it gives e^88 (so 2^n stays finite).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Exp(Vector<float> x)
    {
        var tiny = Vector.LessThan(x, new Vector<float>(-87.33f));
        x = Clamp(x, -87.33f, 88f);
        var n = Vector.Round(x * 1.44269504088896341f);                                    // x / ln 2, to nearest
        var r = Vector.FusedMultiplyAdd(n, new Vector<float>(-0.693359375f), x);           // x - n ln 2, ln 2 in two parts
        r = Vector.FusedMultiplyAdd(n, new Vector<float>(2.12194440e-4f), r);
        var p = new Vector<float>(1.9875691500e-4f);
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(1.3981999507e-3f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(8.3334519073e-3f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(4.1665795894e-2f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(1.6666665459e-1f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(5.0000001201e-1f));
        var er = Vector.FusedMultiplyAdd(p, r * r, r + Vector<float>.One);                 // e^r
        // n is integral and within [-126, 127], so the plain conversion is exact (the saturating one checks each lane).
        var twoN = Vector.AsVectorSingle(Vector.ShiftLeft(Vector.ConvertToInt32Native(n) + new Vector<int>(127), 23)); // 2^n
        return Vector.AndNot(er * twoN, Vector.AsVectorSingle(tiny));
    }

    /// <summary>
    /// x limited to [lo, hi], NaN kept. Vector.Min / Max order NaNs and signed zeros as IEEE 754 asks, about nine
    /// instructions each on AVX2, which doubled exp and GELU; the native forms are one (minps / maxps), and with the
    /// bound first, x86 returns the second operand, x, when it is NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector<float> Clamp(Vector<float> x, float lo, float hi) =>
        Vector.MinNative(new Vector<float>(hi), Vector.MaxNative(new Vector<float>(lo), x));

    /// <summary>
    /// 0.5 x (1 + erf(x / sqrt 2)), one pass of SIMD vectors: it runs on every element of the feed-forward layer, so a
    /// scalar loop here cost a sixth of a BERT forward pass. erf is the rational minimax form that Eigen and TensorFlow
    /// use, z P(z^2) / Q(z^2) with z clamped to [-4, 4] (float erf is +-1 beyond): |error| &lt; 5e-7 in float, with no
    /// exp, about half the work of Abramowitz and Stegun's 7.1.26 and its e^(-z^2).
    /// </summary>
    public static void Gelu(ReadOnlySpan<float> x, Span<float> output) => Map<GeluErfFunction>(x, output);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector<float> GeluErf(Vector<float> x)
    {
        var z = Clamp(x * (1f / MathF.Sqrt(2f)), -4f, 4f);
        var z2 = z * z;
        var p = new Vector<float>(-2.72614225801306e-10f);
        p = Vector.FusedMultiplyAdd(p, z2, new Vector<float>(2.77068142495902e-08f));
        p = Vector.FusedMultiplyAdd(p, z2, new Vector<float>(-2.10102402082508e-06f));
        p = Vector.FusedMultiplyAdd(p, z2, new Vector<float>(-5.69250639462346e-05f));
        p = Vector.FusedMultiplyAdd(p, z2, new Vector<float>(-7.34990630326855e-04f));
        p = Vector.FusedMultiplyAdd(p, z2, new Vector<float>(-2.95459980854025e-03f));
        p = Vector.FusedMultiplyAdd(p, z2, new Vector<float>(-1.60960333262415e-02f));
        var q = new Vector<float>(-1.45660718464996e-05f);
        q = Vector.FusedMultiplyAdd(q, z2, new Vector<float>(-2.13374055278905e-04f));
        q = Vector.FusedMultiplyAdd(q, z2, new Vector<float>(-1.68282697438203e-03f));
        q = Vector.FusedMultiplyAdd(q, z2, new Vector<float>(-7.37332916720468e-03f));
        q = Vector.FusedMultiplyAdd(q, z2, new Vector<float>(-1.42647390514189e-02f));
        var erf = z * p / q;
        var half = new Vector<float>(0.5f) * x;
        return Vector.FusedMultiplyAdd(half, erf, half);                          // x/2 (1 + erf)
    }

    /// <summary>0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), tanh u = 1 - 2 / (exp(2u) + 1), in SIMD vectors.</summary>
    public static void GeluTanh(ReadOnlySpan<float> x, Span<float> output) => Map<GeluTanhFunction>(x, output);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector<float> GeluTanh(Vector<float> x)
    {
        var u = new Vector<float>(MathF.Sqrt(2f / MathF.PI)) * x * (Vector<float>.One + new Vector<float>(0.044715f) * x * x);
        var tanh = Vector<float>.One - new Vector<float>(2f) / (Exp(u + u) + Vector<float>.One); // exp overflow gives tanh = 1
        return new Vector<float>(0.5f) * x * (Vector<float>.One + tanh);
    }

    /// <summary>x * sigmoid(x).</summary>
    public static void Silu(ReadOnlySpan<float> x, Span<float> output)
    {
        const int Chunk = 512;
        Span<float> s = stackalloc float[Chunk];
        for (int start = 0; start < x.Length; start += Chunk)
        {
            int n = Math.Min(Chunk, x.Length - start);
            TensorPrimitives.Sigmoid(x.Slice(start, n), s[..n]);
            TensorPrimitives.Multiply(x.Slice(start, n), s[..n], output.Slice(start, n));
        }
    }
}
