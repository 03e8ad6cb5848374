using System.Text.Json.Serialization;
using Rag.Retriever;

namespace Rag.Eval;

/// <summary>One of the first retrieved passages as recorded (with its text, for the reports); DocumentId is the dataset's corpus id.</summary>
public sealed record RetrievedItem(int Rank, string DocumentId, string ChunkId, float Score, string? Title = null, string? Text = null);

/// <summary>
/// Everything measured for one question; one line of the run's results.jsonl. Ranks are 1-based over the
/// retrieved passages (null: not within the k retrieved). The ranking metrics that need the qrels are
/// computed when the line is written, so the line alone is enough to score the question. Retrieved holds the
/// first few passages in full; MoreDocumentIds the documents of the rest, in rank order (kept short: at k = 100
/// over 10,000 questions, full passages would make a results file of gigabytes).
/// </summary>
public sealed record QuestionResult(
    string QuestionId,
    string Question,
    IReadOnlyList<string> Answers,
    IReadOnlyList<string> GoldDocumentIds,
    IReadOnlyList<RetrievedItem> Retrieved,
    int? FirstGoldRank,
    int? FirstAnswerRank,
    double ReciprocalRank10,
    double Ndcg10,
    double RetrievalMs,
    double EndToEndMs,
    string? GeneratedAnswer = null,
    IReadOnlyList<int>? CitedNumbers = null,
    double? ExactMatch = null,
    double? F1 = null,
    double? CitationPrecision = null,
    int GeneratedTokens = 0,
    double? GenerationMs = null,
    string? Error = null,
    IReadOnlyList<string>? MoreDocumentIds = null)
{
    /// <summary>The corpus id of every retrieved passage, in rank order.</summary>
    [JsonIgnore] public IEnumerable<string> RankedDocumentIds => Retrieved.Select(r => r.DocumentId).Concat(MoreDocumentIds ?? []);

    [JsonIgnore] public bool HasGold => GoldDocumentIds.Count > 0;
    [JsonIgnore] public bool HasAnswers => Answers.Count > 0;
}

/// <summary>
/// One summary figure. Name is what the summary text prints ("Recall@20"); Count is how many questions it
/// is averaged over; HigherIsBetter tells the comparer which way a regression goes.
/// </summary>
public sealed record MetricValue(string Name, double Value, int Count, bool HigherIsBetter, string Unit = "");

public enum EvalRunStatus { Running, Completed, Failed, Cancelled }

/// <summary>What the harness was asked to do; everything but Concurrency and OutputDirectory goes into the run id.</summary>
public sealed record EvalRunOptions
{
    /// <summary>"squad:PATH", "jsonl:PATH" or "beir:DIR[#split]".</summary>
    public required string DatasetSpec { get; init; }

    /// <summary>For jsonl: the corpus file when it is not corpus.jsonl beside the questions.</summary>
    public string? CorpusPath { get; init; }

    /// <summary>Ask only the first N questions (the whole corpus is still ingested).</summary>
    public int? Limit { get; init; }

    /// <summary>The cut-offs reported for Recall@k and AnswerRecall@k; the largest is how many passages are retrieved.</summary>
    public IReadOnlyList<int> Ks { get; init; } = [1, 5, 20, 100];

    /// <summary>Null: what the chat uses (hybrid with a question encoder, BM25 without).</summary>
    public RetrievalMode? Mode { get; init; }

    /// <summary>Also generate an answer per question (EM, F1, citation precision, generation latency).</summary>
    public bool Generate { get; init; }

    /// <summary>How many passages the generator is given (the first of the retrieved ones).</summary>
    public int GenerateTopK { get; init; } = 5;

    /// <summary>Questions in flight at once; defaults to the processor count.</summary>
    public int Concurrency { get; init; } = Environment.ProcessorCount;

    /// <summary>Where runs live: each run gets &lt;OutputDirectory&gt;/&lt;runId&gt;/ (results.jsonl and the reports).</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>The tenant the run record belongs to (who may see it over HTTP); defaults to the eval tenant.</summary>
    public string? OwnerTenantId { get; init; }

    /// <summary>How many of the retrieved passages per question are recorded in full (text, title, score) for the reports.</summary>
    public int PassagesWithText { get; init; } = 3;

    public int MaxK => Ks.Max();

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(DatasetSpec)) throw new ArgumentException("A dataset is required (squad:PATH, jsonl:PATH or beir:DIR).");
        if (Ks.Count == 0 || Ks.Any(k => k < 1)) throw new ArgumentException("Every k must be at least 1.");
        if (Limit is < 1) throw new ArgumentException("Limit must be at least 1.");
        if (Concurrency < 1) throw new ArgumentException("Concurrency must be at least 1.");
        if (GenerateTopK < 1) throw new ArgumentException("GenerateTopK must be at least 1.");
        if (string.IsNullOrWhiteSpace(OutputDirectory)) throw new ArgumentException("An output directory is required.");
    }
}

/// <summary>A finished (or stopped) run: its identity, the summary figures and every question's result.</summary>
public sealed record EvalRunResult
{
    public required string RunId { get; init; }
    public required string DatasetName { get; init; }
    public required string DatasetHash { get; init; }
    public required string TenantId { get; init; }
    public required EvalRunStatus Status { get; init; }
    public required string Mode { get; init; }
    public string? ModeNotice { get; init; }
    public required IReadOnlyList<int> Ks { get; init; }
    public required bool Generate { get; init; }
    public required int QuestionCount { get; init; }
    public int CorpusSize { get; init; }
    public int SkippedUnanswerable { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>Seconds spent asking questions in this invocation (not ingest).</summary>
    public double QuestionSeconds { get; init; }
    public double IngestSeconds { get; init; }
    public required IReadOnlyList<MetricValue> Metrics { get; init; }
    public IReadOnlyList<DatasetWarning> Warnings { get; init; } = [];
    public IReadOnlyList<QuestionResult> Questions { get; init; } = [];

    /// <summary>The run's folder (results.jsonl, report.json, report.md, report.html); null when not written.</summary>
    public string? Directory { get; init; }

    public MetricValue? Metric(string name) => Metrics.FirstOrDefault(m => m.Name == name);
}
