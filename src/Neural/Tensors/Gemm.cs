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
    const int MR = 6, NR = 16, KC = 256, MC = 96, NC = 3072;
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
        if (parallel) CpuParallelism.For(chunks, Work);
        else for (int ch = 0; ch < chunks; ch++) Work(ch);
    }

    static void Blocked(bool transA, bool transB, int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, float beta, bool parallel)
    {
        int mStrips = (m + MR - 1) / MR;
        int maxNc = Math.Min(NC, n);
        int maxKc = Math.Min(KC, k);
        var packedA = (float*)NativeMemory.AlignedAlloc((nuint)((long)mStrips * MR * maxKc * sizeof(float)), 64);
        var packedB = (float*)NativeMemory.AlignedAlloc((nuint)((long)((maxNc + NR - 1) / NR) * NR * maxKc * sizeof(float)), 64);
        try
        {
            for (int jc = 0; jc < n; jc += NC)
            {
                int nc = Math.Min(NC, n - jc);
                int nStrips = (nc + NR - 1) / NR;
                for (int pc = 0; pc < k; pc += KC)
                {
                    int kc = Math.Min(KC, k - pc);
                    float betaNow = pc == 0 ? beta : 1f; // later K blocks accumulate onto the first
                    For(parallel, nStrips, s => PackB(transB, b, ldb, pc, jc + s * NR, Math.Min(NR, nc - s * NR), kc, packedB + (long)s * NR * kc));
                    For(parallel, mStrips, s => PackA(transA, a, lda, s * MR, pc, Math.Min(MR, m - s * MR), kc, packedA + (long)s * MR * kc));
                    // Tiles of MC rows x 256 columns: enough tasks for every core even when M is short.
                    const int NTile = 256;
                    int mBlocks = (m + MC - 1) / MC, nBlocks = (nc + NTile - 1) / NTile;
                    For(parallel, mBlocks * nBlocks, t =>
                    {
                        int ic = t / nBlocks * MC, jt = t % nBlocks * NTile;
                        int mEnd = Math.Min(m, ic + MC), nEnd = Math.Min(nc, jt + NTile);
                        for (int j = jt; j < nEnd; j += NR)
                            for (int i = ic; i < mEnd; i += MR)
                                Tile(packedA + (long)(i / MR) * MR * kc, packedB + (long)(j / NR) * NR * kc, kc,
                                    c + (long)i * ldc + jc + j, ldc, Math.Min(MR, m - i), Math.Min(NR, nc - j), betaNow);
                    });
                }
            }
        }
        finally
        {
            NativeMemory.AlignedFree(packedA);
            NativeMemory.AlignedFree(packedB);
        }
    }

    static void For(bool parallel, int count, Action<int> body)
    {
        if (parallel) CpuParallelism.For(count, body);
        else for (int i = 0; i < count; i++) body(i);
    }

    // Packed A strip: for each p, MR consecutive rows of op(A); rows past M are zero.
    static void PackA(bool transA, float* a, int lda, int i0, int p0, int rows, int kc, float* dst)
    {
        for (int p = 0; p < kc; p++)
        {
            float* d = dst + p * MR;
            for (int r = 0; r < MR; r++)
                d[r] = r < rows ? (transA ? a[(long)(p0 + p) * lda + i0 + r] : a[(long)(i0 + r) * lda + p0 + p]) : 0f;
        }
    }

    // Packed B panel: for each p, NR consecutive columns of op(B); columns past N are zero.
    static void PackB(bool transB, float* b, int ldb, int p0, int j0, int cols, int kc, float* dst)
    {
        if (!transB && cols == NR)
        {
            for (int p = 0; p < kc; p++)
                Unsafe.CopyBlockUnaligned(dst + p * NR, b + (long)(p0 + p) * ldb + j0, NR * sizeof(float));
            return;
        }
        for (int p = 0; p < kc; p++)
        {
            float* d = dst + p * NR;
            for (int col = 0; col < NR; col++)
                d[col] = col < cols ? (transB ? b[(long)(j0 + col) * ldb + p0 + p] : b[(long)(p0 + p) * ldb + j0 + col]) : 0f;
        }
    }

    static void Tile(float* ap, float* bp, int kc, float* c, int ldc, int rows, int cols, float beta)
    {
        if (rows == MR && cols == NR) { Kernel6x16(ap, bp, kc, c, ldc, beta); return; }
        // Edge tile: compute into a full scratch tile, then copy the valid part.
        float* tmp = stackalloc float[MR * NR];
        Kernel6x16(ap, bp, kc, tmp, NR, 0f);
        for (int r = 0; r < rows; r++)
            for (int col = 0; col < cols; col++)
            {
                float* dst = c + (long)r * ldc + col;
                *dst = beta == 0f ? tmp[r * NR + col] : tmp[r * NR + col] + beta * *dst;
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Fmadd(Vector256<float> a, Vector256<float> b, Vector256<float> acc) =>
        Fma.IsSupported ? Fma.MultiplyAdd(a, b, acc) : acc + a * b;

    // 6x16 register block: 12 accumulators + 2 B vectors + 1 broadcast A = 15 of the 16 YMM registers.
    static void Kernel6x16(float* ap, float* bp, int kc, float* c, int ldc, float beta)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++, ap += MR, bp += NR)
        {
            var b0 = Vector256.Load(bp);
            var b1 = Vector256.Load(bp + 8);
            var a = Vector256.Create(ap[0]); c00 = Fmadd(a, b0, c00); c01 = Fmadd(a, b1, c01);
            a = Vector256.Create(ap[1]); c10 = Fmadd(a, b0, c10); c11 = Fmadd(a, b1, c11);
            a = Vector256.Create(ap[2]); c20 = Fmadd(a, b0, c20); c21 = Fmadd(a, b1, c21);
            a = Vector256.Create(ap[3]); c30 = Fmadd(a, b0, c30); c31 = Fmadd(a, b1, c31);
            a = Vector256.Create(ap[4]); c40 = Fmadd(a, b0, c40); c41 = Fmadd(a, b1, c41);
            a = Vector256.Create(ap[5]); c50 = Fmadd(a, b0, c50); c51 = Fmadd(a, b1, c51);
        }
        Store(c, beta, c00, c01); c += ldc;
        Store(c, beta, c10, c11); c += ldc;
        Store(c, beta, c20, c21); c += ldc;
        Store(c, beta, c30, c31); c += ldc;
        Store(c, beta, c40, c41); c += ldc;
        Store(c, beta, c50, c51);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* c, float beta, Vector256<float> lo, Vector256<float> hi)
    {
        if (beta != 0f)
        {
            var vb = Vector256.Create(beta);
            lo = Fmadd(vb, Vector256.Load(c), lo);
            hi = Fmadd(vb, Vector256.Load(c + 8), hi);
        }
        lo.Store(c);
        hi.Store(c + 8);
    }
}
