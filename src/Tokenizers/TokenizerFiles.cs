using System.Text.Json;

namespace Rag.Tokenizers;

/// <summary>Reading tokenizer files with errors that name the file.</summary>
internal static class TokenizerFiles
{
    public static JsonDocument ReadJson(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Tokenizer file not found: {path}", path);
        try
        {
            using var stream = File.OpenRead(path);
            return JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>JsonDocument for an optional file: null when it does not exist.</summary>
    public static JsonDocument? ReadOptionalJson(string? path) =>
        path is not null && File.Exists(path) ? ReadJson(path) : null;

    public static JsonElement? Get(this JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value : null;

    public static string? GetString(this JsonElement element, string name) =>
        element.Get(name) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

    public static bool? GetBool(this JsonElement element, string name) =>
        element.Get(name) is { } v && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

    public static int? GetInt(this JsonElement element, string name) =>
        element.Get(name) is { ValueKind: JsonValueKind.Number } v && v.TryGetInt32(out var i) ? i : null;

    /// <summary>A token written either as "text" or as {"content": "text", ...} (tokenizer_config.json uses both).</summary>
    public static string? GetTokenContent(this JsonElement element, string name) =>
        element.Get(name) switch
        {
            { ValueKind: JsonValueKind.String } s => s.GetString(),
            { ValueKind: JsonValueKind.Object } o => o.GetString("content"),
            _ => null,
        };

    /// <summary>An id or a list of ids (generation_config.json's eos_token_id may be either).</summary>
    public static int[] GetIds(this JsonElement element, string name) =>
        element.Get(name) switch
        {
            { ValueKind: JsonValueKind.Number } n when n.TryGetInt32(out var i) => [i],
            { ValueKind: JsonValueKind.Array } a => [.. a.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.Number).Select(x => x.GetInt32())],
            _ => [],
        };

    /// <summary>token -> id from a JSON object such as vocab.json or tokenizer.json's model.vocab.</summary>
    public static Dictionary<string, int> ReadVocabObject(JsonElement vocab, string path)
    {
        if (vocab.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: the vocabulary is not a JSON object of token -> id.");
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in vocab.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out var id) || id < 0)
                throw new InvalidDataException($"{path}: token {p.Name} has no valid id.");
            result[p.Name] = id;
        }
        if (result.Count == 0) throw new InvalidDataException($"{path}: the vocabulary is empty.");
        return result;
    }
}
