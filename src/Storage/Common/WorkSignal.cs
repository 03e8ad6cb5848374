namespace Rag.Storage;

/// <summary>
/// Wakes idle workers when a job is enqueued. A pulse stays pending until a waiter consumes it, so a
/// pulse that lands between a worker's empty lease and its wait is not lost (a spurious wake is harmless).
/// </summary>
internal sealed class WorkSignal
{
    TaskCompletionSource _pulse = New();

    public void Pulse() => Volatile.Read(ref _pulse).TrySetResult();

    /// <summary>Completes on the next pulse, or at once when a pulse is pending.</summary>
    public Task Next()
    {
        var current = Volatile.Read(ref _pulse);
        if (!current.Task.IsCompleted) return current.Task;
        Interlocked.CompareExchange(ref _pulse, New(), current);
        return Task.CompletedTask;
    }

    public async Task WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        // Real time, not the stores' TimeProvider: this is an actual wait, and a test clock never advances on its own.
        try { await Next().WaitAsync(timeout, ct); }
        catch (TimeoutException) { }
    }

    static TaskCompletionSource New() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
