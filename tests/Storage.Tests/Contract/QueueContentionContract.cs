using System.Collections.Concurrent;

namespace Rag.Storage.Tests;

/// <summary>Several workers, each with its own store handle (as separate processes would have), draining one queue.</summary>
public abstract class QueueContentionContract(IStoreBackend backend) : StoreContract(backend)
{
    const int JobCount = 200;
    static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    [SkippableFact]
    public async Task Three_workers_complete_every_job_exactly_once_and_take_over_an_abandoned_one()
    {
        var producer = await OpenAsync();
        var workers = new[] { await OpenAsync(), await OpenAsync(), await OpenAsync() };
        for (var i = 0; i < JobCount; i++) await producer.Jobs.EnqueueAsync("ingest", $$"""{"n":{{i}}}""");

        // A worker that leases a job and dies before finishing it.
        var abandoned = await producer.Jobs.LeaseAsync("crashed", Lease);
        Assert.NotNull(abandoned);

        var leases = new ConcurrentDictionary<string, int>();
        var completions = new ConcurrentDictionary<string, int>();
        async Task DrainAsync(IRagStore store, string name)
        {
            while (await store.Jobs.LeaseAsync(name, Lease) is { } job)
            {
                leases.AddOrUpdate(job.Id, 1, (_, n) => n + 1);
                if (await store.Jobs.CompleteAsync(job.Id, name)) completions.AddOrUpdate(job.Id, 1, (_, n) => n + 1);
            }
        }

        await Task.WhenAll(workers.Select((w, i) => Task.Run(() => DrainAsync(w, $"worker-{i}"))));
        Assert.Equal(JobCount - 1, completions.Count);
        Assert.DoesNotContain(abandoned.Id, leases.Keys);
        Assert.Equal(JobStatus.Leased, (await producer.Jobs.GetAsync(abandoned.Id))!.Status);

        Clock.Advance(Lease + TimeSpan.FromSeconds(1)); // the dead worker's lease runs out
        await Task.WhenAll(workers.Select((w, i) => Task.Run(() => DrainAsync(w, $"worker-{i}"))));

        Assert.False(await producer.Jobs.CompleteAsync(abandoned.Id, "crashed"));
        Assert.Equal(JobCount, completions.Count);
        Assert.All(completions.Values, n => Assert.Equal(1, n));
        Assert.All(leases.Values, n => Assert.Equal(1, n));
        Assert.Equal(JobCount, (await producer.Jobs.CountByStatusAsync())[JobStatus.Done]);
    }
}
