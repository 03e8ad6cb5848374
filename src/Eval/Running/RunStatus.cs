using Rag.Storage;

namespace Rag.Eval;

/// <summary>
/// Keeps the stored run record's progress current without a store write per question: the latest progress is
/// written at most once a second by a background loop, and once more with the final status.
/// </summary>
internal sealed class StatusWriter(IRagStore store, PreparedEvalRun run)
{
    static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    double _fraction;
    double _written = -1;

    /// <summary>Overall 0..1: ingest counts for the first tenth, questions for the rest.</summary>
    public void Observe(EvalProgress p)
    {
        var overall = p.Phase switch
        {
            EvalPhase.Loading => 0,
            EvalPhase.Ingesting => 0.1 * p.Fraction,
            EvalPhase.Questions => 0.1 + 0.9 * p.Fraction,
            _ => 1,
        };
        Volatile.Write(ref _fraction, overall);
    }

    public IDisposable Start(CancellationToken ct)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var loop = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(Interval);
            try
            {
                while (await timer.WaitForNextTickAsync(cts.Token))
                {
                    var f = Volatile.Read(ref _fraction);
                    if (f == _written) continue;
                    try
                    {
                        await UpdateAsync(r => r with { Progress = f }, cts.Token);
                        _written = f;
                    }
                    catch (Exception) when (!cts.IsCancellationRequested)
                    {
                        // Progress is advisory: a failed write (a busy shared database) is tried again next tick rather
                        // than failing the run once its questions are done; FinishAsync's write still reports failure.
                    }
                }
            }
            catch (OperationCanceledException) { }
        }, CancellationToken.None);
        return new Stopper(cts, loop);
    }

    /// <summary>Records the outcome; runs even when the run's token is cancelled.</summary>
    public Task FinishAsync(EvalRunStatus status, string? resultJson, string? error) =>
        UpdateAsync(r => r with
        {
            Status = status.ToString(),
            ResultJson = resultJson ?? r.ResultJson,
            Progress = status == EvalRunStatus.Completed ? 1 : Volatile.Read(ref _fraction),
            Error = error,
        }, CancellationToken.None);

    async Task UpdateAsync(Func<EvalRunRecord, EvalRunRecord> change, CancellationToken ct)
    {
        var current = await store.EvalRuns.GetAsync(run.OwnerTenantId, run.RunId, ct);
        if (current is null) return;
        try
        {
            await store.EvalRuns.UpdateAsync(change(current) with { UpdatedAt = DateTimeOffset.UtcNow }, ct);
        }
        catch (KeyNotFoundException)
        {
            // Removed between the read and the write: gone, as when the read finds nothing. The results and reports
            // on disk are the run's output; the record only mirrors them.
        }
    }

    sealed class Stopper(CancellationTokenSource cts, Task loop) : IDisposable
    {
        public void Dispose()
        {
            cts.Cancel();
            loop.GetAwaiter().GetResult(); // the loop swallows its cancellation, so this returns promptly
            cts.Dispose();
        }
    }
}

/// <summary>Fans progress out to the caller and to the stored record.</summary>
internal sealed class ProgressTracker(IProgress<EvalProgress>? caller, StatusWriter status) : IProgress<EvalProgress>
{
    public void Report(EvalProgress value)
    {
        status.Observe(value);
        caller?.Report(value);
    }
}
