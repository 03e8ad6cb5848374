using System.Numerics.Tensors;
using Rag.Retriever.Storage;

namespace Rag.Retriever.Vectors;

/// <summary>
/// Exact nearest-neighbour search over vectors held in memory, one contiguous row-major float matrix per
/// tenant, scored with SIMD dot products (TensorPrimitives.Dot) and a bounded min-heap for the top k.
/// Cosine is the dot product of unit vectors, so vectors are normalised once at insert and the query once per search.
/// Durable through an append-only log (see RecordLog) of upserts and deletes, replayed on open and compacted
/// when mostly dead. Searches run concurrently under a read lock; writers are serialised.
/// </summary>
public sealed class EmbeddedVectorIndex : IVectorIndex, IAsyncDisposable, IDisposable
{
    const byte OpUpsert = 1, OpDeleteDocument = 2;
    const string FileName = "vectors.log";

    readonly string? directory;
    readonly Dictionary<string, TenantVectors> tenants = new(StringComparer.Ordinal);
    readonly ReaderWriterLockSlim rw = new(LockRecursionPolicy.NoRecursion);
    readonly SemaphoreSlim writer = new(1, 1);
    RecordLog? log;
    int dimension;
    long liveBytes;
    bool disposed;

    /// <param name="directory">Folder for the index file; null keeps the index in memory only.</param>
    public EmbeddedVectorIndex(string? directory, VectorDistance distance = VectorDistance.Cosine)
    {
        this.directory = directory;
        Distance = distance;
    }

    public VectorDistance Distance { get; }

    /// <summary>The log is compacted when it exceeds twice its live records plus this much (tests lower it).</summary>
    internal long CompactionSlackBytes { get; init; } = 4 << 20;

    /// <summary>0 until EnsureReadyAsync has run.</summary>
    public int Dimension => dimension;

    /// <summary>Bytes of a torn tail dropped when the file was opened (0 after a clean shutdown).</summary>
    public long RecoveredTornBytes => log?.TruncatedBytes ?? 0;

    public async Task EnsureReadyAsync(int dimension, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        await writer.WaitAsync(ct);
        try
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (this.dimension == 0)
            {
                if (directory is not null) await OpenAsync(dimension, ct);
                else this.dimension = dimension;
            }
            if (this.dimension != dimension)
                throw new InvalidOperationException(
                    $"The vector index{(directory is null ? "" : $" in '{directory}'")} holds vectors of dimension {this.dimension}, " +
                    $"but the encoder produces {dimension}. Configure the encoder the index was built with, or, to change encoders: " +
                    $"stop the service, delete {(directory is null ? "the index" : $"the folder '{directory}'")}, run `rag docs reingest --all` " +
                    "with the new encoder configured (once per tenant: --tenant NAME), then start the service (or `rag worker --drain`) " +
                    "to embed every document again.");
        }
        finally { writer.Release(); }
    }

    async Task OpenAsync(int requested, CancellationToken ct)
    {
        var header = Binary.Write(w => { w.Write("vectors"); w.Write(requested); w.Write((int)Distance); });
        var opened = await RecordLog.OpenAsync(Path.Combine(directory!, FileName), header, Replay, ct);
        using var r = Binary.Reader(opened.Header);
        var kind = r.ReadString();
        var storedDimension = r.ReadInt32();
        var storedDistance = (VectorDistance)r.ReadInt32();
        if (kind != "vectors" || storedDistance != Distance)
        {
            await opened.DisposeAsync();
            throw new InvalidOperationException($"The vector index in '{directory}' uses {storedDistance} distance, not {Distance}. Delete it and re-ingest to change the distance.");
        }
        log = opened;
        dimension = storedDimension;
    }

    public async Task UpsertAsync(IReadOnlyList<VectorRecord> records, CancellationToken ct = default)
    {
        RequireReady();
        if (records.Count == 0) return;
        var prepared = new List<(VectorRecord Record, float[] Vector, byte[] Payload)>(records.Count);
        foreach (var record in records)
        {
            if (record.Vector.Length != dimension)
                throw new ArgumentException($"Chunk '{record.ChunkId}' has a vector of dimension {record.Vector.Length}; the index holds dimension {dimension}.", nameof(records));
            var vector = Prepare(record.Vector);
            var payload = Binary.Write(w =>
            {
                w.Write(OpUpsert); w.Write(record.TenantId); w.Write(record.DocumentId); w.Write(record.ChunkId); w.WriteStrings([.. record.Tags]);
                w.Write7BitEncodedInt(vector.Length);
                foreach (var x in vector) w.Write(x);
            });
            prepared.Add((record, vector, payload));
        }
        await CommitAsync([.. prepared.Select(p => p.Payload)], offsets =>
        {
            for (var i = 0; i < prepared.Count; i++)
            {
                var (record, vector, payload) = prepared[i];
                ApplyUpsert(record.TenantId, record.DocumentId, record.ChunkId, [.. record.Tags], vector, offsets[i], payload.Length);
            }
        }, ct);
    }

    public async Task DeleteDocumentAsync(string tenantId, string documentId, CancellationToken ct = default)
    {
        if (!await OpenExistingAsync(ct)) return; // nothing was ever stored, so nothing to delete
        var payload = Binary.Write(w => { w.Write(OpDeleteDocument); w.Write(tenantId); w.Write(documentId); });
        await CommitAsync([payload], _ => ApplyDelete(tenantId, documentId), ct);
    }

    public async Task<IReadOnlyList<ScoredChunk>> SearchAsync(float[] query, SearchFilter filter, int k, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        if (!await OpenExistingAsync(ct)) return [];
        return Search(query, filter, k);
    }

    /// <summary>The synchronous search (no I/O): the k nearest chunks of the tenant, best first.</summary>
    public IReadOnlyList<ScoredChunk> Search(float[] query, SearchFilter filter, int k)
    {
        ArgumentNullException.ThrowIfNull(filter);
        RequireReady();
        if (query.Length != dimension)
            throw new ArgumentException($"The query vector has dimension {query.Length}; the index holds dimension {dimension}.", nameof(query));
        if (k <= 0) return [];
        var q = Prepare(query);
        rw.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return tenants.TryGetValue(filter.TenantId, out var t) ? t.Search(q, filter, k) : [];
        }
        finally { rw.ExitReadLock(); }
    }

    public async Task<long> CountAsync(string tenantId, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        if (!await OpenExistingAsync(ct)) return 0;
        rw.EnterReadLock();
        try { return tenants.TryGetValue(tenantId, out var t) ? t.Count : 0L; }
        finally { rw.ExitReadLock(); }
    }

    /// <summary>
    /// Lets deletes, counts and searches run before EnsureReadyAsync (a BM25-only service still deletes
    /// documents everywhere): opens an existing index file at its stored dimension; false when nothing is stored.
    /// </summary>
    async Task<bool> OpenExistingAsync(CancellationToken ct)
    {
        if (dimension != 0) return true;
        if (directory is null) return false;
        await writer.WaitAsync(ct);
        try
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (dimension != 0) return true;
            var header = await RecordLog.PeekHeaderAsync(Path.Combine(directory, FileName), ct);
            if (header is null) return false;
            using var r = Binary.Reader(header);
            r.ReadString();
            await OpenAsync(r.ReadInt32(), ct);
            return true;
        }
        finally { writer.Release(); }
    }

    float[] Prepare(float[] vector)
    {
        if (Distance != VectorDistance.Cosine) return vector;
        var norm = TensorPrimitives.Norm(vector);
        var unit = new float[vector.Length];
        if (norm > 0f) TensorPrimitives.Divide(vector, norm, unit); // a zero vector stays zero: it matches nothing
        return unit;
    }

    void RequireReady()
    {
        if (dimension == 0) throw new InvalidOperationException("The vector index is not open: call EnsureReadyAsync(dimension) first.");
    }

    async Task CommitAsync(byte[][] payloads, Action<long[]> apply, CancellationToken ct)
    {
        await writer.WaitAsync(ct);
        try
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            var offsets = log is not null ? await log.AppendAsync(payloads, ct) : new long[payloads.Length];
            rw.EnterWriteLock();
            try { apply(offsets); }
            finally { rw.ExitWriteLock(); }
            if (log is not null && log.Length > 2 * liveBytes + CompactionSlackBytes) await CompactAsync();
        }
        finally { writer.Release(); }
    }

    async Task CompactAsync()
    {
        List<long> live;
        rw.EnterReadLock();
        try { live = [.. tenants.Values.SelectMany(t => t.Offsets)]; }
        finally { rw.ExitReadLock(); }
        var moved = await log!.CompactAsync(live, CancellationToken.None);
        rw.EnterWriteLock();
        try { foreach (var t in tenants.Values) t.Relocate(moved); }
        finally { rw.ExitWriteLock(); }
    }

    void Replay(long offset, ReadOnlyMemory<byte> payload)
    {
        using var r = Binary.Reader(payload);
        var op = r.ReadByte();
        var tenantId = r.ReadString();
        var documentId = r.ReadString();
        if (op == OpDeleteDocument) { ApplyDelete(tenantId, documentId); return; }
        if (op != OpUpsert) throw new InvalidDataException($"Unknown vector log operation {op}.");
        var chunkId = r.ReadString();
        var tags = r.ReadStrings();
        var vector = new float[r.Read7BitEncodedInt()];
        for (var i = 0; i < vector.Length; i++) vector[i] = r.ReadSingle();
        ApplyUpsert(tenantId, documentId, chunkId, tags, vector, offset, payload.Length);
    }

    void ApplyUpsert(string tenantId, string documentId, string chunkId, string[] tags, float[] vector, long offset, int bytes)
    {
        if (!tenants.TryGetValue(tenantId, out var t)) tenants[tenantId] = t = new TenantVectors(vector.Length);
        liveBytes += bytes - t.Upsert(documentId, chunkId, tags, vector, offset, bytes);
    }

    void ApplyDelete(string tenantId, string documentId)
    {
        if (tenants.TryGetValue(tenantId, out var t)) liveBytes -= t.DeleteDocument(documentId);
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
