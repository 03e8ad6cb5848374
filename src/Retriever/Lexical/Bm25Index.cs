using Rag.Retriever.Storage;

namespace Rag.Retriever.Lexical;

/// <summary>BM25 settings; defaults are Robertson's and Lucene's.</summary>
public sealed record Bm25Options
{
    /// <summary>Term-frequency saturation.</summary>
    public float K1 { get; init; } = 1.2f;
    /// <summary>Length normalisation: 0 none, 1 full.</summary>
    public float B { get; init; } = 0.75f;
    public TextAnalyzer Analyzer { get; init; } = TextAnalyzer.Default;
}

/// <summary>
/// Okapi BM25 over chunk texts with per-tenant statistics:
///   score(q, d) = Σ_t∈q idf(t) · tf(t,d)·(k1 + 1) / (tf(t,d) + k1·(1 − b + b·|d|/avgdl))
///   idf(t) = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5))            (Lucene's, never negative)
/// An in-memory inverted index (posting lists of chunk slot and term frequency) answers searches;
/// an append-only log of index/delete operations (see RecordLog) is replayed on open. Searches run
/// concurrently under a read lock; writers are serialised and hold the write lock only in memory.
/// </summary>
public sealed class Bm25Index : ILexicalIndex, IAsyncDisposable, IDisposable
{
    const byte OpIndex = 1, OpDelete = 2;
    const string FileName = "bm25.log";

    readonly Bm25Options options;
    readonly Dictionary<string, TenantIndex> tenants = new(StringComparer.Ordinal);
    readonly ReaderWriterLockSlim rw = new(LockRecursionPolicy.NoRecursion);
    readonly SemaphoreSlim writer = new(1, 1);
    RecordLog? log;
    long liveBytes;
    bool disposed;

    Bm25Index(Bm25Options options) => this.options = options;

    /// <summary>An index kept in memory only (tests, evaluation runs).</summary>
    public static Bm25Index CreateInMemory(Bm25Options? options = null) => new(options ?? new Bm25Options());

    /// <summary>Opens (or creates) the index persisted under <paramref name="directory"/>, replaying its log.</summary>
    public static async Task<Bm25Index> OpenAsync(string directory, Bm25Options? options = null, CancellationToken ct = default)
    {
        var index = new Bm25Index(options ?? new Bm25Options());
        var header = Binary.Write(w => { w.Write("bm25"); w.Write(index.options.Analyzer.Name); });
        index.log = await RecordLog.OpenAsync(Path.Combine(directory, FileName), header, index.Replay, ct);
        // The log keeps the raw text and replay re-analyses it, so a changed analyser needs no migration.
        using var r = Binary.Reader(index.log.Header);
        if (r.ReadString() != "bm25")
        {
            await index.DisposeAsync();
            throw new InvalidDataException($"'{Path.Combine(directory, FileName)}' is not a BM25 index log.");
        }
        return index;
    }

    /// <summary>Live chunks of the tenant.</summary>
    public int Count(string tenantId)
    {
        rw.EnterReadLock();
        try { return tenants.TryGetValue(tenantId, out var t) ? t.LiveChunks : 0; }
        finally { rw.ExitReadLock(); }
    }

    public async Task IndexDocumentAsync(string tenantId, string documentId, IReadOnlyList<string> tags, IReadOnlyList<LexicalRecord> chunks, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        ct.ThrowIfCancellationRequested();
        var payload = Binary.Write(w =>
        {
            w.Write(OpIndex); w.Write(tenantId); w.Write(documentId); w.WriteStrings(tags);
            w.Write7BitEncodedInt(chunks.Count);
            foreach (var c in chunks) { w.Write(c.ChunkId); w.Write(c.Text); }
        });
        // Analyse before taking any lock: it is the expensive part.
        var analysed = chunks.Select(c => (c.ChunkId, Terms: options.Analyzer.Analyze(c.Text))).ToList();
        await CommitAsync(payload, offset => ApplyIndex(tenantId, documentId, [.. tags], analysed, offset, payload.Length), ct);
    }

    public async Task DeleteDocumentAsync(string tenantId, string documentId, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        var payload = Binary.Write(w => { w.Write(OpDelete); w.Write(tenantId); w.Write(documentId); });
        await CommitAsync(payload, _ => ApplyDelete(tenantId, documentId), ct);
    }

    public Task<IReadOnlyList<ScoredChunk>> SearchAsync(string query, SearchFilter filter, int k, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        return Task.FromResult(Search(query, filter, k));
    }

    /// <summary>The synchronous search (it never blocks on I/O): the k best chunks of the tenant, best first.</summary>
    public IReadOnlyList<ScoredChunk> Search(string query, SearchFilter filter, int k)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (k <= 0) return [];
        var terms = options.Analyzer.Analyze(query);
        if (terms.Count == 0) return [];
        rw.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return tenants.TryGetValue(filter.TenantId, out var t) ? t.Search(terms, filter, k, options.K1, options.B) : [];
        }
        finally { rw.ExitReadLock(); }
    }

    async Task CommitAsync(byte[] payload, Action<long> apply, CancellationToken ct)
    {
        await writer.WaitAsync(ct);
        try
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            var offset = -1L;
            if (log is not null) offset = (await log.AppendAsync([payload], ct))[0];
            rw.EnterWriteLock();
            try { apply(offset); }
            finally { rw.ExitWriteLock(); }
            // Compaction is housekeeping after the commit: it ignores the caller's token, so a cancelled
            // request never reports failure for a write that was committed.
            if (log is not null && log.Length > 2 * liveBytes + (1 << 20)) await CompactAsync();
        }
        finally { writer.Release(); }
    }

    /// <summary>Keeps only the latest index record of each live document.</summary>
    async Task CompactAsync()
    {
        List<long> live;
        rw.EnterReadLock();
        try { live = [.. tenants.Values.SelectMany(t => t.Documents.Values).Select(d => d.LogOffset)]; }
        finally { rw.ExitReadLock(); }
        var moved = await log!.CompactAsync(live, CancellationToken.None);
        rw.EnterWriteLock();
        try
        {
            foreach (var d in tenants.Values.SelectMany(t => t.Documents.Values)) d.LogOffset = moved[d.LogOffset];
        }
        finally { rw.ExitWriteLock(); }
    }

    void Replay(long offset, ReadOnlyMemory<byte> payload)
    {
        using var r = Binary.Reader(payload);
        var op = r.ReadByte();
        var tenantId = r.ReadString();
        var documentId = r.ReadString();
        if (op == OpDelete) { ApplyDelete(tenantId, documentId); return; }
        if (op != OpIndex) throw new InvalidDataException($"Unknown BM25 log operation {op}.");
        var tags = r.ReadStrings();
        var n = r.Read7BitEncodedInt();
        var analysed = new List<(string, List<string>)>(n);
        for (var i = 0; i < n; i++)
        {
            var chunkId = r.ReadString();
            analysed.Add((chunkId, options.Analyzer.Analyze(r.ReadString())));
        }
        ApplyIndex(tenantId, documentId, tags, analysed, offset, payload.Length);
    }

    void ApplyIndex(string tenantId, string documentId, string[] tags, List<(string ChunkId, List<string> Terms)> chunks, long offset, int bytes)
    {
        if (!tenants.TryGetValue(tenantId, out var t)) tenants[tenantId] = t = new TenantIndex();
        if (t.Documents.TryGetValue(documentId, out var old)) liveBytes -= old.LogBytes;
        t.Replace(documentId, tags, chunks, offset, bytes);
        liveBytes += bytes;
    }

    void ApplyDelete(string tenantId, string documentId)
    {
        if (!tenants.TryGetValue(tenantId, out var t) || !t.Documents.TryGetValue(documentId, out var old)) return;
        liveBytes -= old.LogBytes;
        t.Remove(documentId);
    }

    public async ValueTask DisposeAsync()
    {
        await writer.WaitAsync();
        try
        {
            if (disposed) return;
            rw.EnterWriteLock();
            try { disposed = true; }
            finally { rw.ExitWriteLock(); }
            if (log is not null) await log.DisposeAsync();
        }
        finally { writer.Release(); }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
