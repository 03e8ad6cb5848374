namespace Rag.Eval;

/// <summary>One corpus document: Id is the dataset's own id and becomes the stored document's ExternalId.</summary>
public sealed record CorpusDocument(string Id, string Title, string Text);

/// <summary>
/// One question with what counts as right: answer strings (for answer recall, EM, F1) and gold documents
/// (for recall, MRR, nDCG). GoldRelevance holds BEIR's graded judgements, parallel to GoldDocumentIds;
/// null means every gold document has relevance 1.
/// </summary>
public sealed record EvalQuestion(
    string Id,
    string Question,
    IReadOnlyList<string> Answers,
    IReadOnlyList<string> GoldDocumentIds,
    IReadOnlyList<int>? GoldRelevance = null)
{
    public bool HasAnswers => Answers.Count > 0;

    /// <summary>The graded qrels of this question: document id to relevance (> 0).</summary>
    public IReadOnlyDictionary<string, int> Qrels()
    {
        var qrels = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < GoldDocumentIds.Count; i++)
            qrels[GoldDocumentIds[i]] = GoldRelevance is null ? 1 : GoldRelevance[i];
        return qrels;
    }
}

/// <summary>A malformed or skipped input record, with where it is, so nothing is dropped silently.</summary>
public sealed record DatasetWarning(string File, int Line, string Message)
{
    public override string ToString() => Line > 0 ? $"{File}:{Line}: {Message}" : $"{File}: {Message}";
}

/// <summary>Every format is read into this one model: a corpus to ingest and the questions to ask of it.</summary>
public sealed record EvalDataset(
    string Name,
    IReadOnlyList<CorpusDocument> Corpus,
    IReadOnlyList<EvalQuestion> Questions,
    IReadOnlyList<DatasetWarning> Warnings,
    int SkippedUnanswerable = 0)
{
    /// <summary>SHA-256 (hex) of the corpus content: the same corpus always maps to the same eval tenant.</summary>
    public string CorpusHash() => ContentHash.Of(h =>
    {
        foreach (var d in Corpus) { h.Add(d.Id); h.Add(d.Title); h.Add(d.Text); }
    });

    /// <summary>SHA-256 (hex) of corpus and questions: part of the run id, so a changed file is a new run.</summary>
    public string Hash() => ContentHash.Of(h =>
    {
        h.Add(CorpusHash());
        foreach (var q in Questions)
        {
            h.Add(q.Id); h.Add(q.Question);
            h.Add(q.Answers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            foreach (var a in q.Answers) h.Add(a);
            for (var i = 0; i < q.GoldDocumentIds.Count; i++)
            {
                h.Add(q.GoldDocumentIds[i]);
                h.Add((q.GoldRelevance?[i] ?? 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    });

    /// <summary>The first <paramref name="limit"/> questions (all when null); the corpus stays whole.</summary>
    public EvalDataset Take(int? limit) =>
        limit is { } n && n < Questions.Count ? this with { Questions = Questions.Take(n).ToList() } : this;
}
