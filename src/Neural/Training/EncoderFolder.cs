using System.Text.Json;
using Rag.Neural.Models;
using Rag.Neural.Tensors;
using Rag.Neural.Weights;

namespace Rag.Neural.Training;

/// <summary>
/// Writes a trained tower as a Hugging Face model folder the inference loader reads: the base folder's config,
/// tokenizer, sentence-transformers module files (pooling, normalisation, query prompts) copied as they are (for a
/// built-in base, written from what it is), and model.safetensors holding the trained tensors under their checkpoint names.
/// </summary>
public static class EncoderFolder
{
    static readonly string[] WeightFiles = [".safetensors", ".bin", ".onnx", ".h5", ".msgpack", ".ot", ".index.json"];

    public static void Write(LoadedTower source, string directory)
    {
        Directory.CreateDirectory(directory);
        if (source.Directory is { } from)
        {
            if (Path.GetFullPath(directory) == Path.GetFullPath(from))
                throw new ArgumentException($"the output folder {directory} is the base model's folder: choose another");
            CopySettings(from, directory, depth: 0);
        }
        else WriteSettings(source, directory);
        var temp = Path.Combine(directory, "model.safetensors.tmp");
        SafetensorsWriter.Write(temp, Entries(source.Tower.Parameters, p => p.Value), new Dictionary<string, string> { ["format"] = "pt" });
        File.Move(temp, Path.Combine(directory, "model.safetensors"), overwrite: true);
    }

    internal static IEnumerable<SafetensorsWriter.Entry> Entries(IEnumerable<Parameter> parameters, Func<Parameter, Tensor> pick, string prefix = "") =>
        parameters.Select(p => new SafetensorsWriter.Entry(prefix + p.Name, pick(p).Shape, pick(p).ToArray()));

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    static void Json(string path, object value) => File.WriteAllText(path, JsonSerializer.Serialize(value, Indented));

    /// <summary>config.json, vocab.txt and the sentence-transformers files for a tower that came without a folder.</summary>
    static void WriteSettings(LoadedTower source, string directory)
    {
        var c = source.Tower.Config;
        Json(Path.Combine(directory, "config.json"), new Dictionary<string, object>
        {
            ["architectures"] = new[] { "BertModel" },
            ["model_type"] = "bert",
            ["vocab_size"] = c.VocabSize,
            ["hidden_size"] = c.Hidden,
            ["num_hidden_layers"] = c.Layers,
            ["num_attention_heads"] = c.Heads,
            ["intermediate_size"] = c.Intermediate,
            ["max_position_embeddings"] = c.MaxPositions,
            ["type_vocab_size"] = c.TypeVocabSize,
            ["layer_norm_eps"] = c.LayerNormEps,
            ["hidden_act"] = c.HiddenAct,
            ["hidden_dropout_prob"] = source.Tower.DropoutProbability,
            ["attention_probs_dropout_prob"] = source.Tower.DropoutProbability,
        });
        var tokenizer = source.Tokenizer;
        File.WriteAllLines(Path.Combine(directory, "vocab.txt"), Enumerable.Range(0, tokenizer.VocabularySize).Select(i => tokenizer.IdToToken(i) ?? "[UNK]"));
        Json(Path.Combine(directory, "tokenizer_config.json"), new Dictionary<string, object> { ["do_lower_case"] = tokenizer.Options.LowerCase });
        var modules = new List<object>
        {
            new { idx = 0, name = "0", path = "", type = "sentence_transformers.models.Transformer" },
            new { idx = 1, name = "1", path = "1_Pooling", type = "sentence_transformers.models.Pooling" },
        };
        if (source.Tower.Normalize) modules.Add(new { idx = 2, name = "2", path = "2_Normalize", type = "sentence_transformers.models.Normalize" });
        Json(Path.Combine(directory, "modules.json"), modules);
        Directory.CreateDirectory(Path.Combine(directory, "1_Pooling"));
        Json(Path.Combine(directory, "1_Pooling", "config.json"), new Dictionary<string, object>
        {
            ["word_embedding_dimension"] = c.Hidden,
            ["pooling_mode_cls_token"] = source.Tower.Pooling == EncoderPooling.Cls,
            ["pooling_mode_mean_tokens"] = source.Tower.Pooling == EncoderPooling.Mean,
        });
        Json(Path.Combine(directory, "config_sentence_transformers.json"), new Dictionary<string, object>
        {
            ["prompts"] = new Dictionary<string, string> { ["query"] = source.Prompts.Query, ["document"] = source.Prompts.Document },
        });
        Json(Path.Combine(directory, "sentence_bert_config.json"), new Dictionary<string, object> { ["max_seq_length"] = source.MaxTokens, ["do_lower_case"] = false });
    }

    // Everything but weights, checkpoints and earlier training rounds, one level of module folders deep (1_Pooling, 2_Normalize).
    static void CopySettings(string from, string to, int depth)
    {
        foreach (var file in Directory.EnumerateFiles(from))
        {
            var name = Path.GetFileName(file);
            if (WeightFiles.Any(s => name.EndsWith(s, StringComparison.OrdinalIgnoreCase))) continue;
            File.Copy(file, Path.Combine(to, name), overwrite: true);
        }
        if (depth > 0) return;
        foreach (var sub in Directory.EnumerateDirectories(from))
        {
            var name = Path.GetFileName(sub);
            if (name is "onnx" or "checkpoint" or ".git" || name.StartsWith('.') || name.StartsWith("round-", StringComparison.Ordinal)) continue;
            Directory.CreateDirectory(Path.Combine(to, name));
            CopySettings(sub, Path.Combine(to, name), depth + 1);
        }
    }
}
