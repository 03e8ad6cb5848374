using System.Text.Json;
using Rag.Neural.Generation;
using Rag.Neural.Models;
using Rag.Neural.Tensors;
using Rag.Neural.Weights;
using Rag.Tokenizers;

namespace Rag.Neural;

/// <summary>
/// Loads Hugging Face model directories (config.json, model.safetensors or a sharded index, tokenizer files).
/// Every failure is a <see cref="ModelLoadException"/> naming the file and, where one is involved, the tensor.
/// </summary>
public static class NeuralModels
{
    static readonly string[] BertPrefixes = ["", "bert.", "question_encoder.bert_model.", "ctx_encoder.bert_model.", "model."];

    /// <summary>A BERT-family bi-encoder: DPR question/context encoders (model_type "dpr") or a BERT / sentence-transformer.</summary>
    public static ITextEncoderModel LoadEncoder(string directory) => LoadBertEncoder(directory);

    public static BertTextEncoder LoadBertEncoder(string directory, IBackend? backend = null)
    {
        var ops = backend ?? CpuBackend.Instance;
        var config = HfConfig.Load(directory);
        var type = config.ModelType;
        if (type is not ("bert" or "dpr"))
            throw new ModelLoadException($"unknown encoder architecture \"{type}\" (supported: bert, dpr)", config.Path);
        var weights = Checkpoint.Open(directory);
        try
        {
            var prefix = FindBertPrefix(weights);
            var bertConfig = BertConfig.FromHf(config);
            var bert = new Bert(bertConfig, weights, prefix, ops);
            LinearWeights? projection = null;
            EncoderPooling pooling;
            bool normalize;
            if (type == "dpr")
            {
                // DPR: the [CLS] hidden state, then encode_proj when projection_dim > 0 (HF DPREncoder).
                pooling = EncoderPooling.Cls;
                normalize = false;
                int projectionDim = config.Int("projection_dim", 0);
                if (projectionDim > 0)
                {
                    var root = ProjectionPrefix(prefix);
                    projection = new LinearWeights(weights.Take(root + "encode_proj.weight", projectionDim, bertConfig.Hidden),
                        weights.Take(root + "encode_proj.bias", projectionDim));
                }
            }
            else (pooling, normalize) = SentenceTransformerHead(directory);
            // Pre-training heads (cls.*) and the position_ids buffer are not part of an encoder.
            weights.EnsureAllClaimed(n => n.EndsWith("position_ids", StringComparison.Ordinal) || n.StartsWith("cls.", StringComparison.Ordinal));
            var tokenizer = LoadTokenizer(directory) as WordPieceTokenizer
                ?? throw new ModelLoadException("a BERT encoder needs a WordPiece tokenizer (vocab.txt or a WordPiece tokenizer.json)", directory);
            return new BertTextEncoder(bert, weights, tokenizer, pooling, normalize, projection, ops);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <summary>The prefix the checkpoint's BERT tensors sit under ("", "bert.", "question_encoder.bert_model.", ...).</summary>
    internal static string FindBertPrefix(Checkpoint weights) =>
        BertPrefixes.FirstOrDefault(p => weights.Contains(p + "embeddings.word_embeddings.weight"))
        ?? throw new ModelLoadException("missing tensor: no BERT embeddings under any known prefix", weights.Directory, "embeddings.word_embeddings.weight");

    /// <summary>Where DPR's encode_proj sits: beside bert_model ("ctx_encoder.encode_proj.weight").</summary>
    internal static string ProjectionPrefix(string bertPrefix) =>
        bertPrefix.EndsWith("bert_model.", StringComparison.Ordinal) ? bertPrefix[..^"bert_model.".Length] : bertPrefix;

    /// <summary>modules.json and 1_Pooling/config.json when present; mean pooling + normalisation otherwise.</summary>
    static (EncoderPooling, bool) SentenceTransformerHead(string directory)
    {
        var modulesPath = Path.Combine(directory, "modules.json");
        if (!File.Exists(modulesPath)) return (EncoderPooling.Mean, true);
        try
        {
            using var modules = JsonDocument.Parse(File.ReadAllBytes(modulesPath));
            bool normalize = false;
            string poolingDir = "1_Pooling";
            foreach (var m in modules.RootElement.EnumerateArray())
            {
                var t = m.GetProperty("type").GetString() ?? "";
                if (t.EndsWith(".Normalize", StringComparison.Ordinal)) normalize = true;
                if (t.EndsWith(".Pooling", StringComparison.Ordinal)) poolingDir = m.GetProperty("path").GetString() ?? poolingDir;
            }
            var poolingPath = Path.Combine(directory, poolingDir, "config.json");
            if (!File.Exists(poolingPath)) return (EncoderPooling.Mean, normalize);
            using var pooling = JsonDocument.Parse(File.ReadAllBytes(poolingPath));
            bool Flag(string key) => pooling.RootElement.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.True;
            if (Flag("pooling_mode_max_tokens") || Flag("pooling_mode_mean_sqrt_len_tokens") || Flag("pooling_mode_weightedmean_tokens") || Flag("pooling_mode_lasttoken"))
                throw new ModelLoadException("only CLS or mean pooling is supported", poolingPath);
            return (Flag("pooling_mode_cls_token") ? EncoderPooling.Cls : EncoderPooling.Mean, normalize);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new ModelLoadException($"malformed sentence-transformers module files: {e.Message}", modulesPath, null, e);
        }
    }

    /// <summary>A decoder with its tokenizer: GPT-2, Llama (2/3), Qwen2 or Mistral checkpoints.</summary>
    public static ITextGeneratorModel LoadGenerator(string directory) => LoadTextGenerator(directory);

    public static TextGenerator LoadTextGenerator(string directory, IBackend? backend = null)
    {
        var (model, weights) = OpenCausalLm(directory, backend);
        try
        {
            var tokenizer = LoadTokenizer(directory) as ByteLevelBpeTokenizer
                ?? throw new ModelLoadException("a decoder needs a byte-level BPE tokenizer (tokenizer.json, vocab.json + merges.txt or tokenizer.model)", directory);
            var config = HfConfig.Load(directory);
            var eos = new HashSet<int>(tokenizer.EosIds);
            AddIds(eos, config.Element("eos_token_id"));
            var generationConfig = Path.Combine(directory, "generation_config.json");
            if (File.Exists(generationConfig))
            {
                try
                {
                    using var doc = JsonDocument.Parse(File.ReadAllBytes(generationConfig));
                    if (doc.RootElement.TryGetProperty("eos_token_id", out var e)) AddIds(eos, e);
                }
                catch (JsonException e) { throw new ModelLoadException($"generation_config.json is not valid JSON: {e.Message}", generationConfig, null, e); }
            }
            // Llama's tokenizer prepends <s> / <|begin_of_text|>; GPT-2 and Qwen2 add nothing.
            int? bos = model.Architecture == "llama" ? tokenizer.BosId ?? (config.Has("bos_token_id") ? config.Int("bos_token_id") : null) : null;
            return new TextGenerator(model, weights, tokenizer, eos, bos);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <summary>The network alone (no tokenizer): for parity tests, benchmarks and callers that bring token ids.</summary>
    public static CausalLm LoadCausalLm(string directory, IBackend? backend = null) => OpenCausalLm(directory, backend).Model;

    static (CausalLm Model, Checkpoint Weights) OpenCausalLm(string directory, IBackend? backend)
    {
        var ops = backend ?? CpuBackend.Instance;
        var config = HfConfig.Load(directory);
        var type = config.ModelType;
        if (type is not ("gpt2" or "llama" or "qwen2" or "mistral"))
            throw new ModelLoadException($"unknown decoder architecture \"{type}\" (supported: gpt2, llama, qwen2, mistral)", config.Path);
        var weights = Checkpoint.Open(directory);
        try
        {
            CausalLm model;
            if (type == "gpt2")
            {
                model = new Gpt2(Gpt2Config.FromHf(config), weights, ops);
                weights.EnsureAllClaimed(Gpt2.IgnorableKeys);
            }
            else
            {
                model = new Llama(LlamaConfig.FromHf(config), weights, ops);
                weights.EnsureAllClaimed(Llama.IgnorableKeys);
            }
            return (model, weights);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    static void AddIds(HashSet<int> set, JsonElement? e)
    {
        if (e is not { } v) return;
        if (v.ValueKind == JsonValueKind.Number) set.Add(v.GetInt32());
        else if (v.ValueKind == JsonValueKind.Array)
            foreach (var x in v.EnumerateArray()) if (x.ValueKind == JsonValueKind.Number) set.Add(x.GetInt32());
    }

    static ITokenizer LoadTokenizer(string directory)
    {
        try { return TokenizerFactory.Load(directory); }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or JsonException or FormatException or ArgumentException)
        {
            throw new ModelLoadException($"cannot load the tokenizer: {e.Message}", directory, null, e);
        }
    }
}
