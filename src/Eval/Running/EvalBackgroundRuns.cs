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
    readonly ConcurrentDictionary<string, EvalRunState> _runs = new(StringComparer.Ordinal);

    /// <summary>Prepares the run (dataset read, run id fixed, record stored) and starts it; returns at once with its id.</summary>
    /// <exception cref="ArgumentException">Bad options or dataset spec.</exception>
    /// <exception cref="FileNotFoundException">The dataset is not there.</exception>
    /// <exception cref="InvalidOperationException">The same run is already going, or the mode needs an encoder that is absent.</exception>
    public async Task<EvalRunState> StartAsync(EvalRunOptions options, CancellationToken ct = default)
    {
        var run = await runner.PrepareAsync(options, null, ct);
        var state = new EvalRunState(run.RunId, EvalRunStatus.Running, null, null, null);
        if (_runs.TryGetValue(run.RunId, out var current) && current.Status == EvalRunStatus.Running)
            throw new InvalidOperationException($"Eval run {run.RunId} is already running.");
        _runs[run.RunId] = state;
        var progress = new LatestProgress(p => _runs.AddOrUpdate(run.RunId, state with { Progress = p }, (_, s) => s with { Progress = p }));
        _ = Task.Run(async () =>
        {
            try
            {
                var result = await runner.RunAsync(run, progress, stopping);
                _runs[run.RunId] = _runs[run.RunId] with { Status = EvalRunStatus.Completed, Result = result };
            }
            catch (OperationCanceledException)
            {
                _runs[run.RunId] = _runs[run.RunId] with { Status = EvalRunStatus.Cancelled, Error = "The service stopped; start the same run again to resume it." };
            }
            catch (Exception e)
            {
                _runs[run.RunId] = _runs[run.RunId] with { Status = EvalRunStatus.Failed, Error = e.Message };
            }
        }, CancellationToken.None);
        return state;
    }

    /// <summary>The live state of a run started by this process; null otherwise (read the stored record then).</summary>
    public EvalRunState? Get(string runId) => _runs.GetValueOrDefault(runId);

    sealed class LatestProgress(Action<EvalProgress> report) : IProgress<EvalProgress>
    {
        public void Report(EvalProgress value) => report(value);
    }
}
