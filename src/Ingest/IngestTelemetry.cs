using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Rag.Ingest;

/// <summary>
/// Ingestion's traces and metrics through System.Diagnostics only, as <see cref="Retriever.RetrieverTelemetry"/>: a host
/// subscribes by <see cref="Name"/>. Spans: document.upload (storing one upload), and ingest (one job attempt) with
/// children ingest.extract, ingest.chunk, ingest.embed and ingest.index. The job runs later, maybe in another process,
/// so the upload's trace context travels in the job's payload and ingest is its child: one trace shows upload -> ingest.
/// </summary>
public static class IngestTelemetry
{
    public const string Name = "Rag.Ingest";

    public static readonly ActivitySource Source = new(Name);

    static readonly Meter Meter = new(Name);

    /// <summary>Documents the pipeline finished, tagged rag.ingest.outcome (indexed, failed, deleted); rate() gives documents per second.</summary>
    public static readonly Counter<long> Documents = Meter.CreateCounter<long>(
        "rag.ingest.documents", unit: "{document}", description: "Documents ingested, by outcome.");

    /// <summary>Passages (chunks) indexed; rate() gives passages per second.</summary>
    public static readonly Counter<long> Passages = Meter.CreateCounter<long>(
        "rag.ingest.passages", unit: "{passage}", description: "Passages indexed.");

    /// <summary>Job attempts that threw, tagged rag.job.kind and rag.job.gave_up (true when the queue will not retry).</summary>
    public static readonly Counter<long> FailedJobs = Meter.CreateCounter<long>(
        "rag.jobs.failed", unit: "{job}", description: "Job attempts that failed.");

    /// <summary>Jobs waiting (queued) and running (leased), as <see cref="QueueDepthSampler"/> last read them.</summary>
    public static readonly ObservableGauge<int> QueueDepth = Meter.CreateObservableGauge(
        "rag.queue.depth", ObserveQueues, unit: "{job}", description: "Jobs in the queue by status (queued, leased).");

    // One per host; a process normally has one, tests may run several.
    static readonly ConcurrentDictionary<QueueDepthSampler, byte> Samplers = new();

    internal static void Register(QueueDepthSampler sampler) => Samplers.TryAdd(sampler, 0);

    internal static void Unregister(QueueDepthSampler sampler) => Samplers.TryRemove(sampler, out _);

    static IEnumerable<Measurement<int>> ObserveQueues() => Samplers.Keys.SelectMany(s => s.Measurements());

    /// <summary>The current span as a W3C traceparent, to store with a job; null when nothing records this trace.</summary>
    internal static string? CurrentTraceParent() =>
        Activity.Current is { Recorded: true, IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    /// <summary>The span of one ingest attempt, a child of the upload (or re-ingest request) that queued it.</summary>
    internal static Activity? StartIngest(string? traceParent) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, null, isRemote: true, out var parent)
            ? Source.StartActivity("ingest", ActivityKind.Consumer, parent)
            : Source.StartActivity("ingest", ActivityKind.Consumer);

    internal static string OutcomeName(IngestOutcome outcome) => outcome switch
    {
        IngestOutcome.Indexed => "indexed",
        IngestOutcome.Failed => "failed",
        _ => "deleted",
    };

    internal static void Failed(this Activity? activity, Exception e)
    {
        if (activity is null) return;
        activity.SetStatus(ActivityStatusCode.Error, e.Message);
        activity.AddException(e);
    }
}
