using Rag.Storage;

namespace Rag.Ingest.Tests;

/// <summary>
/// A small in-memory IRagStore for unit tests: documents, chunks, blobs and a leasing job queue with
/// the contract's semantics (expired leases are re-leased, failures retry until MaxAttempts).
/// Tenants, chats and eval runs are not needed by ingestion and throw.
/// </summary>
public sealed class InMemoryRagStore : IRagStore
{
    public InMemoryRagStore() => Docs = new InMemoryDocuments(Queue);

    public InMemoryDocuments Docs { get; }
    public InMemoryJobQueue Queue { get; } = new();
    public InMemoryBlobs BlobStore { get; } = new();

    public IDocumentStore Documents => Docs;
    public IChunkStore Chunks => Docs;
    public IJobQueue Jobs => Queue;
    public IBlobStore Blobs => BlobStore;
    public ITenantStore Tenants => throw new NotSupportedException("Not used by ingestion tests.");
    public IChatStore Chats => throw new NotSupportedException("Not used by ingestion tests.");
    public IEvalRunStore EvalRuns => throw new NotSupportedException("Not used by ingestion tests.");

    public Task CheckHealthAsync(CancellationToken ct = default) => Task.CompletedTask;
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Documents and chunks; the queue takes the jobs of AddWithJobAsync and UpdateWithJobAsync.</summary>
public sealed class InMemoryDocuments(InMemoryJobQueue queue) : IDocumentStore, IChunkStore
{
    readonly object _gate = new();
    readonly Dictionary<(string, string), DocumentRecord> _docs = [];
    readonly Dictionary<(string, string), ChunkRecord[]> _chunks = [];

    public int DocumentCount { get { lock (_gate) return _docs.Count; } }

    /// <summary>The next ReplaceChunksAsync throws, as a crash would.</summary>
    public bool FailNextReplace { get; set; }

    /// <summary>Runs before every GetAsync (lets a test delete or replace a document mid-run).</summary>
    public Func<string, Task>? BeforeGet { get; set; }

    static KeyNotFoundException NotFound(string id) => new($"Document '{id}' does not exist.");

    public Task<DocumentRecord> AddAsync(DocumentRecord document, CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (!_docs.TryAdd((document.TenantId, document.Id), document)) throw new InvalidOperationException("duplicate id");
            return Task.FromResult(document);
        }
    }

    public Task<bool> AddIfAbsentAsync(DocumentRecord document, CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (_docs.Keys.Any(k => k.Item2 == document.Id)) return Task.FromResult(false); // ids are unique across tenants, as in SQL
            _docs[(document.TenantId, document.Id)] = document with { ChunkCount = 0 };
            return Task.FromResult(true);
        }
    }

    public Task<IReadOnlyList<DocumentRecord>> ListChildrenAsync(string tenantId, string parentId, CancellationToken ct = default)
    {
        lock (_gate)
            return Task.FromResult<IReadOnlyList<DocumentRecord>>(_docs.Values.Where(d => d.TenantId == tenantId && d.ParentId == parentId)
                .OrderBy(d => d.CreatedAt).ThenBy(d => d.Id, StringComparer.Ordinal).ToList());
    }

    public async Task<(DocumentRecord Document, Job Job)> AddWithJobAsync(DocumentRecord document, NewJob job, CancellationToken ct = default)
    {
        var added = await AddAsync(document, ct);
        return (added, await queue.EnqueueAsync(job.Kind, job.Payload, job.TenantId, job.MaxAttempts, ct));
    }

    public async Task<Job> UpdateWithJobAsync(DocumentRecord document, NewJob job, CancellationToken ct = default)
    {
        await UpdateAsync(document, ct);
        return await queue.EnqueueAsync(job.Kind, job.Payload, job.TenantId, job.MaxAttempts, ct);
    }

    public async Task<DocumentRecord?> GetAsync(string tenantId, string id, CancellationToken ct = default)
    {
        if (BeforeGet is { } hook) await hook(id);
        lock (_gate) return _docs.GetValueOrDefault((tenantId, id));
    }

    public Task<IReadOnlyDictionary<string, DocumentRecord>> GetManyAsync(string tenantId, IReadOnlyCollection<string> ids, CancellationToken ct = default)
    {
        lock (_gate)
        {
            IReadOnlyDictionary<string, DocumentRecord> found = ids.Distinct()
                .Where(id => _docs.ContainsKey((tenantId, id)))
                .ToDictionary(id => id, id => _docs[(tenantId, id)], StringComparer.Ordinal);
            return Task.FromResult(found);
        }
    }

    public Task<DocumentRecord?> FindByHashAsync(string tenantId, string contentHash, CancellationToken ct = default)
    {
        lock (_gate) return Task.FromResult(_docs.Values.FirstOrDefault(d => d.TenantId == tenantId && d.ContentHash == contentHash && d.ParentId is null));
    }

    public Task<DocumentRecord?> FindByExternalIdAsync(string tenantId, string externalId, CancellationToken ct = default)
    {
        lock (_gate) return Task.FromResult(_docs.Values.FirstOrDefault(d => d.TenantId == tenantId && d.ExternalId == externalId));
    }

    public Task<Page<DocumentRecord>> ListAsync(string tenantId, int offset, int limit, string? titleContains = null, CancellationToken ct = default)
    {
        lock (_gate)
        {
            var all = _docs.Values.Where(d => d.TenantId == tenantId).OrderBy(d => d.CreatedAt).ToList();
            return Task.FromResult(new Page<DocumentRecord>(all.Skip(offset).Take(limit).ToList(), all.Count, offset, limit));
        }
    }

    public Task UpdateAsync(DocumentRecord document, CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (!_docs.TryGetValue((document.TenantId, document.Id), out var old)) throw NotFound(document.Id);
            _docs[(document.TenantId, document.Id)] = document with { ChunkCount = old.ChunkCount, ParentId = old.ParentId };
            return Task.CompletedTask;
        }
    }

    public Task SetStatusAsync(string tenantId, string id, DocumentStatus status, string? error = null, CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (!_docs.TryGetValue((tenantId, id), out var d)) throw NotFound(id);
            _docs[(tenantId, id)] = d with { Status = status, Error = error, UpdatedAt = DateTimeOffset.UtcNow };
            return Task.CompletedTask;
        }
    }

    public Task<bool> DeleteAsync(string tenantId, string id, CancellationToken ct = default)
    {
        lock (_gate)
        {
            _chunks.Remove((tenantId, id));
            return Task.FromResult(_docs.Remove((tenantId, id)));
        }
    }

    public Task ReplaceChunksAsync(string tenantId, string documentId, IReadOnlyList<ChunkRecord> chunks, CancellationToken ct = default)
    {
        if (FailNextReplace)
        {
            FailNextReplace = false;
            throw new IOException("simulated crash while replacing chunk rows");
        }
        lock (_gate)
        {
            if (!_docs.TryGetValue((tenantId, documentId), out var d)) throw NotFound(documentId);
            _docs[(tenantId, documentId)] = d with { ChunkCount = chunks.Count };
            if (chunks.Count == 0) _chunks.Remove((tenantId, documentId));
            else _chunks[(tenantId, documentId)] = chunks.ToArray();
            return Task.CompletedTask;
        }
    }

    public Task<IReadOnlyList<ChunkRecord>> GetChunksAsync(string tenantId, string documentId, CancellationToken ct = default)
    {
        lock (_gate) return Task.FromResult<IReadOnlyList<ChunkRecord>>(_chunks.GetValueOrDefault((tenantId, documentId)) ?? []);
    }

    public Task<IReadOnlyList<ChunkRecord>> GetChunksByIdAsync(string tenantId, IReadOnlyList<string> chunkIds, CancellationToken ct = default)
    {
        lock (_gate)
        {
            var all = _chunks.Where(kv => kv.Key.Item1 == tenantId).SelectMany(kv => kv.Value).ToDictionary(c => c.Id);
            return Task.FromResult<IReadOnlyList<ChunkRecord>>(chunkIds.Where(all.ContainsKey).Select(id => all[id]).ToList());
        }
    }

    public Task<long> CountChunksAsync(string tenantId, CancellationToken ct = default)
    {
        lock (_gate) return Task.FromResult((long)_chunks.Where(kv => kv.Key.Item1 == tenantId).Sum(kv => kv.Value.Length));
    }
}

public sealed class InMemoryBlobs : IBlobStore
{
    readonly object _gate = new();
    readonly Dictionary<(string, string), byte[]> _blobs = [];

    public int Count { get { lock (_gate) return _blobs.Count; } }

    public async Task SaveAsync(string tenantId, string documentId, Stream content, CancellationToken ct = default)
    {
        using var ms = new MemoryStream();
        await content.CopyToAsync(ms, ct);
        lock (_gate) _blobs[(tenantId, documentId)] = ms.ToArray();
    }

    public Task<Stream?> OpenAsync(string tenantId, string documentId, CancellationToken ct = default)
    {
        lock (_gate)
            return Task.FromResult<Stream?>(_blobs.TryGetValue((tenantId, documentId), out var b) ? new MemoryStream(b, writable: false) : null);
    }

    public Task DeleteAsync(string tenantId, string documentId, CancellationToken ct = default)
    {
        lock (_gate) _blobs.Remove((tenantId, documentId));
        return Task.CompletedTask;
    }
}

/// <summary>The queue contract in memory; retries are due at once (no back-off) to keep tests fast.</summary>
public sealed class InMemoryJobQueue : IJobQueue
{
    readonly object _gate = new();
    readonly List<Job> _jobs = [];
    int _next;

    public IReadOnlyList<Job> All { get { lock (_gate) return _jobs.ToList(); } }

    public Task<Job> EnqueueAsync(string kind, string payload, string? tenantId = null, int maxAttempts = 5, CancellationToken ct = default)
    {
        lock (_gate)
        {
            var now = DateTimeOffset.UtcNow;
            var job = new Job($"job-{++_next}", kind, payload, tenantId, JobStatus.Queued, 0, maxAttempts, null, null, now, null, now, now);
            _jobs.Add(job);
            return Task.FromResult(job);
        }
    }

    public Task<Job?> LeaseAsync(string workerId, TimeSpan leaseDuration, CancellationToken ct = default)
    {
        lock (_gate)
        {
            var now = DateTimeOffset.UtcNow;
            var i = _jobs.FindIndex(j => j.Status == JobStatus.Queued && j.RunAfter <= now || j.Status == JobStatus.Leased && j.LeaseExpiresAt <= now);
            if (i < 0) return Task.FromResult<Job?>(null);
            _jobs[i] = _jobs[i] with { Status = JobStatus.Leased, LeaseOwner = workerId, LeaseExpiresAt = now + leaseDuration, UpdatedAt = now };
            return Task.FromResult<Job?>(_jobs[i]);
        }
    }

    public Task<bool> RenewLeaseAsync(string jobId, string workerId, TimeSpan leaseDuration, CancellationToken ct = default)
    {
        lock (_gate)
        {
            var i = _jobs.FindIndex(j => j.Id == jobId && j.Status == JobStatus.Leased && j.LeaseOwner == workerId);
            if (i < 0) return Task.FromResult(false);
            _jobs[i] = _jobs[i] with { LeaseExpiresAt = DateTimeOffset.UtcNow + leaseDuration };
            return Task.FromResult(true);
        }
    }

    public Task<bool> CompleteAsync(string jobId, string workerId, CancellationToken ct = default)
    {
        lock (_gate)
        {
            var i = _jobs.FindIndex(j => j.Id == jobId && j.Status == JobStatus.Leased && j.LeaseOwner == workerId);
            if (i < 0) return Task.FromResult(false);
            _jobs[i] = _jobs[i] with { Status = JobStatus.Done, Attempts = _jobs[i].Attempts + 1, LeaseOwner = null, LeaseExpiresAt = null };
            return Task.FromResult(true);
        }
    }

    public Task<bool> ReleaseAsync(string jobId, string workerId, CancellationToken ct = default)
    {
        lock (_gate)
        {
            var i = _jobs.FindIndex(j => j.Id == jobId && j.Status == JobStatus.Leased && j.LeaseOwner == workerId);
            if (i < 0) return Task.FromResult(false);
            _jobs[i] = _jobs[i] with { Status = JobStatus.Queued, LeaseOwner = null, LeaseExpiresAt = null, RunAfter = DateTimeOffset.UtcNow };
            return Task.FromResult(true);
        }
    }

    public Task<Job?> FailAsync(string jobId, string workerId, string error, CancellationToken ct = default)
    {
        lock (_gate)
        {
            var i = _jobs.FindIndex(j => j.Id == jobId && j.Status == JobStatus.Leased && j.LeaseOwner == workerId);
            if (i < 0) return Task.FromResult<Job?>(null);
            var attempts = _jobs[i].Attempts + 1;
            var status = attempts >= _jobs[i].MaxAttempts ? JobStatus.Failed : JobStatus.Queued;
            _jobs[i] = _jobs[i] with { Status = status, Attempts = attempts, Error = error, LeaseOwner = null, LeaseExpiresAt = null, RunAfter = DateTimeOffset.UtcNow };
            return Task.FromResult<Job?>(_jobs[i]);
        }
    }

    public Task<Job?> GetAsync(string jobId, CancellationToken ct = default)
    {
        lock (_gate) return Task.FromResult(_jobs.FirstOrDefault(j => j.Id == jobId));
    }

    public Task<IReadOnlyDictionary<JobStatus, int>> CountByStatusAsync(CancellationToken ct = default)
    {
        lock (_gate)
            return Task.FromResult<IReadOnlyDictionary<JobStatus, int>>(_jobs.GroupBy(j => j.Status).ToDictionary(g => g.Key, g => g.Count()));
    }

    public Task WaitForWorkAsync(TimeSpan timeout, CancellationToken ct = default) =>
        Task.Delay(TimeSpan.FromMilliseconds(Math.Min(timeout.TotalMilliseconds, 20)), ct);
}
