using System.Text;
using System.Text.Json;

namespace Rag.Ingest;

/// <summary>
/// .json and .jsonl: every string, number and boolean as "key.path: value", so a passage says what its values
/// are ("items[2].name: Lisbon"). Each element of a top-level array and each line of a .jsonl file is one
/// record (kept whole by the chunker); nulls and empty strings are left out.
/// </summary>
public sealed class JsonExtractor(ExtractionLimits? limits = null) : ITextExtractor
{
    static readonly JsonDocumentOptions Options = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = 64 };

    public string Format => "json";
    public bool IsText => true;
    public IReadOnlyList<string> Extensions { get; } = [".json", ".jsonl", ".ndjson"];
    public IReadOnlyList<string> ContentTypes { get; } = ["application/json", "application/x-ndjson", "application/jsonl"];

    public bool Sniff(ReadOnlySpan<byte> head) => false;

    public Task<ExtractedText> ExtractAsync(byte[] content, CancellationToken ct = default)
    {
        var (source, _) = TextDecoding.Decode(content);
        var builder = new TextBuilder(limits);
        try
        {
            using var whole = TryParse(source);
            if (whole is not null)
            {
                if (whole.RootElement.ValueKind == JsonValueKind.Array)
                    foreach (var item in whole.RootElement.EnumerateArray()) Record(builder, item, "", ct); // paths within the item
                else Record(builder, whole.RootElement, "", ct);
            }
            else
            {
                // JSON Lines: one value per line; a line that is not JSON fails the file, naming the line.
                var lines = source.Split('\n');
                for (var n = 0; n < lines.Length; n++)
                {
                    if (string.IsNullOrWhiteSpace(lines[n])) continue;
                    using var line = JsonDocument.Parse(lines[n], Options);
                    Record(builder, line.RootElement, "", ct);
                }
            }
        }
        catch (JsonException e)
        {
            throw new ExtractionException($"The JSON could not be read: {e.Message}", e);
        }
        var result = builder.Build();
        if (TextDecoding.IsBlank(result.Text)) throw new ExtractionException("The JSON has no text values.");
        return Task.FromResult(result);
    }

    static JsonDocument? TryParse(string source)
    {
        try { return JsonDocument.Parse(source, Options); }
        catch (JsonException) when (source.AsSpan().Trim().IndexOf('\n') >= 0) { return null; } // perhaps JSON Lines
    }

    static void Record(TextBuilder builder, JsonElement element, string path, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var sb = new StringBuilder();
        Leaves(element, path, sb);
        builder.Record(sb.ToString());
    }

    static void Leaves(JsonElement e, string path, StringBuilder sb)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject()) Leaves(p.Value, path.Length == 0 ? p.Name : $"{path}.{p.Name}", sb);
                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in e.EnumerateArray()) Leaves(item, $"{path}[{i++}]", sb);
                break;
            case JsonValueKind.String when e.GetString() is { Length: > 0 } s && !TextDecoding.IsBlank(s):
                Leaf(sb, path, s);
                break;
            case JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False:
                Leaf(sb, path, e.GetRawText());
                break;
        }
    }

    static void Leaf(StringBuilder sb, string path, string value)
    {
        if (sb.Length > 0) sb.Append("; ");
        sb.Append(path.Length == 0 ? "value" : path).Append(": ").Append(value);
    }
}
