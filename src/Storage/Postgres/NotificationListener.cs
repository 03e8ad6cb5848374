using Npgsql;

namespace Rag.Storage.Postgres;

/// <summary>
/// LISTENs on a dedicated connection for the life of the store and pulses the work signal on every
/// NOTIFY, so idle workers in this process wake as soon as any process enqueues. If the connection
/// drops, it reconnects; meanwhile workers fall back to their wait timeout.
/// <para>
/// Being the one connection always reading, it is also the first to notice a server restart: it then clears the pool,
/// whose idle connections died with the server but would otherwise each fail one request after the server is back
/// (Npgsql does not test a pooled connection before handing it out; npgsql/npgsql#5073).
/// </para>
/// </summary>
internal sealed class NotificationListener(NpgsqlDataSource dataSource, string channel, WorkSignal signal) : IAsyncDisposable
{
    static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);

    readonly CancellationTokenSource _stop = new();
    readonly TaskCompletionSource _firstAttempt = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly Lock _gate = new();
    Task? _loop;

    /// <summary>Starts listening (once; the store starts it when it opens); completes once LISTEN is in place (or the first attempt failed).</summary>
    public Task EnsureStartedAsync(CancellationToken ct)
    {
        lock (_gate) _loop ??= Task.Run(() => RunAsync(_stop.Token));
        return _firstAttempt.Task.WaitAsync(ct);
    }

    async Task RunAsync(CancellationToken stop)
    {
        var reconnecting = false;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stop);
                connection.Notification += (_, _) => signal.Pulse();
                await using (var listen = new NpgsqlCommand($"LISTEN {channel}", connection))
                    await listen.ExecuteNonQueryAsync(stop);
                _firstAttempt.TrySetResult();
                if (reconnecting) signal.Pulse(); // a job may have been enqueued while we were deaf
                reconnecting = false;
                while (true) await connection.WaitAsync(stop);
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                return; // the store is being disposed
            }
            catch (Exception)
            {
                // Whatever broke the connection (server restart, network), keep trying: waiting workers still poll on their timeout.
                if (!reconnecting) dataSource.Clear();
                _firstAttempt.TrySetResult();
                reconnecting = true;
                try { await Task.Delay(ReconnectDelay, stop); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    int _disposed;

    /// <summary>Idempotent: the host may dispose the store both through DI and through its owner.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await _stop.CancelAsync();
        Task? loop;
        lock (_gate) loop = _loop;
        if (loop is not null) await loop;
        _stop.Dispose();
    }
}
