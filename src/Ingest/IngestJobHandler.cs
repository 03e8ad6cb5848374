using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Rag.Storage;

namespace Rag.Ingest;

/// <summary>Runs one kind of queued job for <see cref="IngestWorker"/>.</summary>
public interface IJobHandler
{
    /// <summary>The Job.Kind this handler runs.</summary>
    string Kind { get; }

    /// <summary>Does the work; throwing records a failed attempt and the queue retries after back-off.</summary>
    Task HandleAsync(Job job, CancellationToken ct);

    /// <summary>Called once the queue has given up on the job (attempts exhausted).</summary>
    Task OnGaveUpAsync(Job job, string error, CancellationToken ct);
}

/// <summary>"ingest" jobs: runs <see cref="IngestPipeline"/> and keeps the document's status in step with the job.</summary>
public sealed class IngestJobHandler(IngestPipeline pipeline, IRagStore store, ILogger<IngestJobHandler>? logger = null) : IJobHandler
{
    readonly ILogger _logger = logger ?? NullLogger<IngestJobHandler>.Instance;

    public string Kind => IngestJobPayload.Kind;

    public async Task HandleAsync(Job job, CancellationToken ct)
    {
        var payload = IngestJobPayload.Parse(job.Payload);
        using var activity = IngestTelemetry.StartIngest(payload.TraceParent);
        activity?.SetTag("rag.job.id", job.Id);
        activity?.SetTag("rag.job.attempt", job.Attempts + 1);
        activity?.SetTag("rag.document.id", payload.DocumentId);
        var progress = new Progress(_logger, job.Id);
        try
        {
            var outcome = await pipeline.RunAsync(payload.TenantId, payload.DocumentId, progress, ct);
            activity?.SetTag("rag.ingest.outcome", IngestTelemetry.OutcomeName(outcome));
            if (outcome == IngestOutcome.Failed) activity?.SetStatus(ActivityStatusCode.Error, "The document cannot be ingested.");
            _logger.LogInformation("Job {JobId}: document {DocumentId} {Outcome}", job.Id, payload.DocumentId, outcome);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            activity.Failed(e);
            // Show the error while the queue retries; OnGaveUpAsync marks the document failed at the end.
            var message = $"Attempt {job.Attempts + 1} of {job.MaxAttempts} failed, will retry: {e.Message}";
            try { await store.Documents.SetStatusAsync(payload.TenantId, payload.DocumentId, DocumentStatus.Queued, message, ct); }
            catch (Exception inner) when (inner is not OperationCanceledException) { _logger.LogWarning(inner, "Could not record the error of job {JobId}", job.Id); }
            throw;
        }
    }

    public async Task OnGaveUpAsync(Job job, string error, CancellationToken ct)
    {
        var payload = IngestJobPayload.Parse(job.Payload);
        if (await store.Documents.GetAsync(payload.TenantId, payload.DocumentId, ct) is null) return;
        await store.Documents.SetStatusAsync(payload.TenantId, payload.DocumentId, DocumentStatus.Failed, error, ct);
    }

    /// <summary>Logs each step synchronously (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
    sealed class Progress(ILogger logger, string jobId) : IProgress<IngestProgress>
    {
        public void Report(IngestProgress value) =>
            logger.LogDebug("Job {JobId}: document {DocumentId} {Step} {Done}/{Total}", jobId, value.DocumentId, value.Step, value.Done, value.Total);
    }
}
