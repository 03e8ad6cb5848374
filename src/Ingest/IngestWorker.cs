using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Rag.Storage;

namespace Rag.Ingest;

/// <summary>
/// Leases jobs from the durable queue and runs them, WorkerConcurrency at a time. A lease is renewed
/// every third of its duration while the job runs; if renewal fails (another worker took over) the
/// job is cancelled and left to its new owner. On shutdown running jobs are cancelled and released
/// (not failed, no attempt counted), so whichever worker leases them next resumes them at once, which
/// the pipeline's idempotent steps make safe; a worker killed outright leaves them to their leases. Any number of workers, in any number of processes, can
/// share one queue.
/// </summary>
public sealed class IngestWorker : BackgroundService
{
    readonly IJobQueue _jobs;
    readonly IReadOnlyDictionary<string, IJobHandler> _handlers;
    readonly IngestOptions _options;
    readonly ILogger _logger;
    int _active;
    long _completed;
    long _failed;

    public IngestWorker(IRagStore store, IEnumerable<IJobHandler> handlers, IngestOptions options, ILogger<IngestWorker>? logger = null)
    {
        _jobs = store.Jobs;
        _handlers = handlers.ToDictionary(h => h.Kind, StringComparer.Ordinal);
        _options = options;
        _logger = logger ?? NullLogger<IngestWorker>.Instance;
        WorkerId = options.WorkerId ?? $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";
    }

    public string WorkerId { get; }

    /// <summary>Jobs running now.</summary>
    public int ActiveJobs => Volatile.Read(ref _active);

    /// <summary>Jobs this worker finished (including documents that failed for good reasons, like a corrupt file).</summary>
    public long CompletedJobs => Interlocked.Read(ref _completed);

    /// <summary>Attempts that threw and went back to the queue (or failed for good).</summary>
    public long FailedAttempts => Interlocked.Read(ref _failed);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield(); // let the host finish starting
        _logger.LogInformation("Ingest worker {WorkerId} started: {Slots} concurrent jobs, lease {Lease}", WorkerId, _options.WorkerConcurrency, _options.LeaseDuration);
        var slots = Enumerable.Range(0, _options.WorkerConcurrency).Select(i => RunSlotAsync(i, stoppingToken));
        await Task.WhenAll(slots);
        _logger.LogInformation("Ingest worker {WorkerId} stopped", WorkerId);
    }

    async Task RunSlotAsync(int slot, CancellationToken ct)
    {
        var owner = $"{WorkerId}/{slot}";
        var errorDelay = TimeSpan.FromSeconds(1);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (!await RunOnceAsync(owner, ct)) await _jobs.WaitForWorkAsync(_options.IdleWait, ct);
                errorDelay = TimeSpan.FromSeconds(1);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // The queue itself failed (database down): back off rather than spin.
                _logger.LogError(e, "Ingest worker {Owner}: queue error; retrying in {Delay}", owner, errorDelay);
                try { await Task.Delay(errorDelay, ct); } catch (OperationCanceledException) { break; }
                errorDelay = TimeSpan.FromTicks(Math.Min(errorDelay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }

    /// <summary>
    /// Runs jobs on every slot until the queue has none ready, then returns the number this call finished
    /// (a batch ingest; jobs waiting out a retry back-off are left for a later run).
    /// </summary>
    public async Task<long> DrainAsync(CancellationToken ct = default)
    {
        var before = CompletedJobs;
        await Task.WhenAll(Enumerable.Range(0, _options.WorkerConcurrency).Select(async slot =>
        {
            while (await RunOnceAsync($"{WorkerId}/{slot}", ct)) { }
        }));
        return CompletedJobs - before;
    }

    /// <summary>Leases and runs one job; false when the queue had none. Usable without the host (CLI, tests).</summary>
    public Task<bool> RunOnceAsync(CancellationToken ct = default) => RunOnceAsync(WorkerId, ct);

    async Task<bool> RunOnceAsync(string owner, CancellationToken ct)
    {
        var job = await _jobs.LeaseAsync(owner, _options.LeaseDuration, ct);
        if (job is null) return false;
        Interlocked.Increment(ref _active);
        try
        {
            await RunJobAsync(job, owner, ct);
        }
        finally
        {
            Interlocked.Decrement(ref _active);
        }
        return true;
    }

    async Task RunJobAsync(Job job, string owner, CancellationToken ct)
    {
        if (!_handlers.TryGetValue(job.Kind, out var handler))
        {
            // Another process may run this kind; failing the attempt returns it to the queue after back-off.
            await _jobs.FailAsync(job.Id, owner, $"No handler for job kind '{job.Kind}' in ingest worker {WorkerId}.", CancellationToken.None);
            return;
        }

        // Shutdown (ct) stops new leases at once; the running job gets ShutdownGrace to finish before it is cancelled.
        using var work = new CancellationTokenSource();
        using var onShutdown = ct.Register(() =>
        {
            try { work.CancelAfter(_options.ShutdownGrace); }
            catch (ObjectDisposedException) { } // the job ended meanwhile
        });
        using var stopRenewing = new CancellationTokenSource();
        var leaseLost = false;
        var renewal = RenewLeaseAsync();
        try
        {
            _logger.LogInformation("Job {JobId} ({Kind}, attempt {Attempt}) started by {Owner}", job.Id, job.Kind, job.Attempts + 1, owner);
            await handler.HandleAsync(job, work.Token);
            await StopRenewalAsync();
            if (await _jobs.CompleteAsync(job.Id, owner, CancellationToken.None))
            {
                Interlocked.Increment(ref _completed);
                _logger.LogInformation("Job {JobId} done", job.Id);
            }
            else
            {
                _logger.LogWarning("Job {JobId} finished but its lease had passed to another worker; that worker's run stands", job.Id);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Given back at once, so another worker resumes it now instead of after the lease (the steps are idempotent).
            await StopRenewalAsync();
            try
            {
                var released = await _jobs.ReleaseAsync(job.Id, owner, CancellationToken.None);
                _logger.LogInformation("Job {JobId} interrupted by shutdown; {Fate}", job.Id, released ? "released to the queue" : "its lease had already passed on");
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogWarning(e, "Job {JobId} interrupted by shutdown and could not be released; it resumes when its lease expires", job.Id);
            }
            throw;
        }
        catch (OperationCanceledException) when (leaseLost)
        {
            _logger.LogWarning("Job {JobId} abandoned: its lease was lost to another worker", job.Id);
        }
        catch (Exception e)
        {
            await StopRenewalAsync();
            Interlocked.Increment(ref _failed);
            var after = await _jobs.FailAsync(job.Id, owner, e.Message, CancellationToken.None);
            IngestTelemetry.FailedJobs.Add(1, new KeyValuePair<string, object?>("rag.job.kind", job.Kind),
                new KeyValuePair<string, object?>("rag.job.gave_up", after?.Status == JobStatus.Failed));
            if (after?.Status == JobStatus.Failed)
            {
                _logger.LogError(e, "Job {JobId} failed for good after {Attempts} attempts", job.Id, after.Attempts);
                try { await handler.OnGaveUpAsync(after, e.Message, CancellationToken.None); }
                catch (Exception inner) { _logger.LogError(inner, "Could not record the final failure of job {JobId}", job.Id); }
            }
            else
            {
                _logger.LogWarning(e, "Job {JobId} attempt {Attempt} failed; the queue will retry", job.Id, job.Attempts + 1);
            }
        }
        finally
        {
            await StopRenewalAsync();
        }

        async Task StopRenewalAsync()
        {
            if (!stopRenewing.IsCancellationRequested) await stopRenewing.CancelAsync();
            await renewal;
        }

        async Task RenewLeaseAsync()
        {
            var interval = _options.LeaseDuration / 3;
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopRenewing.Token, work.Token); // renewed through the grace period too
            while (!linked.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(interval, linked.Token);
                    if (!await _jobs.RenewLeaseAsync(job.Id, owner, _options.LeaseDuration, linked.Token))
                    {
                        leaseLost = true;
                        await work.CancelAsync();
                        return;
                    }
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (Exception e)
                {
                    // Not fatal: the job keeps going and the next renewal may succeed before the lease expires.
                    _logger.LogWarning(e, "Could not renew the lease of job {JobId}", job.Id);
                }
            }
        }
    }
}
