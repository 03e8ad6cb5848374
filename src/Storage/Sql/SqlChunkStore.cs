using System.Globalization;
using static Rag.Storage.Sql.Rows;

namespace Rag.Storage.Sql;

internal sealed class SqlChunkStore(SqlBackend db) : IChunkStore
{
    /// <summary>One transaction: the document's chunk count, the delete and every insert commit together or not at all.</summary>
    public async Task ReplaceChunksAsync(string tenantId, string documentId, IReadOnlyList<ChunkRecord> chunks, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        foreach (var chunk in chunks)
            if (chunk.TenantId != tenantId || chunk.DocumentId != documentId)
                throw new ArgumentException($"Chunk {chunk.Id} of tenant '{chunk.TenantId}' does not belong to document '{documentId}' of tenant '{tenantId}'.", nameof(chunks));

        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await using (var doc = db.Command(c, "UPDATE documents SET chunk_count = @n, updated_at = @now WHERE tenant_id = @tenant AND id = @id", tx,
            ("@n", chunks.Count), ("@now", db.Now()), ("@tenant", tenantId), ("@id", documentId)))
        {
            if (await doc.ExecuteNonQueryAsync(ct) == 0) throw SqlDocumentStore.NotFound(tenantId, documentId);
        }
        await using (var delete = db.Command(c, "DELETE FROM chunks WHERE document_id = @id", tx, ("@id", documentId)))
            await delete.ExecuteNonQueryAsync(ct);

        // One command, its parameters rebound per row: the statement is parsed once.
        await using var insert = db.Command(c,
            $"INSERT INTO chunks (id, {ChunkColumns}) VALUES (@id, @doc, @tenant, @ordinal, @text, @start, @end, @heading, @page, @label)", tx,
            ("@id", null), ("@doc", documentId), ("@tenant", tenantId), ("@ordinal", 0), ("@text", ""), ("@start", 0), ("@end", 0), ("@heading", null), ("@page", null), ("@label", null));
        foreach (var chunk in chunks)
        {
            insert.Parameters["@id"].Value = chunk.Id;
            insert.Parameters["@ordinal"].Value = chunk.Ordinal;
            insert.Parameters["@text"].Value = chunk.Text;
            insert.Parameters["@start"].Value = chunk.StartChar;
            insert.Parameters["@end"].Value = chunk.EndChar;
            insert.Parameters["@heading"].Value = db.ToDb(chunk.HeadingPath);
            insert.Parameters["@page"].Value = db.ToDb(chunk.Page);
            insert.Parameters["@label"].Value = db.ToDb(chunk.Page is null ? null : chunk.PageLabel);
            await insert.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }

    public async Task<IReadOnlyList<ChunkRecord>> GetChunksAsync(string tenantId, string documentId, CancellationToken ct = default) =>
        await db.QueryAsync($"SELECT {ChunkColumns} FROM chunks WHERE tenant_id = @tenant AND document_id = @doc ORDER BY ordinal", ReadChunk, ct,
            ("@tenant", tenantId), ("@doc", documentId));

    public async Task<IReadOnlyList<ChunkRecord>> GetChunksByIdAsync(string tenantId, IReadOnlyList<string> chunkIds, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(chunkIds);
        var found = (await db.QueryInAsync($"SELECT {ChunkColumns} FROM chunks WHERE tenant_id || '' = @tenant AND", "id", chunkIds, ReadChunk, ct,
            ("@tenant", tenantId))).ToDictionary(c => c.Id, StringComparer.Ordinal);
        return [.. chunkIds.Where(found.ContainsKey).Select(id => found[id])];
    }

    public async Task<long> CountChunksAsync(string tenantId, CancellationToken ct = default) =>
        Convert.ToInt64(await db.ScalarAsync("SELECT count(*) FROM chunks WHERE tenant_id = @tenant", ct, ("@tenant", tenantId)), CultureInfo.InvariantCulture);
}
