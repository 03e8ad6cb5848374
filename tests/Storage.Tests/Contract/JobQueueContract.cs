namespace Rag.Storage.Tests;

public abstract class JobQueueContract(IStoreBackend backend) : StoreContract(backend)
{
    static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    [SkippableFact]
    public async Task A_job_is_enqueued_leased_once_and_completed()
    {
        var store = await OpenAsync();
        var job = await store.Jobs.EnqueueAsync("ingest", """{"doc":"d1"}""", tenantId: "t1", maxAttempts: 3);
        Assert.Equal((JobStatus.Queued, 0, 3, "t1"), (job.Status, job.Attempts, job.MaxAttempts, job.TenantId));
        Assert.Equal(job, await store.Jobs.GetAsync(job.Id));

        var leased = await store.Jobs.LeaseAsync("w1", Lease);
        Assert.NotNull(leased);
        Assert.Equal((job.Id, JobStatus.Leased, "w1", """{"doc":"d1"}"""), (leased.Id, leased.Status, leased.LeaseOwner, leased.Payload));
        Assert.Equal(Clock.GetUtcNow() + Lease, leased.LeaseExpiresAt);
        Assert.Null(await store.Jobs.LeaseAsync("w2", Lease));

        Assert.True(await store.Jobs.CompleteAsync(job.Id, "w1"));
        Assert.False(await store.Jobs.CompleteAsync(job.Id, "w1"));
        Assert.Equal(JobStatus.Done, (await store.Jobs.GetAsync(job.Id))!.Status);
        Assert.Null(await store.Jobs.LeaseAsync("w2", Lease));
        Assert.Null(await store.Jobs.GetAsync("unknown"));

        var counts = await store.Jobs.CountByStatusAsync();
        Assert.Equal((1, 0, 0, 0), (counts[JobStatus.Done], counts[JobStatus.Queued], counts[JobStatus.Leased], counts[JobStatus.Failed]));
    }

    [SkippableFact]
    public async Task A_released_job_is_leased_again_at_once_without_counting_an_attempt()
    {
        var store = await OpenAsync();
        var job = await store.Jobs.EnqueueAsync("ingest", "{}", maxAttempts: 2);
        Assert.NotNull(await store.Jobs.LeaseAsync("w1", Lease));
        Assert.False(await store.Jobs.ReleaseAsync(job.Id, "w2")); // only the holder may release

        Assert.True(await store.Jobs.ReleaseAsync(job.Id, "w1"));
        Assert.False(await store.Jobs.ReleaseAsync(job.Id, "w1"));
        var again = await store.Jobs.LeaseAsync("w2", Lease); // no lease to wait out
        Assert.NotNull(again);
        Assert.Equal((job.Id, 0, "w2"), (again.Id, again.Attempts, again.LeaseOwner));
        Assert.False(await store.Jobs.CompleteAsync(job.Id, "w1"));
        Assert.True(await store.Jobs.CompleteAsync(job.Id, "w2"));
    }

    [SkippableFact]
    public async Task Jobs_are_leased_oldest_first()
    {
        var store = await OpenAsync();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await store.Jobs.EnqueueAsync("ingest", $"{i}")).Id);
            Clock.Advance(TimeSpan.FromMilliseconds(10));
        }
        var leased = new List<string>();
        while (await store.Jobs.LeaseAsync("w", Lease) is { } job) leased.Add(job.Id);
        Assert.Equal(ids, leased);
    }

    [SkippableFact]
    public async Task An_expired_lease_is_taken_over_and_the_old_worker_loses_it()
    {
        var store = await OpenAsync();
        var job = await store.Jobs.EnqueueAsync("ingest", "{}");
        await store.Jobs.LeaseAsync("w1", Lease);

        Clock.Advance(TimeSpan.FromSeconds(20));
        Assert.True(await store.Jobs.RenewLeaseAsync(job.Id, "w1", Lease)); // now expires at +50s
        Clock.Advance(TimeSpan.FromSeconds(25));
        Assert.Null(await store.Jobs.LeaseAsync("w2", Lease));

        Clock.Advance(TimeSpan.FromSeconds(6));
        var takeover = await store.Jobs.LeaseAsync("w2", Lease);
        Assert.Equal((job.Id, "w2", 1), (takeover?.Id, takeover?.LeaseOwner, takeover?.Attempts)); // the lost lease counts as an attempt
        Assert.Contains("lease of w1 expired", takeover!.Error);
        Assert.False(await store.Jobs.CompleteAsync(job.Id, "w1"));
        Assert.False(await store.Jobs.RenewLeaseAsync(job.Id, "w1", Lease));
        Assert.Null(await store.Jobs.FailAsync(job.Id, "w1", "too late"));
        Assert.True(await store.Jobs.CompleteAsync(job.Id, "w2"));
    }

    [SkippableFact]
    public async Task A_job_whose_worker_keeps_dying_fails_once_its_attempts_are_used()
    {
        var store = await OpenAsync();
        var job = await store.Jobs.EnqueueAsync("ingest", "{}", maxAttempts: 2);
        Clock.Advance(TimeSpan.FromMilliseconds(1)); // strictly older: two jobs of the same instant are in id order, which is random
        var other = await store.Jobs.EnqueueAsync("ingest", "{}");

        Assert.Equal(job.Id, (await store.Jobs.LeaseAsync("w1", Lease))?.Id);
        Clock.Advance(Lease);
        Assert.Equal(job.Id, (await store.Jobs.LeaseAsync("w2", Lease))?.Id);
        Clock.Advance(Lease);

        Assert.Equal(other.Id, (await store.Jobs.LeaseAsync("w3", Lease))?.Id); // the doomed job is not leased a third time
        var failed = await store.Jobs.GetAsync(job.Id);
        Assert.Equal((JobStatus.Failed, 2), (failed!.Status, failed.Attempts));
        Assert.Contains("lease of w2 expired", failed.Error);
        Assert.False(await store.Jobs.CompleteAsync(job.Id, "w2"));
    }

    [SkippableFact]
    public async Task Failures_back_off_exponentially_then_fail_with_the_error()
    {
        var store = await OpenAsync();
        var job = await store.Jobs.EnqueueAsync("ingest", "{}", maxAttempts: 3);

        for (var attempt = 1; attempt <= 2; attempt++)
        {
            Assert.Equal(job.Id, (await store.Jobs.LeaseAsync("w", Lease))?.Id);
            var now = Clock.GetUtcNow();
            var retry = await store.Jobs.FailAsync(job.Id, "w", $"boom {attempt}");
            Assert.NotNull(retry);
            Assert.Equal((JobStatus.Queued, attempt, $"boom {attempt}"), (retry.Status, retry.Attempts, retry.Error));
            Assert.Null(retry.LeaseOwner);
            var delay = retry.RunAfter - now;
            var nominal = TimeSpan.FromSeconds(Math.Pow(2, attempt));
            Assert.InRange(delay, nominal - TimeSpan.FromMilliseconds(1), nominal * (1 + Backoff.MaxJitter));

            Assert.Null(await store.Jobs.LeaseAsync("w", Lease)); // not due yet
            Clock.Advance(nominal * (1 + Backoff.MaxJitter) + TimeSpan.FromMilliseconds(1));
        }

        Assert.NotNull(await store.Jobs.LeaseAsync("w", Lease));
        Assert.Null(await store.Jobs.FailAsync(job.Id, "someone-else", "not mine"));
        var failed = await store.Jobs.FailAsync(job.Id, "w", "boom 3");
        Assert.Equal((JobStatus.Failed, 3, "boom 3"), (failed!.Status, failed.Attempts, failed.Error));
        Assert.Equal(failed, await store.Jobs.GetAsync(job.Id));

        Clock.Advance(TimeSpan.FromHours(1));
        Assert.Null(await store.Jobs.LeaseAsync("w", Lease));
        Assert.Equal(1, (await store.Jobs.CountByStatusAsync())[JobStatus.Failed]);
    }

    [SkippableFact]
    public async Task An_idle_worker_wakes_when_another_store_enqueues()
    {
        var worker = await OpenAsync();
        var producer = await OpenAsync();
        await worker.Jobs.WaitForWorkAsync(TimeSpan.Zero); // starts listening; consumes any pending wake-up

        var wait = worker.Jobs.WaitForWorkAsync(TimeSpan.FromMinutes(2));
        Assert.False(wait.IsCompleted);
        await producer.Jobs.EnqueueAsync("ingest", "{}");

        Assert.Same(wait, await Task.WhenAny(wait, Task.Delay(TimeSpan.FromSeconds(60))));
        await wait;
    }

    [SkippableFact]
    public async Task Waiting_with_nothing_enqueued_ends_at_the_timeout()
    {
        var store = await OpenAsync();
        await store.Jobs.WaitForWorkAsync(TimeSpan.Zero);
        await store.Jobs.WaitForWorkAsync(TimeSpan.FromMilliseconds(50));
        using var cts = new CancellationTokenSource();
        var cancelled = store.Jobs.WaitForWorkAsync(TimeSpan.FromMinutes(5), cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
    }
}
