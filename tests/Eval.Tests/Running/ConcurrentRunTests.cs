using Rag.Retriever;
using Rag.Storage.Sqlite;
using Rag.Testing;

namespace Rag.Eval.Tests.Running;

/// <summary>
/// Questions answered in parallel, and several runs at once in one process or sharing a folder or a run id:
/// what the eval benchmark does when it starts several runs against one data folder.
/// </summary>
public class ConcurrentRunTests
{
    [Fact]
    public async Task Many_questions_answered_in_parallel_all_reach_the_report()
    {
        // The harness once kept answered questions in a plain Dictionary filled by the parallel workers. It lost
        // entries when two workers added at once (most often while it grew), and the report's lookup then threw
        // KeyNotFoundException after every question had been answered. A race, so this test makes it likely rather
        // than certain: on the shared 2-core dev box the old code failed 5 of 6 attempts (3 KeyNotFoundException, 2
        // "concurrent update" InvalidOperationException from the Dictionary itself).
        using var dir = new TempDir();
        await TinyDataset.WriteAsync(dir.Path);
        var questions = Path.Combine(dir.Path, "many.jsonl");
        string[] countries = ["France", "Italy", "Germany", "Spain"];
        const int N = 10_000;
        await File.WriteAllLinesAsync(questions, Enumerable.Range(0, N).Select(i =>
            $$"""{"id": "q{{i}}", "question": "capital of {{countries[i % 4]}}", "gold_document_ids": ["paris"]}"""));
        await using var store = await SqliteRagStore.OpenAsync(Path.Combine(dir.Path, "data"));

        for (var round = 0; round < 4; round++)
        {
            var runner = new EvalRunner(store, new FakeRetriever { Spin = 200 }, new FakeIndexer());
            var result = await runner.RunAsync(Options(dir.Path, questions) with
            {
                Ks = [1],
                Concurrency = 16,
                PassagesWithText = 1,
                OutputDirectory = Path.Combine(dir.Path, "runs" + round),
            });

            Assert.Equal(Enumerable.Range(0, N).Select(i => $"q{i}"), result.Questions.Select(q => q.QuestionId));
            Assert.Equal(0.25, result.Metric("Recall@1")!.Value, 12); // the France questions rank paris first
            Assert.Equal(N, File.ReadAllLines(Path.Combine(result.Directory!, EvalRunner.ResultsFileName)).Length);
        }
    }

    [Fact]
    public async Task The_same_run_id_in_two_output_folders_runs_side_by_side()
    {
        // Two hosts in one process (each its own data and output folder) run the same dataset: the same run id,
        // but nothing shared. The in-process guard once keyed on the run id alone and refused the second.
        using var dir = new TempDir();
        var questions = await TinyDataset.WriteAsync(dir.Path);
        await using var storeA = await SqliteRagStore.OpenAsync(Path.Combine(dir.Path, "dataA"));
        await using var storeB = await SqliteRagStore.OpenAsync(Path.Combine(dir.Path, "dataB"));
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var retrieverA = new GatedRetriever(release.Task);
        var retrieverB = new GatedRetriever(release.Task);
        var optionsA = Options(dir.Path, questions) with { OutputDirectory = Path.Combine(dir.Path, "runsA") };
        var optionsB = Options(dir.Path, questions) with { OutputDirectory = Path.Combine(dir.Path, "runsB") };

        var runA = new EvalRunner(storeA, retrieverA, new FakeIndexer()).RunAsync(optionsA);
        await retrieverA.Entered.WaitAsync(TestTimeout);
        var runB = new EvalRunner(storeB, retrieverB, new FakeIndexer()).RunAsync(optionsB);
        await Task.WhenAny(retrieverB.Entered, runB).WaitAsync(TestTimeout);
        release.SetResult();
        var (a, b) = (await runA, await runB);

        Assert.Equal(a.RunId, b.RunId);
        Assert.Equal(5, a.Questions.Count);
        Assert.Equal(5, b.Questions.Count);
        Assert.Equal(a.Metric("Recall@1")!.Value, b.Metric("Recall@1")!.Value);
    }

    [Fact]
    public async Task A_run_whose_folder_is_held_by_another_is_refused_and_leaves_that_runs_record_alone()
    {
        // Two processes on one data folder and one output folder, same run: the second is kept out by the results
        // file's lock. It once went on to mark the shared record Failed while the first was still running.
        using var dir = new TempDir();
        var questions = await TinyDataset.WriteAsync(dir.Path);
        await using var store = await SqliteRagStore.OpenAsync(Path.Combine(dir.Path, "data"));
        var runner = new EvalRunner(store, new FakeRetriever(), new FakeIndexer());
        var run = await runner.PrepareAsync(Options(dir.Path, questions));
        var (held, _) = await ResultsFile.OpenAsync(Path.Combine(run.Directory, EvalRunner.ResultsFileName), default); // the other process

        await using (held)
        {
            var e = await Assert.ThrowsAnyAsync<InvalidOperationException>(() => runner.RunAsync(run));
            Assert.Contains("in use", e.Message);
        }

        var record = await store.EvalRuns.GetAsync(run.OwnerTenantId, run.RunId);
        Assert.Equal("Running", record!.Status);
        Assert.Null(record.Error);
    }

    [Fact]
    public async Task The_same_run_folder_twice_in_one_process_is_refused_while_the_first_goes_on()
    {
        using var dir = new TempDir();
        var questions = await TinyDataset.WriteAsync(dir.Path);
        await using var store = await SqliteRagStore.OpenAsync(Path.Combine(dir.Path, "data"));
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gated = new GatedRetriever(release.Task);
        var options = Options(dir.Path, questions);

        var first = new EvalRunner(store, gated, new FakeIndexer()).RunAsync(options);
        await gated.Entered.WaitAsync(TestTimeout);
        var e = await Assert.ThrowsAnyAsync<InvalidOperationException>(() => new EvalRunner(store, new FakeRetriever(), new FakeIndexer()).RunAsync(options));
        Assert.Contains("already running", e.Message);
        release.SetResult();
        var result = await first;

        Assert.Equal(5, result.Questions.Count);
        Assert.Equal("Completed", (await store.EvalRuns.GetAsync(result.TenantId, result.RunId))!.Status);
    }

    [Fact]
    public async Task Concurrent_starts_of_one_run_start_it_once_and_the_others_are_refused()
    {
        using var dir = new TempDir();
        var questions = await TinyDataset.WriteAsync(dir.Path);
        await using var store = await SqliteRagStore.OpenAsync(Path.Combine(dir.Path, "data"));
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gated = new GatedRetriever(release.Task);
        var runs = new EvalBackgroundRuns(new EvalRunner(store, gated, new FakeIndexer()), CancellationToken.None);
        var options = Options(dir.Path, questions);

        var starts = Enumerable.Range(0, 6).Select(_ => Task.Run(() => runs.StartAsync(options))).ToList();
        await Task.WhenAll(starts).ContinueWith(_ => { }, TaskScheduler.Default); // some are meant to fail

        var started = await Assert.Single(starts, s => s.IsCompletedSuccessfully);
        Assert.All(starts.Where(s => !s.IsCompletedSuccessfully), s =>
            Assert.Contains("already running", Assert.IsType<InvalidOperationException>(s.Exception!.InnerException).Message));
        await gated.Entered.WaitAsync(TestTimeout);
        Assert.Equal(EvalRunStatus.Running, runs.Get(started.RunId)!.Status); // a refused start did not touch it
        release.SetResult();
        var done = await WaitUntilEndedAsync(runs, started.RunId);

        Assert.Equal(EvalRunStatus.Completed, done.Status);
        Assert.Equal(5, done.Result!.Questions.Count);
        Assert.Equal("Completed", (await store.EvalRuns.GetAsync(done.Result.TenantId, started.RunId))!.Status);
    }

    [Fact]
    public async Task Two_background_runs_in_one_process_keep_their_own_state()
    {
        using var dir = new TempDir();
        var questions = await TinyDataset.WriteAsync(dir.Path);
        await using var store = await SqliteRagStore.OpenAsync(Path.Combine(dir.Path, "data"));
        var runs = new EvalBackgroundRuns(new EvalRunner(store, new FakeRetriever(), new FakeIndexer()), CancellationToken.None);

        var all = await runs.StartAsync(Options(dir.Path, questions));
        var some = await runs.StartAsync(Options(dir.Path, questions) with { Limit = 2 });
        var (a, b) = (await WaitUntilEndedAsync(runs, all.RunId), await WaitUntilEndedAsync(runs, some.RunId));

        Assert.NotEqual(all.RunId, some.RunId);
        Assert.Equal((EvalRunStatus.Completed, 5), (a.Status, a.Result!.Questions.Count));
        Assert.Equal((EvalRunStatus.Completed, 2), (b.Status, b.Result!.Questions.Count));
        Assert.Equal(EvalPhase.Done, a.Progress!.Phase);
        Assert.Equal(EvalPhase.Done, b.Progress!.Phase);
    }

    [Fact]
    public async Task The_same_eval_by_two_tenants_gives_each_its_own_run()
    {
        // Run ids come from the dataset, the options and the owning tenant, so tenants never collide or see each other's runs.
        using var dir = new TempDir();
        var questions = await TinyDataset.WriteAsync(dir.Path);
        await using var store = await SqliteRagStore.OpenAsync(Path.Combine(dir.Path, "data"));
        var alice = await store.Tenants.CreateTenantAsync("alice");
        var bob = await store.Tenants.CreateTenantAsync("bob");
        var runner = new EvalRunner(store, new FakeRetriever(), new FakeIndexer());
        var run = await runner.PrepareAsync(Options(dir.Path, questions) with { OwnerTenantId = alice.Id });

        var other = await runner.PrepareAsync(Options(dir.Path, questions) with { OwnerTenantId = bob.Id });

        Assert.NotEqual(run.RunId, other.RunId);
        Assert.NotNull(await store.EvalRuns.GetAsync(alice.Id, run.RunId));
        Assert.NotNull(await store.EvalRuns.GetAsync(bob.Id, other.RunId));
        Assert.Null(await store.EvalRuns.GetAsync(bob.Id, run.RunId));
        Assert.Null(await store.EvalRuns.GetAsync(alice.Id, other.RunId));
    }

    static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(30);

    static async Task<EvalRunState> WaitUntilEndedAsync(EvalBackgroundRuns runs, string runId)
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        while (runs.Get(runId) is { Status: EvalRunStatus.Running })
            await Task.Delay(10, timeout.Token);
        return runs.Get(runId)!;
    }

    internal static EvalRunOptions Options(string dir, string questions) => new()
    {
        DatasetSpec = "jsonl:" + questions,
        Ks = [1, 2, 4],
        Mode = RetrievalMode.Bm25,
        Concurrency = 2,
        OutputDirectory = Path.Combine(dir, "runs"),
    };
}
