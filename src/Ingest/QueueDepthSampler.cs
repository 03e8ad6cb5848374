using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Rag.Storage;

namespace Rag.Ingest;

/// <summary>
/// Reads the job queue's counts for the rag.queue.depth gauge. A gauge's callback runs on the exporter's thread and
/// must not wait on the database, so the counts are read here in the background, and only while a listener has
/// the gauge enabled (no queries when nothing collects metrics). A failed read reports nothing rather than old counts.
/// </summary>
public sealed class QueueDepthSampler(IRagStore store, TimeSpan interval, ILogger<QueueDepthSampler>? logger = null) : BackgroundService
{
    readonly ILogger _logger = logger ?? NullLogger<QueueDepthSampler>.Instance;
    volatile IReadOnlyDictionary<JobStatus, int>? _counts;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        IngestTelemetry.Register(this);
        try
        {
            using var timer = new PeriodicTimer(interval);
            var failing = false;
            do
            {
                if (!IngestTelemetry.QueueDepth.Enabled) continue;
                try
                {
                    _counts = await store.Jobs.CountByStatusAsync(stoppingToken);
                    failing = false;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _counts = null;
                    if (!failing) _logger.LogWarning(e, "Could not read the job queue for the queue-depth gauge; retrying every {Interval}", interval);
                    failing = true;
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            IngestTelemetry.Unregister(this);
        }
    }

    internal IEnumerable<Measurement<int>> Measurements() => _counts is { } counts
        ?
        [
            new(counts.GetValueOrDefault(JobStatus.Queued), new KeyValuePair<string, object?>("rag.job.status", "queued")),
            new(counts.GetValueOrDefault(JobStatus.Leased), new KeyValuePair<string, object?>("rag.job.status", "leased")),
        ]
        : [];
}
