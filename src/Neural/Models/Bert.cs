using Rag.Neural.Tensors;
using Rag.Neural.Weights;

namespace Rag.Neural.Models;

/// <summary>BERT hyper-parameters (Devlin et al. 2019), from a Hugging Face config.json.</summary>
public sealed record BertConfig
{
    public int VocabSize { get; }
    public int Hidden { get; }                 // C
    public int Layers { get; }
    public int Heads { get; }                  // C % Heads == 0
    public int Intermediate { get; }           // feed-forward width, 4C in the paper
    public int MaxPositions { get; }           // learned absolute positions, 512 in the paper
    public int TypeVocabSize { get; }          // segment A/B embeddings, 2 in the paper
    public float LayerNormEps { get; }         // 1e-12 in the reference code
    public string HiddenAct { get; }           // "gelu" (erf form) or "gelu_new" (tanh form)

    public BertConfig(int vocabSize, int hidden, int layers, int heads, int intermediate, int maxPositions = 512,
        int typeVocabSize = 2, float layerNormEps = 1e-12f, string hiddenAct = "gelu")
    {
        if (vocabSize <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || intermediate <= 0 || maxPositions <= 0 || typeVocabSize <= 0)
            throw new ArgumentException("BERT dimensions must be positive");
        if (hidden % heads != 0) throw new ArgumentException($"hidden size {hidden} is not divisible by {heads} heads");
        if (hiddenAct is not ("gelu" or "gelu_new" or "gelu_pytorch_tanh")) throw new NotSupportedException($"BERT hidden_act \"{hiddenAct}\" is not supported (gelu, gelu_new)");
        (VocabSize, Hidden, Layers, Heads, Intermediate, MaxPositions, TypeVocabSize, LayerNormEps, HiddenAct) =
            (vocabSize, hidden, layers, heads, intermediate, maxPositions, typeVocabSize, layerNormEps, hiddenAct);
    }

    public int HeadDim => Hidden / Heads;

    /// <summary>bert-base-uncased's shape (110M parameters).</summary>
    public static BertConfig Base => new(30522, 768, 12, 12, 3072);

    public static BertConfig FromHf(HfConfig c)
    {
        try
        {
            return new BertConfig(c.Int("vocab_size"), c.Int("hidden_size"), c.Int("num_hidden_layers"), c.Int("num_attention_heads"),
                c.Int("intermediate_size"), c.Int("max_position_embeddings", 512), c.Int("type_vocab_size", 2),
                c.Float("layer_norm_eps", 1e-12f), c.String("hidden_act", "gelu"));
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException) { throw c.Invalid(e.Message); }
    }
}

/// <summary>
/// The BERT encoder: token + position + segment embeddings, then post-LN transformer blocks
/// (x = LN(x + Attention(x)); x = LN(x + Mlp(x))), and the optional tanh pooler over [CLS].
/// Tensor names follow HF BertModel under a prefix ("", "bert.", "question_encoder.bert_model.", ...).
/// </summary>
public sealed class Bert
{
    sealed class Block
    {
        public required LinearWeights Query, Key, Value;   // (C, C) each, with bias
        public required LinearWeights AttentionOut;        // (C, C)
        public required Tensor AttentionNormGain, AttentionNormBias; // (C)
        public required LinearWeights Up;                  // (I, C)
        public required LinearWeights Down;                // (C, I)
        public required Tensor MlpNormGain, MlpNormBias;   // (C)
    }

    readonly IBackend _ops;
    readonly Tensor _wordEmbeddings;      // (V, C)
    readonly Tensor _positionEmbeddings;  // (P, C)
    readonly Tensor _typeEmbeddings;      // (TV, C)
    readonly Tensor _embedNormGain, _embedNormBias; // (C)
    readonly Block[] _blocks;

    public BertConfig Config { get; }

    /// <summary>tanh(W h_CLS + b), (C, C); absent in DPR and most sentence-transformer checkpoints.</summary>
    public LinearWeights? Pooler { get; }

    public Bert(BertConfig config, Checkpoint weights, string prefix, IBackend ops)
    {
        Config = config;
        _ops = ops;
        int c = config.Hidden, inter = config.Intermediate;
        string p = prefix;
        Tensor Take(string key, params int[] shape) => ops.Resident(weights.Take(key, shape));
        LinearWeights Lin(string key, int outF, int inF) => ops.Prepare(weights.TakeLinear(key, outF, inF));
        _wordEmbeddings = Take($"{p}embeddings.word_embeddings.weight", config.VocabSize, c);
        _positionEmbeddings = Take($"{p}embeddings.position_embeddings.weight", config.MaxPositions, c);
        _typeEmbeddings = Take($"{p}embeddings.token_type_embeddings.weight", config.TypeVocabSize, c);
        _embedNormGain = Take($"{p}embeddings.LayerNorm.weight", c);
        _embedNormBias = Take($"{p}embeddings.LayerNorm.bias", c);
        _blocks = new Block[config.Layers];
        for (int i = 0; i < config.Layers; i++)
        {
            string l = $"{p}encoder.layer.{i}.";
            _blocks[i] = new Block
            {
                Query = Lin(l + "attention.self.query", c, c),
                Key = Lin(l + "attention.self.key", c, c),
                Value = Lin(l + "attention.self.value", c, c),
                AttentionOut = Lin(l + "attention.output.dense", c, c),
                AttentionNormGain = Take(l + "attention.output.LayerNorm.weight", c),
                AttentionNormBias = Take(l + "attention.output.LayerNorm.bias", c),
                Up = Lin(l + "intermediate.dense", inter, c),
                Down = Lin(l + "output.dense", c, inter),
                MlpNormGain = Take(l + "output.LayerNorm.weight", c),
                MlpNormBias = Take(l + "output.LayerNorm.bias", c),
            };
        }
        if (weights.Contains($"{p}pooler.dense.weight")) Pooler = Lin($"{p}pooler.dense", c, c);
    }

    /// <summary>Activation buffers for up to a number of tokens (B*T), allocated once and reused by every call.</summary>
    public sealed class RunState(BertConfig config, IBackend ops, int capacityTokens)
    {
        public int CapacityTokens { get; } = capacityTokens;
        internal Tensor X = ops.Allocate(capacityTokens, config.Hidden);            // residual stream (B*T, C)
        internal Tensor Y = ops.Allocate(capacityTokens, config.Hidden);            // sub-layer output (B*T, C)
        internal Tensor Q = ops.Allocate(capacityTokens, config.Hidden);
        internal Tensor K = ops.Allocate(capacityTokens, config.Hidden);
        internal Tensor V = ops.Allocate(capacityTokens, config.Hidden);
        internal Tensor Context = ops.Allocate(capacityTokens, config.Hidden);
        internal Tensor Hidden = ops.Allocate(capacityTokens, config.Intermediate); // (B*T, I)
    }

    public RunState CreateState(int capacityTokens) => new(Config, _ops, capacityTokens);

    /// <summary>
    /// Final hidden states (B, T, C) for ids, segment ids and attention mask, each (B, T) row-major.
    /// The result is a view of the state's buffer, valid until its next use.
    /// </summary>
    public Tensor Forward(RunState s, int batch, int seqLen, ReadOnlySpan<int> ids, ReadOnlySpan<int> typeIds, int[] attentionMask)
    {
        int n = batch * seqLen, c = Config.Hidden, h = Config.Heads, d = Config.HeadDim;
        if (n > s.CapacityTokens) throw new ArgumentException($"{n} tokens exceed the run state's {s.CapacityTokens}");
        if (seqLen > Config.MaxPositions) throw new ArgumentException($"sequence of {seqLen} tokens exceeds max_position_embeddings {Config.MaxPositions}");
        var x = s.X.Slice(0, n);                                   // (B*T, C)
        var y = s.Y.Slice(0, n);
        Span<int> positions = n <= 4096 ? stackalloc int[n] : new int[n];
        for (int i = 0; i < n; i++) positions[i] = i % seqLen;
        _ops.Embedding(_wordEmbeddings, ids, y);
        _ops.EmbeddingAddInPlace(_positionEmbeddings, positions, y);
        _ops.EmbeddingAddInPlace(_typeEmbeddings, typeIds, y);
        _ops.LayerNorm(y, _embedNormGain, _embedNormBias, Config.LayerNormEps, x);

        var mask = new AttentionMask(Causal: false, StartPosition: 0, KeyLength: seqLen, KeyPadding: attentionMask);
        foreach (var block in _blocks)
        {
            Attention(s, block, x, y, batch, seqLen, h, d, mask);  // y = x + Attention(x)
            _ops.LayerNorm(y, block.AttentionNormGain, block.AttentionNormBias, Config.LayerNormEps, x); // x = LN(x + Attention(x))
            Mlp(s, block, x, y, n);                                // y = x + Mlp(x)
            _ops.LayerNorm(y, block.MlpNormGain, block.MlpNormBias, Config.LayerNormEps, x);         // x = LN(x + Mlp(x))
        }
        return x.Reshape(batch, seqLen, c);
    }

    void Attention(RunState s, Block b, Tensor x, Tensor output, int batch, int seqLen, int h, int d, AttentionMask mask)
    {
        int n = batch * seqLen;
        var q = s.Q.Slice(0, n); var k = s.K.Slice(0, n); var v = s.V.Slice(0, n); var ctx = s.Context.Slice(0, n);
        _ops.Linear(x, b.Query, q);                                // (B*T, C)
        _ops.Linear(x, b.Key, k);
        _ops.Linear(x, b.Value, v);
        _ops.Attention(q.Reshape(batch, seqLen, h, d), k.Reshape(batch, seqLen, h, d), v.Reshape(batch, seqLen, h, d),
            ctx.Reshape(batch, seqLen, h, d), mask);               // (B, T, H, D)
        _ops.LinearAdd(ctx, b.AttentionOut, x, output);            // (B*T, C), plus the residual x
    }

    void Mlp(RunState s, Block b, Tensor x, Tensor output, int n)
    {
        var hidden = s.Hidden.Slice(0, n);                         // (B*T, I)
        _ops.LinearGelu(x, b.Up, hidden, tanhForm: Config.HiddenAct != "gelu");
        _ops.LinearAdd(hidden, b.Down, x, output);                 // (B*T, C), plus the residual x
    }

    /// <summary>BERT's pooler over [CLS]: tanh(W h_0 + b), (B, C) -> (B, C).</summary>
    public void Pool(Tensor cls, Tensor output)
    {
        if (Pooler is null) throw new InvalidOperationException("this checkpoint has no pooler (pooler.dense.*)");
        _ops.Linear(cls, Pooler, output);
        _ops.Tanh(output, output);
    }
}
