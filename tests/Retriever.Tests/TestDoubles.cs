using Rag.Storage;

namespace Rag.Retriever.Tests;

/// <summary>Test double: chunks and documents in dictionaries, tenant-scoped like the real stores.</summary>
internal sealed class InMemoryStores : IChunkStore, IDocumentStore
{
    readonly Dictionary<(string Tenant, string Id), DocumentRecord> documents = [];
    readonly Dictionary<(string Tenant, string Document), List<ChunkRecord>> chunks = [];

    public DocumentRecord AddDocument(string tenant, string id, string title, params string[] chunkTexts)
    {
        var now = DateTimeOffset.UtcNow;
        var doc = new DocumentRecord(id, tenant, title, null, "text/plain", id, 0, null, [], DocumentStatus.Indexed, null, chunkTexts.Length, now, now);
        documents[(tenant, id)] = doc;
        chunks[(tenant, id)] = [.. chunkTexts.Select((t, i) => new ChunkRecord(id, tenant, i, t, 0, t.Length, null, null))];
        return doc;
    }

    public Task ReplaceChunksAsync(string tenantId, string documentId, IReadOnlyList<ChunkRecord> replacement, CancellationToken ct = default)
    {
        chunks[(tenantId, documentId)] = [.. replacement];
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<ChunkRecord>> GetChunksAsync(string tenantId, string documentId, CancellationToken ct = default) =>
        Task.FromResult<IReadOnlyList<ChunkRecord>>(chunks.GetValueOrDefault((tenantId, documentId)) ?? []);

    public Task<IReadOnlyList<ChunkRecord>> GetChunksByIdAsync(string tenantId, IReadOnlyList<string> chunkIds, CancellationToken ct = default)
    {
        var byId = chunks.Where(kv => kv.Key.Tenant == tenantId).SelectMany(kv => kv.Value).ToDictionary(c => c.Id);
        return Task.FromResult<IReadOnlyList<ChunkRecord>>([.. chunkIds.Where(byId.ContainsKey).Select(id => byId[id])]);
    }

    public Task<long> CountChunksAsync(string tenantId, CancellationToken ct = default) =>
        Task.FromResult((long)chunks.Where(kv => kv.Key.Tenant == tenantId).Sum(kv => kv.Value.Count));

    public Task<DocumentRecord> AddAsync(DocumentRecord document, CancellationToken ct = default)
    {
        documents[(document.TenantId, document.Id)] = document;
        return Task.FromResult(document);
    }

    /// <summary>Store reads of documents, one per call (the retriever should batch its title look-ups).</summary>
    public int DocumentReads { get; private set; }

    public Task<DocumentRecord?> GetAsync(string tenantId, string id, CancellationToken ct = default)
    {
        DocumentReads++;
        return Task.FromResult(documents.GetValueOrDefault((tenantId, id)));
    }

    public Task<IReadOnlyDictionary<string, DocumentRecord>> GetManyAsync(string tenantId, IReadOnlyCollection<string> ids, CancellationToken ct = default)
    {
        DocumentReads++;
        IReadOnlyDictionary<string, DocumentRecord> found = ids.Distinct()
            .Where(id => documents.ContainsKey((tenantId, id)))
            .ToDictionary(id => id, id => documents[(tenantId, id)], StringComparer.Ordinal);
        return Task.FromResult(found);
    }

    /// <summary>Removes the document row but keeps its chunks, as a delete racing a search can leave them for a moment.</summary>
    public void RemoveDocumentRowOnly(string tenantId, string id) => documents.Remove((tenantId, id));

    public Task<bool> DeleteAsync(string tenantId, string id, CancellationToken ct = default)
    {
        chunks.Remove((tenantId, id));
        return Task.FromResult(documents.Remove((tenantId, id)));
    }

    public Task<DocumentRecord?> FindByHashAsync(string tenantId, string contentHash, CancellationToken ct = default) => throw new NotSupportedException("Not used by the retriever.");
    public Task<bool> AddIfAbsentAsync(DocumentRecord document, CancellationToken ct = default) => throw new NotSupportedException("Not used by the retriever.");
    public Task<IReadOnlyList<DocumentRecord>> ListChildrenAsync(string tenantId, string parentId, CancellationToken ct = default) => throw new NotSupportedException("Not used by the retriever.");
    public Task<DocumentRecord?> FindByExternalIdAsync(string tenantId, string externalId, CancellationToken ct = default) => throw new NotSupportedException("Not used by the retriever.");
    public Task<Page<DocumentRecord>> ListAsync(string tenantId, int offset, int limit, string? titleContains = null, CancellationToken ct = default) => throw new NotSupportedException("Not used by the retriever.");
    public Task UpdateAsync(DocumentRecord document, CancellationToken ct = default) => throw new NotSupportedException("Not used by the retriever.");
    public Task<(DocumentRecord Document, Job Job)> AddWithJobAsync(DocumentRecord document, NewJob job, CancellationToken ct = default) =>
        throw new NotSupportedException("Not used by the retriever.");
    public Task<Job> UpdateWithJobAsync(DocumentRecord document, NewJob job, CancellationToken ct = default) =>
        throw new NotSupportedException("Not used by the retriever.");
    public Task SetStatusAsync(string tenantId, string id, DocumentStatus status, string? error = null, CancellationToken ct = default) => throw new NotSupportedException("Not used by the retriever.");
}
