using System.Text.Json;

namespace Rag.Eval;

/// <summary>Reads JSON Lines one object per line; a line that does not parse is a warning with its line number.</summary>
internal static class JsonLines
{
    public static async IAsyncEnumerable<(int Line, JsonElement Value)> ReadAsync(
        string path, List<DatasetWarning> warnings, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        using var reader = new StreamReader(path);
        var lineNumber = 0;
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonElement value;
            try
            {
                using var doc = JsonDocument.Parse(line);
                value = doc.RootElement.Clone();
            }
            catch (JsonException e)
            {
                warnings.Add(new(path, lineNumber, $"not valid JSON ({e.Message}); skipped"));
                continue;
            }
            if (value.ValueKind != JsonValueKind.Object)
            {
                warnings.Add(new(path, lineNumber, $"expected a JSON object, found {value.ValueKind}; skipped"));
                continue;
            }
            yield return (lineNumber, value);
        }
    }

    /// <summary>A string field, or a number written as text (BEIR ids are sometimes numbers).</summary>
    public static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Number => v.GetRawText(),
            _ => null,
        } : null;

    /// <summary>An array of strings; null when the field is absent; throws FormatException on a wrong shape.</summary>
    public static List<string>? Strings(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.String) return [v.GetString()!];
        if (v.ValueKind != JsonValueKind.Array) throw new FormatException($"\"{name}\" must be an array of strings");
        var list = new List<string>();
        foreach (var x in v.EnumerateArray())
        {
            if (x.ValueKind == JsonValueKind.String) list.Add(x.GetString()!);
            else if (x.ValueKind == JsonValueKind.Number) list.Add(x.GetRawText());
            else throw new FormatException($"\"{name}\" must be an array of strings");
        }
        return list;
    }

    /// <summary>Corpus lines in the BEIR shape: {"_id" (or "id"), "title"?, "text"}.</summary>
    public static async Task<List<CorpusDocument>> ReadCorpusAsync(string path, List<DatasetWarning> warnings, CancellationToken ct)
    {
        var corpus = new List<CorpusDocument>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var (line, e) in ReadAsync(path, warnings, ct))
        {
            var id = Str(e, "_id") ?? Str(e, "id");
            var text = Str(e, "text");
            if (string.IsNullOrEmpty(id) || string.IsNullOrWhiteSpace(text))
            {
                warnings.Add(new(path, line, "corpus line needs \"_id\" and a non-empty \"text\"; skipped"));
                continue;
            }
            if (!seen.Add(id))
            {
                warnings.Add(new(path, line, $"duplicate document id {id}; skipped"));
                continue;
            }
            corpus.Add(new CorpusDocument(id, Str(e, "title") ?? "", text));
        }
        return corpus;
    }
}
