using Rag.Neural.Tensors;
using Rag.Neural.Weights;

namespace Rag.Neural.Models;

/// <summary>GPT-2 hyper-parameters (Radford et al. 2019), from a Hugging Face config.json.</summary>
public sealed record Gpt2Config
{
    public int VocabSize { get; }       // 50257
    public int Hidden { get; }          // n_embd, C
    public int Layers { get; }          // n_layer
    public int Heads { get; }           // n_head; C % Heads == 0
    public int Intermediate { get; }    // n_inner, 4C when null
    public int MaxPositions { get; }    // n_positions, 1024
    public float LayerNormEps { get; }  // 1e-5
    public string Activation { get; }   // "gelu_new" (tanh form)

    public Gpt2Config(int vocabSize, int hidden, int layers, int heads, int? intermediate = null, int maxPositions = 1024,
        float layerNormEps = 1e-5f, string activation = "gelu_new")
    {
        if (vocabSize <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || maxPositions <= 0) throw new ArgumentException("GPT-2 dimensions must be positive");
        if (hidden % heads != 0) throw new ArgumentException($"n_embd {hidden} is not divisible by n_head {heads}");
        if (activation is not ("gelu_new" or "gelu" or "gelu_pytorch_tanh")) throw new NotSupportedException($"activation_function \"{activation}\" is not supported");
        (VocabSize, Hidden, Layers, Heads, Intermediate, MaxPositions, LayerNormEps, Activation) =
            (vocabSize, hidden, layers, heads, intermediate ?? 4 * hidden, maxPositions, layerNormEps, activation);
    }

    public int HeadDim => Hidden / Heads;

    /// <summary>gpt2 (124M).</summary>
    public static Gpt2Config Small => new(50257, 768, 12, 12);

    public static Gpt2Config FromHf(HfConfig c)
    {
        try
        {
            return new Gpt2Config(c.Int("vocab_size"), c.Int("n_embd"), c.Int("n_layer"), c.Int("n_head"),
                c.Has("n_inner") ? c.Int("n_inner") : null, c.Int("n_positions", 1024), c.Float("layer_norm_epsilon", 1e-5f),
                c.String("activation_function", "gelu_new"));
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException) { throw c.Invalid(e.Message); }
    }
}

/// <summary>
/// GPT-2: token + learned position embeddings, pre-LN blocks (x = x + Attention(LN1(x)); x = x + Mlp(LN2(x))),
/// a final LayerNorm and an LM head tied to the token embeddings. HF's Conv1D layers store weights (in, out):
/// they are read as they are (LinearWeights.WeightIsInOut), not copied into a transposed layout.
/// </summary>
public sealed class Gpt2 : CausalLm
{
    sealed class Block
    {
        public required Tensor Norm1Gain, Norm1Bias;   // (C)
        public required LinearWeights QkvProj;         // c_attn (C, 3C) in -> out
        public required LinearWeights OutProj;         // c_proj (C, C)
        public required Tensor Norm2Gain, Norm2Bias;   // (C)
        public required LinearWeights Up;              // c_fc (C, I)
        public required LinearWeights Down;            // c_proj (I, C)
    }

    readonly IBackend _ops;
    readonly Tensor _tokenEmbeddings;     // wte (V, C), also the LM head
    readonly Tensor _positionEmbeddings;  // wpe (P, C)
    readonly Tensor _finalNormGain, _finalNormBias; // ln_f (C)
    readonly LinearWeights _head;
    readonly Block[] _blocks;

    public Gpt2Config Config { get; }
    public override string Architecture => "gpt2";
    public override int VocabSize => Config.VocabSize;
    public override int ContextLength => Config.MaxPositions;

    /// <summary>Checkpoint keys are HF GPT2Model's, optionally under "transformer." (GPT2LMHeadModel).</summary>
    public Gpt2(Gpt2Config config, Checkpoint weights, IBackend ops)
    {
        Config = config;
        _ops = ops;
        int c = config.Hidden, inter = config.Intermediate;
        string p = weights.Contains("transformer.wte.weight") ? "transformer." : "";
        _tokenEmbeddings = weights.Take(p + "wte.weight", config.VocabSize, c);
        _positionEmbeddings = weights.Take(p + "wpe.weight", config.MaxPositions, c);
        // Conv1D: weight (in, out).
        LinearWeights Conv(string key, int inF, int outF) => new(weights.Take(key + ".weight", inF, outF), weights.Take(key + ".bias", outF), WeightIsInOut: true);
        _blocks = new Block[config.Layers];
        for (int i = 0; i < config.Layers; i++)
        {
            string l = $"{p}h.{i}.";
            _blocks[i] = new Block
            {
                Norm1Gain = weights.Take(l + "ln_1.weight", c),
                Norm1Bias = weights.Take(l + "ln_1.bias", c),
                QkvProj = Conv(l + "attn.c_attn", c, 3 * c),
                OutProj = Conv(l + "attn.c_proj", c, c),
                Norm2Gain = weights.Take(l + "ln_2.weight", c),
                Norm2Bias = weights.Take(l + "ln_2.bias", c),
                Up = Conv(l + "mlp.c_fc", c, inter),
                Down = Conv(l + "mlp.c_proj", inter, c),
            };
        }
        _finalNormGain = weights.Take(p + "ln_f.weight", c);
        _finalNormBias = weights.Take(p + "ln_f.bias", c);
        // Tied head: logits = h wte^T. A separate lm_head.weight, when saved, is the same matrix.
        _head = new LinearWeights(weights.Contains("lm_head.weight") ? weights.Take("lm_head.weight", config.VocabSize, c) : _tokenEmbeddings, null);
    }

    /// <summary>Buffers the checkpoint may carry that are not weights (the causal mask).</summary>
    public static readonly string[] IgnorableKeys = [".attn.bias", ".attn.masked_bias"];

    public override DecoderState CreateState(int maxTokens, int chunk = 64) =>
        new(_ops, Math.Min(maxTokens, Config.MaxPositions), chunk, Config.Hidden, Config.Heads, Config.Heads, Config.HeadDim,
            Config.Intermediate, Config.Layers, Config.VocabSize, fusedQkv: true);

    protected override void ForwardChunk(DecoderState s, ReadOnlySpan<int> tokens, Tensor? chunkLogits)
    {
        int t = tokens.Length;
        var x = s.X.Slice(0, t);                                   // (T, C)
        var y = s.Y.Slice(0, t);
        Span<int> positions = stackalloc int[t];
        for (int i = 0; i < t; i++) positions[i] = s.Position + i;
        _ops.Embedding(_tokenEmbeddings, tokens, x);
        _ops.EmbeddingAddInPlace(_positionEmbeddings, positions, x);
        for (int l = 0; l < _blocks.Length; l++)
        {
            var b = _blocks[l];
            _ops.LayerNorm(x, b.Norm1Gain, b.Norm1Bias, Config.LayerNormEps, y);
            Attention(s, l, b, y, y, t);                           // y = Attention(LN1(x))
            _ops.AddInPlace(x, y);                                 // x = x + Attention(LN1(x))
            _ops.LayerNorm(x, b.Norm2Gain, b.Norm2Bias, Config.LayerNormEps, y);
            Mlp(s, b, y, y, t);                                    // y = Mlp(LN2(x))
            _ops.AddInPlace(x, y);                                 // x = x + Mlp(LN2(x))
        }
        var last = x.Slice(t - 1, 1);                              // (1, C)
        _ops.LayerNorm(last, _finalNormGain, _finalNormBias, Config.LayerNormEps, s.LastHidden);
        _ops.Linear(s.LastHidden, _head, s.Logits.Reshape(1, Config.VocabSize)); // (1, V)
        if (chunkLogits is not null)
        {
            _ops.LayerNorm(x, _finalNormGain, _finalNormBias, Config.LayerNormEps, y);
            _ops.Linear(y, _head, chunkLogits);                    // (T, V)
        }
    }

    // Input and output may be the same buffer: the input is consumed by the first projection.
    void Attention(DecoderState s, int layer, Block b, Tensor input, Tensor output, int t)
    {
        int h = Config.Heads, d = Config.HeadDim;
        var qkv = s.Fused!.Slice(0, t);                            // (T, 3C)
        var q = s.Q.Slice(0, t); var k = s.K.Slice(0, t); var v = s.V.Slice(0, t); var ctx = s.Context.Slice(0, t);
        _ops.Linear(input, b.QkvProj, qkv);
        _ops.Split(qkv, q, k, v);                                  // (T, C) each
        _ops.WriteCacheInPlace(s.KeyCache[layer], k.Reshape(1, t, h, d), s.Position);
        _ops.WriteCacheInPlace(s.ValueCache[layer], v.Reshape(1, t, h, d), s.Position);
        _ops.Attention(q.Reshape(1, t, h, d), s.KeyCache[layer], s.ValueCache[layer], ctx.Reshape(1, t, h, d),
            new AttentionMask(Causal: true, StartPosition: s.Position, KeyLength: s.Position + t)); // (1, T, H, D)
        _ops.Linear(ctx, b.OutProj, output);                       // (T, C)
    }

    void Mlp(DecoderState s, Block b, Tensor input, Tensor output, int t)
    {
        var hidden = s.Gate.Slice(0, t);                           // (T, I)
        _ops.Linear(input, b.Up, hidden);
        if (Config.Activation == "gelu") _ops.Gelu(hidden, hidden);
        else _ops.GeluTanh(hidden, hidden);
        _ops.Linear(hidden, b.Down, output);                       // (T, C)
    }
}
