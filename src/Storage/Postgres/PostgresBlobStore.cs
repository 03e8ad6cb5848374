using System.Buffers;
using System.Data;
using Npgsql;
using NpgsqlTypes;

namespace Rag.Storage.Postgres;

/// <summary>
/// Originals in PostgreSQL: a header row (size) and the bytes as <see cref="ChunkSize"/> chunk rows. A save
/// upserts the header (which locks it against a concurrent save of the same document), replaces the chunks and
/// commits once, so readers see the old original or the new one, never a mix, and a save that fails mid-stream
/// leaves the old one. Memory stays bounded either way: one reused chunk buffer on the way in; on the way out one
/// SELECT read row by row with sequential access, so no chunk is materialised and the snapshot is consistent.
/// </summary>
internal sealed class PostgresBlobStore(NpgsqlDataSource dataSource, string description) : IBlobStore
{
    /// <summary>Bytes per chunk row: big enough that a 50 MB upload is 200 statements, small enough to stay out of the way of memory.</summary>
    public const int ChunkSize = 256 * 1024;

    public async Task SaveAsync(string tenantId, string documentId, Stream content, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        ArgumentNullException.ThrowIfNull(content);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            await using var c = await PostgresBackend.OpenAsync(dataSource, description, ct);
            await using var tx = await c.BeginTransactionAsync(ct);
            await using (var header = new NpgsqlCommand("""
                INSERT INTO blobs (tenant_id, document_id, size_bytes) VALUES ($1, $2, 0)
                ON CONFLICT (tenant_id, document_id) DO UPDATE SET size_bytes = 0
                """, c, tx))
            {
                header.Parameters.Add(new() { Value = tenantId });
                header.Parameters.Add(new() { Value = documentId });
                await header.ExecuteNonQueryAsync(ct);
            }
            await using (var clear = new NpgsqlCommand("DELETE FROM blob_chunks WHERE tenant_id = $1 AND document_id = $2", c, tx))
            {
                clear.Parameters.Add(new() { Value = tenantId });
                clear.Parameters.Add(new() { Value = documentId });
                await clear.ExecuteNonQueryAsync(ct);
            }

            await using var insert = new NpgsqlCommand("INSERT INTO blob_chunks (tenant_id, document_id, ordinal, data) VALUES ($1, $2, $3, $4)", c, tx);
            insert.Parameters.Add(new() { Value = tenantId });
            insert.Parameters.Add(new() { Value = documentId });
            var ordinal = new NpgsqlParameter<int>();
            var data = new NpgsqlParameter<ArraySegment<byte>> { NpgsqlDbType = NpgsqlDbType.Bytea };
            insert.Parameters.Add(ordinal);
            insert.Parameters.Add(data);
            long size = 0;
            for (var n = 0; ; n++)
            {
                var filled = await FillAsync(content, buffer, ct);
                if (filled == 0) break;
                ordinal.TypedValue = n;
                data.TypedValue = new ArraySegment<byte>(buffer, 0, filled); // written to the socket before the call returns: the buffer is free again
                await insert.ExecuteNonQueryAsync(ct);
                size += filled;
                if (filled < ChunkSize) break;
            }

            await using (var sized = new NpgsqlCommand("UPDATE blobs SET size_bytes = $3 WHERE tenant_id = $1 AND document_id = $2", c, tx))
            {
                sized.Parameters.Add(new() { Value = tenantId });
                sized.Parameters.Add(new() { Value = documentId });
                sized.Parameters.Add(new() { Value = size });
                await sized.ExecuteNonQueryAsync(ct);
            }
            await tx.CommitAsync(ct);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads until the buffer is full or the stream ends: every chunk but the last is exactly ChunkSize.</summary>
    static async Task<int> FillAsync(Stream content, byte[] buffer, CancellationToken ct)
    {
        var filled = 0;
        while (filled < ChunkSize)
        {
            var read = await content.ReadAsync(buffer.AsMemory(filled, ChunkSize - filled), ct);
            if (read == 0) break;
            filled += read;
        }
        return filled;
    }

    public async Task<Stream?> OpenAsync(string tenantId, string documentId, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        var c = await PostgresBackend.OpenAsync(dataSource, description, ct);
        NpgsqlCommand? cmd = null;
        try
        {
            // The header row comes first even for an empty blob (no chunks), so "absent" and "empty" differ.
            cmd = new NpgsqlCommand("""
                SELECT b.size_bytes, ch.data FROM blobs b
                LEFT JOIN blob_chunks ch ON ch.tenant_id = b.tenant_id AND ch.document_id = b.document_id
                WHERE b.tenant_id = $1 AND b.document_id = $2
                ORDER BY ch.ordinal
                """, c);
            cmd.Parameters.Add(new() { Value = tenantId });
            cmd.Parameters.Add(new() { Value = documentId });
            var reader = await cmd.ExecuteReaderAsync(CommandBehavior.SequentialAccess, ct);
            if (!await reader.ReadAsync(ct))
            {
                await reader.DisposeAsync();
                await cmd.DisposeAsync();
                await c.DisposeAsync();
                return null;
            }
            var size = await reader.GetFieldValueAsync<long>(0, ct);
            return new ChunkReadStream(c, cmd, reader, size, $"original of document '{documentId}'");
        }
        catch
        {
            if (cmd is not null) await cmd.DisposeAsync();
            await c.DisposeAsync();
            throw;
        }
    }

    public async Task DeleteAsync(string tenantId, string documentId, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        await using var c = await PostgresBackend.OpenAsync(dataSource, description, ct);
        await using var delete = new NpgsqlCommand("DELETE FROM blobs WHERE tenant_id = $1 AND document_id = $2", c); // chunks follow by cascade
        delete.Parameters.Add(new() { Value = tenantId });
        delete.Parameters.Add(new() { Value = documentId });
        await delete.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// The chunk rows of one SELECT as one forward-only stream; it owns the connection until disposed. The reader is
    /// positioned on a row whose size column has been read; each row's data column is streamed from the socket.
    /// </summary>
    sealed class ChunkReadStream(NpgsqlConnection connection, NpgsqlCommand command, NpgsqlDataReader reader, long size, string what) : Stream
    {
        Stream? _column;
        bool _rowPending = true; // the current row's data column is not opened yet
        bool _done;
        long _read;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => ReadCoreAsync(buffer, sync: false, ct);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadCoreAsync(buffer.AsMemory(offset, count), sync: false, ct).AsTask();

        // Sync callers get sync I/O (no blocking on a task); the one loop serves both.
        public override int Read(byte[] buffer, int offset, int count) => ReadCoreAsync(buffer.AsMemory(offset, count), sync: true, default).GetAwaiter().GetResult();

        async ValueTask<int> ReadCoreAsync(Memory<byte> buffer, bool sync, CancellationToken ct)
        {
            if (buffer.IsEmpty) return 0;
            while (!_done)
            {
                if (_column is null)
                {
                    if (!_rowPending && !(sync ? reader.Read() : await reader.ReadAsync(ct))) { Finish(); break; }
                    _rowPending = false;
                    // Sequential access may skip the size column of later rows, never go back to it.
                    if (sync ? reader.IsDBNull(1) : await reader.IsDBNullAsync(1, ct)) { Finish(); break; } // an empty blob: the header row alone
                    _column = sync ? reader.GetFieldValue<Stream>(1) : await reader.GetFieldValueAsync<Stream>(1, ct);
                }
                var n = sync ? _column.Read(buffer.Span) : await _column.ReadAsync(buffer, ct);
                if (n > 0)
                {
                    _read += n;
                    return n;
                }
                if (sync) _column.Dispose();
                else await _column.DisposeAsync();
                _column = null;
            }
            return 0;
        }

        void Finish()
        {
            _done = true;
            // A cheap guard against a torn or truncated original; the caller checks the content hash.
            if (_read != size) throw new IOException($"The {what} is damaged: {_read} bytes stored, {size} expected.");
        }

        public override async ValueTask DisposeAsync()
        {
            if (_column is not null) await _column.DisposeAsync();
            await reader.DisposeAsync();
            await command.DisposeAsync();
            await connection.DisposeAsync();
            GC.SuppressFinalize(this);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _column?.Dispose();
                reader.Dispose();
                command.Dispose();
                connection.Dispose();
            }
            base.Dispose(disposing);
        }

        public override long Length => size;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
