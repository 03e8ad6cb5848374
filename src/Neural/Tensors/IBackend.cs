namespace Rag.Neural.Tensors;

/// <summary>A linear layer's parameters. HF GPT-2's Conv1D stores its weight (in, out); everything else (out, in).</summary>
public sealed record LinearWeights(Tensor Weight, Tensor? Bias, bool WeightIsInOut = false)
{
    public int InFeatures => WeightIsInOut ? Weight.Dim(0) : Weight.Dim(1);
    public int OutFeatures => WeightIsInOut ? Weight.Dim(1) : Weight.Dim(0);

    /// <summary>
    /// A copy of Weight in the CPU micro-kernel's layout, made once by <see cref="IBackend.Prepare"/> for inference.
    /// It does not follow later writes to Weight: code that updates weights (training) uses unprepared layers.
    /// </summary>
    public Gemm.PackedB? Packed { get; init; }
}

/// <summary>The sizes of <see cref="IBackend.MatMul"/>, checked: op(A) (M, K) times op(B) (K, N), Batch products, an operand of batch 1 broadcast.</summary>
internal readonly record struct MatMulShape(int Batch, int BatchA, int BatchB, int M, int N, int K)
{
    public static MatMulShape Check(Tensor a, Tensor b, Tensor output, bool transposeA, bool transposeB)
    {
        if (a.Rank < 2 || b.Rank < 2) throw new ArgumentException("MatMul needs operands of rank >= 2");
        int m = transposeA ? a.Dim(-1) : a.Dim(-2), k = transposeA ? a.Dim(-2) : a.Dim(-1);
        int kb = transposeB ? b.Dim(-1) : b.Dim(-2), n = transposeB ? b.Dim(-2) : b.Dim(-1);
        if (k != kb) throw new ArgumentException($"MatMul: inner dimensions {k} and {kb} differ");
        int batchA = a.Length / (a.Dim(-1) * a.Dim(-2)), batchB = b.Length / (b.Dim(-1) * b.Dim(-2));
        int batch = Math.Max(batchA, batchB);
        if ((batchA != batch && batchA != 1) || (batchB != batch && batchB != 1)) throw new ArgumentException($"MatMul: batch sizes {batchA} and {batchB} do not broadcast");
        if (output.Length != batch * m * n) throw new ArgumentException($"MatMul: output [{string.Join(", ", output.Shape)}] is not {batch} x {m} x {n}");
        return new(batch, batchA, batchB, m, n, k);
    }
}

/// <summary>Which keys each query may see in <see cref="IBackend.Attention"/>.</summary>
/// <param name="Causal">Query t (absolute position StartPosition + t) sees keys 0..StartPosition + t.</param>
/// <param name="StartPosition">Absolute position of the first query (the number of tokens already in the KV cache).</param>
/// <param name="KeyLength">Keys in use (the rest of the cache is ignored).</param>
/// <param name="KeyPadding">Optional (B, KeyLength) flags, 1 = real token, 0 = padding never attended to.</param>
public readonly record struct AttentionMask(bool Causal, int StartPosition, int KeyLength, int[]? KeyPadding = null);

/// <summary>
/// The narrow set of ops every model is written against (ggml's backend idea). Ops write into a caller-given
/// output tensor (so run state is allocated once) and never modify their inputs, except the ops whose names say
/// InPlace. Shapes are row-major; "rows" means all leading axes flattened. The CPU backend is the reference.
/// </summary>
public interface IBackend
{
    Device Device { get; }

    Tensor Allocate(params int[] shape);

    /// <summary>output[i] = table[ids[i]]: (V, C), (N) -> (N, C).</summary>
    void Embedding(Tensor table, ReadOnlySpan<int> ids, Tensor output);

    /// <summary>x[i] += table[ids[i]]: adds position or token-type embeddings.</summary>
    void EmbeddingAddInPlace(Tensor table, ReadOnlySpan<int> ids, Tensor x);

    /// <summary>Batched matmul over leading axes: (..., M, K) x (..., K, N) -> (..., M, N), each operand optionally transposed in its last two axes.</summary>
    void MatMul(Tensor a, Tensor b, Tensor output, bool transposeA = false, bool transposeB = false);

    /// <summary>y = x W^T + b: (N, in) -> (N, out).</summary>
    void Linear(Tensor x, LinearWeights w, Tensor output);

    /// <summary>The layer as this backend runs it fastest for inference (the CPU packs the weight once, a GPU copies it into its memory); same results.</summary>
    LinearWeights Prepare(LinearWeights w) => w;

    /// <summary>A weight where this backend's ops read it: the CPU uses it where it lies, a GPU copies it into its memory once.</summary>
    Tensor Resident(Tensor weight) => weight;

    /// <summary>Reads a tensor's elements into host memory (for a GPU backend, after the work queued before it).</summary>
    void CopyToHost(Tensor source, Span<float> destination) => source.Span.CopyTo(destination);

    /// <summary>y = x W^T + b + residual: a projection back into the residual stream, added where the product is stored.</summary>
    void LinearAdd(Tensor x, LinearWeights w, Tensor residual, Tensor output)
    {
        Linear(x, w, output);
        AddInPlace(output, residual);
    }

    /// <summary>y = GELU(x W^T + b), the erf form or (tanhForm) GPT-2's tanh approximation, applied while the product is in cache.</summary>
    void LinearGelu(Tensor x, LinearWeights w, Tensor output, bool tanhForm = false)
    {
        Linear(x, w, output);
        if (tanhForm) GeluTanh(output, output);
        else Gelu(output, output);
    }

    void Add(Tensor a, Tensor b, Tensor output);

    /// <summary>x += y (the residual stream).</summary>
    void AddInPlace(Tensor x, Tensor y);

    void Mul(Tensor a, Tensor b, Tensor output);

    /// <summary>Ba et al. 2016, per row over the last axis: (x - mean) / sqrt(var + eps) * gamma + beta.</summary>
    void LayerNorm(Tensor x, Tensor gamma, Tensor? beta, float eps, Tensor output);

    /// <summary>Zhang and Sennrich 2019: x / sqrt(mean(x^2) + eps) * gamma.</summary>
    void RmsNorm(Tensor x, Tensor gamma, float eps, Tensor output);

    /// <summary>GELU, exact form x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)).</summary>
    void Gelu(Tensor x, Tensor output);

    /// <summary>GELU, tanh approximation (GPT-2's gelu_new).</summary>
    void GeluTanh(Tensor x, Tensor output);

    void Silu(Tensor x, Tensor output);

    void Tanh(Tensor x, Tensor output);

    /// <summary>SwiGLU (Shazeer 2020): silu(gate) * up.</summary>
    void SwiGlu(Tensor gate, Tensor up, Tensor output);

    /// <summary>Softmax over the last axis.</summary>
    void Softmax(Tensor x, Tensor output);

    /// <summary>Rotary embedding (Su et al. 2021), rotate-half layout as in HF Llama: x (T, H, D) at positions start..start+T-1.</summary>
    void Rope(Tensor x, RopeTable table, int startPosition, Tensor output);

    /// <summary>
    /// Scaled dot-product attention (Vaswani et al. 2017) with grouped-query heads (Ainslie et al. 2023):
    /// q (B, T, Hq, D), k and v (B, S, Hkv, D) with S >= mask.KeyLength, output (B, T, Hq, D); Hq % Hkv == 0.
    /// </summary>
    void Attention(Tensor q, Tensor k, Tensor v, Tensor output, AttentionMask mask);

    /// <summary>First token's vector per sequence: (B, T, C) -> (B, C).</summary>
    void ClsPool(Tensor x, Tensor output);

    /// <summary>Mean over real tokens: (B, T, C) with (B, T) mask -> (B, C).</summary>
    void MeanPool(Tensor x, ReadOnlySpan<int> mask, Tensor output);

    /// <summary>Each row divided by its L2 norm (at least 1e-12).</summary>
    void L2Normalize(Tensor x, Tensor output);

    /// <summary>Copies rows of x (B, T, H, D) into cache (B, S, H, D) at positions start..start+T-1.</summary>
    void WriteCacheInPlace(Tensor cache, Tensor x, int startPosition);

    void Copy(Tensor source, Tensor destination);

    /// <summary>Splits the last axis into consecutive parts: (N, C1 + C2 + ...) -> (N, C1), (N, C2), ...</summary>
    void Split(Tensor x, params Tensor[] outputs);

    /// <summary>Index of the largest value.</summary>
    int Argmax(Tensor x);
}
