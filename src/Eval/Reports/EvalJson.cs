using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rag.Eval;

/// <summary>The JSON shapes of runs and result lines, in one place so the reader always matches the writer.</summary>
public static class EvalJson
{
    public static JsonSerializerOptions Options { get; } = Create(indented: true);

    /// <summary>One object per line (results.jsonl).</summary>
    public static JsonSerializerOptions Lines { get; } = Create(indented: false);

    static JsonSerializerOptions Create(bool indented) => new(JsonSerializerDefaults.Web)
    {
        WriteIndented = indented,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
        // Infinity / NaN cannot occur in our figures, but a report must never fail to write because of one.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The complete report: summary figures and every question.</summary>
    public static async Task WriteAsync(EvalRunResult result, string path, CancellationToken ct = default)
    {
        var tmp = path + ".tmp";
        await using (var stream = File.Create(tmp))
            await JsonSerializer.SerializeAsync(stream, result, Options, ct);
        File.Move(tmp, path, overwrite: true);
    }

    public static async Task<EvalRunResult> ReadAsync(string path, CancellationToken ct = default)
    {
        await using var stream = File.OpenRead(path);
        return await JsonSerializer.DeserializeAsync<EvalRunResult>(stream, Options, ct)
            ?? throw new InvalidDataException($"{path} holds no eval run.");
    }

    /// <summary>The run without its per-question rows: what the store keeps as the run's result JSON.</summary>
    public static string SummaryJson(EvalRunResult result) => JsonSerializer.Serialize(result with { Questions = [] }, Options);

    public static EvalRunResult FromSummaryJson(string json) =>
        JsonSerializer.Deserialize<EvalRunResult>(json, Options) ?? throw new InvalidDataException("The stored eval result is empty.");
}
