namespace Rag.Storage;

public interface ITenantStore
{
    Task<Tenant> CreateTenantAsync(string name, CancellationToken ct = default);
    Task<Tenant?> GetTenantAsync(string id, CancellationToken ct = default);
    Task<Tenant?> FindTenantByNameAsync(string name, CancellationToken ct = default);
    Task<IReadOnlyList<Tenant>> ListTenantsAsync(CancellationToken ct = default);

    /// <summary>Creates a key; the plaintext is returned once and only its hash is stored.</summary>
    Task<NewApiKey> CreateApiKeyAsync(string tenantId, string name, bool isAdmin = false, CancellationToken ct = default);

    /// <summary>The key's record when the plaintext matches a key that is not revoked; otherwise null.</summary>
    Task<ApiKeyInfo?> AuthenticateAsync(string plaintextKey, CancellationToken ct = default);
    Task<IReadOnlyList<ApiKeyInfo>> ListApiKeysAsync(string? tenantId = null, CancellationToken ct = default);
    Task<bool> RevokeApiKeyAsync(string keyId, CancellationToken ct = default);
}

public interface IDocumentStore
{
    Task<DocumentRecord> AddAsync(DocumentRecord document, CancellationToken ct = default);

    /// <summary>
    /// Adds the document unless one with its id already exists (then nothing changes): true when it was added. For a
    /// document whose id is derived from where it came from (an attachment: its message and position), so that a retried
    /// job adds it once.
    /// </summary>
    Task<bool> AddIfAbsentAsync(DocumentRecord document, CancellationToken ct = default);
    Task<DocumentRecord?> GetAsync(string tenantId, string id, CancellationToken ct = default);

    /// <summary>
    /// The tenant's documents with these ids, keyed by id (ordinal), in one round trip per few hundred ids;
    /// unknown ids and other tenants' documents are absent. Lets a caller resolve a page of results without a query per row.
    /// </summary>
    Task<IReadOnlyDictionary<string, DocumentRecord>> GetManyAsync(string tenantId, IReadOnlyCollection<string> ids, CancellationToken ct = default);

    /// <summary>The tenant's oldest document with these bytes that has no parent (an upload is never a duplicate of an attachment).</summary>
    Task<DocumentRecord?> FindByHashAsync(string tenantId, string contentHash, CancellationToken ct = default);
    Task<DocumentRecord?> FindByExternalIdAsync(string tenantId, string externalId, CancellationToken ct = default);
    Task<Page<DocumentRecord>> ListAsync(string tenantId, int offset, int limit, string? titleContains = null, CancellationToken ct = default);

    /// <summary>The tenant's documents whose ParentId is <paramref name="parentId"/>, oldest first (also when the parent row is gone).</summary>
    Task<IReadOnlyList<DocumentRecord>> ListChildrenAsync(string tenantId, string parentId, CancellationToken ct = default);

    /// <summary>Replaces the mutable fields of a document (title, hash, size, content type, status...; not its ParentId).</summary>
    Task UpdateAsync(DocumentRecord document, CancellationToken ct = default);

    /// <summary>
    /// AddAsync and enqueueing the job that ingests the document, in one transaction: a document is never stored without
    /// its job (an upload cut off by a database outage leaves neither, so its retry starts afresh instead of finding a
    /// document that nothing will ever ingest).
    /// </summary>
    Task<(DocumentRecord Document, Job Job)> AddWithJobAsync(DocumentRecord document, NewJob job, CancellationToken ct = default);

    /// <summary>UpdateAsync and enqueueing the job, in one transaction (new content is never left without the job that indexes it).</summary>
    Task<Job> UpdateWithJobAsync(DocumentRecord document, NewJob job, CancellationToken ct = default);
    Task SetStatusAsync(string tenantId, string id, DocumentStatus status, string? error = null, CancellationToken ct = default);

    /// <summary>Deletes the document row and its chunks (not its children's: DocumentIngestion deletes each child as a document). True when it existed.</summary>
    Task<bool> DeleteAsync(string tenantId, string id, CancellationToken ct = default);
}

public interface IChunkStore
{
    /// <summary>Atomically replaces every chunk of a document with these (readers see old or new, never a mix).</summary>
    Task ReplaceChunksAsync(string tenantId, string documentId, IReadOnlyList<ChunkRecord> chunks, CancellationToken ct = default);
    Task<IReadOnlyList<ChunkRecord>> GetChunksAsync(string tenantId, string documentId, CancellationToken ct = default);

    /// <summary>The chunks with these ids that belong to the tenant, in the order asked; unknown ids are skipped.</summary>
    Task<IReadOnlyList<ChunkRecord>> GetChunksByIdAsync(string tenantId, IReadOnlyList<string> chunkIds, CancellationToken ct = default);
    Task<long> CountChunksAsync(string tenantId, CancellationToken ct = default);
}

public interface IChatStore
{
    Task<Conversation> CreateConversationAsync(string tenantId, string? title, CancellationToken ct = default);
    Task<Conversation?> GetConversationAsync(string tenantId, string id, CancellationToken ct = default);
    Task<IReadOnlyList<Conversation>> ListConversationsAsync(string tenantId, int limit = 50, CancellationToken ct = default);
    Task AppendMessageAsync(string tenantId, string conversationId, string role, string content, string? citationsJson = null, CancellationToken ct = default);
    Task<IReadOnlyList<ChatMessageRecord>> GetMessagesAsync(string tenantId, string conversationId, CancellationToken ct = default);
}

/// <summary>
/// A durable job queue with leases: a leased job that is not completed before its lease expires
/// is leased again (its worker is presumed dead). Failures retry with exponential back-off until
/// MaxAttempts, then the job is Failed with its error.
/// </summary>
public interface IJobQueue
{
    Task<Job> EnqueueAsync(string kind, string payload, string? tenantId = null, int maxAttempts = 5, CancellationToken ct = default);

    /// <summary>Leases the oldest runnable job (queued and due, or leased with an expired lease); null when none.</summary>
    Task<Job?> LeaseAsync(string workerId, TimeSpan leaseDuration, CancellationToken ct = default);

    /// <summary>Extends the lease; false when the worker no longer holds it.</summary>
    Task<bool> RenewLeaseAsync(string jobId, string workerId, TimeSpan leaseDuration, CancellationToken ct = default);

    /// <summary>Marks done; false when the worker no longer holds the lease (someone else took over).</summary>
    Task<bool> CompleteAsync(string jobId, string workerId, CancellationToken ct = default);

    /// <summary>
    /// Gives a held job back untouched (no attempt counted, runnable at once): a worker shutting down releases what it
    /// could not finish instead of leaving it to its lease. False when the worker no longer holds the lease.
    /// </summary>
    Task<bool> ReleaseAsync(string jobId, string workerId, CancellationToken ct = default);

    /// <summary>
    /// Records a failed attempt: requeued after back-off, or Failed once attempts are exhausted. Returns the job as it now is;
    /// null when the job is unknown or the worker no longer holds its lease (nothing is recorded then).
    /// </summary>
    Task<Job?> FailAsync(string jobId, string workerId, string error, CancellationToken ct = default);
    Task<Job?> GetAsync(string jobId, CancellationToken ct = default);
    Task<IReadOnlyDictionary<JobStatus, int>> CountByStatusAsync(CancellationToken ct = default);

    /// <summary>Completes when a job may be available (a notification, or the timeout). Lets idle workers wake at once.</summary>
    Task WaitForWorkAsync(TimeSpan timeout, CancellationToken ct = default);
}

public interface IEvalRunStore
{
    Task<EvalRunRecord> CreateAsync(EvalRunRecord run, CancellationToken ct = default);
    Task UpdateAsync(EvalRunRecord run, CancellationToken ct = default);
    Task<EvalRunRecord?> GetAsync(string tenantId, string id, CancellationToken ct = default);
    Task<IReadOnlyList<EvalRunRecord>> ListAsync(string tenantId, int limit = 50, CancellationToken ct = default);
}

/// <summary>Original uploaded bytes, kept so a document can be re-ingested.</summary>
public interface IBlobStore
{
    Task SaveAsync(string tenantId, string documentId, Stream content, CancellationToken ct = default);
    Task<Stream?> OpenAsync(string tenantId, string documentId, CancellationToken ct = default);
    Task DeleteAsync(string tenantId, string documentId, CancellationToken ct = default);
}

/// <summary>Everything the service stores, as one unit that can be opened (migrated) and health-checked.</summary>
public interface IRagStore : IAsyncDisposable
{
    ITenantStore Tenants { get; }
    IDocumentStore Documents { get; }
    IChunkStore Chunks { get; }
    IChatStore Chats { get; }
    IJobQueue Jobs { get; }
    IEvalRunStore EvalRuns { get; }
    IBlobStore Blobs { get; }

    /// <summary>Throws a clear exception when the store cannot be reached.</summary>
    Task CheckHealthAsync(CancellationToken ct = default);
}
