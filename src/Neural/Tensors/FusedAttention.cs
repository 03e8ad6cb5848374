using System.Numerics;
using System.Runtime.InteropServices;

namespace Rag.Neural.Tensors;

/// <summary>
/// Scaled dot-product attention for one (sequence, head), in cache: K^T and V are packed once into the GEMM
/// micro-kernel's strips, then each tile of MR queries gets its scores (MR x S), their exponentials and its output
/// (MR x D) before the next tile starts, so nothing larger than the head's keys and values is ever written. The
/// softmax normalisation divides the D outputs instead of the S probabilities (as flash attention does).
/// </summary>
static unsafe class FusedAttention
{
    /// <summary>Per-thread scratch: packed K^T, packed V, one tile of scores and one tile of outputs.</summary>
    sealed class Scratch
    {
        float[] _buffer = [];

        public float* Get(long floats)
        {
            if (_buffer.Length < floats) _buffer = GC.AllocateUninitializedArray<float>((int)Math.Max(floats, 2L * _buffer.Length), pinned: true);
            return (float*)Marshal.UnsafeAddrOfPinnedArrayElement(_buffer, 0);
        }
    }

    [ThreadStatic] static Scratch? t_scratch;

    /// <param name="q">Row i of this head's queries at q + i * qRow (D values).</param>
    /// <param name="k">Row j of its keys at k + j * kvRow; v likewise.</param>
    /// <param name="o">Row i of its output at o + i * qRow.</param>
    /// <param name="keys">Keys in use; key j is visible to query i when j &lt; visible(i) and its padding flag is 1.</param>
    /// <param name="firstVisible">Keys visible to query 0 when causal (StartPosition + 1), else keys.</param>
    /// <param name="padding">This sequence's (keys) flags, or null when every key is real.</param>
    public static void Head(int t, int keys, int d, float* q, int qRow, float* k, float* v, int kvRow, float* o, float scale,
        bool causal, int firstVisible, ReadOnlySpan<int> padding)
    {
        int mr = Gemm.TileRows, nr = Gemm.TileColumns;
        // Trailing padding (how tokenizers pad) shortens the keys; any other pattern is masked key by key.
        bool maskEach = false;
        if (!padding.IsEmpty)
        {
            int real = padding.LastIndexOfAnyExcept(0) + 1;
            maskEach = padding[..real].Contains(0);
            keys = real;
        }
        int keyStrips = (keys + nr - 1) / nr, dStrips = (d + nr - 1) / nr;
        int sPad = keyStrips * nr, dPad = dStrips * nr;
        var scratch = t_scratch ??= new Scratch();
        float* kt = scratch.Get((long)sPad * d + (long)dPad * keys + (long)mr * sPad + (long)mr * dPad + mr);
        float* vp = kt + (long)sPad * d, scores = vp + (long)dPad * keys, tile = scores + (long)mr * sPad, sums = tile + (long)mr * dPad;
        for (int s = 0; s < keyStrips; s++) Gemm.PackB(true, k, kvRow, 0, s * nr, Math.Min(nr, keys - s * nr), d, kt + (long)s * nr * d);
        for (int s = 0; s < dStrips; s++) Gemm.PackB(false, v, kvRow, 0, s * nr, Math.Min(nr, d - s * nr), keys, vp + (long)s * nr * keys);

        for (int i0 = 0; i0 < t; i0 += mr)
        {
            int rows = Math.Min(mr, t - i0);
            // The tile's last query sees the most keys; causal rows see fewer and mask the rest.
            int visibleMax = causal ? Math.Min(keys, firstVisible + i0 + rows - 1) : keys;
            if (visibleMax <= 0) { for (int r = 0; r < rows; r++) new Span<float>(o + (long)(i0 + r) * qRow, d).Clear(); continue; }
            int strips = (visibleMax + nr - 1) / nr;
            for (int s = 0; s < strips; s++)                                 // scores (rows, S) = Q K^T
                Gemm.MicroTile(rows, q + (long)i0 * qRow, 1, qRow, kt + (long)s * nr * d, d, scores + s * nr, sPad);
            for (int r = 0; r < rows; r++)
            {
                int visible = causal ? Math.Min(keys, firstVisible + i0 + r) : keys;
                var row = new Span<float>(scores + (long)r * sPad, sPad);
                if (maskEach) for (int j = 0; j < visible; j++) if (padding[j] == 0) row[j] = float.NegativeInfinity;
                sums[r] = Exponentiate(row[..visible], scale);
                row[visible..(strips * nr)].Clear();                          // keys this query may not see
            }
            for (int s = 0; s < dStrips; s++)                                 // out (rows, D) = P V over the visible keys
                Gemm.MicroTile(rows, scores, 1, sPad, vp + (long)s * nr * keys, visibleMax, tile + s * nr, dPad);
            for (int r = 0; r < rows; r++)
            {
                var dst = new Span<float>(o + (long)(i0 + r) * qRow, d);
                var src = new ReadOnlySpan<float>(tile + (long)r * dPad, d);
                if (sums[r] > 0) System.Numerics.Tensors.TensorPrimitives.Multiply(src, 1f / sums[r], dst);
                else dst.Clear();                                            // nothing visible: zeros
            }
        }
    }

    /// <summary>row = exp(scale * (row - max row)); returns the sum (0 when every entry is -inf).</summary>
    /// <remarks>
    /// A pointer loop with the native max: at 128 keys this runs on 16K scores a head, and TensorPrimitives.Max (which
    /// orders NaNs as IEEE 754 asks) with span slicing took longer than the two products around it. A NaN score still
    /// comes out NaN: it goes through exp itself.
    /// </remarks>
    static float Exponentiate(Span<float> row, float scale)
    {
        if (row.IsEmpty) return 0;
        int n = Vector<float>.Count, length = row.Length, j = 0;
        fixed (float* x = row)
        {
            var vmax = new Vector<float>(float.NegativeInfinity);
            for (; j <= length - n; j += n) vmax = Vector.MaxNative(vmax, Vector.Load(x + j));
            float max = float.NegativeInfinity;
            for (int i = 0; i < n; i++) max = MathF.Max(max, vmax[i]);
            for (; j < length; j++) max = MathF.Max(max, x[j]);
            if (float.IsNegativeInfinity(max)) { row.Clear(); return 0; }
            var vscale = new Vector<float>(scale); var vsum = Vector<float>.Zero;
            vmax = new Vector<float>(max);
            for (j = 0; j <= length - n; j += n)
            {
                var e = Activations.Exp((Vector.Load(x + j) - vmax) * vscale);
                e.Store(x + j);
                vsum += e;
            }
            float sum = Vector.Sum(vsum);
            for (; j < length; j++) { x[j] = Activations.Exp(new Vector<float>((x[j] - max) * scale))[0]; sum += x[j]; }
            return sum;
        }
    }
}
