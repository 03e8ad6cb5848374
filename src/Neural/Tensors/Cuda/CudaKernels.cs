using System.Runtime.InteropServices;
using System.Text;

namespace Rag.Neural.Tensors.Cuda;

/// <summary>
/// The element-wise and row-wise kernels of the CUDA backend (the matrix products are cuBLAS's), as CUDA C that NVRTC
/// compiles at start for the card in hand, so the build needs no CUDA toolkit. Row-wise kernels run one block per
/// row with warp-shuffle reductions; element-wise ones a grid-stride loop. Each says which IBackend op it serves.
/// </summary>
internal sealed unsafe class CudaKernels
{
    const string Source = """
        #define NEG_INF __int_as_float(0xff800000)

        // Sum (or max) over the block; blockDim.x is a multiple of 32. Every thread gets the result.
        __device__ float block_sum(float v) {
            __shared__ float partial[32];
            for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffff, v, o);
            __syncthreads();                              // the previous call's readers are done with partial
            if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = v;
            __syncthreads();
            v = (threadIdx.x & 31) < (blockDim.x >> 5) ? partial[threadIdx.x & 31] : 0.f;
            for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffff, v, o);
            return v;
        }

        __device__ float block_max(float v) {
            __shared__ float partial[32];
            for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffff, v, o));
            __syncthreads();
            if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = v;
            __syncthreads();
            v = (threadIdx.x & 31) < (blockDim.x >> 5) ? partial[threadIdx.x & 31] : NEG_INF;
            for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffff, v, o));
            return v;
        }

        __device__ float gelu_erf(float x) { return 0.5f * x * (1.f + erff(x * 0.70710678118654752f)); }
        __device__ float gelu_tanh(float x) { return 0.5f * x * (1.f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x))); }

        // Attention for one (sequence, head) and a block of queries, one query per thread, keys and values streamed
        // through shared memory in tiles with an online softmax (Milakov and Gimelshein 2018; FlashAttention's
        // recurrence): the (T, Tk) scores are never written out. q (B, T, H, D); k, v (B, S, H, D); out like q.
        template <int D>
        __device__ void attention_tiles(const float* q, const float* k, const float* v, float* out, const int* key_padding,
                                        int t_len, int tk, int heads, int s_len, float scale, int causal, int start) {
            constexpr int KT = 32, V4 = D / 4;
            __shared__ float4 ks[KT][V4];
            __shared__ float4 vs[KT][V4];
            __shared__ int visible[KT];
            int b = blockIdx.z, head = blockIdx.y;
            int t = blockIdx.x * blockDim.x + threadIdx.x;
            bool active = t < t_len;
            float4 qr[V4], acc[V4];
            const float4* qp = (const float4*)(q + ((long long)(b * t_len + (active ? t : 0)) * heads + head) * D);
            for (int i = 0; i < V4; i++) {
                float4 x = qp[i];
                qr[i] = make_float4(x.x * scale, x.y * scale, x.z * scale, x.w * scale);
                acc[i] = make_float4(0.f, 0.f, 0.f, 0.f);
            }
            float m = NEG_INF, l = 0.f;
            int limit = causal && start + t + 1 < tk ? start + t + 1 : tk;
            int last = (blockIdx.x + 1) * blockDim.x < t_len ? (blockIdx.x + 1) * blockDim.x : t_len;
            int block_limit = causal && start + last < tk ? start + last : tk;
            for (int j0 = 0; j0 < block_limit; j0 += KT) {
                __syncthreads();                          // the previous tile is no longer read
                for (int e = threadIdx.x; e < KT * V4; e += blockDim.x) {
                    int j = e / V4, c = e % V4, key = j0 + j;
                    float4 kk = make_float4(0.f, 0.f, 0.f, 0.f), vv = kk;
                    if (key < tk) {
                        long long row = ((long long)(b * s_len + key) * heads + head) * D;
                        kk = ((const float4*)(k + row))[c];
                        vv = ((const float4*)(v + row))[c];
                    }
                    ks[j][c] = kk;
                    vs[j][c] = vv;
                }
                for (int j = threadIdx.x; j < KT; j += blockDim.x) {
                    int key = j0 + j;
                    visible[j] = key < tk && (!key_padding || key_padding[b * tk + key]);
                }
                __syncthreads();
                if (!active) continue;
                int n = limit - j0 < KT ? limit - j0 : KT;
                for (int j = 0; j < n; j++) {
                    if (!visible[j]) continue;
                    float s = 0.f;
                    for (int i = 0; i < V4; i++) {
                        float4 kk = ks[j][i];
                        s += qr[i].x * kk.x + qr[i].y * kk.y + qr[i].z * kk.z + qr[i].w * kk.w;
                    }
                    if (s > m) {                          // a new maximum: rescale what was summed so far
                        float correction = expf(m - s);
                        l *= correction;
                        for (int i = 0; i < V4; i++) {
                            acc[i].x *= correction; acc[i].y *= correction; acc[i].z *= correction; acc[i].w *= correction;
                        }
                        m = s;
                    }
                    float p = expf(s - m);
                    l += p;
                    for (int i = 0; i < V4; i++) {
                        float4 vv = vs[j][i];
                        acc[i].x += p * vv.x; acc[i].y += p * vv.y; acc[i].z += p * vv.z; acc[i].w += p * vv.w;
                    }
                }
            }
            if (!active) return;
            float inv = l > 0.f ? 1.f / l : 0.f;
            float4* op = (float4*)(out + ((long long)(b * t_len + t) * heads + head) * D);
            for (int i = 0; i < V4; i++) op[i] = make_float4(acc[i].x * inv, acc[i].y * inv, acc[i].z * inv, acc[i].w * inv);
        }

        extern "C" {

        __global__ void attention_d32(const float* q, const float* k, const float* v, float* out, const int* key_padding,
                                      int t_len, int tk, int heads, int s_len, float scale, int causal, int start) {
            attention_tiles<32>(q, k, v, out, key_padding, t_len, tk, heads, s_len, scale, causal, start);
        }

        __global__ void attention_d64(const float* q, const float* k, const float* v, float* out, const int* key_padding,
                                      int t_len, int tk, int heads, int s_len, float scale, int causal, int start) {
            attention_tiles<64>(q, k, v, out, key_padding, t_len, tk, heads, s_len, scale, causal, start);
        }

        // Embedding / EmbeddingAddInPlace: out[i] (+)= table[ids[i]], one block per row.
        __global__ void embedding(const float* table, const int* ids, float* out, int c, int accumulate) {
            const float* src = table + (long long)ids[blockIdx.x] * c;
            float* dst = out + (long long)blockIdx.x * c;
            for (int j = threadIdx.x; j < c; j += blockDim.x) dst[j] = accumulate ? dst[j] + src[j] : src[j];
        }

        // LayerNorm (beta may be null): two passes over the row, as the CPU backend does (mean, then centred squares).
        __global__ void layer_norm(const float* x, const float* gamma, const float* beta, float* y, int c, float eps) {
            const float* row = x + (long long)blockIdx.x * c;
            float* out = y + (long long)blockIdx.x * c;
            float s = 0.f;
            for (int j = threadIdx.x; j < c; j += blockDim.x) s += row[j];
            float mean = block_sum(s) / c;
            float v = 0.f;
            for (int j = threadIdx.x; j < c; j += blockDim.x) { float d = row[j] - mean; v += d * d; }
            float inv = 1.f / sqrtf(block_sum(v) / c + eps);
            for (int j = threadIdx.x; j < c; j += blockDim.x) out[j] = (row[j] - mean) * inv * gamma[j] + (beta ? beta[j] : 0.f);
        }

        // What a Linear's product is added onto (cuBLAS with beta = 1): y = residual + bias, either may be null.
        __global__ void fill_bias_residual(float* y, const float* bias, const float* residual, long long n, int cols) {
            for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
                y[i] = (residual ? residual[i] : 0.f) + (bias ? bias[i % cols] : 0.f);
        }

        // LinearGelu's epilogue: y = GELU(y + bias).
        __global__ void bias_gelu(float* y, const float* bias, long long n, int cols, int tanh_form) {
            for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
                float v = y[i] + (bias ? bias[i % cols] : 0.f);
                y[i] = tanh_form ? gelu_tanh(v) : gelu_erf(v);
            }
        }

        // Gelu, GeluTanh, Silu, Tanh.
        __global__ void unary(const float* x, float* y, long long n, int op) {
            for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
                float v = x[i];
                y[i] = op == 0 ? gelu_erf(v) : op == 1 ? gelu_tanh(v) : op == 2 ? v / (1.f + expf(-v)) : tanhf(v);
            }
        }

        // Add, Mul, AddInPlace (y == a).
        __global__ void binary(const float* a, const float* b, float* y, long long n, int op) {
            for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
                y[i] = op == 0 ? a[i] + b[i] : a[i] * b[i];
        }

        // Softmax over rows of width tk, in place. For attention scores (batch, heads, tq, tk): key_padding (batch, tk)
        // (null: none) and, when causal, query t sees keys 0..start+t. Masked keys get probability 0; a row with no
        // visible key is all zeros.
        __global__ void masked_softmax(float* s, const int* key_padding, int heads, int tq, int tk, int causal, int start) {
            long long row = blockIdx.x;
            int t = (int)(row % tq);
            const int* pad = key_padding ? key_padding + (row / ((long long)heads * tq)) * tk : 0;
            int limit = causal && start + t + 1 < tk ? start + t + 1 : tk;
            float* r = s + row * tk;
            float m = NEG_INF;
            for (int j = threadIdx.x; j < limit; j += blockDim.x) if (!pad || pad[j]) m = fmaxf(m, r[j]);
            m = block_max(m);
            float sum = 0.f;
            for (int j = threadIdx.x; j < tk; j += blockDim.x) {
                float e = (j < limit && (!pad || pad[j])) ? expf(r[j] - m) : 0.f;
                r[j] = e;
                sum += e;
            }
            sum = block_sum(sum);
            float inv = sum > 0.f ? 1.f / sum : 0.f;
            for (int j = threadIdx.x; j < tk; j += blockDim.x) r[j] *= inv;
        }

        // ClsPool: y[b] = x[b, 0], x (B, T, C).
        __global__ void cls_pool(const float* x, float* y, int t, int c) {
            for (int j = threadIdx.x; j < c; j += blockDim.x) y[(long long)blockIdx.x * c + j] = x[(long long)blockIdx.x * t * c + j];
        }

        // MeanPool: y[b] = mean of x[b, i] over real tokens (the count clamped at 1e-9, as sentence-transformers does).
        __global__ void mean_pool(const float* x, const int* mask, float* y, int t, int c) {
            int b = blockIdx.x;
            int count = 0;
            for (int i = 0; i < t; i++) count += mask[b * t + i] != 0;
            float denominator = fmaxf((float)count, 1e-9f);
            for (int j = threadIdx.x; j < c; j += blockDim.x) {
                float s = 0.f;
                for (int i = 0; i < t; i++) if (mask[b * t + i]) s += x[((long long)b * t + i) * c + j];
                y[(long long)b * c + j] = s / denominator;
            }
        }

        // L2Normalize: each row over its norm, at least 1e-12.
        __global__ void l2_normalize(const float* x, float* y, int c) {
            const float* row = x + (long long)blockIdx.x * c;
            float s = 0.f;
            for (int j = threadIdx.x; j < c; j += blockDim.x) s += row[j] * row[j];
            float inv = 1.f / fmaxf(sqrtf(block_sum(s)), 1e-12f);
            for (int j = threadIdx.x; j < c; j += blockDim.x) y[(long long)blockIdx.x * c + j] = row[j] * inv;
        }

        }
        """;

    static readonly string[] Names =
        ["embedding", "layer_norm", "fill_bias_residual", "bias_gelu", "unary", "binary", "masked_softmax", "cls_pool", "mean_pool", "l2_normalize",
         "attention_d32", "attention_d64"];

    readonly Dictionary<string, nint> _functions = [];

    public nint Embedding => _functions["embedding"];
    public nint LayerNorm => _functions["layer_norm"];
    public nint FillBiasResidual => _functions["fill_bias_residual"];
    public nint BiasGelu => _functions["bias_gelu"];
    public nint Unary => _functions["unary"];
    public nint Binary => _functions["binary"];
    public nint MaskedSoftmax => _functions["masked_softmax"];
    public nint ClsPool => _functions["cls_pool"];
    public nint MeanPool => _functions["mean_pool"];
    public nint L2Normalize => _functions["l2_normalize"];

    /// <summary>The fused attention kernel for a head size, or 0 where there is none (the batched-product path runs).</summary>
    public nint FusedAttention(int headDim) => headDim switch { 32 => _functions["attention_d32"], 64 => _functions["attention_d64"], _ => 0 };

    /// <summary>Compiles the source to machine code for compute capability major.minor and loads it into the current context.</summary>
    public CudaKernels(int major, int minor)
    {
        var cubin = Compile($"--gpu-architecture=sm_{major}{minor}");
        nint module;
        fixed (byte* image = cubin) CudaApi.Check(CudaApi.cuModuleLoadData(&module, image), "cuModuleLoadData");
        foreach (var name in Names)
        {
            nint fn;
            fixed (byte* n = CudaApi.Utf8z(name)) CudaApi.Check(CudaApi.cuModuleGetFunction(&fn, module, n), $"cuModuleGetFunction({name})");
            _functions[name] = fn;
        }
    }

    static byte[] Compile(string architecture)
    {
        nint program;
        fixed (byte* src = CudaApi.Utf8z(Source), name = CudaApi.Utf8z("rag_kernels.cu"))
            CudaApi.CheckNvrtc(CudaApi.nvrtcCreateProgram(&program, src, name, 0, null, null), "nvrtcCreateProgram");
        try
        {
            string[] options = [architecture, "--std=c++17"];
            var handles = options.Select(o => GCHandle.Alloc(CudaApi.Utf8z(o), GCHandleType.Pinned)).ToArray();
            try
            {
                var pointers = new byte*[handles.Length];
                for (int i = 0; i < handles.Length; i++) pointers[i] = (byte*)handles[i].AddrOfPinnedObject();
                int result;
                fixed (byte** p = pointers) result = CudaApi.nvrtcCompileProgram(program, pointers.Length, p);
                if (result != 0) throw new CudaException($"NVRTC could not compile the backend's kernels for {architecture} (error {result}): {Log(program)}");
            }
            finally
            {
                foreach (var h in handles) h.Free();
            }
            nuint size;
            CudaApi.CheckNvrtc(CudaApi.nvrtcGetCUBINSize(program, &size), "nvrtcGetCUBINSize");
            var cubin = new byte[(int)size];
            fixed (byte* c = cubin) CudaApi.CheckNvrtc(CudaApi.nvrtcGetCUBIN(program, c), "nvrtcGetCUBIN");
            return cubin;
        }
        finally
        {
            CudaApi.nvrtcDestroyProgram(&program);
        }
    }

    static string Log(nint program)
    {
        nuint size;
        if (CudaApi.nvrtcGetProgramLogSize(program, &size) != 0 || size == 0) return "(no log)";
        var log = new byte[(int)size];
        fixed (byte* l = log) CudaApi.nvrtcGetProgramLog(program, l);
        return Encoding.UTF8.GetString(log).TrimEnd('\0', '\n');
    }
}
