using System.Runtime.InteropServices;

namespace Rag.Neural.Tensors.Cuda;

/// <summary>Device memory from cuMemAlloc, zeroed, freed by the finalizer. Its Pointer is a device address.</summary>
internal sealed unsafe class CudaStorage : Storage
{
    readonly nint _context;
    ulong _address;
    readonly long _length;

    public CudaStorage(nint context, long length)
    {
        _context = context;
        _length = length;
        var bytes = (nuint)Math.Max(1, length) * sizeof(float);
        ulong address;
        CudaApi.Check(CudaApi.cuMemAlloc(&address, bytes), $"cuMemAlloc({bytes / (1 << 20)} MiB)");
        _address = address;
        CudaApi.Check(CudaApi.cuMemsetD32(address, 0, bytes / sizeof(float)), "cuMemsetD32");
    }

    ~CudaStorage()
    {
        if (_address == 0) return;
        CudaApi.cuCtxSetCurrent(_context); // the finalizer thread has no current context
        CudaApi.cuMemFree(_address);
        _address = 0;
    }

    public override float* Pointer => (float*)_address;
    public override long Length => _length;
    public override Device Device => Device.Cuda;
}

/// <summary>
/// The IBackend ops on an NVIDIA GPU, in fp32 (TF32 products optional): cuBLAS for the products (Linear, MatMul),
/// <see cref="CudaKernels"/> for the rest, attention included (fused, or around two batched cuBLAS products for
/// head sizes the fused kernel lacks). It runs the BERT-family encoders (ingest and question
/// embedding); the decoder ops (RmsNorm, Rope, SwiGlu, KV cache, Argmax) are not written yet and say so.
/// All work goes to the context's default stream in the order it is issued, so an op's results are ready for the
/// next op without a wait, and <see cref="CopyToHost"/> waits for everything before it. Ops take turns on one
/// lock, because host-to-device staging buffers (token ids, masks) are shared.
/// </summary>
public sealed unsafe class CudaBackend : IBackend
{
    const int RowThreads = 128;          // threads per block for the one-block-per-row kernels
    const int ElementThreads = 256;
    const long MaxScoreFloats = 64L << 20; // attention scores staged at once (256 MiB): longer batches go in groups

    readonly nint _context;
    readonly nint _cublas;
    readonly CudaKernels _kernels;
    readonly Lock _gate = new();
    CudaStorage? _ids, _pointers, _scores; // staging and scratch, grown on demand

    [ThreadStatic] static nint t_currentContext;

    public Device Device => Device.Cuda;

    /// <summary>The card and libraries in use, e.g. "NVIDIA H200 (sm_90), driver 13.0, NVRTC 13.0, cuBLAS 13.1.0, fp32".</summary>
    public string Description { get; }

    /// <summary>Whether cuBLAS may use TF32 tensor cores (10-bit mantissa inputs) for the products.</summary>
    public bool Tf32 { get; }

    /// <summary>
    /// Attention by the fused kernel (scores kept on chip; head sizes 32 and 64) rather than two batched cuBLAS
    /// products around a softmax over scores in memory. Other head sizes always take the batched path.
    /// </summary>
    public bool FusedAttention { get; set; } = true;

    CudaBackend(int ordinal, bool tf32)
    {
        CudaApi.EnsureLoaded();
        CudaApi.Check(CudaApi.cuInit(0), "cuInit");
        int count, device, major, minor, driver, nvrtcMajor, nvrtcMinor, cublasVersion;
        CudaApi.Check(CudaApi.cuDeviceGetCount(&count), "cuDeviceGetCount");
        if (ordinal < 0 || ordinal >= count) throw new CudaException($"no CUDA device {ordinal}: the driver sees {count}");
        CudaApi.Check(CudaApi.cuDeviceGet(&device, ordinal), "cuDeviceGet");
        CudaApi.Check(CudaApi.cuDeviceGetAttribute(&major, CudaApi.AttributeComputeCapabilityMajor, device), "cuDeviceGetAttribute");
        CudaApi.Check(CudaApi.cuDeviceGetAttribute(&minor, CudaApi.AttributeComputeCapabilityMinor, device), "cuDeviceGetAttribute");
        var name = stackalloc byte[256];
        CudaApi.Check(CudaApi.cuDeviceGetName(name, 256, device), "cuDeviceGetName");
        CudaApi.Check(CudaApi.cuDriverGetVersion(&driver), "cuDriverGetVersion");
        // The primary context is the one cuBLAS (through the CUDA runtime) binds to as well.
        nint context;
        CudaApi.Check(CudaApi.cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain");
        _context = context;
        MakeCurrent();
        _kernels = new CudaKernels(major, minor);
        nint handle;
        CudaApi.CheckCublas(CudaApi.cublasCreate(&handle), "cublasCreate");
        _cublas = handle;
        Tf32 = tf32;
        CudaApi.CheckCublas(CudaApi.cublasSetMathMode(handle, tf32 ? CudaApi.CublasTf32TensorOpMath : CudaApi.CublasDefaultMath), "cublasSetMathMode");
        CudaApi.CheckCublas(CudaApi.cublasGetVersion(handle, &cublasVersion), "cublasGetVersion");
        CudaApi.CheckNvrtc(CudaApi.nvrtcVersion(&nvrtcMajor, &nvrtcMinor), "nvrtcVersion");
        Description = $"{Marshal.PtrToStringUTF8((nint)name)} (sm_{major}{minor}), driver {driver / 1000}.{driver % 1000 / 10}, " +
            $"NVRTC {nvrtcMajor}.{nvrtcMinor}, cuBLAS {cublasVersion / 10000}.{cublasVersion / 100 % 100}.{cublasVersion % 100}, {(tf32 ? "TF32 products" : "fp32")}";
    }

    /// <summary>A backend on GPU <paramref name="ordinal"/>; a <see cref="CudaException"/> says why there is none (no driver, no card, no NVRTC or cuBLAS).</summary>
    public static CudaBackend Create(int ordinal = 0, bool tf32 = false) => new(ordinal, tf32);

    static readonly Lock SharedGate = new();
    static readonly CudaBackend?[] s_shared = new CudaBackend?[2]; // fp32, TF32
    static string? s_sharedError;

    /// <summary>The process's backend on GPU 0, made on first use; models loaded on it share its memory and stream.</summary>
    public static CudaBackend Shared(bool tf32 = false)
    {
        lock (SharedGate)
        {
            if (s_shared[tf32 ? 1 : 0] is { } made) return made;
            if (s_sharedError is not null) throw new CudaException(s_sharedError);
            try { return s_shared[tf32 ? 1 : 0] = Create(tf32: tf32); }
            catch (CudaException e) { s_sharedError = e.Message; throw; }
        }
    }

    /// <summary>The shared backend, or null with the reason when this machine cannot run it.</summary>
    public static CudaBackend? TryShared(out string? reason, bool tf32 = false)
    {
        try
        {
            reason = null;
            return Shared(tf32);
        }
        catch (CudaException e)
        {
            reason = e.Message;
            return null;
        }
    }

    void MakeCurrent()
    {
        if (t_currentContext == _context) return;
        CudaApi.Check(CudaApi.cuCtxSetCurrent(_context), "cuCtxSetCurrent");
        t_currentContext = _context;
    }

    Lock.Scope Enter()
    {
        var scope = _gate.EnterScope();
        MakeCurrent();
        return scope;
    }

    static ulong Address(Tensor t, string op) => t.Device == Device.Cuda ? (ulong)t.Pointer
        : throw new ArgumentException($"{op}: {t} is in host memory; the CUDA backend's activations come from its Allocate and its weights from Resident or Prepare");

    static int Rows(Tensor x) => x.Length / Math.Max(1, x.Dim(-1));

    static void SameLength(Tensor a, Tensor b, string op)
    {
        if (a.Length != b.Length) throw new ArgumentException($"{op}: shapes [{string.Join(", ", a.Shape)}] and [{string.Join(", ", b.Shape)}] differ in size");
    }

    void Launch(nint function, long blocks, int threads, void** args, string name, int blocksY = 1, int blocksZ = 1)
    {
        if (blocks <= 0 || blocksY <= 0 || blocksZ <= 0) return;
        CudaApi.Check(CudaApi.cuLaunchKernel(function, (uint)blocks, (uint)blocksY, (uint)blocksZ, (uint)threads, 1, 1, 0, 0, args, null), $"launching {name}");
    }

    /// <summary>Waits for all queued work (for timing op by op; reading results waits by itself).</summary>
    public void Synchronize()
    {
        using (Enter()) CudaApi.Check(CudaApi.cuCtxSynchronize(), "cuCtxSynchronize");
    }

    static long ElementBlocks(long n) => Math.Min((n + ElementThreads - 1) / ElementThreads, 8192);

    /// <summary>Copies host data into a staging buffer (grown as needed) and returns its device address.</summary>
    ulong Stage(ref CudaStorage? buffer, void* data, long bytes)
    {
        long floats = (bytes + 3) / 4;
        if (buffer is null || buffer.Length < floats) buffer = new CudaStorage(_context, Math.Max(floats, 1024));
        var address = (ulong)buffer.Pointer;
        // From pageable memory this waits for the queued work that may still read the buffer, then copies.
        if (bytes > 0) CudaApi.Check(CudaApi.cuMemcpyHtoD(address, data, (nuint)bytes), "cuMemcpyHtoD");
        return address;
    }

    ulong StageInts(ReadOnlySpan<int> values)
    {
        fixed (int* p = values) return Stage(ref _ids, p, (long)values.Length * sizeof(int));
    }

    public Tensor Allocate(params int[] shape)
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        using (Enter()) return new Tensor(new CudaStorage(_context, n), 0, shape);
    }

    public Tensor Resident(Tensor weight)
    {
        if (weight.Device == Device.Cuda) return weight;
        var copy = Allocate(weight.Shape);
        Copy(weight, copy);
        return copy;
    }

    public LinearWeights Prepare(LinearWeights w) =>
        new(Resident(w.Weight), w.Bias is null ? null : Resident(w.Bias), w.WeightIsInOut);

    public void CopyToHost(Tensor source, Span<float> destination)
    {
        if (destination.Length != source.Length) throw new ArgumentException($"CopyToHost: {destination.Length} values for {source}");
        if (source.Device == Device.Cpu) { source.Span.CopyTo(destination); return; }
        using (Enter())
            fixed (float* d = destination) CudaApi.Check(CudaApi.cuMemcpyDtoH(d, (ulong)source.Pointer, (nuint)source.Length * sizeof(float)), "cuMemcpyDtoH");
    }

    public void Copy(Tensor source, Tensor destination)
    {
        SameLength(source, destination, "Copy");
        var bytes = (nuint)source.Length * sizeof(float);
        switch (source.Device, destination.Device)
        {
            case (Device.Cpu, Device.Cpu): source.Span.CopyTo(destination.Span); break;
            case (Device.Cuda, Device.Cpu): CopyToHost(source, destination.Span); break;
            case (Device.Cpu, Device.Cuda):
                using (Enter()) CudaApi.Check(CudaApi.cuMemcpyHtoD((ulong)destination.Pointer, source.Pointer, bytes), "cuMemcpyHtoD");
                break;
            default:
                using (Enter()) CudaApi.Check(CudaApi.cuMemcpyDtoD((ulong)destination.Pointer, (ulong)source.Pointer, bytes), "cuMemcpyDtoD");
                break;
        }
    }

    public void Embedding(Tensor table, ReadOnlySpan<int> ids, Tensor output) => Gather(table, ids, output, accumulate: 0, "Embedding");

    public void EmbeddingAddInPlace(Tensor table, ReadOnlySpan<int> ids, Tensor x) => Gather(table, ids, x, accumulate: 1, "EmbeddingAdd");

    void Gather(Tensor table, ReadOnlySpan<int> ids, Tensor output, int accumulate, string op)
    {
        int c = table.Dim(1), rows = table.Dim(0);
        if (output.Length != ids.Length * c) throw new ArgumentException($"{op}: output [{string.Join(", ", output.Shape)}] does not hold {ids.Length} x {c}");
        foreach (var id in ids)
            if ((uint)id >= (uint)rows) throw new ArgumentOutOfRangeException(nameof(ids), $"index {id} outside the table of {rows} rows");
        ulong t = Address(table, op), o = Address(output, op);
        using (Enter())
        {
            ulong i = StageInts(ids);
            void** args = stackalloc void*[] { &t, &i, &o, &c, &accumulate };
            Launch(_kernels.Embedding, ids.Length, RowThreads, args, "embedding");
        }
    }

    /// <summary>Row-major C (M x N) = op(A) op(B) + beta C, as cuBLAS's column-major C^T = op(B)^T op(A)^T.</summary>
    void Sgemm(bool transposeA, bool transposeB, int m, int n, int k, float alpha, ulong a, int lda, ulong b, int ldb, float beta, ulong c, int ldc)
    {
        CudaApi.CheckCublas(CudaApi.cublasSgemm(_cublas, transposeB ? CudaApi.CublasOpT : CudaApi.CublasOpN, transposeA ? CudaApi.CublasOpT : CudaApi.CublasOpN,
            n, m, k, &alpha, b, ldb, a, lda, &beta, c, ldc), "cublasSgemm");
    }

    public void MatMul(Tensor a, Tensor b, Tensor output, bool transposeA = false, bool transposeB = false)
    {
        var (batch, batchA, batchB, m, n, k) = MatMulShape.Check(a, b, output, transposeA, transposeB);
        ulong pa = Address(a, "MatMul"), pb = Address(b, "MatMul"), pc = Address(output, "MatMul");
        float alpha = 1, beta = 0;
        using (Enter())
            CudaApi.CheckCublas(CudaApi.cublasSgemmStridedBatched(_cublas, transposeB ? CudaApi.CublasOpT : CudaApi.CublasOpN, transposeA ? CudaApi.CublasOpT : CudaApi.CublasOpN,
                n, m, k, &alpha, pb, b.Dim(-1), batchB == 1 ? 0 : (long)k * n, pa, a.Dim(-1), batchA == 1 ? 0 : (long)m * k,
                &beta, pc, n, (long)m * n, batch), "cublasSgemmStridedBatched");
    }

    /// <summary>output = x W^T (+ beta output): W is (out, in), or (in, out) for GPT-2's Conv1D.</summary>
    void Product(Tensor x, LinearWeights w, Tensor output, float beta, string op)
    {
        int k = w.InFeatures, m = w.OutFeatures, rows = x.Length / k;
        if (x.Length != rows * k || output.Length != rows * m)
            throw new ArgumentException($"{op}: x [{string.Join(", ", x.Shape)}] and output [{string.Join(", ", output.Shape)}] do not fit a {k} -> {m} layer");
        ulong px = Address(x, op), pw = Address(w.Weight, op), py = Address(output, op);
        if (w.WeightIsInOut) Sgemm(false, false, rows, m, k, 1, px, k, pw, m, beta, py, m);
        else Sgemm(false, true, rows, m, k, 1, px, k, pw, k, beta, py, m);
    }

    /// <summary>output = residual + bias (either may be absent), what the product is then added onto.</summary>
    void FillBiasResidual(Tensor output, Tensor? bias, Tensor? residual, int cols, string op)
    {
        ulong y = Address(output, op), b = bias is null ? 0 : Address(bias, op), r = residual is null ? 0 : Address(residual, op);
        long n = output.Length;
        void** args = stackalloc void*[] { &y, &b, &r, &n, &cols };
        Launch(_kernels.FillBiasResidual, ElementBlocks(n), ElementThreads, args, "fill_bias_residual");
    }

    public void Linear(Tensor x, LinearWeights w, Tensor output)
    {
        using (Enter())
        {
            if (w.Bias is not null) FillBiasResidual(output, w.Bias, null, w.OutFeatures, "Linear");
            Product(x, w, output, w.Bias is null ? 0 : 1, "Linear");
        }
    }

    public void LinearAdd(Tensor x, LinearWeights w, Tensor residual, Tensor output)
    {
        SameLength(residual, output, "LinearAdd");
        using (Enter())
        {
            FillBiasResidual(output, w.Bias, residual, w.OutFeatures, "LinearAdd");
            Product(x, w, output, 1, "LinearAdd");
        }
    }

    public void LinearGelu(Tensor x, LinearWeights w, Tensor output, bool tanhForm = false)
    {
        using (Enter())
        {
            Product(x, w, output, 0, "LinearGelu");
            ulong y = Address(output, "LinearGelu"), b = w.Bias is null ? 0 : Address(w.Bias, "LinearGelu");
            long n = output.Length;
            int cols = w.OutFeatures, form = tanhForm ? 1 : 0;
            void** args = stackalloc void*[] { &y, &b, &n, &cols, &form };
            Launch(_kernels.BiasGelu, ElementBlocks(n), ElementThreads, args, "bias_gelu");
        }
    }

    void Binary(Tensor a, Tensor b, Tensor output, int op, string name)
    {
        SameLength(a, b, name);
        SameLength(a, output, name);
        ulong pa = Address(a, name), pb = Address(b, name), py = Address(output, name);
        long n = a.Length;
        using (Enter())
        {
            void** args = stackalloc void*[] { &pa, &pb, &py, &n, &op };
            Launch(_kernels.Binary, ElementBlocks(n), ElementThreads, args, "binary");
        }
    }

    public void Add(Tensor a, Tensor b, Tensor output) => Binary(a, b, output, 0, "Add");

    public void AddInPlace(Tensor x, Tensor y) => Binary(x, y, x, 0, "AddInPlace");

    public void Mul(Tensor a, Tensor b, Tensor output) => Binary(a, b, output, 1, "Mul");

    void Unary(Tensor x, Tensor output, int op, string name)
    {
        SameLength(x, output, name);
        ulong px = Address(x, name), py = Address(output, name);
        long n = x.Length;
        using (Enter())
        {
            void** args = stackalloc void*[] { &px, &py, &n, &op };
            Launch(_kernels.Unary, ElementBlocks(n), ElementThreads, args, "unary");
        }
    }

    public void Gelu(Tensor x, Tensor output) => Unary(x, output, 0, "Gelu");

    public void GeluTanh(Tensor x, Tensor output) => Unary(x, output, 1, "GeluTanh");

    public void Silu(Tensor x, Tensor output) => Unary(x, output, 2, "Silu");

    public void Tanh(Tensor x, Tensor output) => Unary(x, output, 3, "Tanh");

    public void LayerNorm(Tensor x, Tensor gamma, Tensor? beta, float eps, Tensor output)
    {
        SameLength(x, output, "LayerNorm");
        int c = x.Dim(-1);
        if (gamma.Length != c) throw new ArgumentException($"LayerNorm: gamma has {gamma.Length} values for width {c}");
        ulong px = Address(x, "LayerNorm"), g = Address(gamma, "LayerNorm"), b = beta is null ? 0 : Address(beta, "LayerNorm"), py = Address(output, "LayerNorm");
        using (Enter())
        {
            void** args = stackalloc void*[] { &px, &g, &b, &py, &c, &eps };
            Launch(_kernels.LayerNorm, Rows(x), RowThreads, args, "layer_norm");
        }
    }

    public void Softmax(Tensor x, Tensor output)
    {
        SameLength(x, output, "Softmax");
        if (x.Pointer != output.Pointer) Copy(x, output);
        ulong s = Address(output, "Softmax"), pad = 0;
        int heads = 1, tq = 1, tk = x.Dim(-1), causal = 0, start = 0;
        using (Enter())
        {
            void** args = stackalloc void*[] { &s, &pad, &heads, &tq, &tk, &causal, &start };
            Launch(_kernels.MaskedSoftmax, Rows(x), RowThreads, args, "masked_softmax");
        }
    }

    public void Attention(Tensor q, Tensor k, Tensor v, Tensor output, AttentionMask mask)
    {
        int b = q.Dim(0), t = q.Dim(1), h = q.Dim(2), d = q.Dim(3);
        int s = k.Dim(1), hkv = k.Dim(2), tk = mask.KeyLength;
        if (hkv != h) throw new NotSupportedException($"the CUDA backend's attention has no grouped-query heads yet ({h} query heads, {hkv} key/value heads); use the CPU backend");
        if (k.Dim(0) != b || v.Length != k.Length || output.Length != q.Length || k.Dim(3) != d) throw new ArgumentException("Attention: q, k, v and output shapes do not agree");
        if (tk <= 0 || tk > s) throw new ArgumentException($"Attention: key length {tk} outside 1..{s}");
        if (mask.KeyPadding is { } padding && padding.Length != b * tk) throw new ArgumentException($"Attention: key padding has {padding.Length} flags for {b} x {tk} keys");
        ulong pq = Address(q, "Attention"), pk = Address(k, "Attention"), pv = Address(v, "Attention"), po = Address(output, "Attention");
        float scale = 1f / MathF.Sqrt(d);
        int causal = mask.Causal ? 1 : 0, start = mask.StartPosition;
        var fused = FusedAttention ? _kernels.FusedAttention(d) : 0;
        if (fused != 0 && ((pq | pk | pv | po) & 15) == 0) // the kernel reads float4s
        {
            const int Queries = 64; // threads per block, one query each
            using (Enter())
            {
                ulong pad = mask.KeyPadding is null ? 0 : StageInts(mask.KeyPadding);
                void** fusedArgs = stackalloc void*[] { &pq, &pk, &pv, &po, &pad, &t, &tk, &h, &s, &scale, &causal, &start };
                Launch(fused, (t + Queries - 1) / Queries, Queries, fusedArgs, "fused attention", blocksY: h, blocksZ: b);
            }
            return;
        }
        long perSequence = (long)h * t * tk;
        int group = (int)Math.Clamp(MaxScoreFloats / perSequence, 1, b);
        float one = 1, zero = 0;
        int qRow = h * d, kvRow = hkv * d;
        using (Enter())
        {
            if (_scores is null || _scores.Length < group * perSequence) _scores = new CudaStorage(_context, group * perSequence);
            ulong scores = (ulong)_scores.Pointer;
            ulong padAll = mask.KeyPadding is null ? 0 : StageInts(mask.KeyPadding);
            var table = new ulong[5 * group * h]; // per (sequence, head): K, Q, scores, V, context
            ulong pad = 0;
            void** args = stackalloc void*[] { &scores, &pad, &h, &t, &tk, &causal, &start };
            for (int first = 0; first < b; first += group)
            {
                int g = Math.Min(group, b - first), count = g * h;
                for (int i = 0; i < g; i++)
                    for (int j = 0; j < h; j++)
                    {
                        int e = i * h + j;
                        long seq = first + i;
                        table[e] = pk + (ulong)(((seq * s) * hkv + j) * d * sizeof(float));
                        table[count + e] = pq + (ulong)(((seq * t) * h + j) * d * sizeof(float));
                        table[2 * count + e] = scores + (ulong)(e * (long)t * tk * sizeof(float));
                        table[3 * count + e] = pv + (ulong)(((seq * s) * hkv + j) * d * sizeof(float));
                        table[4 * count + e] = po + (ulong)(((seq * t) * h + j) * d * sizeof(float));
                    }
                ulong pointers;
                fixed (ulong* p = table) pointers = Stage(ref _pointers, p, 5L * count * sizeof(ulong));
                ulong kArray = pointers, qArray = pointers + (ulong)count * 8, sArray = pointers + 2UL * (ulong)count * 8,
                    vArray = pointers + 3UL * (ulong)count * 8, oArray = pointers + 4UL * (ulong)count * 8;
                // scores (T, Tk) = scale Q K^T, row-major: column-major (Tk, T) = K Q^T.
                CudaApi.CheckCublas(CudaApi.cublasSgemmBatched(_cublas, CudaApi.CublasOpT, CudaApi.CublasOpN, tk, t, d,
                    &scale, kArray, kvRow, qArray, qRow, &zero, sArray, tk, count), "cublasSgemmBatched (scores)");
                pad = padAll == 0 ? 0 : padAll + (ulong)((long)first * tk * sizeof(int));
                Launch(_kernels.MaskedSoftmax, (long)count * t, RowThreads, args, "masked_softmax");
                // context (T, D) = P V, row-major: column-major (D, T) = V^T P^T.
                CudaApi.CheckCublas(CudaApi.cublasSgemmBatched(_cublas, CudaApi.CublasOpN, CudaApi.CublasOpN, d, t, tk,
                    &one, vArray, kvRow, sArray, tk, &zero, oArray, qRow, count), "cublasSgemmBatched (context)");
            }
        }
    }

    public void ClsPool(Tensor x, Tensor output)
    {
        int b = x.Dim(0), t = x.Dim(1), c = x.Dim(2);
        if (output.Length != b * c) throw new ArgumentException($"ClsPool: output [{string.Join(", ", output.Shape)}] is not {b} x {c}");
        ulong px = Address(x, "ClsPool"), py = Address(output, "ClsPool");
        using (Enter())
        {
            void** args = stackalloc void*[] { &px, &py, &t, &c };
            Launch(_kernels.ClsPool, b, RowThreads, args, "cls_pool");
        }
    }

    public void MeanPool(Tensor x, ReadOnlySpan<int> mask, Tensor output)
    {
        int b = x.Dim(0), t = x.Dim(1), c = x.Dim(2);
        if (mask.Length != b * t) throw new ArgumentException($"MeanPool: mask has {mask.Length} flags for {b} x {t} tokens");
        if (output.Length != b * c) throw new ArgumentException($"MeanPool: output [{string.Join(", ", output.Shape)}] is not {b} x {c}");
        ulong px = Address(x, "MeanPool"), py = Address(output, "MeanPool");
        using (Enter())
        {
            ulong m = StageInts(mask);
            void** args = stackalloc void*[] { &px, &m, &py, &t, &c };
            Launch(_kernels.MeanPool, b, RowThreads, args, "mean_pool");
        }
    }

    public void L2Normalize(Tensor x, Tensor output)
    {
        SameLength(x, output, "L2Normalize");
        int c = x.Dim(-1);
        ulong px = Address(x, "L2Normalize"), py = Address(output, "L2Normalize");
        using (Enter())
        {
            void** args = stackalloc void*[] { &px, &py, &c };
            Launch(_kernels.L2Normalize, Rows(x), RowThreads, args, "l2_normalize");
        }
    }

    static NotSupportedException DecoderOp(string op) =>
        new($"{op} is a decoder op, and the CUDA backend runs encoders only so far: load generators on the CPU backend");

    public void RmsNorm(Tensor x, Tensor gamma, float eps, Tensor output) => throw DecoderOp("RmsNorm");

    public void SwiGlu(Tensor gate, Tensor up, Tensor output) => throw DecoderOp("SwiGlu");

    public void Rope(Tensor x, RopeTable table, int startPosition, Tensor output) => throw DecoderOp("Rope");

    public void WriteCacheInPlace(Tensor cache, Tensor x, int startPosition) => throw DecoderOp("WriteCacheInPlace");

    public void Split(Tensor x, params Tensor[] outputs) => throw DecoderOp("Split");

    public int Argmax(Tensor x) => throw DecoderOp("Argmax");
}
