using System.Data.Common;
using System.Globalization;
using static Rag.Storage.Sql.Rows;

namespace Rag.Storage.Sql;

internal sealed class SqlDocumentStore(SqlBackend db) : IDocumentStore
{
    public const int MaxPageSize = 1000;

    public async Task<DocumentRecord> AddAsync(DocumentRecord document, CancellationToken ct = default) =>
        (await WriteAsync(tx => AddAsync(tx, document, ct), null, ct)).Result;

    public async Task<(DocumentRecord Document, Job Job)> AddWithJobAsync(DocumentRecord document, NewJob job, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        var (stored, queued) = await WriteAsync(tx => AddAsync(tx, document, ct), job, ct);
        return (stored, queued!);
    }

    /// <summary>One document write, and the job when one is given, in one transaction; the job's workers are woken after the commit.</summary>
    async Task<(T Result, Job? Job)> WriteAsync<T>(Func<DbTransaction, Task<T>> write, NewJob? job, CancellationToken ct)
    {
        T result;
        Job? queued = null;
        await using (var c = await db.OpenConnectionAsync(ct))
        {
            await using var tx = await c.BeginTransactionAsync(ct);
            result = await write(tx);
            if (job is not null) queued = await SqlJobQueue.InsertAsync(db, c, tx, job, ct);
            await tx.CommitAsync(ct);
        }
        if (queued is not null) db.WorkSignal.Pulse();
        return (result, queued);
    }

    async Task<DocumentRecord> AddAsync(DbTransaction tx, DocumentRecord document, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(document);
        var stored = Stamped(document);
        try
        {
            await InsertAsync(tx, stored, "", ct);
        }
        catch (DbException e) when (db.IsUniqueViolation(e))
        {
            throw new InvalidOperationException(
                $"Document '{stored.Id}' or external id '{stored.ExternalId}' already exists in tenant '{stored.TenantId}'.", e);
        }
        return stored;
    }

    /// <summary>Only the id's conflict is absorbed: an external id taken by another document still throws, as in AddAsync.</summary>
    public async Task<bool> AddIfAbsentAsync(DocumentRecord document, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentException.ThrowIfNullOrEmpty(document.Id);
        try
        {
            return (await WriteAsync(tx => InsertAsync(tx, Stamped(document), " ON CONFLICT (id) DO NOTHING", ct), null, ct)).Result == 1;
        }
        catch (DbException e) when (db.IsUniqueViolation(e))
        {
            throw new InvalidOperationException($"External id '{document.ExternalId}' already exists in tenant '{document.TenantId}'.", e);
        }
    }

    DocumentRecord Stamped(DocumentRecord document)
    {
        var now = db.Now();
        return document with
        {
            Id = string.IsNullOrEmpty(document.Id) ? Ids.New() : document.Id,
            Tags = document.Tags ?? [],
            ChunkCount = 0, // ReplaceChunksAsync keeps the count; a new document has none
            CreatedAt = now,
            UpdatedAt = now,
        };
    }

    async Task<int> InsertAsync(DbTransaction tx, DocumentRecord d, string onConflict, CancellationToken ct)
    {
        await using var insert = db.Command(tx.Connection!, $"""
            INSERT INTO documents ({DocumentColumns})
            VALUES (@id, @tenant, @title, @file, @type, @hash, @size, @external, @tags, @status, @error, @chunks, @created, @updated, @parent){onConflict}
            """, tx,
            ("@id", d.Id), ("@tenant", d.TenantId), ("@title", d.Title), ("@file", d.FileName),
            ("@type", d.ContentType), ("@hash", d.ContentHash), ("@size", d.SizeBytes), ("@external", d.ExternalId),
            ("@tags", Tags(d.Tags)), ("@status", Name(d.Status)), ("@error", d.Error), ("@chunks", d.ChunkCount),
            ("@created", d.CreatedAt), ("@updated", d.UpdatedAt), ("@parent", d.ParentId));
        return await insert.ExecuteNonQueryAsync(ct);
    }

    public Task<DocumentRecord?> GetAsync(string tenantId, string id, CancellationToken ct = default) =>
        db.QuerySingleAsync($"SELECT {DocumentColumns} FROM documents WHERE tenant_id = @tenant AND id = @id", ReadDocument, ct,
            ("@tenant", tenantId), ("@id", id));

    public async Task<IReadOnlyDictionary<string, DocumentRecord>> GetManyAsync(string tenantId, IReadOnlyCollection<string> ids, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var found = await db.QueryInAsync($"SELECT {DocumentColumns} FROM documents WHERE tenant_id || '' = @tenant AND", "id", ids, ReadDocument, ct,
            ("@tenant", tenantId));
        return found.ToDictionary(d => d.Id, StringComparer.Ordinal);
    }

    public Task<DocumentRecord?> FindByHashAsync(string tenantId, string contentHash, CancellationToken ct = default) =>
        db.QuerySingleAsync($"SELECT {DocumentColumns} FROM documents WHERE tenant_id = @tenant AND content_hash = @hash AND parent_id IS NULL ORDER BY created_at, id LIMIT 1",
            ReadDocument, ct, ("@tenant", tenantId), ("@hash", contentHash));

    public Task<DocumentRecord?> FindByExternalIdAsync(string tenantId, string externalId, CancellationToken ct = default) =>
        db.QuerySingleAsync($"SELECT {DocumentColumns} FROM documents WHERE tenant_id = @tenant AND external_id = @external",
            ReadDocument, ct, ("@tenant", tenantId), ("@external", externalId));

    /// <summary>Newest first. The title filter is a case-insensitive substring match (SQLite folds ASCII letters only).</summary>
    public async Task<Page<DocumentRecord>> ListAsync(string tenantId, int offset, int limit, string? titleContains = null, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxPageSize);
        var filter = "tenant_id = @tenant";
        var args = new List<(string, object?)> { ("@tenant", tenantId) };
        if (!string.IsNullOrEmpty(titleContains))
        {
            filter += " AND lower(title) LIKE @title ESCAPE '!'";
            args.Add(("@title", "%" + EscapeLike(titleContains.ToLowerInvariant()) + "%"));
        }
        var total = Convert.ToInt32(await db.ScalarAsync($"SELECT count(*) FROM documents WHERE {filter}", ct, [.. args]), CultureInfo.InvariantCulture);
        args.Add(("@limit", limit));
        args.Add(("@offset", offset));
        var items = await db.QueryAsync(
            $"SELECT {DocumentColumns} FROM documents WHERE {filter} ORDER BY created_at DESC, id DESC LIMIT @limit OFFSET @offset",
            ReadDocument, ct, [.. args]);
        return new Page<DocumentRecord>(items, total, offset, limit);
    }

    public async Task<IReadOnlyList<DocumentRecord>> ListChildrenAsync(string tenantId, string parentId, CancellationToken ct = default) =>
        await db.QueryAsync($"SELECT {DocumentColumns} FROM documents WHERE tenant_id = @tenant AND parent_id = @parent ORDER BY created_at, id",
            ReadDocument, ct, ("@tenant", tenantId), ("@parent", parentId));

    /// <summary>Replaces every mutable field except ChunkCount, which ReplaceChunksAsync owns. Throws KeyNotFoundException when absent.</summary>
    public Task UpdateAsync(DocumentRecord document, CancellationToken ct = default) =>
        WriteAsync(tx => UpdateAsync(tx, document, ct), null, ct);

    public async Task<Job> UpdateWithJobAsync(DocumentRecord document, NewJob job, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        return (await WriteAsync(tx => UpdateAsync(tx, document, ct), job, ct)).Job!;
    }

    async Task<bool> UpdateAsync(DbTransaction tx, DocumentRecord document, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(document);
        await using var update = db.Command(tx.Connection!, """
            UPDATE documents SET title = @title, file_name = @file, content_type = @type, content_hash = @hash, size_bytes = @size,
                external_id = @external, tags = @tags, status = @status, error = @error, updated_at = @now
            WHERE tenant_id = @tenant AND id = @id
            """, tx,
            ("@title", document.Title), ("@file", document.FileName), ("@type", document.ContentType), ("@hash", document.ContentHash),
            ("@size", document.SizeBytes), ("@external", document.ExternalId), ("@tags", Tags(document.Tags)), ("@status", Name(document.Status)),
            ("@error", document.Error), ("@now", db.Now()), ("@tenant", document.TenantId), ("@id", document.Id));
        if (await update.ExecuteNonQueryAsync(ct) == 0) throw NotFound(document.TenantId, document.Id);
        return true;
    }

    /// <summary>Sets status and error (the error is cleared when none is given). Throws KeyNotFoundException when absent.</summary>
    public async Task SetStatusAsync(string tenantId, string id, DocumentStatus status, string? error = null, CancellationToken ct = default)
    {
        var n = await db.ExecuteAsync("UPDATE documents SET status = @status, error = @error, updated_at = @now WHERE tenant_id = @tenant AND id = @id", ct,
            ("@status", Name(status)), ("@error", error), ("@now", db.Now()), ("@tenant", tenantId), ("@id", id));
        if (n == 0) throw NotFound(tenantId, id);
    }

    public async Task<bool> DeleteAsync(string tenantId, string id, CancellationToken ct = default)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await using (var chunks = db.Command(c, "DELETE FROM chunks WHERE tenant_id = @tenant AND document_id = @id", tx, ("@tenant", tenantId), ("@id", id)))
            await chunks.ExecuteNonQueryAsync(ct);
        int n;
        await using (var doc = db.Command(c, "DELETE FROM documents WHERE tenant_id = @tenant AND id = @id", tx, ("@tenant", tenantId), ("@id", id)))
            n = await doc.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
        return n == 1;
    }

    internal static KeyNotFoundException NotFound(string tenantId, string id) => new($"Document '{id}' does not exist in tenant '{tenantId}'.");

    static string EscapeLike(string s) => s.Replace("!", "!!").Replace("%", "!%").Replace("_", "!_");
}
