using Rag.Neural.Tensors;

namespace Rag.Neural.Training;

/// <summary>One AdamW update's hyper-parameters (Loshchilov and Hutter 2019, decoupled weight decay, as torch.optim.AdamW).</summary>
public readonly record struct AdamWStep(float LearningRate, float Beta1, float Beta2, float Epsilon, float WeightDecay, int Step);

/// <summary>
/// The ops training adds to <see cref="IBackend"/>: forwards that keep what their backward needs, and the backwards
/// written out by hand (llm.c style: no tape). Same conventions as IBackend: caller-given outputs, row-major shapes,
/// inputs never modified. Gradients of parameters accumulate (+=), so a step zeroes them once and every use adds;
/// gradients of activations are overwritten unless the op says it accumulates. A CUDA backend implements the same
/// interface over device tensors.
/// </summary>
public interface ITrainingOps
{
    Device Device { get; }

    /// <summary>Embedding backward, a scatter-add: dTable[ids[i]] += dOut[i]; (N, C) into (V, C).</summary>
    void EmbeddingBackward(Tensor dOut, ReadOnlySpan<int> ids, Tensor dTable);

    /// <summary>
    /// Linear backward for y = x W^T + b with W (out, in): dW += dy^T x, db += column sums of dy, and
    /// dx = dy W (or dx += dy W when accumulateDx). dx may be null when the input needs no gradient.
    /// </summary>
    void LinearBackward(Tensor x, Tensor weight, Tensor dy, Tensor? dx, Tensor dWeight, Tensor? dBias, bool accumulateDx = false);

    /// <summary>LayerNorm forward that also keeps each row's mean and 1/sqrt(var + eps), (rows).</summary>
    void LayerNormForward(Tensor x, Tensor gamma, Tensor beta, float eps, Tensor output, Tensor mean, Tensor rstd);

    /// <summary>LayerNorm backward: dx from dOut (overwritten), dGamma and dBeta accumulate.</summary>
    void LayerNormBackward(Tensor dOut, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dx, Tensor dGamma, Tensor dBeta);

    /// <summary>dx = dOut * GELU'(x), exact (erf) form.</summary>
    void GeluBackward(Tensor x, Tensor dOut, Tensor dx);

    /// <summary>dx = dOut * GELU'(x), tanh form.</summary>
    void GeluTanhBackward(Tensor x, Tensor dOut, Tensor dx);

    /// <summary>
    /// Attention forward (q, k, v (B, T, H, D), equal head counts) that keeps the softmax probabilities (B, H, T, S);
    /// with a dropout mask (B, H, T, S) the values are mixed by probs * mask (BERT's attention-probability dropout).
    /// </summary>
    void AttentionForward(Tensor q, Tensor k, Tensor v, Tensor output, Tensor probs, Tensor? dropoutMask, AttentionMask mask);

    /// <summary>Attention backward: dq, dk, dv (overwritten) from dOut, given the forward's inputs, probabilities and mask.</summary>
    void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor probs, Tensor? dropoutMask, Tensor dOut, Tensor dq, Tensor dk, Tensor dv, AttentionMask mask);

    /// <summary>[CLS] pooling backward: dx (B, T, C) is dOut at position 0 and zero elsewhere.</summary>
    void ClsPoolBackward(Tensor dOut, Tensor dx);

    /// <summary>Mean pooling backward: each real token gets dOut / count, padding gets zero.</summary>
    void MeanPoolBackward(Tensor dOut, ReadOnlySpan<int> mask, Tensor dx);

    /// <summary>L2 normalisation backward for y = x / max(|x|, 1e-12): dx = (dy - y (y . dy)) / |x|.</summary>
    void L2NormalizeBackward(Tensor x, Tensor y, Tensor dy, Tensor dx);

    /// <summary>Inverted dropout mask: each value 0 with probability p, else 1 / (1 - p); a counter-based hash of (seed, index), so any device draws the same mask.</summary>
    void DropoutMask(Tensor mask, float p, ulong seed);

    /// <summary>Mean cross-entropy of each row of logits (R, K) against its target; dLogits = (softmax - onehot) / R. Returns the loss.</summary>
    float SoftmaxCrossEntropy(Tensor logits, ReadOnlySpan<int> targets, Tensor dLogits);

    /// <summary>Sum of squares of all values (in double), for the global gradient norm.</summary>
    double SumOfSquares(Tensor x);

    void Scale(Tensor x, float factor);

    void Zero(Tensor x);

    /// <summary>One AdamW update of param from grad with moments m and v, exactly as torch.optim.AdamW computes it.</summary>
    void AdamW(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep step);
}
