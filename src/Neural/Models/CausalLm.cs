using Rag.Neural.Tensors;

namespace Rag.Neural.Models;

/// <summary>A decoder-only language model: tokens in, next-token logits out, with a KV cache in its run state.</summary>
public abstract class CausalLm
{
    public abstract string Architecture { get; }
    public abstract int VocabSize { get; }
    public abstract int ContextLength { get; }

    /// <summary>Buffers and KV cache for one sequence of up to maxTokens, fed at most chunk tokens per Forward call.</summary>
    public abstract DecoderState CreateState(int maxTokens, int chunk = 64);

    /// <summary>
    /// Runs tokens at positions s.Position.. (prefill when several, decode when one), appends their keys and values to
    /// the cache and advances s.Position. The last token's logits land in s.Logits; allLogits (T, V), when given, gets every row.
    /// </summary>
    public void Forward(DecoderState s, ReadOnlySpan<int> tokens, Tensor? allLogits = null)
    {
        if (tokens.Length == 0) throw new ArgumentException("no tokens to run");
        if (s.Position + tokens.Length > s.MaxTokens)
            throw new InvalidOperationException($"the sequence would reach {s.Position + tokens.Length} tokens, beyond the state's {s.MaxTokens}");
        if (allLogits is not null && allLogits.Length != tokens.Length * VocabSize) throw new ArgumentException($"allLogits must be ({tokens.Length}, {VocabSize})");
        for (int start = 0; start < tokens.Length; start += s.Chunk)
        {
            int t = Math.Min(s.Chunk, tokens.Length - start);
            ForwardChunk(s, tokens.Slice(start, t), allLogits?.Slice(start, t));
            s.Position += t;
        }
    }

    /// <summary>One chunk (T &lt;= s.Chunk) at s.Position; must not advance s.Position.</summary>
    protected abstract void ForwardChunk(DecoderState s, ReadOnlySpan<int> tokens, Tensor? chunkLogits);
}

/// <summary>llama2.c's RunState: every activation buffer and the KV cache, allocated once per sequence.</summary>
public sealed class DecoderState
{
    public int MaxTokens { get; }
    public int Chunk { get; }
    /// <summary>Tokens already in the KV cache.</summary>
    public int Position { get; internal set; }

    /// <summary>Next-token logits after the last Forward, (V).</summary>
    public Tensor Logits { get; }

    internal readonly Tensor X, Y;                 // residual stream and sub-layer output, (chunk, C)
    internal readonly Tensor Q, K, V, Context;     // (chunk, Hq*D), (chunk, Hkv*D) x2, (chunk, Hq*D)
    internal readonly Tensor? Fused;               // fused QKV projection output, (chunk, (Hq + 2 Hkv) D), for GPT-2's c_attn
    internal readonly Tensor Gate, Up;             // (chunk, I)
    internal readonly Tensor[] KeyCache, ValueCache; // per layer (1, maxTokens, Hkv, D)
    internal readonly Tensor LastHidden;           // (1, C)

    internal DecoderState(IBackend ops, int maxTokens, int chunk, int hidden, int heads, int kvHeads, int headDim,
        int intermediate, int layers, int vocab, bool fusedQkv)
    {
        if (maxTokens <= 0 || chunk <= 0) throw new ArgumentException("maxTokens and chunk must be positive");
        MaxTokens = maxTokens;
        Chunk = Math.Min(chunk, maxTokens);
        int qw = heads * headDim, kvw = kvHeads * headDim;
        X = ops.Allocate(Chunk, hidden);
        Y = ops.Allocate(Chunk, hidden);
        Q = ops.Allocate(Chunk, qw);
        K = ops.Allocate(Chunk, kvw);
        V = ops.Allocate(Chunk, kvw);
        Context = ops.Allocate(Chunk, qw);
        if (fusedQkv) Fused = ops.Allocate(Chunk, qw + 2 * kvw);
        Gate = ops.Allocate(Chunk, intermediate);
        Up = ops.Allocate(Chunk, intermediate);
        KeyCache = new Tensor[layers];
        ValueCache = new Tensor[layers];
        for (int l = 0; l < layers; l++)
        {
            KeyCache[l] = ops.Allocate(1, maxTokens, kvHeads, headDim);
            ValueCache[l] = ops.Allocate(1, maxTokens, kvHeads, headDim);
        }
        LastHidden = ops.Allocate(1, hidden);
        Logits = ops.Allocate(vocab);
    }

    /// <summary>Forget the sequence (the buffers stay allocated).</summary>
    public void Reset() => Position = 0;
}
