using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Rag.Neural.Tensors;

/// <summary>Which SGEMM implementation large products use.</summary>
public enum GemmProvider { Managed, OpenBlas }

/// <summary>
/// Row-major single-precision GEMM: C (M x N) = op(A) (M x K) * op(B) (K x N) + beta * C, where op transposes when asked.
/// The managed kernel follows BLIS (Goto and van de Geijn, "Anatomy of high-performance matrix multiplication"):
/// B is packed into KC x NR panels that stay in L2, A into MR x KC strips, and a 6x16 register-blocked
/// Vector256 FMA micro-kernel computes each C tile. OpenBLAS's cblas_sgemm is used instead when chosen and present.
/// </summary>
public static unsafe class Gemm
{
    // Micro-tile rows x columns: 12 x 32 with AVX-512 (when the JIT accelerates 512-bit vectors), else 6 x 16 with AVX2.
    internal static readonly bool Wide = Avx512F.IsSupported && Vector512.IsHardwareAccelerated;
    static readonly int MR = Wide ? 12 : 6, NR = Wide ? 32 : 16;
    /// <summary>The micro-tile's rows and columns (MR x NR), for kernels built on <see cref="MicroTile"/>.</summary>
    internal static int TileRows => MR;
    internal static int TileColumns => NR;
    // KC: the K block. 768 keeps a BERT-base or MiniLM product in one block (C stored once, not re-read per block);
    // measured 90-96 GFLOP/s at 256 against 94-111 at 768 on the encoders' products (B's strip then streams from L2).
    const int KC = 768, MC = 96;
    // Below this many rows of C the product is a matrix-vector stream over B: packing would cost more than it saves.
    const int SmallM = 4;

    static readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> s_cblas = LoadOpenBlas();

    public static bool OpenBlasAvailable => s_cblas != null;

    /// <summary>Default: RAG_GEMM=managed|openblas, else OpenBLAS when present (the bench measures both).</summary>
    public static GemmProvider Provider { get; set; } = DefaultProvider();

    static GemmProvider DefaultProvider()
    {
        var env = Environment.GetEnvironmentVariable("RAG_GEMM");
        if (string.Equals(env, "managed", StringComparison.OrdinalIgnoreCase)) return GemmProvider.Managed;
        return s_cblas != null ? GemmProvider.OpenBlas : GemmProvider.Managed;
    }

    static delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> LoadOpenBlas()
    {
        if (!OperatingSystem.IsLinux()) return null;
        foreach (var name in new[] { "libopenblas.so.0", "libopenblas.so" })
            if (NativeLibrary.TryLoad(name, out var lib) && NativeLibrary.TryGetExport(lib, "cblas_sgemm", out var fn))
                return (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)fn;
        return null;
    }

    /// <param name="parallel">False when the caller already runs GEMMs in parallel (attention heads).</param>
    /// <param name="provider">Overrides <see cref="Provider"/> (tests run both).</param>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, float beta = 0f, bool parallel = true, GemmProvider? provider = null)
    {
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            for (int i = 0; i < m; i++) Scale(new Span<float>(c + (long)i * ldc, n), beta);
            return;
        }
        if (m <= SmallM && !transA) { SmallRows(transB, m, n, k, a, lda, b, ldb, c, ldc, beta, parallel); return; }
        if ((provider ?? Provider) == GemmProvider.OpenBlas && s_cblas != null && (parallel || provider == GemmProvider.OpenBlas))
        {
            // CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112.
            s_cblas(101, transA ? 112 : 111, transB ? 112 : 111, m, n, k, 1f, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        Blocked(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, beta, parallel);
    }

    static void Scale(Span<float> row, float beta)
    {
        if (beta == 0f) row.Clear();
        else if (beta != 1f) TensorPrimitives.Multiply(row, beta, row);
    }

    /// <summary>Few rows: each output is a dot product (B stored N x K) or an axpy stream over B's rows (B stored K x N).</summary>
    static void SmallRows(bool transB, int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, float beta, bool parallel)
    {
        // About four column blocks per core: enough to balance, wide enough that each row of B is read in long runs.
        int chunk = parallel && CpuParallelism.Threads > 1 ? Math.Max(64, (n / (4 * CpuParallelism.Threads) + 15) / 16 * 16) : n;
        int chunks = (n + chunk - 1) / chunk;
        void Work(int block)
        {
            int j0 = block * chunk, j1 = Math.Min(n, j0 + chunk);
            for (int i = 0; i < m; i++)
            {
                var x = new ReadOnlySpan<float>(a + (long)i * lda, k);
                float* crow = c + (long)i * ldc;
                if (transB)
                {
                    for (int j = j0; j < j1; j++)
                    {
                        float dot = TensorPrimitives.Dot(x, new ReadOnlySpan<float>(b + (long)j * ldb, k));
                        crow[j] = beta == 0f ? dot : dot + beta * crow[j];
                    }
                }
                else
                {
                    var y = new Span<float>(crow + j0, j1 - j0);
                    Scale(y, beta);
                    for (int p = 0; p < k; p++)
                        TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(b + (long)p * ldb + j0, j1 - j0), x[p], y, y);
                }
            }
        }
        if (parallel) CpuParallelism.For(chunks, (long)m * n * k, Work);
        else for (int ch = 0; ch < chunks; ch++) Work(ch);
    }

    /// <summary>
    /// op(B) packed once into NR-column strips, each K rows of NR consecutive columns (zero past N): the layout the
    /// micro-kernel reads, so a weight packed at load is never packed again.
    /// </summary>
    public sealed class PackedB
    {
        internal readonly NativeStorage Storage;
        public int N { get; }
        public int K { get; }

        internal PackedB(int n, int k)
        {
            N = n; K = k;
            Storage = new NativeStorage((long)((n + NR - 1) / NR) * NR * k);
        }

        internal float* Strip(int strip, int p0) => Storage.Pointer + ((long)strip * K + p0) * NR;
    }

    /// <summary>Packs op(B) (K x N) for <see cref="SgemmPacked"/>; B stored N x K (a linear layer's (out, in)) when transB.</summary>
    public static PackedB Pack(bool transB, int n, int k, float* b, int ldb)
    {
        var packed = new PackedB(n, k);
        int strips = (n + NR - 1) / NR;
        for (int s = 0; s < strips; s++) PackB(transB, b, ldb, 0, s * NR, Math.Min(NR, n - s * NR), k, packed.Strip(s, 0));
        return packed;
    }

    /// <summary>What the product's store adds: a per-column bias and a same-shape addend (the residual stream).</summary>
    public readonly struct Epilogue(float* bias, float* addend, int ldAddend)
    {
        public readonly float* Bias = bias;
        public readonly float* Addend = addend;
        public readonly int LdAddend = ldAddend;
        /// <summary>Called on each finished block of C rows (row, first column, count): activations run while it is in cache.</summary>
        public Action<int, int, int>? Finish { get; init; }
    }

    /// <summary>C (M x N) = A (M x K) * B + bias + addend, B packed by <see cref="Pack"/>; then Finish on each block.</summary>
    public static void SgemmPacked(int m, float* a, int lda, PackedB b, float* c, int ldc, in Epilogue epilogue, bool parallel = true)
    {
        if (m == 0 || b.N == 0) return;
        Blocked(false, m, b.N, b.K, a, lda, null, 0, b, c, ldc, 0f, epilogue, parallel);
    }

    static void Blocked(bool transA, bool transB, int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, float beta, bool parallel) =>
        Blocked(transA, m, n, k, a, lda, b, ldb, null, c, ldc, beta, default, parallel, transB);

    // BLIS loop order: K blocks of KC (B's micro-panels stay in L1), then tasks of (MC rows x a few NR strips) for
    // the cores. A is read in place when not transposed (rows broadcast from their own rows, as MLAS does);
    // B is packed per call unless it came packed.
    static void Blocked(bool transA, int m, int n, int k, float* a, int lda, float* b, int ldb, PackedB? prepacked,
        float* c, int ldc, float beta, in Epilogue epilogue, bool parallel, bool transB = false)
    {
        int nStrips = (n + NR - 1) / NR;
        int mBlocks = (m + MC - 1) / MC;
        int maxKc = Math.Min(KC, k);
        float* packedA = transA ? (float*)NativeMemory.AlignedAlloc((nuint)((long)((m + MR - 1) / MR) * MR * maxKc * sizeof(float)), 64) : null;
        float* packedB = prepacked is null ? (float*)NativeMemory.AlignedAlloc((nuint)((long)nStrips * NR * maxKc * sizeof(float)), 64) : null;
        parallel &= (long)m * n * k >= CpuParallelism.MinParallelWork;
        int threads = parallel ? CpuParallelism.Threads : 1;
        // Enough tasks to balance the cores (about three each), but strips wide enough to keep reusing A's rows.
        // One thread: 512 columns a task, so the block that Finish (GELU) reads again is 96 x 512 floats, still in L2
        // (all of BERT-base's 3072 columns were 1.2 MB, past it; stop 21 measured 0.93-0.97 against 0.95-1.00).
        int stripsPerTask = threads == 1 ? Math.Min(nStrips, 512 / NR) : Math.Max(1, Math.Min(8, nStrips * mBlocks / (3 * threads)));
        int nTasks = (nStrips + stripsPerTask - 1) / stripsPerTask;
        var ep = epilogue;
        try
        {
            for (int pc = 0; pc < k; pc += KC)
            {
                int kc = Math.Min(KC, k - pc);
                bool first = pc == 0, last = pc + kc == k;
                float* bBase = packedB;
                long bStride = (long)NR * kc;
                if (prepacked is null)
                    For(parallel, nStrips, s => PackB(transB, b, ldb, pc, s * NR, Math.Min(NR, n - s * NR), kc, bBase + s * bStride));
                if (transA)
                    For(parallel, (m + MR - 1) / MR, s => PackA(a, lda, s * MR, pc, Math.Min(MR, m - s * MR), kc, packedA + (long)s * MR * kc));
                For(parallel, mBlocks * nTasks, t =>
                {
                    int ic = t / nTasks * MC, s0 = t % nTasks * stripsPerTask;
                    int mEnd = Math.Min(m, ic + MC), sEnd = Math.Min(nStrips, s0 + stripsPerTask);
                    float* StripAt(int s) => prepacked is null ? bBase + s * bStride : prepacked.Strip(s, pc);
                    // Only the first row tile finds a strip in no cache, so memory would idle while the others run:
                    // each tile instead prefetches its share of the task's next strip (kc * NR / 16 lines) into L2.
                    int tiles = (mEnd - ic + MR - 1) / MR, lines = kc * NR / 16, share = (lines + tiles - 1) / tiles;
                    for (int s = s0; s < sEnd; s++)
                    {
                        float* bp = StripAt(s), nextStrip = s + 1 < sEnd ? StripAt(s + 1) : null;
                        int j = s * NR, cols = Math.Min(NR, n - j);
                        for (int i = ic; i < mEnd; i += MR)
                        {
                            int rows = Math.Min(MR, m - i);
                            float* ap; int aStep, aRow;
                            if (transA) { ap = packedA + (long)(i / MR) * MR * kc; aStep = MR; aRow = 1; }
                            else { ap = a + (long)i * lda + pc; aStep = 1; aRow = lda; }
                            int done = (i - ic) / MR * share;
                            var prefetch = new Prefetch(nextStrip == null ? null : nextStrip + (long)done * 16, Math.Min(share, lines - done));
                            Tile(ap, aStep, aRow, bp, kc, c + (long)i * ldc + j, ldc, rows, cols, first ? beta : 1f, first, j, i, ep, prefetch);
                        }
                    }
                    if (last && ep.Finish is { } finish)
                        for (int i = ic; i < mEnd; i++) finish(i, s0 * NR, Math.Min(n, sEnd * NR) - s0 * NR);
                });
            }
        }
        finally
        {
            if (packedA != null) NativeMemory.AlignedFree(packedA);
            if (packedB != null) NativeMemory.AlignedFree(packedB);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Fmadd(Vector256<float> a, Vector256<float> b, Vector256<float> acc) =>
        Fma.IsSupported ? Fma.MultiplyAdd(a, b, acc) : acc + a * b;

    static void For(bool parallel, int count, Action<int> body)
    {
        if (parallel) CpuParallelism.For(count, body);
        else for (int i = 0; i < count; i++) body(i);
    }

    // Packed A strip (transposed A only): for each p, MR consecutive rows of op(A); rows past M are zero.
    static void PackA(float* a, int lda, int i0, int p0, int rows, int kc, float* dst)
    {
        for (int p = 0; p < kc; p++)
        {
            float* d = dst + p * MR;
            for (int r = 0; r < MR; r++) d[r] = r < rows ? a[(long)(p0 + p) * lda + i0 + r] : 0f;
        }
    }

    // Packed B panel: for each p, NR consecutive columns of op(B); columns past N are zero.
    internal static void PackB(bool transB, float* b, int ldb, int p0, int j0, int cols, int kc, float* dst)
    {
        if (!transB)
        {
            for (int p = 0; p < kc; p++)
            {
                float* d = dst + p * NR, src = b + (long)(p0 + p) * ldb + j0;
                if (cols == NR)
                {
                    // A full row of the strip in vector moves: a copy call per 64 bytes cost attention's V most of its packing.
                    for (int col = 0; col < NR; col += Vector<float>.Count) Vector.Store(Vector.Load(src + col), d + col);
                    continue;
                }
                Unsafe.CopyBlockUnaligned(d, src, (uint)(cols * sizeof(float)));
                for (int col = cols; col < NR; col++) d[col] = 0f;
            }
            return;
        }
        // Transposed: 8 x 8 blocks of B's rows (output columns) turned in registers; the edges walk each row.
        int fullCols = Avx.IsSupported ? cols / 8 * 8 : 0, fullK = kc / 8 * 8;
        for (int col = 0; col < fullCols; col += 8)
            for (int p = 0; p < fullK; p += 8)
                Transpose8x8(b + (long)(j0 + col) * ldb + p0 + p, ldb, dst + p * NR + col, NR);
        for (int col = 0; col < NR; col++)
        {
            if (col >= cols) { for (int p = 0; p < kc; p++) dst[p * NR + col] = 0f; continue; }
            float* src = b + (long)(j0 + col) * ldb + p0;
            for (int p = col < fullCols ? fullK : 0; p < kc; p++) dst[p * NR + col] = src[p];
        }
    }

    // dst row p (8 floats at dst + p * ldd) = column p of the 8 x 8 block whose row r is at src + r * lds.
    static void Transpose8x8(float* src, int lds, float* dst, int ldd)
    {
        var r0 = Vector256.Load(src); var r1 = Vector256.Load(src + lds);
        var r2 = Vector256.Load(src + 2L * lds); var r3 = Vector256.Load(src + 3L * lds);
        var r4 = Vector256.Load(src + 4L * lds); var r5 = Vector256.Load(src + 5L * lds);
        var r6 = Vector256.Load(src + 6L * lds); var r7 = Vector256.Load(src + 7L * lds);
        // Pairs of rows interleaved, then quads (each 128-bit half holds columns c and c + 4), then halves joined.
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var s0 = Avx.Shuffle(t0, t2, 0x44); var s1 = Avx.Shuffle(t0, t2, 0xEE);
        var s2 = Avx.Shuffle(t1, t3, 0x44); var s3 = Avx.Shuffle(t1, t3, 0xEE);
        var s4 = Avx.Shuffle(t4, t6, 0x44); var s5 = Avx.Shuffle(t4, t6, 0xEE);
        var s6 = Avx.Shuffle(t5, t7, 0x44); var s7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Permute2x128(s0, s4, 0x20).Store(dst);
        Avx.Permute2x128(s1, s5, 0x20).Store(dst + ldd);
        Avx.Permute2x128(s2, s6, 0x20).Store(dst + 2L * ldd);
        Avx.Permute2x128(s3, s7, 0x20).Store(dst + 3L * ldd);
        Avx.Permute2x128(s0, s4, 0x31).Store(dst + 4L * ldd);
        Avx.Permute2x128(s1, s5, 0x31).Store(dst + 5L * ldd);
        Avx.Permute2x128(s2, s6, 0x31).Store(dst + 6L * ldd);
        Avx.Permute2x128(s3, s7, 0x31).Store(dst + 7L * ldd);
    }

    /// <summary>
    /// C (rows x NR, rows &lt;= MR) = A (rows x kc) * one packed B strip (kc x NR), row r of A at a + r * aRow + p * aStep,
    /// overwriting C: the register-blocked micro-kernel itself, for fused kernels that keep their operands in cache.
    /// </summary>
    internal static void MicroTile(int rows, float* a, int aStep, int aRow, float* b, int kc, float* c, int ldc)
    {
        Kernel(rows, a, aStep, aRow, b, kc, c, ldc, 0f, null, null, 0, default);
    }

    // The micro-kernel for this machine's vector width, compiled for the exact row count (rows <= MR).
    static void Kernel(int rows, float* a, int aStep, int aRow, float* b, int kc, float* c, int ldc, float beta, float* bias, float* addend,
        int ldAdd, Prefetch prefetch)
    {
        System.Diagnostics.Debug.Assert(rows >= 1 && rows <= MR, "a micro-tile has 1..MR rows");
        if (Wide) ByRowCount<Kernels512>(rows, a, aStep, aRow, b, kc, c, ldc, beta, bias, addend, ldAdd, prefetch);
        else ByRowCount<Kernels256>(rows, a, aStep, aRow, b, kc, c, ldc, beta, bias, addend, ldAdd, prefetch);
    }

    static void ByRowCount<TKernel>(int rows, float* a, int aStep, int aRow, float* b, int kc, float* c, int ldc, float beta, float* bias,
        float* addend, int ldAdd, Prefetch prefetch) where TKernel : struct, IMicroKernel
    {
        switch (rows)
        {
            case 12: TKernel.K<Rows12>(a, aStep, aRow, b, kc, c, ldc, beta, bias, addend, ldAdd, prefetch); break;
            case 11: TKernel.K<Rows11>(a, aStep, aRow, b, kc, c, ldc, beta, bias, addend, ldAdd, prefetch); break;
            case 10: TKernel.K<Rows10>(a, aStep, aRow, b, kc, c, ldc, beta, bias, addend, ldAdd, prefetch); break;
            case 9: TKernel.K<Rows9>(a, aStep, aRow, b, kc, c, ldc, beta, bias, addend, ldAdd, prefetch); break;
            case 8: TKernel.K<Rows8>(a, aStep, aRow, b, kc, c, ldc, beta, bias, addend, ldAdd, prefetch); break;
            case 7: TKernel.K<Rows7>(a, aStep, aRow, b, kc, c, ldc, beta, bias, addend, ldAdd, prefetch); break;
            case 6: TKernel.K<Rows6>(a, aStep, aRow, b, kc, c, ldc, beta, bias, addend, ldAdd, prefetch); break;
            case 5: TKernel.K<Rows5>(a, aStep, aRow, b, kc, c, ldc, beta, bias, addend, ldAdd, prefetch); break;
            case 4: TKernel.K<Rows4>(a, aStep, aRow, b, kc, c, ldc, beta, bias, addend, ldAdd, prefetch); break;
            case 3: TKernel.K<Rows3>(a, aStep, aRow, b, kc, c, ldc, beta, bias, addend, ldAdd, prefetch); break;
            case 2: TKernel.K<Rows2>(a, aStep, aRow, b, kc, c, ldc, beta, bias, addend, ldAdd, prefetch); break;
            default: TKernel.K<Rows1>(a, aStep, aRow, b, kc, c, ldc, beta, bias, addend, ldAdd, prefetch); break;
        }
    }

    // One MR x NR tile of C. first: C = acc + beta C + bias + addend; later K blocks: C += acc.
    static void Tile(float* ap, int aStep, int aRow, float* bp, int kc, float* c, int ldc, int rows, int cols, float beta, bool first,
        int j, int i, in Epilogue ep, Prefetch prefetch)
    {
        float* bias = first && ep.Bias != null ? ep.Bias + j : null;
        float* addend = first && ep.Addend != null ? ep.Addend + (long)i * ep.LdAddend + j : null;
        if (cols == NR)
        {
            Kernel(rows, ap, aStep, aRow, bp, kc, c, ldc, beta, bias, addend, ep.LdAddend, prefetch);
            return;
        }
        // Column edge: compute into a full scratch tile, then store the valid part.
        float* tmp = stackalloc float[MR * NR];
        Kernel(rows, ap, aStep, aRow, bp, kc, tmp, NR, 0f, null, null, 0, prefetch);
        for (int r = 0; r < rows; r++)
            for (int col = 0; col < cols; col++)
            {
                float* dst = c + (long)r * ldc + col;
                float v = tmp[r * NR + col];
                if (beta != 0f) v += beta * *dst;
                if (bias != null) v += bias[col];
                if (addend != null) v += addend[(long)r * ep.LdAddend + col];
                *dst = v;
            }
    }
}

/// <summary>
/// Cache lines (16 floats each) a micro-kernel hints into L2 as it runs, one per call of Next: L2 rather than L1,
/// which the tile in progress fills. A hint never faults; an empty one (default) does nothing.
/// </summary>
unsafe struct Prefetch(float* start, int lines)
{
    float* _next = start;
    readonly float* _end = start == null ? null : start + (long)lines * 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Next()
    {
        if (_next >= _end) return;
        if (Sse.IsSupported) Sse.Prefetch1(_next);
        _next += 16;
    }
}

/// <summary>Row counts as types, so each micro-kernel is compiled for its exact number of rows (no dead FMAs on edges).</summary>
interface IRows { static abstract int Count { get; } }
struct Rows1 : IRows { public static int Count => 1; }
struct Rows2 : IRows { public static int Count => 2; }
struct Rows3 : IRows { public static int Count => 3; }
struct Rows4 : IRows { public static int Count => 4; }
struct Rows5 : IRows { public static int Count => 5; }
struct Rows6 : IRows { public static int Count => 6; }
struct Rows7 : IRows { public static int Count => 7; }
struct Rows8 : IRows { public static int Count => 8; }
struct Rows9 : IRows { public static int Count => 9; }
struct Rows10 : IRows { public static int Count => 10; }
struct Rows11 : IRows { public static int Count => 11; }
struct Rows12 : IRows { public static int Count => 12; }

/// <summary>
/// A register-blocked micro-kernel: C (R rows x NR) = A (R x kc) * one packed B strip, then beta C, bias and addend
/// added as it is stored. Row r of A is read at a + r * aRow + p * aStep; R never exceeds the kernel's MR.
/// </summary>
unsafe interface IMicroKernel
{
    static abstract void K<R>(float* a, int aStep, int aRow, float* b, int kc, float* c, int ldc, float beta, float* bias, float* addend,
        int ldAdd, Prefetch prefetch) where R : struct, IRows;
}

/// <summary>
/// AVX-512 micro-kernel: up to 12 rows x 32 columns, 24 ZMM accumulators, B's two vectors and one broadcast of A
/// (27 of the 32 registers). A row r of the tile is read at a + r * aRow + p * aStep.
/// </summary>
unsafe struct Kernels512 : IMicroKernel
{
    public static void K<R>(float* a, int aStep, int aRow, float* b, int kc, float* c, int ldc, float beta, float* bias, float* addend, int ldAdd,
        Prefetch prefetch) where R : struct, IRows
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default,
            c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default,
            c90 = default, c91 = default, ca0 = default, ca1 = default, cb0 = default, cb1 = default;
        int n = R.Count;
        float* a0 = a, a3 = a + 3L * aRow, a6 = a + 6L * aRow, a9 = a + 9L * aRow;
        long r1 = aRow, r2 = 2L * aRow;
        for (int p = 0; p < kc; p++, b += 32, a0 += aStep, a3 += aStep, a6 += aStep, a9 += aStep)
        {
            prefetch.Next();
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            Vector512<float> x;
            x = Vector512.Create(a0[0]); c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
            if (n > 1) { x = Vector512.Create(a0[r1]); c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11); }
            if (n > 2) { x = Vector512.Create(a0[r2]); c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21); }
            if (n > 3) { x = Vector512.Create(a3[0]); c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31); }
            if (n > 4) { x = Vector512.Create(a3[r1]); c40 = Avx512F.FusedMultiplyAdd(x, b0, c40); c41 = Avx512F.FusedMultiplyAdd(x, b1, c41); }
            if (n > 5) { x = Vector512.Create(a3[r2]); c50 = Avx512F.FusedMultiplyAdd(x, b0, c50); c51 = Avx512F.FusedMultiplyAdd(x, b1, c51); }
            if (n > 6) { x = Vector512.Create(a6[0]); c60 = Avx512F.FusedMultiplyAdd(x, b0, c60); c61 = Avx512F.FusedMultiplyAdd(x, b1, c61); }
            if (n > 7) { x = Vector512.Create(a6[r1]); c70 = Avx512F.FusedMultiplyAdd(x, b0, c70); c71 = Avx512F.FusedMultiplyAdd(x, b1, c71); }
            if (n > 8) { x = Vector512.Create(a6[r2]); c80 = Avx512F.FusedMultiplyAdd(x, b0, c80); c81 = Avx512F.FusedMultiplyAdd(x, b1, c81); }
            if (n > 9) { x = Vector512.Create(a9[0]); c90 = Avx512F.FusedMultiplyAdd(x, b0, c90); c91 = Avx512F.FusedMultiplyAdd(x, b1, c91); }
            if (n > 10) { x = Vector512.Create(a9[r1]); ca0 = Avx512F.FusedMultiplyAdd(x, b0, ca0); ca1 = Avx512F.FusedMultiplyAdd(x, b1, ca1); }
            if (n > 11) { x = Vector512.Create(a9[r2]); cb0 = Avx512F.FusedMultiplyAdd(x, b0, cb0); cb1 = Avx512F.FusedMultiplyAdd(x, b1, cb1); }
        }
        Vector512<float> bias0 = default, bias1 = default;
        if (bias != null) { bias0 = Vector512.Load(bias); bias1 = Vector512.Load(bias + 16); }
        Store(c, 0, ldc, beta, bias != null, bias0, bias1, addend, ldAdd, c00, c01);
        if (n > 1) Store(c, 1, ldc, beta, bias != null, bias0, bias1, addend, ldAdd, c10, c11);
        if (n > 2) Store(c, 2, ldc, beta, bias != null, bias0, bias1, addend, ldAdd, c20, c21);
        if (n > 3) Store(c, 3, ldc, beta, bias != null, bias0, bias1, addend, ldAdd, c30, c31);
        if (n > 4) Store(c, 4, ldc, beta, bias != null, bias0, bias1, addend, ldAdd, c40, c41);
        if (n > 5) Store(c, 5, ldc, beta, bias != null, bias0, bias1, addend, ldAdd, c50, c51);
        if (n > 6) Store(c, 6, ldc, beta, bias != null, bias0, bias1, addend, ldAdd, c60, c61);
        if (n > 7) Store(c, 7, ldc, beta, bias != null, bias0, bias1, addend, ldAdd, c70, c71);
        if (n > 8) Store(c, 8, ldc, beta, bias != null, bias0, bias1, addend, ldAdd, c80, c81);
        if (n > 9) Store(c, 9, ldc, beta, bias != null, bias0, bias1, addend, ldAdd, c90, c91);
        if (n > 10) Store(c, 10, ldc, beta, bias != null, bias0, bias1, addend, ldAdd, ca0, ca1);
        if (n > 11) Store(c, 11, ldc, beta, bias != null, bias0, bias1, addend, ldAdd, cb0, cb1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* c, int r, int ldc, float beta, bool hasBias, Vector512<float> bias0, Vector512<float> bias1, float* addend, int ldAdd,
        Vector512<float> lo, Vector512<float> hi)
    {
        c += (long)r * ldc;
        if (beta != 0f)
        {
            var vb = Vector512.Create(beta);
            lo = Avx512F.FusedMultiplyAdd(vb, Vector512.Load(c), lo);
            hi = Avx512F.FusedMultiplyAdd(vb, Vector512.Load(c + 16), hi);
        }
        if (hasBias) { lo += bias0; hi += bias1; }
        if (addend != null)
        {
            float* d = addend + (long)r * ldAdd;
            lo += Vector512.Load(d);
            hi += Vector512.Load(d + 16);
        }
        lo.Store(c);
        hi.Store(c + 16);
    }
}

/// <summary>AVX2 micro-kernel: up to 6 rows x 16 columns, 12 YMM accumulators (15 of the 16 registers).</summary>
unsafe struct Kernels256 : IMicroKernel
{
    public static void K<R>(float* a, int aStep, int aRow, float* b, int kc, float* c, int ldc, float beta, float* bias, float* addend, int ldAdd,
        Prefetch prefetch) where R : struct, IRows
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        int n = R.Count;
        float* a0 = a, a3 = a + 3L * aRow;
        long r1 = aRow, r2 = 2L * aRow;
        int p = 0;
        if (aStep == 1)
        {
            // A read in place: four k steps per trip, so A's broadcasts take constant offsets and the loop's own
            // increments and branch are paid once per 48 FMAs instead of once per 12.
            for (; p + 4 <= kc; p += 4, b += 64, a0 += 4, a3 += 4)
            {
                prefetch.Next();
                prefetch.Next();
                Step<R>(b, a0, a3, r1, r2, 0, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
                Step<R>(b + 16, a0, a3, r1, r2, 1, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
                Step<R>(b + 32, a0, a3, r1, r2, 2, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
                Step<R>(b + 48, a0, a3, r1, r2, 3, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            }
        }
        for (; p < kc; p++, b += 16, a0 += aStep, a3 += aStep)
        {
            prefetch.Next();
            Step<R>(b, a0, a3, r1, r2, 0, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
        }
        Vector256<float> bias0 = default, bias1 = default;
        if (bias != null) { bias0 = Vector256.Load(bias); bias1 = Vector256.Load(bias + 8); }
        Store(c, 0, ldc, beta, bias != null, bias0, bias1, addend, ldAdd, c00, c01);
        if (n > 1) Store(c, 1, ldc, beta, bias != null, bias0, bias1, addend, ldAdd, c10, c11);
        if (n > 2) Store(c, 2, ldc, beta, bias != null, bias0, bias1, addend, ldAdd, c20, c21);
        if (n > 3) Store(c, 3, ldc, beta, bias != null, bias0, bias1, addend, ldAdd, c30, c31);
        if (n > 4) Store(c, 4, ldc, beta, bias != null, bias0, bias1, addend, ldAdd, c40, c41);
        if (n > 5) Store(c, 5, ldc, beta, bias != null, bias0, bias1, addend, ldAdd, c50, c51);
    }

    // One k step of the micro-kernel: A's six rows at column u past a0 (rows 0-2) and a3 (rows 3-5), times 16 of B.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Step<R>(float* b, float* a0, float* a3, long r1, long r2, int u,
        ref Vector256<float> c00, ref Vector256<float> c01, ref Vector256<float> c10, ref Vector256<float> c11, ref Vector256<float> c20, ref Vector256<float> c21,
        ref Vector256<float> c30, ref Vector256<float> c31, ref Vector256<float> c40, ref Vector256<float> c41, ref Vector256<float> c50, ref Vector256<float> c51)
        where R : struct, IRows
    {
        int n = R.Count;
        var b0 = Vector256.Load(b);
        var b1 = Vector256.Load(b + 8);
        Vector256<float> x;
        x = Vector256.Create(a0[u]); c00 = Gemm.Fmadd(x, b0, c00); c01 = Gemm.Fmadd(x, b1, c01);
        if (n > 1) { x = Vector256.Create(a0[r1 + u]); c10 = Gemm.Fmadd(x, b0, c10); c11 = Gemm.Fmadd(x, b1, c11); }
        if (n > 2) { x = Vector256.Create(a0[r2 + u]); c20 = Gemm.Fmadd(x, b0, c20); c21 = Gemm.Fmadd(x, b1, c21); }
        if (n > 3) { x = Vector256.Create(a3[u]); c30 = Gemm.Fmadd(x, b0, c30); c31 = Gemm.Fmadd(x, b1, c31); }
        if (n > 4) { x = Vector256.Create(a3[r1 + u]); c40 = Gemm.Fmadd(x, b0, c40); c41 = Gemm.Fmadd(x, b1, c41); }
        if (n > 5) { x = Vector256.Create(a3[r2 + u]); c50 = Gemm.Fmadd(x, b0, c50); c51 = Gemm.Fmadd(x, b1, c51); }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* c, int r, int ldc, float beta, bool hasBias, Vector256<float> bias0, Vector256<float> bias1, float* addend, int ldAdd,
        Vector256<float> lo, Vector256<float> hi)
    {
        c += (long)r * ldc;
        if (beta != 0f)
        {
            var vb = Vector256.Create(beta);
            lo = Gemm.Fmadd(vb, Vector256.Load(c), lo);
            hi = Gemm.Fmadd(vb, Vector256.Load(c + 8), hi);
        }
        if (hasBias) { lo += bias0; hi += bias1; }
        if (addend != null)
        {
            float* d = addend + (long)r * ldAdd;
            lo += Vector256.Load(d);
            hi += Vector256.Load(d + 8);
        }
        lo.Store(c);
        hi.Store(c + 8);
    }
}
