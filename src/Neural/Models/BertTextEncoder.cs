using Rag.Neural.Tensors;
using Rag.Neural.Weights;
using Rag.Tokenizers;

namespace Rag.Neural.Models;

/// <summary>How a bi-encoder turns the final hidden states into one vector.</summary>
public enum EncoderPooling
{
    /// <summary>The [CLS] hidden state, as DPR does (Karpukhin et al. 2020), without BERT's tanh pooler.</summary>
    Cls,
    /// <summary>Mean over real (unmasked) tokens, as sentence-transformers does (Reimers and Gurevych 2019).</summary>
    Mean,
}

/// <summary>
/// A BERT-family bi-encoder tower: WordPiece, the BERT encoder, pooling, an optional linear projection
/// (DPR's encode_proj) and optional L2 normalisation. Encode is thread-safe (calls take turns on one run state).
/// </summary>
public sealed class BertTextEncoder : ITextEncoderModel
{
    // Texts per forward pass: enough to fill the CPU's GEMM tiles, and far more to keep a GPU busy.
    const int CpuBatchSize = 16, GpuBatchSize = 128;

    readonly IBackend _ops;
    readonly Checkpoint _weights;
    readonly WordPieceTokenizer _tokenizer;
    readonly LinearWeights? _projection;   // (P, C)
    readonly Lock _gate = new();
    Bert.RunState? _state;
    Tensor? _pooled, _projected; // (batch capacity, C) and (batch capacity, P), reused like the run state

    public Bert Model { get; }
    public EncoderPooling Pooling { get; }
    public bool Normalize { get; }
    public int Dimension => _projection?.OutFeatures ?? Model.Config.Hidden;
    public int MaxTokens { get; }
    public ITokenizer Tokenizer => _tokenizer;
    public EncoderPrompts Prompts { get; }
    int BatchSize => _ops.Device == Device.Cpu ? CpuBatchSize : GpuBatchSize;

    internal BertTextEncoder(Bert model, Checkpoint weights, WordPieceTokenizer tokenizer, EncoderPooling pooling, bool normalize,
        LinearWeights? projection, IBackend ops, EncoderPrompts prompts, int maxTokens)
    {
        Model = model;
        _weights = weights;
        _tokenizer = tokenizer;
        Pooling = pooling;
        Normalize = normalize;
        _projection = projection;
        _ops = ops;
        Prompts = prompts;
        MaxTokens = Math.Min(maxTokens, model.Config.MaxPositions);
    }

    public float[][] Encode(IReadOnlyList<string> texts, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var result = new float[texts.Count][];
        // Batch texts of similar length together so little compute goes to padding.
        var order = Enumerable.Range(0, texts.Count).OrderBy(i => texts[i].Length).ToArray();
        for (int start = 0; start < order.Length; start += BatchSize)
        {
            ct.ThrowIfCancellationRequested();
            var idx = order.AsSpan(start, Math.Min(BatchSize, order.Length - start)).ToArray();
            var batch = _tokenizer.EncodeBatch(idx.Select(i => texts[i]).ToArray(), MaxTokens);
            var vectors = EncodeIds(batch.BatchSize, batch.SequenceLength, batch.InputIds, batch.TokenTypeIds, batch.AttentionMask);
            for (int j = 0; j < idx.Length; j++) result[idx[j]] = vectors[j];
        }
        return result;
    }

    /// <summary>Vectors for already-tokenised inputs; ids, token types and mask are (B, T) row-major.</summary>
    public float[][] EncodeIds(int batch, int seqLen, int[] ids, int[] tokenTypeIds, int[] attentionMask)
    {
        if (ids.Length != batch * seqLen || tokenTypeIds.Length != ids.Length || attentionMask.Length != ids.Length)
            throw new ArgumentException($"ids, token types and mask must each hold {batch} x {seqLen} values");
        lock (_gate)
        {
            if (_state is null || _state.CapacityTokens < batch * seqLen)
                _state = Model.CreateState(Math.Max(batch * seqLen, BatchSize * Math.Min(MaxTokens, 128)));
            var hidden = Model.Forward(_state, batch, seqLen, ids, tokenTypeIds, attentionMask); // (B, T, C)
            var pooled = Rows(ref _pooled, batch, Model.Config.Hidden);                        // (B, C)
            if (Pooling == EncoderPooling.Cls) _ops.ClsPool(hidden, pooled);
            else _ops.MeanPool(hidden, attentionMask, pooled);
            var output = pooled;
            if (_projection is not null)
            {
                output = Rows(ref _projected, batch, _projection.OutFeatures);                 // (B, P)
                _ops.Linear(pooled, _projection, output);
            }
            if (Normalize) _ops.L2Normalize(output, output);
            int dim = output.Dim(1);
            var host = new float[output.Length];
            _ops.CopyToHost(output, host);
            var result = new float[batch][];
            for (int b = 0; b < batch; b++) result[b] = host.AsSpan(b * dim, dim).ToArray();
            return result;
        }
    }

    /// <summary>The first rows of a buffer that grows to the largest batch seen.</summary>
    Tensor Rows(ref Tensor? buffer, int rows, int columns)
    {
        if (buffer is null || buffer.Dim(0) < rows) buffer = _ops.Allocate(Math.Max(rows, BatchSize), columns);
        return buffer.Slice(0, rows);
    }

    public void Dispose() => _weights.Dispose();
}
