using Rag.Neural.Tensors;
using Rag.Neural.Weights;

namespace Rag.Neural.Training;

/// <summary>
/// Writes a trained tower as a Hugging Face model folder the inference loader reads: the base folder's config,
/// tokenizer, sentence-transformers module files (pooling, normalisation, query prompts) copied as they are, and
/// model.safetensors holding the trained tensors under their checkpoint names.
/// </summary>
public static class EncoderFolder
{
    static readonly string[] WeightFiles = [".safetensors", ".bin", ".onnx", ".h5", ".msgpack", ".ot", ".index.json"];

    public static void Write(LoadedTower source, string directory)
    {
        Directory.CreateDirectory(directory);
        if (Path.GetFullPath(directory) == Path.GetFullPath(source.Directory))
            throw new ArgumentException($"the output folder {directory} is the base model's folder: choose another");
        CopySettings(source.Directory, directory, depth: 0);
        var temp = Path.Combine(directory, "model.safetensors.tmp");
        SafetensorsWriter.Write(temp, Entries(source.Tower.Parameters, p => p.Value), new Dictionary<string, string> { ["format"] = "pt" });
        File.Move(temp, Path.Combine(directory, "model.safetensors"), overwrite: true);
    }

    internal static IEnumerable<SafetensorsWriter.Entry> Entries(IEnumerable<Parameter> parameters, Func<Parameter, Tensor> pick, string prefix = "") =>
        parameters.Select(p => new SafetensorsWriter.Entry(prefix + p.Name, pick(p).Shape, pick(p).ToArray()));

    // Everything but weights and checkpoints, one level of module folders deep (1_Pooling, 2_Normalize).
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
            if (name is "onnx" or "checkpoint" or ".git" || name.StartsWith('.')) continue;
            Directory.CreateDirectory(Path.Combine(to, name));
            CopySettings(sub, Path.Combine(to, name), depth + 1);
        }
    }
}
