using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Rag.Storage;

namespace Rag.Ingest.Tests;

/// <summary>
/// The failed-jobs counter, seen through a MeterListener (what OpenTelemetry's SDK subscribes to by the same name).
/// Other tests fail jobs in parallel, so this one counts only its own job kind.
/// </summary>
public sealed class IngestTelemetryTests
{
    [Fact]
    public async Task Every_failed_attempt_is_counted_and_the_last_one_says_the_queue_gave_up()
    {
        var kind = "always-fails-" + Guid.NewGuid().ToString("N")[..8];
        var failures = new ConcurrentQueue<bool?>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == IngestTelemetry.Name && instrument.Name == "rag.jobs.failed") l.EnableMeasurementEvents(instrument);
        };
        meters.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? measuredKind = null;
            bool? gaveUp = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "rag.job.kind") measuredKind = tag.Value as string;
                if (tag.Key == "rag.job.gave_up") gaveUp = tag.Value as bool?;
            }
            if (measuredKind == kind)
                for (var i = 0; i < value; i++) failures.Enqueue(gaveUp);
        });
        meters.Start();

        var h = new Harness();
        await h.Store.Queue.EnqueueAsync(kind, "{}", maxAttempts: 3);
        var worker = h.Worker(new FailingHandler(kind));
        while (await worker.RunOnceAsync()) { }

        Assert.Equal((JobStatus.Failed, 3), (h.Store.Queue.All[0].Status, h.Store.Queue.All[0].Attempts));
        Assert.Equal([false, false, true], failures);
    }

    sealed class FailingHandler(string kind) : IJobHandler
    {
        public string Kind => kind;
        public Task HandleAsync(Job job, CancellationToken ct) => throw new InvalidOperationException("the dependency is down");
        public Task OnGaveUpAsync(Job job, string error, CancellationToken ct) => Task.CompletedTask;
    }
}
