using System.Globalization;

namespace Rag.Eval;

/// <summary>
/// A BEIR folder: corpus.jsonl {_id, title, text}, queries.jsonl {_id, text} and qrels/&lt;split&gt;.tsv
/// (query-id, corpus-id, score; a header line). Queries without a positive judgement are not scored, as in BEIR.
/// BEIR has no answer strings, so answer recall, EM and F1 do not apply to it.
/// </summary>
public static class BeirReader
{
    public static async Task<EvalDataset> ReadAsync(string folder, string split = "test", CancellationToken ct = default)
    {
        var corpusPath = Path.Combine(folder, "corpus.jsonl");
        var queriesPath = Path.Combine(folder, "queries.jsonl");
        var qrelsPath = Path.Combine(folder, "qrels", split + ".tsv");
        foreach (var p in new[] { corpusPath, queriesPath, qrelsPath })
            if (!File.Exists(p)) throw new FileNotFoundException($"Not a BEIR folder: {p} is missing.", p);

        var warnings = new List<DatasetWarning>();
        var corpus = await JsonLines.ReadCorpusAsync(corpusPath, warnings, ct);
        var corpusIds = corpus.Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
        var qrels = await ReadQrelsAsync(qrelsPath, warnings, ct);

        var questions = new List<EvalQuestion>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var unjudged = 0;
        await foreach (var (line, e) in JsonLines.ReadAsync(queriesPath, warnings, ct))
        {
            var id = JsonLines.Str(e, "_id");
            var text = JsonLines.Str(e, "text");
            if (string.IsNullOrEmpty(id) || string.IsNullOrWhiteSpace(text))
            {
                warnings.Add(new(queriesPath, line, "query line needs \"_id\" and a non-empty \"text\"; skipped"));
                continue;
            }
            if (!seen.Add(id))
            {
                warnings.Add(new(queriesPath, line, $"duplicate query id {id}; skipped"));
                continue;
            }
            if (!qrels.TryGetValue(id, out var judged)) { unjudged++; continue; }
            var positive = judged.Where(j => j.Value > 0).ToList();
            if (positive.Count == 0) { unjudged++; continue; }
            var missing = positive.Where(j => !corpusIds.Contains(j.Key)).Select(j => j.Key).ToList();
            if (missing.Count > 0)
                warnings.Add(new(qrelsPath, 0, $"query {id}: judged document(s) not in the corpus: {string.Join(", ", missing.Take(5))} (kept; they can never be retrieved)"));
            questions.Add(new EvalQuestion(id, text, [], positive.Select(j => j.Key).ToList(), positive.Select(j => j.Value).ToList()));
        }
        if (unjudged > 0)
            warnings.Add(new(queriesPath, 0, $"{unjudged} queries have no positive judgement in {Path.GetFileName(qrelsPath)}; not scored"));
        return new EvalDataset("beir:" + Path.GetFileName(Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar)), corpus, questions, warnings);
    }

    static async Task<Dictionary<string, Dictionary<string, int>>> ReadQrelsAsync(string path, List<DatasetWarning> warnings, CancellationToken ct)
    {
        var qrels = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        using var reader = new StreamReader(path);
        var lineNumber = 0;
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var cols = line.Split('\t');
            if (lineNumber == 1 && cols.Length >= 3 && !int.TryParse(cols[2], out _)) continue; // header
            if (cols.Length != 3 || cols[0].Length == 0 || cols[1].Length == 0
                || !int.TryParse(cols[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var score))
            {
                warnings.Add(new(path, lineNumber, "expected 'query-id<TAB>corpus-id<TAB>integer score'; skipped"));
                continue;
            }
            if (!qrels.TryGetValue(cols[0], out var docs)) qrels[cols[0]] = docs = new(StringComparer.Ordinal);
            docs[cols[1]] = score;
        }
        return qrels;
    }
}
