using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Rag.Retriever;
using Rag.Storage;

namespace Rag.Eval;

/// <summary>A run ready to go: its id (from dataset and options), its tenant and its folder; the run record exists.</summary>
public sealed record PreparedEvalRun(string RunId, string TenantId, string OwnerTenantId, RetrievalMode Mode, EvalDataset Dataset, EvalRunOptions Options, string Directory);

/// <summary>
/// The batch harness: ingests a dataset's corpus into its own tenant ("eval:&lt;corpus hash&gt;", reused while the
/// corpus is unchanged), asks every question through the chat's retriever (and answerer with Generate), appends
/// each question's result to &lt;OutputDirectory&gt;/&lt;runId&gt;/results.jsonl, and scores and reports the run.
/// The run id is derived from the dataset's content and the options, so the same command resumes a stopped run.
/// </summary>
public sealed class EvalRunner(IRagStore store, IRetriever retriever, IEvalCorpusIndexer indexer, IEvalAnswerer? answerer = null)
{
    public const string ResultsFileName = "results.jsonl";
    public const string JsonReportName = "report.json";
    public const string MarkdownReportName = "report.md";
    public const string HtmlReportName = "report.html";

    // One invocation per run folder in this process (another process is kept out by the results file's lock).
    // Keyed by the folder, not the run id: the same run id under two output folders is two independent runs.
    static readonly ConcurrentDictionary<string, byte> Active = new(StringComparer.Ordinal);

    public Task<EvalRunResult> RunAsync(EvalRunOptions options, IProgress<EvalProgress>? progress = null, CancellationToken ct = default) =>
        RunCoreAsync(options, progress, ct);

    async Task<EvalRunResult> RunCoreAsync(EvalRunOptions options, IProgress<EvalProgress>? progress, CancellationToken ct)
    {
        var run = await PrepareAsync(options, progress, ct);
        return await RunAsync(run, progress, ct);
    }

    /// <summary>Loads the dataset, fixes the run id and tenant, and records the run as Running (so it can be polled at once).</summary>
    public async Task<PreparedEvalRun> PrepareAsync(EvalRunOptions options, IProgress<EvalProgress>? progress = null, CancellationToken ct = default)
    {
        options.Validate();
        var mode = EffectiveMode(options.Mode);
        progress?.Report(new EvalProgress(EvalPhase.Loading, 0, 1, $"Reading {options.DatasetSpec}"));
        var dataset = (await DatasetLoader.LoadAsync(options.DatasetSpec, options.CorpusPath, ct)).Take(options.Limit);
        if (dataset.Questions.Count == 0) throw new InvalidDataException($"{options.DatasetSpec} has no question to ask ({dataset.Warnings.Count} warnings).");
        if (dataset.Corpus.Count == 0) throw new InvalidDataException($"{options.DatasetSpec} has an empty corpus.");

        var runId = RunIdFor(dataset, options, mode);
        var tenant = await EnsureTenantAsync("eval:" + dataset.CorpusHash()[..16], ct);
        var owner = options.OwnerTenantId ?? tenant.Id;
        var directory = Path.Combine(options.OutputDirectory, runId);
        Directory.CreateDirectory(directory);

        var now = DateTimeOffset.UtcNow;
        var config = JsonSerializer.Serialize(new { options.DatasetSpec, options.CorpusPath, options.Limit, options.Ks, Mode = mode.ToString(), options.Generate, options.GenerateTopK, options.Concurrency, DatasetHash = dataset.Hash() }, EvalJson.Options);
        await RecordRunningAsync(new EvalRunRecord(runId, owner, dataset.Name, nameof(EvalRunStatus.Running), config, null, 0, null, now, now), ct);
        progress?.Report(new EvalProgress(EvalPhase.Loading, 1, 1, $"{dataset.Name}: {dataset.Corpus.Count} documents, {dataset.Questions.Count} questions"));
        return new PreparedEvalRun(runId, tenant.Id, owner, mode, dataset, options, directory);
    }

    /// <summary>Creates the run's record, or marks the existing one Running again (a resumed or repeated run).</summary>
    async Task RecordRunningAsync(EvalRunRecord record, CancellationToken ct)
    {
        var existing = await store.EvalRuns.GetAsync(record.TenantId, record.Id, ct);
        if (existing is null)
        {
            try
            {
                await store.EvalRuns.CreateAsync(record, ct);
                return;
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                // Another process (or a concurrent start in this one) may have created it since we looked.
                existing = await store.EvalRuns.GetAsync(record.TenantId, record.Id, ct)
                    ?? throw new InvalidOperationException($"Eval run {record.Id} could not be recorded; start it again.", e);
            }
        }
        await store.EvalRuns.UpdateAsync(existing with { Status = record.Status, ConfigJson = record.ConfigJson, Error = null, UpdatedAt = record.UpdatedAt }, ct);
    }

    /// <summary>Ingests (or reuses) the corpus, asks the questions not yet answered, scores and writes the reports.</summary>
    /// <exception cref="InvalidOperationException">The run's folder is in use by another run (in this process or another).</exception>
    /// <exception cref="InvalidDataException">Two questions share an id (the readers skip duplicates; a hand-built dataset may not).</exception>
    public async Task<EvalRunResult> RunAsync(PreparedEvalRun run, IProgress<EvalProgress>? progress = null, CancellationToken ct = default)
    {
        var directory = Path.GetFullPath(run.Directory);
        if (!Active.TryAdd(directory, 0))
            throw new InvalidOperationException($"Eval run {run.RunId} is already running in this process (writing {directory}).");
        var status = new StatusWriter(store, run);
        var tracker = new ProgressTracker(progress, status);
        try
        {
            Directory.CreateDirectory(directory);
            // Held for the whole run, reports included; taken before the record is touched.
            var (file, resumed) = await ResultsFile.OpenAsync(Path.Combine(directory, ResultsFileName), ct);
            await using (file)
            {
                EvalRunResult result;
                // Stopped before the final write, so a late progress write cannot put "Running" back over the outcome.
                using (status.Start(ct))
                    result = await ExecuteAsync(run, file, resumed, tracker, ct);
                await status.FinishAsync(EvalRunStatus.Completed, EvalJson.SummaryJson(result), null);
                tracker.Report(new EvalProgress(EvalPhase.Done, 1, 1, "Done"));
                return result;
            }
        }
        catch (ResultsFileInUseException)
        {
            throw; // the record is the live run's, in the process that holds the file: leave it alone
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await status.FinishAsync(EvalRunStatus.Cancelled, null, "Stopped before the end; the same command resumes it.");
            throw;
        }
        catch (Exception e)
        {
            await status.FinishAsync(EvalRunStatus.Failed, null, e.Message);
            throw;
        }
        finally
        {
            Active.TryRemove(directory, out _);
        }
    }

    async Task<EvalRunResult> ExecuteAsync(PreparedEvalRun run, ResultsFile file, IReadOnlyDictionary<string, QuestionResult> resumed, ProgressTracker progress, CancellationToken ct)
    {
        var options = run.Options;
        var questions = run.Dataset.Questions;
        RequireUniqueIds(run.Dataset);
        var started = DateTimeOffset.UtcNow;
        var ingestClock = Stopwatch.StartNew();
        var corpus = await indexer.EnsureIndexedAsync(run.TenantId, run.Dataset.Corpus, progress, ct);
        var ingestSeconds = ingestClock.Elapsed.TotalSeconds;

        // One slot per question, in dataset order: each worker writes only its own question's slot, so nothing
        // shared is mutated concurrently (a Dictionary filled by the workers lost entries under load).
        var results = new QuestionResult?[questions.Count];
        var todo = new List<int>();
        for (var i = 0; i < questions.Count; i++)
        {
            if (resumed.TryGetValue(questions[i].Id, out var earlier)) results[i] = earlier;
            else todo.Add(i);
        }
        var questionClock = Stopwatch.StartNew();
        var asked = 0;
        var total = questions.Count;
        var completed = total - todo.Count;
        progress.Report(new EvalProgress(EvalPhase.Questions, completed, total, Describe(completed, total)));
        await Parallel.ForEachAsync(todo, new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = ct }, async (i, token) =>
        {
            var result = await AskAsync(run, questions[i], corpus, token);
            await file.AppendAsync(result, token);
            results[i] = result;
            Interlocked.Increment(ref asked);
            var n = Interlocked.Increment(ref completed);
            progress.Report(new EvalProgress(EvalPhase.Questions, n, total, Describe(n, total)));
        });
        var questionSeconds = questionClock.Elapsed.TotalSeconds;

        progress.Report(new EvalProgress(EvalPhase.Reporting, 0, 1, "Writing reports"));
        // Every slot is filled: ForEachAsync returns only once every question it was given has been answered.
        var answered = results.Select(r => r!).ToList();
        var foreign = resumed.Count - (questions.Count - todo.Count);
        List<DatasetWarning> fileWarnings = foreign > 0
            ? [new(ResultsFileName, 0, $"{foreign} result(s) for question ids not in this dataset were ignored")]
            : [];
        double? qps = asked > 0 && questionSeconds > 0 ? asked / questionSeconds : null;
        var result = new EvalRunResult
        {
            RunId = run.RunId,
            DatasetName = run.Dataset.Name,
            DatasetHash = run.Dataset.Hash(),
            TenantId = run.TenantId,
            Status = EvalRunStatus.Completed,
            Mode = run.Mode.ToString(),
            Ks = options.Ks.Distinct().Order().ToList(),
            Generate = options.Generate,
            QuestionCount = questions.Count,
            CorpusSize = run.Dataset.Corpus.Count,
            SkippedUnanswerable = run.Dataset.SkippedUnanswerable,
            StartedAt = started,
            CompletedAt = DateTimeOffset.UtcNow,
            QuestionSeconds = questionSeconds,
            IngestSeconds = ingestSeconds,
            Metrics = EvalScorer.Summarize(answered, options.Ks, options.Generate, qps),
            Warnings = [.. run.Dataset.Warnings, .. corpus.Problems, .. fileWarnings],
            Questions = answered,
            Directory = run.Directory,
        };
        await EvalReports.WriteAllAsync(result, run.Directory, ct);
        progress.Report(new EvalProgress(EvalPhase.Reporting, 1, 1, "Reports written"));
        return result;
    }

    /// <summary>Results are keyed by question id (results.jsonl, resume), so an id asked twice would be scored once and counted twice.</summary>
    static void RequireUniqueIds(EvalDataset dataset)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var q in dataset.Questions)
            if (!seen.Add(q.Id))
                throw new InvalidDataException($"{dataset.Name}: question id '{q.Id}' appears more than once; every question needs its own id.");
    }

    static string Describe(int n, int total) => string.Create(CultureInfo.InvariantCulture, $"Questions {n}/{total}");

    async Task<QuestionResult> AskAsync(PreparedEvalRun run, EvalQuestion q, IndexedCorpus corpus, CancellationToken ct)
    {
        q = corpus.Aliases.Count == 0 ? q : q with { GoldDocumentIds = q.GoldDocumentIds.Select(g => corpus.Aliases.GetValueOrDefault(g, g)).ToList() };
        var options = run.Options;
        var clock = Stopwatch.StartNew();
        IReadOnlyList<RetrievedPassage> passages;
        try
        {
            passages = (await retriever.RetrieveAsync(new RetrievalRequest(q.Question, new SearchFilter(run.TenantId), options.MaxK, run.Mode), ct)).Passages;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Score(q, [], [], clock.Elapsed.TotalMilliseconds, clock.Elapsed.TotalMilliseconds) with { Error = "retrieval: " + e.Message };
        }
        var retrievalMs = clock.Elapsed.TotalMilliseconds;

        var docs = passages.Select(p => corpus.StoredToCorpus.GetValueOrDefault(p.Chunk.DocumentId, p.Chunk.DocumentId)).ToList();
        var texts = passages.Select(p => p.Chunk.Text).ToList();
        var shown = Math.Min(options.PassagesWithText, passages.Count);
        var items = passages.Take(shown).Select((p, i) => new RetrievedItem(i + 1, docs[i], p.Chunk.Id, p.Score, p.DocumentTitle, p.Chunk.Text)).ToList();
        QuestionResult Scored() => Score(q, docs, texts, retrievalMs, clock.Elapsed.TotalMilliseconds) with
        {
            Retrieved = items,
            MoreDocumentIds = docs.Count > shown ? docs.Skip(shown).ToList() : null,
        };
        if (!options.Generate) return Scored();

        if (answerer is null) throw new InvalidOperationException("Generate was asked for, but the harness has no answerer.");
        var top = passages.Take(options.GenerateTopK).ToList();
        var genClock = Stopwatch.StartNew();
        EvalAnswer answer;
        try
        {
            answer = await answerer.AnswerAsync(q.Question, top, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Scored() with { Error = "generation: " + e.Message };
        }
        var generationMs = genClock.Elapsed.TotalMilliseconds;
        return Scored() with
        {
            GeneratedAnswer = answer.Text,
            CitedNumbers = answer.CitedNumbers,
            ExactMatch = q.HasAnswers ? SquadText.MaxExactMatch(answer.Text, q.Answers) : null,
            F1 = q.HasAnswers ? SquadText.MaxF1(answer.Text, q.Answers) : null,
            CitationPrecision = q.HasAnswers ? AnswerMetrics.CitationPrecision(answer.CitedNumbers, top.Select(p => p.Chunk.Text).ToList(), q.Answers) : null,
            GeneratedTokens = answer.TokenCount,
            GenerationMs = generationMs,
        };
    }

    /// <summary>
    /// The retrieval side of a question's result from its ranked passages (their corpus ids and texts): first gold
    /// and answer ranks, RR@10 and nDCG@10. Retrieved is left empty for the caller to fill.
    /// </summary>
    public static QuestionResult Score(EvalQuestion q, IReadOnlyList<string> docs, IReadOnlyList<string> passageTexts, double retrievalMs, double endToEndMs)
    {
        var gold = q.GoldDocumentIds.ToHashSet(StringComparer.Ordinal);
        int? answerRank = null;
        if (q.HasAnswers)
        {
            var normalizedAnswers = q.Answers.Select(SquadText.Normalize).ToList();
            answerRank = RetrievalMetrics.FirstRank(passageTexts, t => SquadText.ContainsNormalizedAnswer(" " + SquadText.Normalize(t) + " ", normalizedAnswers));
        }
        return new QuestionResult(q.Id, q.Question, q.Answers, q.GoldDocumentIds, [],
            gold.Count > 0 ? RetrievalMetrics.FirstRank(docs, gold.Contains) : null,
            answerRank,
            gold.Count > 0 ? RetrievalMetrics.ReciprocalRank(docs, gold, 10) : 0,
            gold.Count > 0 ? RetrievalMetrics.Ndcg(docs, q.Qrels(), 10) : 0,
            retrievalMs, endToEndMs);
    }

    /// <summary>"eval-" and 16 hex digits of SHA-256 over the dataset's content, every option that changes results, and the owning tenant when one is given.</summary>
    public static string RunIdFor(EvalDataset dataset, EvalRunOptions options, RetrievalMode mode) =>
        "eval-" + ContentHash.Of(h =>
        {
            h.Add(dataset.Hash());
            h.Add(string.Join(",", options.Ks.Distinct().Order()));
            h.Add(mode.ToString());
            h.Add(options.Generate ? "generate:" + options.GenerateTopK.ToString(CultureInfo.InvariantCulture) : "retrieve");
            h.Add(options.PassagesWithText.ToString(CultureInfo.InvariantCulture));
            // Ids are unique across tenants: a run owned by a tenant (started over HTTP) is its own, never another's same run.
            if (options.OwnerTenantId is { } owner) h.Add("owner:" + owner);
        })[..16];

    /// <summary>Null means what the chat uses: hybrid with a question encoder, BM25 without. Asking for dense retrieval without an encoder is an error, not a silent BM25 run.</summary>
    RetrievalMode EffectiveMode(RetrievalMode? requested)
    {
        if (requested is null) return retriever.HasDenseEncoder ? RetrievalMode.Hybrid : RetrievalMode.Bm25;
        if (requested != RetrievalMode.Bm25 && !retriever.HasDenseEncoder)
            throw new InvalidOperationException($"Mode {requested} needs a question encoder and none is configured; use mode bm25 or configure the encoders.");
        return requested.Value;
    }

    async Task<Tenant> EnsureTenantAsync(string name, CancellationToken ct)
    {
        if (await store.Tenants.FindTenantByNameAsync(name, ct) is { } existing) return existing;
        try
        {
            return await store.Tenants.CreateTenantAsync(name, ct);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            // Another run on the same corpus may have created it first; anything else is rethrown.
            var found = await store.Tenants.FindTenantByNameAsync(name, ct);
            if (found is null) throw;
            return found;
        }
    }

    /// <summary>A stored run's report: by run id under the output folder, or a report.json / run folder path.</summary>
    public static Task<EvalRunResult> LoadReportAsync(string runIdOrPath, string outputDirectory, CancellationToken ct = default)
    {
        if (File.Exists(runIdOrPath)) return EvalJson.ReadAsync(runIdOrPath, ct);
        foreach (var candidate in new[] { Path.Combine(runIdOrPath, JsonReportName), Path.Combine(outputDirectory, runIdOrPath, JsonReportName) })
            if (File.Exists(candidate)) return EvalJson.ReadAsync(candidate, ct);
        throw new FileNotFoundException($"No eval run '{runIdOrPath}': looked for {Path.Combine(outputDirectory, runIdOrPath, JsonReportName)}.");
    }
}
