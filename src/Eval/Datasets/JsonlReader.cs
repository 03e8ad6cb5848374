namespace Rag.Eval;

/// <summary>
/// Questions as JSON Lines, one {"id", "question", "answers": [...], "gold_document_ids"?: [...]} per line.
/// The corpus (lines {"_id" or "id", "title"?, "text"}) is given separately or is the corpus.jsonl beside the file.
/// </summary>
public static class JsonlReader
{
    public static async Task<EvalDataset> ReadAsync(string questionsPath, string? corpusPath = null, CancellationToken ct = default)
    {
        corpusPath ??= Path.Combine(Path.GetDirectoryName(Path.GetFullPath(questionsPath)) ?? ".", "corpus.jsonl");
        if (!File.Exists(corpusPath))
            throw new FileNotFoundException($"No corpus for {questionsPath}: expected {corpusPath} (lines {{\"_id\", \"title\", \"text\"}}) or an explicit corpus path.", corpusPath);
        if (Path.GetFullPath(corpusPath) == Path.GetFullPath(questionsPath))
            throw new ArgumentException($"{questionsPath} is the corpus itself; give the questions file.");

        var warnings = new List<DatasetWarning>();
        var corpus = await JsonLines.ReadCorpusAsync(corpusPath, warnings, ct);
        var corpusIds = corpus.Select(d => d.Id).ToHashSet(StringComparer.Ordinal);

        var questions = new List<EvalQuestion>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var (line, e) in JsonLines.ReadAsync(questionsPath, warnings, ct))
        {
            var id = JsonLines.Str(e, "id") ?? JsonLines.Str(e, "_id");
            var question = JsonLines.Str(e, "question");
            if (string.IsNullOrEmpty(id) || string.IsNullOrWhiteSpace(question))
            {
                warnings.Add(new(questionsPath, line, "needs \"id\" and a non-empty \"question\"; skipped"));
                continue;
            }
            List<string> answers, gold;
            try
            {
                answers = JsonLines.Strings(e, "answers") ?? [];
                gold = JsonLines.Strings(e, "gold_document_ids") ?? [];
            }
            catch (FormatException x)
            {
                warnings.Add(new(questionsPath, line, x.Message + "; skipped"));
                continue;
            }
            if (answers.Count == 0 && gold.Count == 0)
            {
                warnings.Add(new(questionsPath, line, "has neither answers nor gold_document_ids, so nothing can be scored; skipped"));
                continue;
            }
            if (!seen.Add(id))
            {
                warnings.Add(new(questionsPath, line, $"duplicate question id {id}; skipped"));
                continue;
            }
            var missing = gold.Where(g => !corpusIds.Contains(g)).ToList();
            if (missing.Count > 0)
                warnings.Add(new(questionsPath, line, $"gold document(s) not in the corpus: {string.Join(", ", missing.Take(5))} (kept; they can never be retrieved)"));
            questions.Add(new EvalQuestion(id, question, answers.Where(a => a.Length > 0).Distinct(StringComparer.Ordinal).ToList(), gold.Distinct(StringComparer.Ordinal).ToList()));
        }
        return new EvalDataset("jsonl:" + Path.GetFileName(questionsPath), corpus, questions, warnings);
    }
}
