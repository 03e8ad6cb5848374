using System.Buffers;
using System.Numerics.Tensors;
using Rag.Neural.Tensors;
using Tensor = Rag.Neural.Tensors.Tensor;

namespace Rag.Neural.Training;

/// <summary>The reference training backend: managed code, TensorPrimitives per row, <see cref="Gemm"/> for products.</summary>
public sealed unsafe class CpuTrainingOps : ITrainingOps
{
    public static CpuTrainingOps Instance { get; } = new();

    public Device Device => Device.Cpu;

    static int Rows(Tensor x) => x.Length / Math.Max(1, x.Dim(-1));

    static void SameLength(Tensor a, Tensor b, string op)
    {
        if (a.Length != b.Length) throw new ArgumentException($"{op}: shapes [{string.Join(", ", a.Shape)}] and [{string.Join(", ", b.Shape)}] differ in size");
    }

    public void EmbeddingBackward(Tensor dOut, ReadOnlySpan<int> ids, Tensor dTable)
    {
        int c = dTable.Dim(1);
        if (dOut.Length != ids.Length * c) throw new ArgumentException($"EmbeddingBackward: dOut [{string.Join(", ", dOut.Shape)}] does not hold {ids.Length} x {c}");
        var src = dOut.Span; var dst = dTable.Span;
        for (int i = 0; i < ids.Length; i++)
        {
            if ((uint)ids[i] >= (uint)dTable.Dim(0)) throw new ArgumentOutOfRangeException(nameof(ids), $"index {ids[i]} outside the table of {dTable.Dim(0)} rows");
            var row = dst.Slice(ids[i] * c, c);
            TensorPrimitives.Add(row, src.Slice(i * c, c), row);
        }
    }

    public void LinearBackward(Tensor x, Tensor weight, Tensor dy, Tensor? dx, Tensor dWeight, Tensor? dBias, bool accumulateDx = false)
    {
        int outF = weight.Dim(0), inF = weight.Dim(1), rows = Rows(x);
        if (x.Dim(-1) != inF || dy.Length != rows * outF) throw new ArgumentException($"LinearBackward: x [{string.Join(", ", x.Shape)}], dy [{string.Join(", ", dy.Shape)}] and W [{outF}, {inF}] disagree");
        SameLength(weight, dWeight, "LinearBackward dW");
        // dW (out, in) += dy^T (out, N) x (N, in)
        Gemm.Sgemm(true, false, outF, inF, rows, dy.Pointer, outF, x.Pointer, inF, dWeight.Pointer, inF, 1f);
        if (dx is not null)
        {
            SameLength(x, dx, "LinearBackward dx");
            // dx (N, in) = dy (N, out) W (out, in)
            Gemm.Sgemm(false, false, rows, inF, outF, dy.Pointer, outF, weight.Pointer, inF, dx.Pointer, inF, accumulateDx ? 1f : 0f);
        }
        if (dBias is not null)
        {
            if (dBias.Length != outF) throw new ArgumentException($"LinearBackward: bias gradient has {dBias.Length} values for {outF} outputs");
            var db = dBias.Span; var g = dy.Span;
            for (int r = 0; r < rows; r++) TensorPrimitives.Add(db, g.Slice(r * outF, outF), db);
        }
    }

    public void LayerNormForward(Tensor x, Tensor gamma, Tensor beta, float eps, Tensor output, Tensor mean, Tensor rstd)
    {
        SameLength(x, output, "LayerNormForward");
        int c = x.Dim(-1), rows = Rows(x);
        if (gamma.Length != c || beta.Length != c) throw new ArgumentException($"LayerNormForward: gamma/beta do not have {c} values");
        if (mean.Length < rows || rstd.Length < rows) throw new ArgumentException($"LayerNormForward: mean/rstd hold fewer than {rows} rows");
        CpuParallelism.ForRows(rows, c, r =>
        {
            var row = x.Span.Slice(r * c, c); var o = output.Span.Slice(r * c, c);
            float mu = TensorPrimitives.Sum(row) / c;
            TensorPrimitives.Subtract(row, mu, o);
            float s = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(o) / c + eps);
            mean.Span[r] = mu;
            rstd.Span[r] = s;
            TensorPrimitives.Multiply(o, s, o);
            TensorPrimitives.Multiply(o, gamma.Span, o);
            TensorPrimitives.Add(o, beta.Span, o);
        });
    }

    public void LayerNormBackward(Tensor dOut, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dx, Tensor dGamma, Tensor dBeta)
    {
        SameLength(x, dOut, "LayerNormBackward"); SameLength(x, dx, "LayerNormBackward");
        int c = x.Dim(-1), rows = Rows(x);
        // dx = rstd (dnorm - mean(dnorm) - norm mean(dnorm norm)), dnorm = dOut gamma, norm = (x - mean) rstd (llm.c's layernorm_backward).
        CpuParallelism.ForRows(rows, c, r =>
        {
            var buffer = ArrayPool<float>.Shared.Rent(2 * c);
            try
            {
                var norm = buffer.AsSpan(0, c); var dnorm = buffer.AsSpan(c, c);
                var xr = x.Span.Slice(r * c, c); var g = dOut.Span.Slice(r * c, c); var o = dx.Span.Slice(r * c, c);
                float s = rstd.Span[r];
                TensorPrimitives.Subtract(xr, mean.Span[r], norm);
                TensorPrimitives.Multiply(norm, s, norm);
                TensorPrimitives.Multiply(g, gamma.Span, dnorm);
                float meanD = TensorPrimitives.Sum(dnorm) / c;
                float meanDN = TensorPrimitives.Dot(dnorm, norm) / c;
                TensorPrimitives.MultiplyAdd(norm, -meanDN, dnorm, o);
                TensorPrimitives.Subtract(o, meanD, o);
                TensorPrimitives.Multiply(o, s, o);
            }
            finally { ArrayPool<float>.Shared.Return(buffer); }
        });
        // Parameter gradients sum over rows: one pass, in row order (deterministic).
        var tmp = ArrayPool<float>.Shared.Rent(c);
        try
        {
            var norm = tmp.AsSpan(0, c);
            for (int r = 0; r < rows; r++)
            {
                var g = dOut.Span.Slice(r * c, c);
                TensorPrimitives.Subtract(x.Span.Slice(r * c, c), mean.Span[r], norm);
                TensorPrimitives.Multiply(norm, rstd.Span[r], norm);
                TensorPrimitives.MultiplyAdd(norm, g, dGamma.Span, dGamma.Span);
                TensorPrimitives.Add(dBeta.Span, g, dBeta.Span);
            }
        }
        finally { ArrayPool<float>.Shared.Return(tmp); }
    }

    public void GeluBackward(Tensor x, Tensor dOut, Tensor dx)
    {
        SameLength(x, dOut, "GeluBackward"); SameLength(x, dx, "GeluBackward");
        CpuParallelism.ForChunks(x.Length, (start, len) =>
        {
            var xs = x.Span.Slice(start, len); var g = dOut.Span.Slice(start, len); var o = dx.Span.Slice(start, len);
            float invSqrt2 = 1f / MathF.Sqrt(2f), invSqrt2Pi = 1f / MathF.Sqrt(2f * MathF.PI);
            for (int i = 0; i < len; i++)
            {
                // d/dx x Phi(x) = Phi(x) + x phi(x); Phi with the forward's erf (Abramowitz and Stegun 7.1.26).
                float xi = xs[i], z = MathF.Abs(xi) * invSqrt2;
                float t = 1f / (1f + 0.3275911f * z);
                float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
                float e = MathF.Exp(-z * z);
                float erf = 1f - poly * e;
                float cdf = 0.5f * (1f + (xi < 0 ? -erf : erf));
                float pdf = invSqrt2Pi * e; // exp(-x^2 / 2) / sqrt(2 pi), e = exp(-z^2) with z^2 = x^2 / 2
                o[i] = g[i] * (cdf + xi * pdf);
            }
        });
    }

    public void GeluTanhBackward(Tensor x, Tensor dOut, Tensor dx)
    {
        SameLength(x, dOut, "GeluTanhBackward"); SameLength(x, dx, "GeluTanhBackward");
        float c = MathF.Sqrt(2f / MathF.PI);
        CpuParallelism.ForChunks(x.Length, (start, len) =>
        {
            var xs = x.Span.Slice(start, len); var g = dOut.Span.Slice(start, len); var o = dx.Span.Slice(start, len);
            for (int i = 0; i < len; i++)
            {
                // y = 0.5 x (1 + tanh u), u = c (x + 0.044715 x^3): y' = 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) c (1 + 3 * 0.044715 x^2)
                float xi = xs[i], x2 = xi * xi;
                float th = MathF.Tanh(c * (xi + 0.044715f * x2 * xi));
                o[i] = g[i] * (0.5f * (1f + th) + 0.5f * xi * (1f - th * th) * c * (1f + 3f * 0.044715f * x2));
            }
        });
    }

    static void CheckAttention(Tensor q, Tensor k, Tensor v, Tensor probs, Tensor? dropoutMask, AttentionMask mask)
    {
        int b = q.Dim(0), t = q.Dim(1), h = q.Dim(2), d = q.Dim(3), s = k.Dim(1);
        if (k.Dim(0) != b || v.Dim(0) != b || k.Dim(2) != h || v.Dim(2) != h || k.Dim(3) != d || v.Dim(3) != d || v.Dim(1) != s)
            throw new ArgumentException("Attention (training): q, k, v shapes disagree (training needs equal query and key/value heads)");
        if (mask.KeyLength != s) throw new ArgumentException($"Attention (training): key length {mask.KeyLength} differs from the {s} keys");
        if (probs.Length != b * h * t * s) throw new ArgumentException($"Attention (training): probabilities do not hold {b} x {h} x {t} x {s}");
        if (dropoutMask is not null && dropoutMask.Length != probs.Length) throw new ArgumentException("Attention (training): dropout mask differs from the probabilities in size");
        if (mask.KeyPadding is { } pad && pad.Length != b * s) throw new ArgumentException($"Attention: key padding has {pad.Length} flags for {b} x {s} keys");
    }

    public void AttentionForward(Tensor q, Tensor k, Tensor v, Tensor output, Tensor probs, Tensor? dropoutMask, AttentionMask mask)
    {
        CheckAttention(q, k, v, probs, dropoutMask, mask);
        SameLength(q, output, "AttentionForward");
        int b = q.Dim(0), t = q.Dim(1), h = q.Dim(2), d = q.Dim(3), s = k.Dim(1), hd = h * d;
        float scale = 1f / MathF.Sqrt(d);
        float* qp = q.Pointer, kp = k.Pointer, vp = v.Pointer, op = output.Pointer, pp = probs.Pointer;
        float* mp = dropoutMask is null ? null : dropoutMask.Pointer;
        var padding = mask.KeyPadding;
        CpuParallelism.For(b * h, bh =>
        {
            int bi = bh / h, hi = bh % h;
            float* p = pp + (long)bh * t * s;
            long qo = ((long)bi * t * h + hi) * d, ko = ((long)bi * s * h + hi) * d;
            // scores (T, S) = Q K^T, then masked softmax row by row (kept for backward)
            Gemm.Sgemm(false, true, t, s, d, qp + qo, hd, kp + ko, hd, p, s, 0f, parallel: false);
            for (int ti = 0; ti < t; ti++)
            {
                var row = new Span<float>(p + (long)ti * s, s);
                int visible = mask.Causal ? Math.Min(s, mask.StartPosition + ti + 1) : s;
                var live = row[..visible];
                TensorPrimitives.Multiply(live, scale, live);
                if (padding is not null)
                    for (int j = 0; j < visible; j++)
                        if (padding[bi * s + j] == 0) live[j] = float.NegativeInfinity;
                if (TensorPrimitives.Max(live) == float.NegativeInfinity) live.Clear();
                else Activations.Softmax(live, live);
                row[visible..].Clear();
            }
            if (mp is null)
            {
                Gemm.Sgemm(false, false, t, d, s, p, s, vp + ko, hd, op + qo, hd, 0f, parallel: false);
                return;
            }
            var dropped = ArrayPool<float>.Shared.Rent(t * s);
            try
            {
                fixed (float* dp = dropped)
                {
                    TensorPrimitives.Multiply(new ReadOnlySpan<float>(p, t * s), new ReadOnlySpan<float>(mp + (long)bh * t * s, t * s), new Span<float>(dp, t * s));
                    Gemm.Sgemm(false, false, t, d, s, dp, s, vp + ko, hd, op + qo, hd, 0f, parallel: false);
                }
            }
            finally { ArrayPool<float>.Shared.Return(dropped); }
        });
    }

    public void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor probs, Tensor? dropoutMask, Tensor dOut, Tensor dq, Tensor dk, Tensor dv, AttentionMask mask)
    {
        CheckAttention(q, k, v, probs, dropoutMask, mask);
        SameLength(q, dOut, "AttentionBackward"); SameLength(q, dq, "AttentionBackward"); SameLength(k, dk, "AttentionBackward"); SameLength(v, dv, "AttentionBackward");
        int b = q.Dim(0), t = q.Dim(1), h = q.Dim(2), d = q.Dim(3), s = k.Dim(1), hd = h * d;
        float scale = 1f / MathF.Sqrt(d);
        float* qp = q.Pointer, kp = k.Pointer, vp = v.Pointer, pp = probs.Pointer, gp = dOut.Pointer;
        float* dqp = dq.Pointer, dkp = dk.Pointer, dvp = dv.Pointer;
        float* mp = dropoutMask is null ? null : dropoutMask.Pointer;
        CpuParallelism.For(b * h, bh =>
        {
            int bi = bh / h, hi = bh % h;
            float* p = pp + (long)bh * t * s;
            float* m = mp is null ? null : mp + (long)bh * t * s;
            long qo = ((long)bi * t * h + hi) * d, ko = ((long)bi * s * h + hi) * d;
            var buffer = ArrayPool<float>.Shared.Rent(2 * t * s);
            try
            {
                fixed (float* bp = buffer)
                {
                    float* dP = bp, mixed = bp + (long)t * s; // mixed: the probabilities the values were weighted by
                    if (m is null) mixed = p;
                    else TensorPrimitives.Multiply(new ReadOnlySpan<float>(p, t * s), new ReadOnlySpan<float>(m, t * s), new Span<float>(mixed, t * s));
                    // dV (S, D) = mixed^T (S, T) dO (T, D); dMixed (T, S) = dO V^T
                    Gemm.Sgemm(true, false, s, d, t, mixed, s, gp + qo, hd, dvp + ko, hd, 0f, parallel: false);
                    Gemm.Sgemm(false, true, t, s, d, gp + qo, hd, vp + ko, hd, dP, s, 0f, parallel: false);
                    if (m is not null) TensorPrimitives.Multiply(new ReadOnlySpan<float>(dP, t * s), new ReadOnlySpan<float>(m, t * s), new Span<float>(dP, t * s));
                    // softmax backward: dS = P (dP - rowsum(P dP)), times the 1/sqrt(D) the scores were scaled by
                    for (int ti = 0; ti < t; ti++)
                    {
                        var pr = new ReadOnlySpan<float>(p + (long)ti * s, s);
                        var dr = new Span<float>(dP + (long)ti * s, s);
                        float dot = TensorPrimitives.Dot(pr, dr);
                        TensorPrimitives.Subtract(dr, dot, dr);
                        TensorPrimitives.Multiply(dr, pr, dr);
                        TensorPrimitives.Multiply(dr, scale, dr);
                    }
                    // dQ (T, D) = dS K; dK (S, D) = dS^T Q
                    Gemm.Sgemm(false, false, t, d, s, dP, s, kp + ko, hd, dqp + qo, hd, 0f, parallel: false);
                    Gemm.Sgemm(true, false, s, d, t, dP, s, qp + qo, hd, dkp + ko, hd, 0f, parallel: false);
                }
            }
            finally { ArrayPool<float>.Shared.Return(buffer); }
        });
    }

    public void ClsPoolBackward(Tensor dOut, Tensor dx)
    {
        int b = dx.Dim(0), t = dx.Dim(1), c = dx.Dim(2);
        if (dOut.Length != b * c) throw new ArgumentException($"ClsPoolBackward: dOut does not hold {b} x {c}");
        dx.Span.Clear();
        for (int i = 0; i < b; i++) dOut.Span.Slice(i * c, c).CopyTo(dx.Span.Slice(i * t * c, c));
    }

    public void MeanPoolBackward(Tensor dOut, ReadOnlySpan<int> mask, Tensor dx)
    {
        int b = dx.Dim(0), t = dx.Dim(1), c = dx.Dim(2);
        if (dOut.Length != b * c) throw new ArgumentException($"MeanPoolBackward: dOut does not hold {b} x {c}");
        if (mask.Length != b * t) throw new ArgumentException($"MeanPoolBackward: mask has {mask.Length} flags for {b} x {t} tokens");
        var o = dx.Span;
        for (int i = 0; i < b; i++)
        {
            int count = 0;
            for (int j = 0; j < t; j++) if (mask[i * t + j] != 0) count++;
            float inv = 1f / Math.Max(count, 1e-9f);
            var g = dOut.Span.Slice(i * c, c);
            for (int j = 0; j < t; j++)
            {
                var row = o.Slice((i * t + j) * c, c);
                if (mask[i * t + j] != 0) TensorPrimitives.Multiply(g, inv, row);
                else row.Clear();
            }
        }
    }

    public void L2NormalizeBackward(Tensor x, Tensor y, Tensor dy, Tensor dx)
    {
        SameLength(x, y, "L2NormalizeBackward"); SameLength(x, dy, "L2NormalizeBackward"); SameLength(x, dx, "L2NormalizeBackward");
        int c = x.Dim(-1);
        for (int r = 0; r < Rows(x); r++)
        {
            var xr = x.Span.Slice(r * c, c); var yr = y.Span.Slice(r * c, c); var g = dy.Span.Slice(r * c, c); var o = dx.Span.Slice(r * c, c);
            float norm = TensorPrimitives.Norm(xr);
            if (norm < 1e-12f) { TensorPrimitives.Multiply(g, 1e12f, o); continue; } // the clamp is a constant divisor
            float dot = TensorPrimitives.Dot(yr, g);
            TensorPrimitives.MultiplyAdd(yr, -dot, g, o);
            TensorPrimitives.Divide(o, norm, o);
        }
    }

    public void DropoutMask(Tensor mask, float p, ulong seed)
    {
        if (p is < 0f or >= 1f) throw new ArgumentOutOfRangeException(nameof(p), $"dropout probability {p} outside [0, 1)");
        float keep = 1f / (1f - p);
        uint threshold = (uint)(p * 4294967296.0);
        CpuParallelism.ForChunks(mask.Length, (start, len) =>
        {
            var o = mask.Span.Slice(start, len);
            for (int i = 0; i < len; i++) o[i] = (uint)(Mix(seed + (ulong)(start + i) * 0x9E3779B97F4A7C15UL) >> 32) < threshold ? 0f : keep;
        });
    }

    /// <summary>SplitMix64's finaliser (Steele et al. 2014): a good 64-bit hash of a counter.</summary>
    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public float SoftmaxCrossEntropy(Tensor logits, ReadOnlySpan<int> targets, Tensor dLogits)
    {
        SameLength(logits, dLogits, "SoftmaxCrossEntropy");
        int k = logits.Dim(-1), rows = Rows(logits);
        if (targets.Length != rows) throw new ArgumentException($"SoftmaxCrossEntropy: {targets.Length} targets for {rows} rows");
        double loss = 0;
        for (int r = 0; r < rows; r++)
        {
            if ((uint)targets[r] >= (uint)k) throw new ArgumentOutOfRangeException(nameof(targets), $"target {targets[r]} outside {k} classes");
            var row = logits.Span.Slice(r * k, k); var g = dLogits.Span.Slice(r * k, k);
            float max = TensorPrimitives.Max(row);
            TensorPrimitives.Subtract(row, max, g);
            TensorPrimitives.Exp(g, g);
            float sum = TensorPrimitives.Sum(g);
            loss += Math.Log(sum) + max - row[targets[r]];
            TensorPrimitives.Multiply(g, 1f / (sum * rows), g);
            g[targets[r]] -= 1f / rows;
        }
        return (float)(loss / rows);
    }

    public double SumOfSquares(Tensor x)
    {
        double sum = 0;
        const int Chunk = 4096;
        var s = x.Span;
        for (int i = 0; i < s.Length; i += Chunk) sum += TensorPrimitives.SumOfSquares(s.Slice(i, Math.Min(Chunk, s.Length - i)));
        return sum;
    }

    public void Scale(Tensor x, float factor) => TensorPrimitives.Multiply(x.Span, factor, x.Span);

    public void Zero(Tensor x) => x.Span.Clear();

    public void AdamW(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep step)
    {
        SameLength(param, grad, "AdamW"); SameLength(param, m, "AdamW"); SameLength(param, v, "AdamW");
        if (step.Step < 1) throw new ArgumentOutOfRangeException(nameof(step), "AdamW steps count from 1");
        // torch.optim.AdamW: p *= 1 - lr wd; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
        // p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
        float decay = 1f - step.LearningRate * step.WeightDecay;
        float b1 = step.Beta1, b2 = step.Beta2;
        float stepSize = (float)(step.LearningRate / (1 - Math.Pow(b1, step.Step)));
        float bias2Sqrt = (float)Math.Sqrt(1 - Math.Pow(b2, step.Step));
        float eps = step.Epsilon;
        CpuParallelism.ForChunks(param.Length, (start, len) =>
        {
            var p = param.Span.Slice(start, len); var g = grad.Span.Slice(start, len);
            var ms = m.Span.Slice(start, len); var vs = v.Span.Slice(start, len);
            for (int i = 0; i < len; i++)
            {
                float gi = g[i];
                float mi = ms[i] = b1 * ms[i] + (1f - b1) * gi;
                float vi = vs[i] = b2 * vs[i] + (1f - b2) * gi * gi;
                p[i] = p[i] * decay - stepSize * mi / (MathF.Sqrt(vi) / bias2Sqrt + eps);
            }
        });
    }
}
