using Microsoft.Extensions.AI;
using Rag.Storage;

namespace Rag.Ingest.Tests;

public class IngestWorkerTests
{
    const string T = Harness.Tenant;
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        using var cts = new CancellationTokenSource(Timeout);
        while (!await condition()) await Task.Delay(10, cts.Token);
    }

    [Fact]
    public async Task SeveralWorkersShareOneQueueAndEachJobRunsOnce()
    {
        var h = new Harness(o => o.WorkerConcurrency = 2);
        var ids = new List<string>();
        for (var i = 0; i < 12; i++) ids.Add((await h.SubmitTextAsync($"d{i}.txt", Harness.Prose(10 + i, $"doc{i}"))).Document.Id);

        var workers = new[] { h.Worker(), h.Worker(), h.Worker() };
        foreach (var w in workers) await w.StartAsync(CancellationToken.None);
        await WaitUntilAsync(async () => h.Store.Queue.All.All(j => j.Status == JobStatus.Done));
        foreach (var w in workers) await w.StopAsync(CancellationToken.None);

        Assert.All(h.Store.Queue.All, j => Assert.Equal(1, j.Attempts));
        Assert.Equal(12, workers.Sum(w => w.CompletedJobs));
        foreach (var id in ids) await h.AssertIndexedOnceAsync(id);
        Assert.All(workers, w => Assert.Equal(0, w.ActiveJobs));
    }

    [Fact]
    public async Task ATransientErrorIsRetriedAndShownMeanwhile()
    {
        var h = new Harness();
        var doc = (await h.SubmitTextAsync("a.txt", Harness.Prose(10))).Document;
        h.Lexical.FailNext = true;
        var worker = h.Worker();

        Assert.True(await worker.RunOnceAsync());
        var afterFirst = await h.Store.Documents.GetAsync(T, doc.Id);
        Assert.Equal(DocumentStatus.Queued, afterFirst!.Status);
        Assert.Contains("simulated crash during lexical indexing", afterFirst.Error);
        Assert.Equal(1, worker.FailedAttempts);

        Assert.True(await worker.RunOnceAsync());
        await h.AssertIndexedOnceAsync(doc.Id);
        Assert.Null((await h.Store.Documents.GetAsync(T, doc.Id))!.Error);
        Assert.False(await worker.RunOnceAsync());
    }

    [Fact]
    public async Task ExhaustedAttemptsFailTheDocumentWithTheError()
    {
        var h = new Harness(o => o.MaxAttempts = 2, embedder: new ThrowingEmbedder());
        var doc = (await h.SubmitTextAsync("a.txt", Harness.Prose(10))).Document;
        var worker = h.Worker();
        while (await worker.RunOnceAsync()) { }
        var job = Assert.Single(h.Store.Queue.All);
        Assert.Equal((JobStatus.Failed, 2), (job.Status, job.Attempts));
        var failed = await h.Store.Documents.GetAsync(T, doc.Id);
        Assert.Equal(DocumentStatus.Failed, failed!.Status);
        Assert.Equal("encoder is down", failed.Error);
    }

    [Fact]
    public async Task ACorruptFileFailsAtOnceWithoutRetries()
    {
        var h = new Harness();
        var bad = await h.Ingestion.SubmitAsync(T, DocumentUpload.FromBytes("x.docx", null, "PK\x03\x04 nope"u8.ToArray()));
        var good = await h.SubmitTextAsync("ok.txt", Harness.Prose(5));
        var worker = h.Worker();
        while (await worker.RunOnceAsync()) { }
        Assert.All(h.Store.Queue.All, j => Assert.Equal((JobStatus.Done, 1), (j.Status, j.Attempts)));
        Assert.Equal(DocumentStatus.Failed, (await h.Store.Documents.GetAsync(T, bad.Document.Id))!.Status);
        await h.AssertIndexedOnceAsync(good.Document.Id);
    }

    [Fact]
    public async Task StoppingMidJobPastTheGracePeriodReleasesItForTheNextWorkerAtOnce()
    {
        var gate = new GateEmbedder();
        var h = new Harness(o => { o.LeaseDuration = TimeSpan.FromMinutes(5); o.WorkerConcurrency = 1; o.ShutdownGrace = TimeSpan.FromMilliseconds(200); }, embedder: gate);
        var doc = (await h.SubmitTextAsync("a.txt", Harness.Prose(40))).Document;

        var first = h.Worker();
        await first.StartAsync(CancellationToken.None);
        await gate.Entered.Task.WaitAsync(Timeout); // first worker is inside the embed step, and stays there
        await first.StopAsync(CancellationToken.None);
        var job = Assert.Single(h.Store.Queue.All);
        Assert.Equal((JobStatus.Queued, 0, null), (job.Status, job.Attempts, job.LeaseOwner)); // released: not failed, no attempt counted

        gate.Open();
        var second = h.Worker();
        Assert.True(await second.RunOnceAsync()); // no 5-minute lease to wait out
        await h.AssertIndexedOnceAsync(doc.Id);
        Assert.Equal(JobStatus.Done, h.Store.Queue.All.Single().Status);
    }

    [Fact]
    public async Task StoppingMidJobLetsItFinishWithinTheGracePeriod()
    {
        var gate = new GateEmbedder();
        var h = new Harness(o => { o.WorkerConcurrency = 1; o.ShutdownGrace = TimeSpan.FromSeconds(30); }, embedder: gate);
        var doc = (await h.SubmitTextAsync("a.txt", Harness.Prose(40))).Document;

        var worker = h.Worker();
        await worker.StartAsync(CancellationToken.None);
        await gate.Entered.Task.WaitAsync(Timeout);
        var stopping = worker.StopAsync(CancellationToken.None);
        await Task.Delay(100);
        Assert.False(stopping.IsCompleted); // waiting for the running job
        gate.Open();
        await stopping.WaitAsync(Timeout);

        Assert.Equal(JobStatus.Done, h.Store.Queue.All.Single().Status);
        await h.AssertIndexedOnceAsync(doc.Id);
    }

    [Fact]
    public async Task ALostLeaseCancelsTheJobAndLeavesItToTheNewOwner()
    {
        var gate = new GateEmbedder();
        var h = new Harness(o => o.LeaseDuration = TimeSpan.FromSeconds(1), embedder: gate);
        var doc = (await h.SubmitTextAsync("a.txt", Harness.Prose(20))).Document;
        var worker = h.Worker();
        var run = worker.RunOnceAsync();
        await gate.Entered.Task.WaitAsync(Timeout);

        // Another worker takes the job over (as after an expired lease): the first one's renewal fails.
        var job = h.Store.Queue.All.Single();
        await h.Store.Queue.FailAsync(job.Id, job.LeaseOwner!, "taken over");
        var thief = await h.Store.Queue.LeaseAsync("other-worker", TimeSpan.FromMinutes(1));
        Assert.NotNull(thief);

        Assert.True(await run.WaitAsync(Timeout)); // the first worker gives up without completing or failing it
        Assert.Equal((JobStatus.Leased, "other-worker"), (h.Store.Queue.All.Single().Status, h.Store.Queue.All.Single().LeaseOwner));
        gate.Open();
        Assert.True(await h.Store.Queue.CompleteAsync(thief.Id, "other-worker"));
        Assert.Equal(0, worker.CompletedJobs);
        _ = doc;
    }

    [Fact]
    public async Task AJobOfAnUnknownKindIsReturnedToTheQueueWithAnError()
    {
        var h = new Harness();
        await h.Store.Queue.EnqueueAsync("eval", "{}", maxAttempts: 1);
        Assert.True(await h.Worker().RunOnceAsync());
        var job = h.Store.Queue.All.Single();
        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.Contains("No handler for job kind 'eval'", job.Error);
    }

    sealed class ThrowingEmbedder : IEmbeddingGenerator<string, Embedding<float>>
    {
        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new HttpRequestException("encoder is down");
        public object? GetService(Type serviceType, object? serviceKey = null) => null;
        public void Dispose() { }
    }

    /// <summary>Blocks inside the embed step until opened, honouring cancellation like a real encoder.</summary>
    sealed class GateEmbedder : IEmbeddingGenerator<string, Embedding<float>>
    {
        readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
        readonly FakeEmbedder _inner = new();
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public void Open() => _open.TrySetResult();

        public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
        {
            Entered.TrySetResult();
            await _open.Task.WaitAsync(cancellationToken);
            return await _inner.GenerateAsync(values, options, cancellationToken);
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;
        public void Dispose() { }
    }
}
