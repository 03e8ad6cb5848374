using System.Collections.Concurrent;

namespace Rag.Eval;

/// <summary>A run started in the background, as GET /v1/evals/{id} shows it while it goes.</summary>
public sealed record EvalRunState(string RunId, EvalRunStatus Status, EvalProgress? Progress, EvalRunResult? Result, string? Error);

/// <summary>
/// Starts runs in the background for the HTTP API (POST /v1/evals) and keeps their live progress in memory;
/// the stored run record (status, progress, result JSON) is kept current by the runner, so it also answers
/// for runs of another process or an earlier life of this one.
/// </summary>
public sealed class EvalBackgroundRuns(EvalRunner runner, CancellationToken stopping)
{
    // Each started run owns its LiveRun: its background task and progress write only that object, so a later
    // start of the same run id (once this one has ended) never sees writes from an earlier one.
    readonly ConcurrentDictionary<string, LiveRun> _runs = new(StringComparer.Ordinal);
    readonly Lock _claim = new();

    /// <summary>Prepares the run (dataset read, run id fixed, record stored) and starts it; returns at once with its id.</summary>
    /// <exception cref="ArgumentException">Bad options or dataset spec.</exception>
    /// <exception cref="FileNotFoundException">The dataset is not there.</exception>
    /// <exception cref="InvalidOperationException">The same run is already going, or the mode needs an encoder that is absent.</exception>
    public async Task<EvalRunState> StartAsync(EvalRunOptions options, CancellationToken ct = default)
    {
        var run = await runner.PrepareAsync(options, null, ct);
        var live = new LiveRun(new EvalRunState(run.RunId, EvalRunStatus.Running, null, null, null));
        // Check and claim as one step: two starts of the same run at once must not both get through.
        lock (_claim)
        {
            if (_runs.TryGetValue(run.RunId, out var current) && current.State.Status == EvalRunStatus.Running)
                throw new InvalidOperationException($"Eval run {run.RunId} is already running.");
            _runs[run.RunId] = live;
        }
        var progress = new LatestProgress(p => live.Update(s => s with { Progress = p }));
        _ = Task.Run(async () =>
        {
            try
            {
                var result = await runner.RunAsync(run, progress, stopping);
                live.Update(s => s with { Status = EvalRunStatus.Completed, Result = result });
            }
            catch (OperationCanceledException)
            {
                live.Update(s => s with { Status = EvalRunStatus.Cancelled, Error = "The service stopped; start the same run again to resume it." });
            }
            catch (Exception e)
            {
                live.Update(s => s with { Status = EvalRunStatus.Failed, Error = e.Message });
            }
        }, CancellationToken.None);
        return live.State;
    }

    /// <summary>The live state of a run started by this process; null otherwise (read the stored record then).</summary>
    public EvalRunState? Get(string runId) => _runs.GetValueOrDefault(runId)?.State;

    /// <summary>One run's state; updates are serialised so a progress report and the final status cannot overwrite each other.</summary>
    sealed class LiveRun(EvalRunState initial)
    {
        readonly Lock _gate = new();
        EvalRunState _state = initial;

        public EvalRunState State { get { lock (_gate) return _state; } }

        public void Update(Func<EvalRunState, EvalRunState> change)
        {
            lock (_gate) _state = change(_state);
        }
    }

    sealed class LatestProgress(Action<EvalProgress> report) : IProgress<EvalProgress>
    {
        public void Report(EvalProgress value) => report(value);
    }
}
