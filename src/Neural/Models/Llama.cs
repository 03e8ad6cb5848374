using Rag.Neural.Tensors;
using Rag.Neural.Weights;

namespace Rag.Neural.Models;

/// <summary>Llama-family hyper-parameters (Touvron et al. 2023; Qwen2 adds QKV biases), from a Hugging Face config.json.</summary>
public sealed record LlamaConfig
{
    public string Architecture { get; }    // model_type: "llama", "qwen2", "mistral"
    public int VocabSize { get; }
    public int Hidden { get; }             // C
    public int Layers { get; }
    public int Heads { get; }              // query heads
    public int KvHeads { get; }            // key/value heads (GQA); Heads % KvHeads == 0
    public int HeadDim { get; }            // C / Heads unless config says head_dim
    public int Intermediate { get; }       // SwiGLU hidden width
    public int MaxPositions { get; }
    public float RmsNormEps { get; }       // 1e-5 (Llama 2/3), 1e-6 (Qwen2)
    public float RopeTheta { get; }        // 10000 (Llama 2), 500000 (Llama 3), 1000000 (Qwen2)
    public RopeScaling? RopeScaling { get; }
    public bool TieWordEmbeddings { get; }
    public bool QkvBias { get; }           // Qwen2: biases on q, k, v projections
    public bool OutputBias { get; }        // Llama attention_bias: also on o_proj

    public LlamaConfig(string architecture, int vocabSize, int hidden, int layers, int heads, int kvHeads, int intermediate,
        int maxPositions, float rmsNormEps = 1e-5f, float ropeTheta = 10000f, RopeScaling? ropeScaling = null,
        bool tieWordEmbeddings = false, bool qkvBias = false, bool outputBias = false, int? headDim = null)
    {
        if (vocabSize <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || intermediate <= 0 || maxPositions <= 0)
            throw new ArgumentException("Llama dimensions must be positive");
        if (headDim is null && hidden % heads != 0) throw new ArgumentException($"hidden size {hidden} is not divisible by {heads} heads");
        if (heads % kvHeads != 0) throw new ArgumentException($"{heads} attention heads are not a multiple of {kvHeads} key/value heads");
        Architecture = architecture; VocabSize = vocabSize; Hidden = hidden; Layers = layers; Heads = heads; KvHeads = kvHeads;
        HeadDim = headDim ?? hidden / heads; Intermediate = intermediate; MaxPositions = maxPositions; RmsNormEps = rmsNormEps;
        RopeTheta = ropeTheta; RopeScaling = ropeScaling; TieWordEmbeddings = tieWordEmbeddings; QkvBias = qkvBias; OutputBias = outputBias;
        if (HeadDim % 2 != 0) throw new ArgumentException($"head dimension {HeadDim} must be even for RoPE");
        if (ropeScaling is not null && ropeScaling.Type is not ("linear" or "llama3" or "default"))
            throw new NotSupportedException($"rope_scaling type \"{ropeScaling.Type}\" is not supported (supported: linear, llama3)");
    }

    public static LlamaConfig FromHf(HfConfig c)
    {
        var type = c.ModelType;
        try
        {
            RopeScaling? scaling = null;
            if (c.Element("rope_scaling") is { ValueKind: System.Text.Json.JsonValueKind.Object } rs)
            {
                string kind = rs.TryGetProperty("rope_type", out var rt) ? rt.GetString()! : rs.TryGetProperty("type", out var t2) ? t2.GetString()! : "default";
                float F(string k, float d) => rs.TryGetProperty(k, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.Number ? v.GetSingle() : d;
                scaling = new RopeScaling(kind, F("factor", 1f), F("low_freq_factor", 1f), F("high_freq_factor", 4f), (int)F("original_max_position_embeddings", 8192));
            }
            bool qwen = type == "qwen2";
            bool attentionBias = c.Bool("attention_bias", false);
            int heads = c.Int("num_attention_heads");
            return new LlamaConfig(type, c.Int("vocab_size"), c.Int("hidden_size"), c.Int("num_hidden_layers"), heads,
                c.Int("num_key_value_heads", heads), c.Int("intermediate_size"), c.Int("max_position_embeddings", 2048),
                c.Float("rms_norm_eps", 1e-6f), c.Float("rope_theta", 10000f), scaling, c.Bool("tie_word_embeddings", qwen),
                qkvBias: qwen || attentionBias, outputBias: attentionBias, headDim: c.Has("head_dim") ? c.Int("head_dim") : null);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException) { throw c.Invalid(e.Message); }
    }
}

/// <summary>
/// The Llama family (Llama 2/3, Qwen2, Mistral without sliding windows): RMSNorm, rotary positions, grouped-query
/// attention, SwiGLU MLP, pre-norm blocks x = x + Attention(RmsNorm1(x)); x = x + Mlp(RmsNorm2(x)), untied or tied head.
/// </summary>
public sealed class Llama : CausalLm
{
    sealed class Block
    {
        public required Tensor AttentionNorm;                // input_layernorm (C)
        public required LinearWeights QProj;                 // (Hq*D, C)
        public required LinearWeights KProj, VProj;          // (Hkv*D, C)
        public required LinearWeights OProj;                 // (C, Hq*D)
        public required Tensor MlpNorm;                      // post_attention_layernorm (C)
        public required LinearWeights GateProj, UpProj;      // (I, C)
        public required LinearWeights DownProj;              // (C, I)
    }

    readonly IBackend _ops;
    readonly Tensor _tokenEmbeddings;   // embed_tokens (V, C)
    readonly Tensor _finalNorm;         // norm (C)
    readonly LinearWeights _head;       // lm_head (V, C), or embed_tokens when tied
    readonly Block[] _blocks;
    readonly RopeTable _rope;

    public LlamaConfig Config { get; }
    public override string Architecture => Config.Architecture;
    public override int VocabSize => Config.VocabSize;
    public override int ContextLength => Config.MaxPositions;

    public static readonly string[] IgnorableKeys = [".rotary_emb.inv_freq"];

    public Llama(LlamaConfig config, Checkpoint weights, IBackend ops)
    {
        Config = config;
        _ops = ops;
        int c = config.Hidden, qw = config.Heads * config.HeadDim, kvw = config.KvHeads * config.HeadDim, inter = config.Intermediate;
        LinearWeights Lin(string key, int outF, int inF, bool bias) =>
            new(weights.Take(key + ".weight", outF, inF), bias ? weights.Take(key + ".bias", outF) : null);
        _tokenEmbeddings = weights.Take("model.embed_tokens.weight", config.VocabSize, c);
        _blocks = new Block[config.Layers];
        for (int i = 0; i < config.Layers; i++)
        {
            string l = $"model.layers.{i}.";
            _blocks[i] = new Block
            {
                AttentionNorm = weights.Take(l + "input_layernorm.weight", c),
                QProj = Lin(l + "self_attn.q_proj", qw, c, config.QkvBias),
                KProj = Lin(l + "self_attn.k_proj", kvw, c, config.QkvBias),
                VProj = Lin(l + "self_attn.v_proj", kvw, c, config.QkvBias),
                OProj = Lin(l + "self_attn.o_proj", c, qw, config.OutputBias),
                MlpNorm = weights.Take(l + "post_attention_layernorm.weight", c),
                GateProj = Lin(l + "mlp.gate_proj", inter, c, false),
                UpProj = Lin(l + "mlp.up_proj", inter, c, false),
                DownProj = Lin(l + "mlp.down_proj", c, inter, false),
            };
        }
        _finalNorm = weights.Take("model.norm.weight", c);
        bool separateHead = !config.TieWordEmbeddings || weights.Contains("lm_head.weight");
        _head = new LinearWeights(separateHead ? weights.Take("lm_head.weight", config.VocabSize, c) : _tokenEmbeddings, null);
        _rope = new RopeTable(config.HeadDim, config.MaxPositions, config.RopeTheta, config.RopeScaling);
    }

    public override DecoderState CreateState(int maxTokens, int chunk = 64) =>
        new(_ops, Math.Min(maxTokens, Config.MaxPositions), chunk, Config.Hidden, Config.Heads, Config.KvHeads, Config.HeadDim,
            Config.Intermediate, Config.Layers, Config.VocabSize, fusedQkv: false);

    protected override void ForwardChunk(DecoderState s, ReadOnlySpan<int> tokens, Tensor? chunkLogits)
    {
        int t = tokens.Length;
        var x = s.X.Slice(0, t);                                   // (T, C)
        var y = s.Y.Slice(0, t);
        _ops.Embedding(_tokenEmbeddings, tokens, x);
        for (int l = 0; l < _blocks.Length; l++)
        {
            var b = _blocks[l];
            _ops.RmsNorm(x, b.AttentionNorm, Config.RmsNormEps, y);
            Attention(s, l, b, y, y, t);                           // y = Attention(RmsNorm1(x))
            _ops.AddInPlace(x, y);                                 // x = x + Attention(RmsNorm1(x))
            _ops.RmsNorm(x, b.MlpNorm, Config.RmsNormEps, y);
            Mlp(s, b, y, y, t);                                    // y = Mlp(RmsNorm2(x))
            _ops.AddInPlace(x, y);                                 // x = x + Mlp(RmsNorm2(x))
        }
        _ops.RmsNorm(x.Slice(t - 1, 1), _finalNorm, Config.RmsNormEps, s.LastHidden); // (1, C)
        _ops.Linear(s.LastHidden, _head, s.Logits.Reshape(1, Config.VocabSize));     // (1, V)
        if (chunkLogits is not null)
        {
            _ops.RmsNorm(x, _finalNorm, Config.RmsNormEps, y);
            _ops.Linear(y, _head, chunkLogits);                    // (T, V)
        }
    }

    // Input and output may be the same buffer: the input is consumed by the projections first.
    void Attention(DecoderState s, int layer, Block b, Tensor input, Tensor output, int t)
    {
        int hq = Config.Heads, hkv = Config.KvHeads, d = Config.HeadDim;
        var q = s.Q.Slice(0, t).Reshape(t, hq, d);                 // (T, Hq, D)
        var k = s.K.Slice(0, t).Reshape(t, hkv, d);                // (T, Hkv, D)
        var v = s.V.Slice(0, t).Reshape(t, hkv, d);
        var ctx = s.Context.Slice(0, t);                           // (T, Hq*D)
        _ops.Linear(input, b.QProj, q.Reshape(t, hq * d));
        _ops.Linear(input, b.KProj, k.Reshape(t, hkv * d));
        _ops.Linear(input, b.VProj, v.Reshape(t, hkv * d));
        _ops.Rope(q, _rope, s.Position, q);
        _ops.Rope(k, _rope, s.Position, k);
        _ops.WriteCacheInPlace(s.KeyCache[layer], k.Reshape(1, t, hkv, d), s.Position);
        _ops.WriteCacheInPlace(s.ValueCache[layer], v.Reshape(1, t, hkv, d), s.Position);
        _ops.Attention(q.Reshape(1, t, hq, d), s.KeyCache[layer], s.ValueCache[layer], ctx.Reshape(1, t, hq, d),
            new AttentionMask(Causal: true, StartPosition: s.Position, KeyLength: s.Position + t)); // (1, T, Hq, D)
        _ops.Linear(ctx, b.OProj, output);                         // (T, C)
    }

    // SwiGLU: down(silu(gate(x)) * up(x)).
    void Mlp(DecoderState s, Block b, Tensor input, Tensor output, int t)
    {
        var gate = s.Gate.Slice(0, t); var up = s.Up.Slice(0, t); // (T, I)
        _ops.Linear(input, b.GateProj, gate);
        _ops.Linear(input, b.UpProj, up);
        _ops.SwiGlu(gate, up, gate);
        _ops.Linear(gate, b.DownProj, output);                     // (T, C)
    }
}
