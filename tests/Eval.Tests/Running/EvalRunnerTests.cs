using Rag.Retriever;
using Rag.Storage.Sqlite;
using Rag.Testing;

namespace Rag.Eval.Tests.Running;

public class EvalRunnerTests
{
    [Fact]
    public async Task A_run_scores_every_question_writes_reports_and_stores_the_run()
    {
        using var dir = new TempDir();
        var questions = await TinyDataset.WriteAsync(dir.Path);
        await using var store = await SqliteRagStore.OpenAsync(Path.Combine(dir.Path, "data"));
        var runner = new EvalRunner(store, new FakeRetriever(), new FakeIndexer());
        var progress = new ListProgress();

        var result = await runner.RunAsync(Options(dir.Path, questions), progress);

        Assert.Equal(5, result.Questions.Count);
        Assert.Equal("Bm25", result.Mode);
        // q1..q4 rank their gold first; q5's retrieval failed; its gold is not in the corpus anyway
        Assert.Equal(0.8, result.Metric("Recall@1")!.Value, 12);
        Assert.Equal(0.8, result.Metric("AnswerRecall@1")!.Value, 12);
        Assert.Equal(1, result.Metric("Errors")!.Value);
        Assert.StartsWith("retrieval: index unavailable", result.Questions[4].Error);
        Assert.Equal(["paris", "rome", "berlin", "madrid"], result.Questions[0].RankedDocumentIds);
        Assert.Equal(3, result.Questions[0].Retrieved.Count); // PassagesWithText, the rest as ids only
        Assert.Equal("Paris is the capital of France.", result.Questions[0].Retrieved[0].Text);
        Assert.Contains(result.Warnings, w => w.Line == 6 && w.File == questions);
        foreach (var name in new[] { "results.jsonl", "report.json", "report.md", "report.html" })
            Assert.True(File.Exists(Path.Combine(dir.Path, "runs", result.RunId, name)), name);

        var record = await store.EvalRuns.GetAsync(result.TenantId, result.RunId);
        Assert.NotNull(record);
        Assert.Equal("Completed", record.Status);
        Assert.Equal(1, record.Progress);
        Assert.Equal(result.Metrics, EvalJson.FromSummaryJson(record.ResultJson!).Metrics);

        var last = progress.Items.Last(p => p.Phase == EvalPhase.Questions);
        Assert.Equal((5, 5), (last.Completed, last.Total));
        Assert.Equal(EvalPhase.Done, progress.Items[^1].Phase);
    }

    [Fact]
    public async Task A_stopped_run_resumes_where_it_stopped()
    {
        using var dir = new TempDir();
        var questions = await TinyDataset.WriteAsync(dir.Path);
        await using var store = await SqliteRagStore.OpenAsync(Path.Combine(dir.Path, "data"));
        using var cts = new CancellationTokenSource();
        var first = new FakeRetriever { CancelAfter = 2, ToCancel = cts };
        var options = Options(dir.Path, questions) with { Concurrency = 1 };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new EvalRunner(store, first, new FakeIndexer()).RunAsync(options, null, cts.Token));

        var run = await new EvalRunner(store, new FakeRetriever(), new FakeIndexer()).PrepareAsync(options);
        var resultsPath = Path.Combine(run.Directory, EvalRunner.ResultsFileName);
        Assert.Equal(2, File.ReadAllLines(resultsPath).Length);
        var stopped = await store.EvalRuns.GetAsync(run.OwnerTenantId, run.RunId);
        Assert.Equal("Running", stopped!.Status); // PrepareAsync marked it running again
        var second = new FakeRetriever();

        var result = await new EvalRunner(store, second, new FakeIndexer()).RunAsync(run);

        Assert.Equal(3, second.Calls); // only the questions not yet answered
        Assert.Equal(["q1", "q2", "q3", "q4", "q5"], result.Questions.Select(q => q.QuestionId));
        Assert.Equal(5, File.ReadAllLines(resultsPath).Length);
        Assert.Equal(0.8, result.Metric("Recall@1")!.Value, 12);
    }

    [Fact]
    public async Task Cancelling_records_the_run_as_cancelled()
    {
        using var dir = new TempDir();
        var questions = await TinyDataset.WriteAsync(dir.Path);
        await using var store = await SqliteRagStore.OpenAsync(Path.Combine(dir.Path, "data"));
        using var cts = new CancellationTokenSource();
        var runner = new EvalRunner(store, new FakeRetriever { CancelAfter = 1, ToCancel = cts }, new FakeIndexer());
        var run = await runner.PrepareAsync(Options(dir.Path, questions) with { Concurrency = 1 });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runner.RunAsync(run, null, cts.Token));
        var record = await store.EvalRuns.GetAsync(run.OwnerTenantId, run.RunId);
        Assert.Equal("Cancelled", record!.Status);
        Assert.Contains("resumes", record.Error);
    }

    [Fact]
    public async Task The_run_id_follows_dataset_and_options_but_not_concurrency()
    {
        using var dir = new TempDir();
        var questions = await TinyDataset.WriteAsync(dir.Path);
        await using var store = await SqliteRagStore.OpenAsync(Path.Combine(dir.Path, "data"));
        var runner = new EvalRunner(store, new FakeRetriever(hasDenseEncoder: true), new FakeIndexer());
        var baseOptions = Options(dir.Path, questions);
        var id = (await runner.PrepareAsync(baseOptions)).RunId;

        Assert.Matches("^eval-[0-9a-f]{16}$", id);
        Assert.Equal(id, (await runner.PrepareAsync(baseOptions with { Concurrency = 7 })).RunId);
        Assert.NotEqual(id, (await runner.PrepareAsync(baseOptions with { Ks = [1, 2] })).RunId);
        Assert.NotEqual(id, (await runner.PrepareAsync(baseOptions with { Limit = 2 })).RunId);
        Assert.NotEqual(id, (await runner.PrepareAsync(baseOptions with { Mode = RetrievalMode.Dense })).RunId);
        Assert.NotEqual(id, (await runner.PrepareAsync(baseOptions with { Generate = true })).RunId);
        var tenants = await store.Tenants.ListTenantsAsync();
        Assert.Single(tenants, t => t.Name.StartsWith("eval:")); // every run on this corpus shares its tenant
    }

    [Fact]
    public async Task Dense_mode_without_an_encoder_is_refused_and_null_mode_means_what_the_chat_uses()
    {
        using var dir = new TempDir();
        var questions = await TinyDataset.WriteAsync(dir.Path);
        await using var store = await SqliteRagStore.OpenAsync(Path.Combine(dir.Path, "data"));
        var runner = new EvalRunner(store, new FakeRetriever(), new FakeIndexer());
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => runner.PrepareAsync(Options(dir.Path, questions) with { Mode = RetrievalMode.Dense }));
        Assert.Contains("encoder", e.Message);
        Assert.Equal(RetrievalMode.Bm25, (await runner.PrepareAsync(Options(dir.Path, questions) with { Mode = null })).Mode);
        var dense = new EvalRunner(store, new FakeRetriever(hasDenseEncoder: true), new FakeIndexer());
        Assert.Equal(RetrievalMode.Hybrid, (await dense.PrepareAsync(Options(dir.Path, questions) with { Mode = null })).Mode);
    }

    [Fact]
    public async Task Generate_scores_answers_and_citations()
    {
        using var dir = new TempDir();
        var questions = await TinyDataset.WriteAsync(dir.Path);
        await using var store = await SqliteRagStore.OpenAsync(Path.Combine(dir.Path, "data"));
        var runner = new EvalRunner(store, new FakeRetriever(), new FakeIndexer(), new FakeAnswerer());

        var result = await runner.RunAsync(Options(dir.Path, questions) with { Generate = true, GenerateTopK = 2, Limit = 4 });

        // each answer is the top passage's first word (the right city): EM 1; cites [1] (right) and [2] (wrong)
        Assert.Equal(1, result.Metric("EM")!.Value, 12);
        Assert.Equal(1, result.Metric("F1")!.Value, 12);
        Assert.Equal(0.5, result.Metric("CitationPrecision")!.Value, 12);
        var seconds = result.Questions.Sum(q => q.GenerationMs!.Value) / 1000;
        Assert.Equal(16 / seconds, result.Metric("TokensPerSecond")!.Value, 6); // 4 answers of 4 tokens over the measured generation time
        Assert.NotNull(result.Metric("GenerationP50ms"));
        Assert.All(result.Questions, q => Assert.Equal(4, q.GeneratedTokens));
    }

    [Fact]
    public async Task Generate_through_the_chats_answerer_extractive_without_a_model()
    {
        using var dir = new TempDir();
        var questions = await TinyDataset.WriteAsync(dir.Path);
        await using var store = await SqliteRagStore.OpenAsync(Path.Combine(dir.Path, "data"));
        var answerer = new GroundedEvalAnswerer(new Rag.Generator.GroundedAnswerer(null, Rag.Generator.AnswerMode.Extractive, new Rag.Generator.GeneratorOptions(), null));
        var runner = new EvalRunner(store, new FakeRetriever(), new FakeIndexer(), answerer);

        var result = await runner.RunAsync(Options(dir.Path, questions) with { Generate = true, GenerateTopK = 2, Limit = 4 });

        Assert.Equal(0, result.Metric("Errors")!.Value);
        Assert.All(result.Questions, q => Assert.False(string.IsNullOrWhiteSpace(q.GeneratedAnswer)));
        // The quoted sentence holds the city among other words: not an exact match, but token overlap.
        Assert.InRange(result.Metric("F1")!.Value, 0.1, 1);
        Assert.InRange(result.Metric("CitationPrecision")!.Value, 0, 1);
        Assert.Equal(0, result.Questions.Sum(q => q.GeneratedTokens)); // extractive answers generate no tokens
    }

    static EvalRunOptions Options(string dir, string questions) => new()
    {
        DatasetSpec = "jsonl:" + questions,
        Ks = [1, 2, 4],
        Mode = RetrievalMode.Bm25,
        Concurrency = 2,
        OutputDirectory = Path.Combine(dir, "runs"),
    };
}
