using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Rag.Retriever;
using Rag.Storage;

namespace Rag.Ingest;

/// <summary>
/// The upgrade from BM25-only: after a start with an encoder, every tenant whose documents are indexed but whose vector
/// index holds nothing (its documents were ingested with no encoder, or before encoders existed) has those documents
/// queued for ingestion again, through the same re-ingest path a user triggers. The worker embeds them in the
/// background; their old chunks keep answering through BM25 until the new ones replace them, and nothing is re-uploaded.
/// A restart midway is safe: the jobs are durable, and a tenant with some vectors already is left to them.
/// </summary>
public sealed class VectorBackfill(IRagStore store, IVectorIndex vectors, DocumentIngestion ingestion, ILogger<VectorBackfill>? logger = null) : BackgroundService
{
    readonly ILogger _logger = logger ?? NullLogger<VectorBackfill>.Instance;
    readonly List<(string TenantId, string DocumentId)> _queued = [];
    readonly Lock _gate = new();

    /// <summary>Done once the start-up scan has finished (tests and /readyz wait on it).</summary>
    public Task Scanned => _scanned.Task;
    readonly TaskCompletionSource _scanned = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try { await ScanAsync(stoppingToken); }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
        catch (Exception e)
        {
            // The service keeps answering through BM25; the operator can still run `rag docs reingest --all`.
            _logger.LogError(e, "Could not queue documents indexed without vectors for embedding: {Message}", e.Message);
        }
        finally { _scanned.TrySetResult(); }
    }

    /// <summary>Queues each tenant's indexed documents when its vector index is empty; returns how many were queued.</summary>
    public async Task<int> ScanAsync(CancellationToken ct)
    {
        int total = 0;
        foreach (var tenant in await store.Tenants.ListTenantsAsync(ct))
        {
            if (await vectors.CountAsync(tenant.Id, ct) > 0) continue;
            if (await store.Chunks.CountChunksAsync(tenant.Id, ct) == 0) continue;
            var indexed = new List<string>();
            for (var offset = 0; ; offset += 200)
            {
                var page = await store.Documents.ListAsync(tenant.Id, offset, 200, null, ct);
                indexed.AddRange(page.Items.Where(d => d.Status == DocumentStatus.Indexed && d.ChunkCount > 0).Select(d => d.Id));
                if (page.Items.Count < 200) break;
            }
            foreach (var id in indexed.Distinct())
                if (await ingestion.ReingestAsync(tenant.Id, id, ct) is not null)
                    lock (_gate) _queued.Add((tenant.Id, id));
            total += indexed.Count;
            _logger.LogInformation("Tenant {Tenant}: {Count} document(s) were indexed without vectors; queued for embedding (BM25 answers meanwhile)",
                tenant.Name, indexed.Count);
        }
        return total;
    }

    /// <summary>How far the upgrade is: documents queued for embedding at start, and how many of them are still waiting.</summary>
    public async Task<BackfillProgress?> ProgressAsync(CancellationToken ct)
    {
        List<(string TenantId, string DocumentId)> queued;
        lock (_gate) queued = [.. _queued];
        if (queued.Count == 0) return null;
        int remaining = 0;
        foreach (var group in queued.GroupBy(q => q.TenantId))
        {
            var documents = await store.Documents.GetManyAsync(group.Key, [.. group.Select(g => g.DocumentId)], ct);
            remaining += documents.Values.Count(d => d.Status is DocumentStatus.Queued or DocumentStatus.Processing);
        }
        return new BackfillProgress(queued.Count, remaining);
    }
}

/// <summary>Documents the upgrade queued for embedding, and how many still wait.</summary>
public sealed record BackfillProgress(int Documents, int Remaining);
