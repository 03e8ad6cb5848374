using System.Text.Json;
using System.Text.Json.Nodes;
using Rag.Neural.Tensors;
using Rag.Neural.Weights;

namespace Rag.Testing;

/// <summary>
/// Writes small random models in the Hugging Face layout (config.json, model.safetensors, tokenizer files) that
/// NeuralModels.LoadEncoder / LoadGenerator load like real checkpoints. Same arguments, same bytes: weights come
/// from a seeded generator. The dimensions are parameters so benchmarks can write full-size random models too.
/// </summary>
public static class TinyModels
{
    /// <param name="kind">"dpr-question", "dpr-context" (model_type dpr) or "sentence-transformer" (bert + mean pooling + normalise).</param>
    /// <param name="vocabSize">Null: the tiny WordPiece vocabulary's size. Larger values pad the embedding table.</param>
    /// <param name="writeTokenizer">False writes only config.json and weights (for benchmarks that feed ids).</param>
    public static void WriteBertEncoder(string dir, int hidden = 32, int layers = 2, int heads = 4, int intermediate = 0,
        int maxPositions = 128, int seed = 1, string kind = "dpr-question", int projectionDim = 0, int? vocabSize = null,
        bool writeTokenizer = true, DType dtype = DType.F32)
    {
        Directory.CreateDirectory(dir);
        int tokenizerVocab = writeTokenizer ? TinyTokenizers.WriteWordPieceVocab(dir) : 0;
        int v = vocabSize ?? tokenizerVocab;
        if (v <= 0) throw new ArgumentException("give vocabSize when writeTokenizer is false");
        if (v < tokenizerVocab) throw new ArgumentException($"vocabSize {v} is smaller than the tokenizer's {tokenizerVocab}");
        int c = hidden, inter = intermediate > 0 ? intermediate : 4 * hidden;
        var (modelType, prefix) = kind switch
        {
            "dpr-question" => ("dpr", "question_encoder.bert_model."),
            "dpr-context" => ("dpr", "ctx_encoder.bert_model."),
            "sentence-transformer" => ("bert", ""),
            _ => throw new ArgumentException($"unknown kind \"{kind}\" (dpr-question, dpr-context, sentence-transformer)", nameof(kind)),
        };
        var config = new JsonObject
        {
            ["model_type"] = modelType,
            ["architectures"] = new JsonArray(kind switch { "dpr-question" => "DPRQuestionEncoder", "dpr-context" => "DPRContextEncoder", _ => "BertModel" }),
            ["vocab_size"] = v,
            ["hidden_size"] = c,
            ["num_hidden_layers"] = layers,
            ["num_attention_heads"] = heads,
            ["intermediate_size"] = inter,
            ["max_position_embeddings"] = maxPositions,
            ["type_vocab_size"] = 2,
            ["layer_norm_eps"] = 1e-12,
            ["hidden_act"] = "gelu",
            ["pad_token_id"] = 0,
        };
        if (modelType == "dpr") config["projection_dim"] = projectionDim;
        WriteJson(Path.Combine(dir, "config.json"), config);

        var r = new Normal(seed);
        var w = new List<SafetensorsWriter.Entry>();
        void Add(string name, float[] data, params int[] shape) => w.Add(new(name, shape, data, dtype));
        Add(prefix + "embeddings.word_embeddings.weight", r.Fill(v * c, 0.5f), v, c);
        Add(prefix + "embeddings.position_embeddings.weight", r.Fill(maxPositions * c, 0.5f), maxPositions, c);
        Add(prefix + "embeddings.token_type_embeddings.weight", r.Fill(2 * c, 0.5f), 2, c);
        Add(prefix + "embeddings.LayerNorm.weight", r.Gain(c), c);
        Add(prefix + "embeddings.LayerNorm.bias", r.Fill(c, 0.1f), c);
        float std = 1f / MathF.Sqrt(c);
        for (int i = 0; i < layers; i++)
        {
            string l = $"{prefix}encoder.layer.{i}.";
            foreach (var (name, o, n) in new[] { ("attention.self.query", c, c), ("attention.self.key", c, c), ("attention.self.value", c, c),
                ("attention.output.dense", c, c), ("intermediate.dense", inter, c), ("output.dense", c, inter) })
            {
                Add(l + name + ".weight", r.Fill(o * n, 1f / MathF.Sqrt(n)), o, n);
                Add(l + name + ".bias", r.Fill(o, 0.1f), o);
            }
            foreach (var ln in new[] { "attention.output.LayerNorm", "output.LayerNorm" })
            {
                Add(l + ln + ".weight", r.Gain(c), c);
                Add(l + ln + ".bias", r.Fill(c, 0.1f), c);
            }
        }
        if (modelType == "dpr" && projectionDim > 0)
        {
            string root = prefix[..^"bert_model.".Length];
            Add(root + "encode_proj.weight", r.Fill(projectionDim * c, std), projectionDim, c);
            Add(root + "encode_proj.bias", r.Fill(projectionDim, 0.1f), projectionDim);
        }
        SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), w);

        if (kind == "sentence-transformer")
        {
            WriteJson(Path.Combine(dir, "modules.json"), new JsonArray(
                new JsonObject { ["idx"] = 0, ["name"] = "0", ["path"] = "", ["type"] = "sentence_transformers.models.Transformer" },
                new JsonObject { ["idx"] = 1, ["name"] = "1", ["path"] = "1_Pooling", ["type"] = "sentence_transformers.models.Pooling" },
                new JsonObject { ["idx"] = 2, ["name"] = "2", ["path"] = "2_Normalize", ["type"] = "sentence_transformers.models.Normalize" }));
            Directory.CreateDirectory(Path.Combine(dir, "1_Pooling"));
            WriteJson(Path.Combine(dir, "1_Pooling", "config.json"), new JsonObject
            {
                ["word_embedding_dimension"] = c,
                ["pooling_mode_cls_token"] = false,
                ["pooling_mode_mean_tokens"] = true,
                ["pooling_mode_max_tokens"] = false,
                ["pooling_mode_mean_sqrt_len_tokens"] = false,
            });
        }
    }

    /// <param name="architecture">"qwen2" (ChatML specials, QKV bias, tied head), "llama" (Llama 3 specials, GQA, untied head) or "gpt2".</param>
    /// <param name="vocabSize">Null: the tiny BPE's size. Larger values pad the embedding table (benchmarks).</param>
    public static void WriteDecoder(string dir, string architecture = "qwen2", int seed = 1, int hidden = 32, int layers = 2,
        int heads = 4, int kvHeads = 2, int intermediate = 0, int maxPositions = 256, int? vocabSize = null,
        bool writeTokenizer = true, DType dtype = DType.F32)
    {
        Directory.CreateDirectory(dir);
        string flavour = architecture switch
        {
            "qwen2" => "qwen2",
            "llama" => "llama3",
            "gpt2" => "gpt2",
            _ => throw new ArgumentException($"unknown architecture \"{architecture}\" (qwen2, llama, gpt2)", nameof(architecture)),
        };
        int tokenizerVocab = writeTokenizer ? TinyTokenizers.WriteByteLevelBpe(dir, flavour) : 0;
        int v = vocabSize ?? tokenizerVocab;
        if (v <= 0) throw new ArgumentException("give vocabSize when writeTokenizer is false");
        if (v < tokenizerVocab) throw new ArgumentException($"vocabSize {v} is smaller than the tokenizer's {tokenizerVocab}");
        // Special tokens follow the byte-level vocabulary (see TinyTokenizers.WriteByteLevelBpe).
        int firstSpecial = tokenizerVocab - flavour switch { "gpt2" => 1, "qwen2" => 3, _ => 5 };
        var r = new Normal(seed);
        var w = new List<SafetensorsWriter.Entry>();
        void Add(string name, float[] data, params int[] shape) => w.Add(new(name, shape, data, dtype));
        int c = hidden;
        JsonObject config;
        if (architecture == "gpt2")
        {
            int inter = intermediate > 0 ? intermediate : 4 * c;
            config = new JsonObject
            {
                ["model_type"] = "gpt2",
                ["architectures"] = new JsonArray("GPT2LMHeadModel"),
                ["vocab_size"] = v,
                ["n_embd"] = c,
                ["n_layer"] = layers,
                ["n_head"] = heads,
                ["n_positions"] = maxPositions,
                ["n_inner"] = inter,
                ["layer_norm_epsilon"] = 1e-5,
                ["activation_function"] = "gelu_new",
                ["bos_token_id"] = firstSpecial,
                ["eos_token_id"] = firstSpecial,
            };
            Add("wte.weight", r.Fill(v * c, 0.5f), v, c);
            Add("wpe.weight", r.Fill(maxPositions * c, 0.3f), maxPositions, c);
            for (int i = 0; i < layers; i++)
            {
                string l = $"h.{i}.";
                Add(l + "ln_1.weight", r.Gain(c), c); Add(l + "ln_1.bias", r.Fill(c, 0.1f), c);
                Add(l + "attn.c_attn.weight", r.Fill(c * 3 * c, 1f / MathF.Sqrt(c)), c, 3 * c); Add(l + "attn.c_attn.bias", r.Fill(3 * c, 0.1f), 3 * c);
                Add(l + "attn.c_proj.weight", r.Fill(c * c, 1f / MathF.Sqrt(c)), c, c); Add(l + "attn.c_proj.bias", r.Fill(c, 0.1f), c);
                Add(l + "ln_2.weight", r.Gain(c), c); Add(l + "ln_2.bias", r.Fill(c, 0.1f), c);
                Add(l + "mlp.c_fc.weight", r.Fill(c * inter, 1f / MathF.Sqrt(c)), c, inter); Add(l + "mlp.c_fc.bias", r.Fill(inter, 0.1f), inter);
                Add(l + "mlp.c_proj.weight", r.Fill(inter * c, 1f / MathF.Sqrt(inter)), inter, c); Add(l + "mlp.c_proj.bias", r.Fill(c, 0.1f), c);
            }
            Add("ln_f.weight", r.Gain(c), c); Add("ln_f.bias", r.Fill(c, 0.1f), c);
        }
        else
        {
            bool qwen = architecture == "qwen2";
            int inter = intermediate > 0 ? intermediate : 3 * c;
            int d = c / heads;
            config = new JsonObject
            {
                ["model_type"] = architecture,
                ["architectures"] = new JsonArray(qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM"),
                ["vocab_size"] = v,
                ["hidden_size"] = c,
                ["intermediate_size"] = inter,
                ["num_hidden_layers"] = layers,
                ["num_attention_heads"] = heads,
                ["num_key_value_heads"] = kvHeads,
                ["max_position_embeddings"] = maxPositions,
                ["rms_norm_eps"] = qwen ? 1e-6 : 1e-5,
                ["rope_theta"] = qwen ? 1000000.0 : 500000.0,
                ["tie_word_embeddings"] = qwen,
                ["hidden_act"] = "silu",
                ["bos_token_id"] = firstSpecial, // <|endoftext|> (Qwen2) / <|begin_of_text|> (Llama 3)
                ["eos_token_id"] = qwen ? firstSpecial + 2 : firstSpecial + 1, // <|im_end|> / <|end_of_text|>
            };
            if (!qwen)
                config["rope_scaling"] = new JsonObject
                {
                    ["rope_type"] = "llama3",
                    ["factor"] = 8.0,
                    ["low_freq_factor"] = 1.0,
                    ["high_freq_factor"] = 4.0,
                    ["original_max_position_embeddings"] = Math.Max(16, maxPositions / 8),
                };
            Add("model.embed_tokens.weight", r.Fill(v * c, 0.5f), v, c);
            for (int i = 0; i < layers; i++)
            {
                string l = $"model.layers.{i}.";
                Add(l + "input_layernorm.weight", r.Gain(c), c);
                Add(l + "self_attn.q_proj.weight", r.Fill(heads * d * c, 1f / MathF.Sqrt(c)), heads * d, c);
                Add(l + "self_attn.k_proj.weight", r.Fill(kvHeads * d * c, 1f / MathF.Sqrt(c)), kvHeads * d, c);
                Add(l + "self_attn.v_proj.weight", r.Fill(kvHeads * d * c, 1f / MathF.Sqrt(c)), kvHeads * d, c);
                if (qwen)
                {
                    Add(l + "self_attn.q_proj.bias", r.Fill(heads * d, 0.1f), heads * d);
                    Add(l + "self_attn.k_proj.bias", r.Fill(kvHeads * d, 0.1f), kvHeads * d);
                    Add(l + "self_attn.v_proj.bias", r.Fill(kvHeads * d, 0.1f), kvHeads * d);
                }
                Add(l + "self_attn.o_proj.weight", r.Fill(c * heads * d, 1f / MathF.Sqrt(heads * d)), c, heads * d);
                Add(l + "post_attention_layernorm.weight", r.Gain(c), c);
                Add(l + "mlp.gate_proj.weight", r.Fill(inter * c, 1f / MathF.Sqrt(c)), inter, c);
                Add(l + "mlp.up_proj.weight", r.Fill(inter * c, 1f / MathF.Sqrt(c)), inter, c);
                Add(l + "mlp.down_proj.weight", r.Fill(c * inter, 1f / MathF.Sqrt(inter)), c, inter);
            }
            Add("model.norm.weight", r.Gain(c), c);
            if (!qwen) Add("lm_head.weight", r.Fill(v * c, 1f / MathF.Sqrt(c)), v, c);
        }
        WriteJson(Path.Combine(dir, "config.json"), config);
        SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), w);
    }

    static void WriteJson(string path, JsonNode node) =>
        File.WriteAllText(path, node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

    /// <summary>Seeded N(0, std) values (Box-Muller), identical on every run and machine.</summary>
    sealed class Normal(int seed)
    {
        readonly Random _rng = new(seed);

        public float[] Fill(int n, float std)
        {
            var a = new float[n];
            for (int i = 0; i < n; i += 2)
            {
                double u1 = 1.0 - _rng.NextDouble(), u2 = _rng.NextDouble();
                double radius = Math.Sqrt(-2.0 * Math.Log(u1)), angle = 2.0 * Math.PI * u2;
                a[i] = (float)(radius * Math.Cos(angle) * std);
                if (i + 1 < n) a[i + 1] = (float)(radius * Math.Sin(angle) * std);
            }
            return a;
        }

        public float[] Gain(int n)
        {
            var a = Fill(n, 0.1f);
            for (int i = 0; i < n; i++) a[i] += 1f;
            return a;
        }
    }
}
