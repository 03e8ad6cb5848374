using System.Text.Json;

namespace Rag.Neural.Weights;

/// <summary>Typed reads from a Hugging Face config.json; every failure names the file and the key.</summary>
public sealed class HfConfig
{
    readonly JsonElement _root;

    public string Path { get; }

    HfConfig(string path, JsonElement root) { Path = path; _root = root; }

    public static HfConfig Load(string directory)
    {
        var path = System.IO.Path.Combine(directory, "config.json");
        if (!System.IO.Directory.Exists(directory)) throw new ModelLoadException("model directory not found", directory);
        if (!File.Exists(path)) throw new ModelLoadException("config.json not found in the model directory", path);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new ModelLoadException("config.json is not a JSON object", path);
            return new HfConfig(path, doc.RootElement.Clone());
        }
        catch (JsonException e) { throw new ModelLoadException($"config.json is not valid JSON: {e.Message}", path, null, e); }
    }

    public string ModelType => String("model_type");

    public bool Has(string key) => _root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null;

    public JsonElement? Element(string key) => _root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public string String(string key, string? fallback = null) =>
        Element(key) is { ValueKind: JsonValueKind.String } v ? v.GetString()! : fallback ?? throw Missing(key);

    public int Int(string key, int? fallback = null) =>
        Element(key) is { ValueKind: JsonValueKind.Number } v && v.TryGetInt32(out var i) ? i : fallback ?? throw Missing(key);

    public float Float(string key, float? fallback = null) =>
        Element(key) is { ValueKind: JsonValueKind.Number } v ? v.GetSingle() : fallback ?? throw Missing(key);

    public bool Bool(string key, bool fallback) =>
        Element(key) is { } v && (v.ValueKind == JsonValueKind.True || v.ValueKind == JsonValueKind.False) ? v.GetBoolean() : fallback;

    ModelLoadException Missing(string key) => new($"config.json lacks a valid \"{key}\"", Path);

    public ModelLoadException Invalid(string message) => new($"config.json: {message}", Path);
}
