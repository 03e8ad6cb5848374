using System.Globalization;
using System.Text.Json;

namespace Rag.Eval;

/// <summary>
/// SQuAD v1.1 / v2.0 JSON: the paragraphs are the corpus (id "&lt;article&gt;-&lt;paragraph&gt;", title = the
/// article's), each question's gold document is its own paragraph and its answers are the annotators' texts.
/// v2.0's unanswerable questions have no answer to find, so they are skipped and counted.
/// </summary>
public static class SquadReader
{
    public static async Task<EvalDataset> ReadAsync(string path, CancellationToken ct = default)
    {
        await using var stream = File.OpenRead(path);
        JsonDocument json;
        try
        {
            json = await JsonDocument.ParseAsync(stream, default, ct);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}:{(e.LineNumber ?? 0) + 1}: not valid SQuAD JSON: {e.Message}", e);
        }
        using (json)
            return Read(json.RootElement, path);
    }

    static EvalDataset Read(JsonElement root, string path)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{path}: not a SQuAD file (no top-level \"data\" array).");

        var corpus = new List<CorpusDocument>();
        var questions = new List<EvalQuestion>();
        var warnings = new List<DatasetWarning>();
        var seenQuestions = new HashSet<string>(StringComparer.Ordinal);
        var unanswerable = 0;
        var a = 0;
        foreach (var article in data.EnumerateArray())
        {
            var title = (Str(article, "title") ?? $"article {a}").Replace('_', ' ');
            var p = 0;
            foreach (var paragraph in Arr(article, "paragraphs"))
            {
                var where = $"data[{a}].paragraphs[{p}]";
                var docId = string.Create(CultureInfo.InvariantCulture, $"{a}-{p}");
                p++;
                var context = Str(paragraph, "context");
                if (string.IsNullOrWhiteSpace(context))
                {
                    warnings.Add(new(path, 0, $"{where}: no context; paragraph and its questions skipped"));
                    continue;
                }
                corpus.Add(new CorpusDocument(docId, title, context));

                var qi = 0;
                foreach (var qa in Arr(paragraph, "qas"))
                {
                    var qWhere = $"{where}.qas[{qi++}]";
                    var id = Str(qa, "id");
                    var question = Str(qa, "question");
                    if (id is null || string.IsNullOrWhiteSpace(question))
                    {
                        warnings.Add(new(path, 0, $"{qWhere}: missing id or question; skipped"));
                        continue;
                    }
                    if (qa.TryGetProperty("is_impossible", out var imp) && imp.ValueKind == JsonValueKind.True)
                    {
                        unanswerable++;
                        continue;
                    }
                    var answers = Arr(qa, "answers").Select(x => Str(x, "text")).OfType<string>()
                        .Where(t => t.Length > 0).Distinct(StringComparer.Ordinal).ToList();
                    if (answers.Count == 0)
                    {
                        warnings.Add(new(path, 0, $"{qWhere} ({id}): no answer texts; skipped"));
                        continue;
                    }
                    if (!seenQuestions.Add(id))
                    {
                        warnings.Add(new(path, 0, $"{qWhere}: duplicate question id {id}; skipped"));
                        continue;
                    }
                    questions.Add(new EvalQuestion(id, question, answers, [docId]));
                }
            }
            a++;
        }
        return new EvalDataset("squad:" + Path.GetFileName(path), corpus, questions, warnings, unanswerable);
    }

    static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    static IEnumerable<JsonElement> Arr(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray() : [];
}
