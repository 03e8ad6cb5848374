using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Rag.Retriever;
using Rag.Storage;

namespace Rag.Ingest;

/// <summary>
/// The front door for documents: validates an upload, stores its bytes and row, and queues the
/// ingest job; deletes a document from every store and index. Nothing is written until the upload
/// has passed every check, so a refused upload leaves stored data untouched.
/// </summary>
public sealed class DocumentIngestion
{
    // Submissions of one tenant are serialised in this process so that two identical uploads
    // racing each other still dedupe (striped: a bounded number of locks for any number of tenants).
    readonly SemaphoreSlim[] _tenantLocks = Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    readonly IRagStore _store;
    readonly ExtractorRegistry _extractors;
    readonly ILexicalIndex _lexical;
    readonly IVectorIndex? _vectors;
    readonly IngestOptions _options;
    readonly TimeProvider _time;
    readonly ILogger _logger;

    public DocumentIngestion(
        IRagStore store,
        ExtractorRegistry extractors,
        ILexicalIndex lexical,
        IngestOptions options,
        IVectorIndex? vectors = null,
        TimeProvider? time = null,
        ILogger<DocumentIngestion>? logger = null)
    {
        (_store, _extractors, _lexical, _options, _vectors) = (store, extractors, lexical, options, vectors);
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger<DocumentIngestion>.Instance;
    }

    /// <exception cref="IngestRejectedException">Empty, unsupported, too large or unreadable; nothing was stored.</exception>
    public async Task<SubmitResult> SubmitAsync(string tenantId, DocumentUpload upload, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        using var activity = IngestTelemetry.Source.StartActivity("document.upload");
        try
        {
            var result = await StoreAsync(tenantId, upload, ct);
            activity?.SetTag("rag.document.id", result.Document.Id);
            activity?.SetTag("rag.upload.bytes", result.Document.SizeBytes);
            activity?.SetTag("rag.upload.duplicate", result.Duplicate);
            return result;
        }
        catch (Exception e)
        {
            activity.Failed(e);
            throw;
        }
    }

    async Task<SubmitResult> StoreAsync(string tenantId, DocumentUpload upload, CancellationToken ct)
    {
        // Spooled to a temp file while hashed: any upload up to the limit in bounded memory, checked before anything is stored.
        await using var content = await SpooledUpload.CopyAsync(upload.Content, _options.MaxUploadBytes, ct);
        if (content.Length == 0) throw new IngestRejectedException(IngestRejectReason.Empty, "The file is empty (0 bytes).");

        var extractor = _extractors.Resolve(upload.FileName, upload.ContentType, content.Head)
            ?? throw new IngestRejectedException(IngestRejectReason.UnsupportedType,
                $"Unsupported file type (name '{upload.FileName}', content type '{upload.ContentType}'); supported: {_extractors.SupportedList}.");
        await ValidateContentAsync(extractor, content, ct);

        var hash = content.Sha256Hex;
        var now = _time.GetUtcNow();
        var title = !string.IsNullOrWhiteSpace(upload.Title) ? upload.Title.Trim()
            : !string.IsNullOrWhiteSpace(upload.FileName) ? FallbackTitle(upload.FileName)
            : "Untitled";
        var tags = upload.Tags?.Where(t => !string.IsNullOrWhiteSpace(t)).Select(t => t.Trim()).Distinct(StringComparer.Ordinal).ToArray() ?? [];
        var contentType = extractor.ContentTypes[0];
        var fileName = string.IsNullOrWhiteSpace(upload.FileName) ? null : Path.GetFileName(upload.FileName);

        var gate = _tenantLocks[(int)((uint)StringComparer.Ordinal.GetHashCode(tenantId) % (uint)_tenantLocks.Length)];
        await gate.WaitAsync(ct);
        try
        {
            if (upload.ExternalId is { Length: > 0 } externalId
                && await _store.Documents.FindByExternalIdAsync(tenantId, externalId, ct) is { } existing)
            {
                if (string.Equals(existing.ContentHash, hash, StringComparison.OrdinalIgnoreCase))
                    return new SubmitResult(existing, Duplicate: true, JobId: null);

                // Same external id, new bytes: same document id, content replaced; the job replaces its chunks.
                await SaveBlobAsync(tenantId, existing.Id, content, ct);
                var replaced = existing with
                {
                    Title = title,
                    FileName = fileName,
                    ContentType = contentType,
                    ContentHash = hash,
                    SizeBytes = content.Length,
                    Tags = tags,
                    Status = DocumentStatus.Queued,
                    Error = null,
                    UpdatedAt = now,
                };
                var replaceJob = await _store.Documents.UpdateWithJobAsync(replaced, IngestJob(tenantId, existing.Id), ct);
                _logger.LogInformation("Replaced content of document {DocumentId} (external id {ExternalId}); job {JobId}", existing.Id, externalId, replaceJob.Id);
                return new SubmitResult(replaced, Duplicate: false, replaceJob.Id);
            }

            if (await _store.Documents.FindByHashAsync(tenantId, hash, ct) is { } duplicate)
                return new SubmitResult(duplicate, Duplicate: true, JobId: null);

            var document = new DocumentRecord(
                Id: Guid.NewGuid().ToString("N"), TenantId: tenantId, Title: title, FileName: fileName, ContentType: contentType,
                ContentHash: hash, SizeBytes: content.Length, ExternalId: string.IsNullOrEmpty(upload.ExternalId) ? null : upload.ExternalId,
                Tags: tags, Status: DocumentStatus.Queued, Error: null, ChunkCount: 0, CreatedAt: now, UpdatedAt: now);
            await SaveBlobAsync(tenantId, document.Id, content, ct);
            Job job;
            try
            {
                // The row and its job in one transaction: a retry after a failure here finds neither, never a row without a job.
                (document, job) = await _store.Documents.AddWithJobAsync(document, IngestJob(tenantId, document.Id), ct);
            }
            catch
            {
                await _store.Blobs.DeleteAsync(tenantId, document.Id, CancellationToken.None);
                throw;
            }
            _logger.LogInformation("Queued document {DocumentId} ({Title}, {Bytes} bytes) for tenant {TenantId}; job {JobId}",
                document.Id, title, content.Length, tenantId, job.Id);
            return new SubmitResult(document, Duplicate: false, job.Id);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Removes the document's row and chunk rows (one store call), its vectors, its lexical entries and its blob, then
    /// each of its child documents (an e-mail's attachments) the same way; false when the document is unknown.
    /// The row goes first: a job that is running sees it gone and undoes what it wrote, and readers
    /// drop index hits whose chunk rows no longer exist, so a crash half-way leaks nothing. Children are looked
    /// for even when the row is already gone, so deleting again finishes a delete that was cut short.
    /// </summary>
    public async Task<bool> DeleteAsync(string tenantId, string documentId, CancellationToken ct = default)
    {
        var existed = false;
        if (await _store.Documents.GetAsync(tenantId, documentId, ct) is not null)
        {
            existed = await _store.Documents.DeleteAsync(tenantId, documentId, ct);
            if (_vectors is not null) await _vectors.DeleteDocumentAsync(tenantId, documentId, ct);
            await _lexical.DeleteDocumentAsync(tenantId, documentId, ct);
            await _store.Blobs.DeleteAsync(tenantId, documentId, ct);
            _logger.LogInformation("Deleted document {DocumentId} of tenant {TenantId}", documentId, tenantId);
        }
        await DeleteChildrenAsync(tenantId, documentId, ct);
        return existed;
    }

    /// <summary>Deletes every child document of the parent (whether or not its row still exists), each as <see cref="DeleteAsync"/> does.</summary>
    internal async Task DeleteChildrenAsync(string tenantId, string parentId, CancellationToken ct)
    {
        foreach (var child in await _store.Documents.ListChildrenAsync(tenantId, parentId, ct))
            await DeleteAsync(tenantId, child.Id, ct);
    }

    /// <summary>
    /// Makes the parent's child documents match the attachments its text came with: each is stored (blob, then row,
    /// then its ingest job, as an upload is) under an id derived from the parent and its index, so a retried job adds
    /// none twice; one whose bytes or tags changed (the message was replaced under its external id) is replaced and queued
    /// again; one left queued by a run cut short before its job was queued is queued again (a second job for it
    /// is harmless: ingestion is idempotent); children that no longer come with the parent are deleted.
    /// Returns the ids of the children, in attachment order.
    /// </summary>
    internal async Task<IReadOnlyList<string>> SyncChildrenAsync(DocumentRecord parent, IReadOnlyList<ExtractedAttachment> attachments, CancellationToken ct)
    {
        var existing = (await _store.Documents.ListChildrenAsync(parent.TenantId, parent.Id, ct)).ToDictionary(d => d.Id, StringComparer.Ordinal);
        if (existing.Count == 0 && attachments.Count == 0) return [];
        var ids = new List<string>(attachments.Count);
        foreach (var attachment in attachments)
        {
            var id = ChildId(parent, attachment.Index);
            ids.Add(id);
            var hash = IngestPipeline.Sha256Hex(attachment.Content);
            var now = _time.GetUtcNow();
            var title = attachment.FileName ?? $"{parent.Title}, attachment {attachment.Index}";
            if (existing.TryGetValue(id, out var child))
            {
                if (string.Equals(child.ContentHash, hash, StringComparison.OrdinalIgnoreCase) && child.Tags.SequenceEqual(parent.Tags, StringComparer.Ordinal))
                {
                    if (child.Status == DocumentStatus.Queued) await EnqueueAsync(parent.TenantId, id, ct);
                    continue;
                }
                await _store.Blobs.SaveAsync(parent.TenantId, id, new MemoryStream(attachment.Content, writable: false), ct);
                await _store.Documents.UpdateAsync(child with
                {
                    Title = title,
                    FileName = attachment.FileName,
                    ContentType = attachment.ContentType,
                    ContentHash = hash,
                    SizeBytes = attachment.Content.Length,
                    Tags = parent.Tags,
                    Status = DocumentStatus.Queued,
                    Error = null,
                    UpdatedAt = now,
                }, ct);
                await EnqueueAsync(parent.TenantId, id, ct);
                continue;
            }
            await _store.Blobs.SaveAsync(parent.TenantId, id, new MemoryStream(attachment.Content, writable: false), ct);
            var document = new DocumentRecord(
                Id: id, TenantId: parent.TenantId, Title: title, FileName: attachment.FileName, ContentType: attachment.ContentType,
                ContentHash: hash, SizeBytes: attachment.Content.Length, ExternalId: null, Tags: parent.Tags, Status: DocumentStatus.Queued,
                Error: null, ChunkCount: 0, CreatedAt: now, UpdatedAt: now, ParentId: parent.Id);
            // Absent unless a run of the same job raced this one here; that run queues it.
            if (await _store.Documents.AddIfAbsentAsync(document, ct))
            {
                var job = await EnqueueAsync(parent.TenantId, id, ct);
                _logger.LogInformation("Queued attachment {Title} of document {ParentId} as document {DocumentId}; job {JobId}", title, parent.Id, id, job.Id);
            }
        }
        foreach (var stale in existing.Keys.Except(ids, StringComparer.Ordinal))
            await DeleteAsync(parent.TenantId, stale, ct);
        return ids;
    }

    /// <summary>The id of the parent's attachment at this index: the same for every run, unique across parents (ids are global).</summary>
    internal static string ChildId(DocumentRecord parent, int index) =>
        IngestPipeline.Sha256Hex(System.Text.Encoding.UTF8.GetBytes($"attachment\n{parent.TenantId}\n{parent.Id}\n{index}"))[..32];

    /// <summary>
    /// Queues the document for ingestion again (e.g. after it failed, or after the encoder changed); the job id, or null
    /// when the tenant has no such document. The stored chunks keep serving until the job replaces them.
    /// </summary>
    public async Task<string?> ReingestAsync(string tenantId, string documentId, CancellationToken ct = default)
    {
        // The status update is scoped to the tenant, so it doubles as the existence check.
        try { await _store.Documents.SetStatusAsync(tenantId, documentId, DocumentStatus.Queued, null, ct); }
        catch (KeyNotFoundException) { return null; }
        return (await EnqueueAsync(tenantId, documentId, ct)).Id;
    }

    /// <summary>
    /// Queues every document of the tenant (or only those with <paramref name="onlyStatus"/>, e.g. Failed) for ingestion
    /// again; returns how many were queued. For a changed chunking setting or encoder, or to retry every failure.
    /// </summary>
    public async Task<int> ReingestAllAsync(string tenantId, DocumentStatus? onlyStatus = null, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        const int pageSize = 200;
        // The listing is newest first: an upload during the walk shifts later pages by one, so a document
        // can be listed twice; it is queued once. (A new upload is queued by its own upload anyway.)
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var queued = 0;
        for (var offset = 0; ; offset += pageSize)
        {
            var page = await _store.Documents.ListAsync(tenantId, offset, pageSize, null, ct);
            foreach (var document in page.Items)
            {
                if (onlyStatus is { } status && document.Status != status) continue;
                if (!seen.Add(document.Id)) continue;
                if (await ReingestAsync(tenantId, document.Id, ct) is not null) queued++; // null: deleted meanwhile
            }
            if (page.Items.Count < pageSize) break;
        }
        _logger.LogInformation("Queued {Count} document(s) of tenant {TenantId} for ingestion again (status filter {Status})",
            queued, tenantId, onlyStatus?.ToString() ?? "none");
        return queued;
    }

    /// <summary>The title of a document uploaded without one, until its extracted text names a better one: its file name.</summary>
    internal static string FallbackTitle(string fileName) => Path.GetFileNameWithoutExtension(fileName);

    /// <summary>Text formats are decoded now, so binary garbage named .txt and whitespace-only files are refused before anything is stored.</summary>
    static async Task ValidateContentAsync(ITextExtractor extractor, SpooledUpload content, CancellationToken ct)
    {
        if (!extractor.IsText) return; // binary formats: a corrupt file is accepted and fails in the pipeline with its error
        bool visible;
        try
        {
            visible = await TextDecoding.ValidateAsync(content.Rewind(), ct);
        }
        catch (ExtractionException e)
        {
            throw new IngestRejectedException(IngestRejectReason.Unreadable, e.Message);
        }
        if (!visible) throw new IngestRejectedException(IngestRejectReason.Empty, "The file contains only whitespace.");
    }

    Task<Job> EnqueueAsync(string tenantId, string documentId, CancellationToken ct)
    {
        var job = IngestJob(tenantId, documentId);
        return _store.Jobs.EnqueueAsync(job.Kind, job.Payload, job.TenantId, job.MaxAttempts, ct);
    }

    NewJob IngestJob(string tenantId, string documentId) =>
        new(IngestJobPayload.Kind, new IngestJobPayload(tenantId, documentId, IngestTelemetry.CurrentTraceParent()).ToJson(), tenantId, _options.MaxAttempts);

    Task SaveBlobAsync(string tenantId, string documentId, SpooledUpload content, CancellationToken ct) =>
        _store.Blobs.SaveAsync(tenantId, documentId, content.Rewind(), ct);

    /// <summary>
    /// An upload copied once to a temp file (deleted when closed) while it is hashed and measured against the limit, so
    /// an upload of any size passes through in bounded memory and can be read again for validation and for the blob store.
    /// </summary>
    sealed class SpooledUpload : IAsyncDisposable
    {
        const int HeadLength = 16; // what magic-number sniffing looks at

        readonly FileStream _file;

        SpooledUpload(FileStream file, long length, string sha256Hex, byte[] head) => (_file, Length, Sha256Hex, Head) = (file, length, sha256Hex, head);

        public long Length { get; }
        public string Sha256Hex { get; }
        public byte[] Head { get; }

        public Stream Rewind()
        {
            _file.Position = 0;
            return _file;
        }

        public static async Task<SpooledUpload> CopyAsync(Stream source, long limit, CancellationToken ct)
        {
            if (source.CanSeek && source.Length - source.Position > limit) throw TooLarge(limit);
            var file = new FileStream(Path.Combine(Path.GetTempPath(), "rag-upload-" + Guid.NewGuid().ToString("N")), FileMode.CreateNew,
                FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.Asynchronous | FileOptions.DeleteOnClose);
            try
            {
                using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
                var chunk = new byte[81920];
                var head = new List<byte>(HeadLength);
                long length = 0;
                int read;
                while ((read = await source.ReadAsync(chunk, ct)) > 0)
                {
                    if (length + read > limit) throw TooLarge(limit);
                    if (head.Count < HeadLength) head.AddRange(chunk.AsSpan(0, Math.Min(read, HeadLength - head.Count)));
                    sha.AppendData(chunk, 0, read);
                    await file.WriteAsync(chunk.AsMemory(0, read), ct);
                    length += read;
                }
                await file.FlushAsync(ct);
                return new SpooledUpload(file, length, Convert.ToHexStringLower(sha.GetHashAndReset()), [.. head]);
            }
            catch
            {
                await file.DisposeAsync();
                throw;
            }
        }

        public ValueTask DisposeAsync() => _file.DisposeAsync();
    }

    static IngestRejectedException TooLarge(long limit) =>
        new(IngestRejectReason.TooLarge, $"The file is larger than the {limit / (1024.0 * 1024.0):0.#} MB limit.");
}
