namespace Rag.Eval.Tests.Reports;

/// <summary>Small hand-made runs for report and comparison tests.</summary>
internal static class Fixtures
{
    public static QuestionResult Question(string id, int? goldRank, int? answerRank, double retrievalMs, string? generated = null) =>
        new(id, $"Question {id}?", ["Denver Broncos"], ["d1"],
            [new RetrievedItem(1, goldRank == 1 ? "d1" : "d9", "c:0", 3.5f, "Super Bowl <50>", "The Denver Broncos & the \"Panthers\"."),
             new RetrievedItem(2, "d1", "c2:0", 1.25f)],
            goldRank, answerRank, goldRank is { } r && r <= 10 ? 1.0 / r : 0, goldRank == 1 ? 1 : 0, retrievalMs, retrievalMs + 1,
            GeneratedAnswer: generated, ExactMatch: generated is null ? null : SquadText.MaxExactMatch(generated, ["Denver Broncos"]),
            F1: generated is null ? null : SquadText.MaxF1(generated, ["Denver Broncos"]), MoreDocumentIds: ["d7", "d8"]);

    public static EvalRunResult Run(string id, IReadOnlyList<QuestionResult> questions, bool generate = false, IReadOnlyList<int>? ks = null)
    {
        ks ??= [1, 5];
        return new EvalRunResult
        {
            RunId = id,
            DatasetName = "squad:test.json",
            DatasetHash = new string('a', 64),
            TenantId = "t1",
            Status = EvalRunStatus.Completed,
            Mode = "Bm25",
            Ks = ks,
            Generate = generate,
            QuestionCount = questions.Count,
            CorpusSize = 3,
            StartedAt = new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero),
            Metrics = EvalScorer.Summarize(questions, ks, generate),
            Questions = questions,
            Warnings = [new DatasetWarning("q.jsonl", 7, "not valid JSON; skipped")],
        };
    }

    public static EvalRunResult WithMetrics(string id, params (string Name, double Value, string Unit)[] metrics) =>
        Run(id, []) with { Metrics = metrics.Select(m => new MetricValue(m.Name, m.Value, 10, m.Unit != "ms" && m.Unit != "count", m.Unit)).ToList() };
}
