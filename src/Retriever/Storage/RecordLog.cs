using System.Buffers.Binary;
using System.Numerics;

namespace Rag.Retriever.Storage;

/// <summary>
/// An append-only file of records, each framed as [u32 length][u32 CRC-32C of payload][payload].
/// A commit appends whole frames and fsyncs, so a crash can only leave a torn tail: replay stops at the
/// first frame whose length overruns the file or whose CRC does not match, and truncates it there.
/// Compaction copies the live frames into a new file that atomically replaces the old one.
/// Not thread-safe: the owning index serialises writers.
/// </summary>
internal sealed class RecordLog : IAsyncDisposable, IDisposable
{
    const int FrameHeader = 8;
    const int MaxRecord = 256 * 1024 * 1024;
    static ReadOnlySpan<byte> Magic => "RAGLOG01"u8;

    readonly string path;
    FileStream stream;

    /// <summary>The header payload written when the file was created (the owner's format and settings).</summary>
    public byte[] Header { get; }

    /// <summary>Bytes of frames past the header; the owner compares this with its live size to decide on compaction.</summary>
    public long Length => stream.Length;

    /// <summary>Bytes dropped from a torn or corrupt tail when the log was opened.</summary>
    public long TruncatedBytes { get; private set; }

    RecordLog(string path, FileStream stream, byte[] header)
    {
        this.path = path;
        this.stream = stream;
        Header = header;
    }

    /// <summary>
    /// Opens (or creates with <paramref name="newHeader"/>) the log and replays every intact record in order.
    /// The offset passed to <paramref name="replay"/> identifies the record for compaction.
    /// </summary>
    public static async Task<RecordLog> OpenAsync(string path, byte[] newHeader, Action<long, ReadOnlyMemory<byte>> replay, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        // A crash during compaction may leave its temporary file; the original is still intact.
        if (File.Exists(path + ".compact")) File.Delete(path + ".compact");

        var stream = OpenExclusive(path, FileMode.OpenOrCreate);
        try
        {
            var header = await ReadHeaderAsync(stream, ct);
            if (header is null)
            {
                // New file, or a crash before the header reached the disk: nothing was ever committed.
                stream.SetLength(0);
                await WriteFrameAsync(stream, Magic.ToArray(), ct);
                await WriteFrameAsync(stream, newHeader, ct);
                await FlushToDiskAsync(stream, ct);
                header = newHeader;
            }
            var log = new RecordLog(path, stream, header);
            await log.ReplayAsync(replay, ct);
            return log;
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }

    /// <summary>One writer per file: FileShare.None takes an exclusive lock, so a second process fails here instead of interleaving writes.</summary>
    static FileStream OpenExclusive(string path, FileMode mode)
    {
        try
        {
            return new FileStream(path, mode, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new IOException($"'{path}' is in use by another process (an embedded index has one writer; use the server stores to share it): {e.Message}", e);
        }
    }

    /// <summary>The header of an existing log, or null when there is none (no file, or a crash before the header was written).</summary>
    public static async Task<byte[]?> PeekHeaderAsync(string path, CancellationToken ct)
    {
        if (!File.Exists(path)) return null;
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 4096, FileOptions.Asynchronous);
        return await ReadHeaderAsync(stream, ct);
    }

    static async Task<byte[]?> ReadHeaderAsync(FileStream stream, CancellationToken ct)
    {
        stream.Position = 0;
        var magic = await ReadFrameAsync(stream, ct);
        if (magic is null) return null;
        if (!magic.AsSpan().SequenceEqual(Magic))
            throw new InvalidDataException($"'{stream.Name}' is not a record log (bad magic).");
        return await ReadFrameAsync(stream, ct);
    }

    async Task ReplayAsync(Action<long, ReadOnlyMemory<byte>> replay, CancellationToken ct)
    {
        while (true)
        {
            var offset = stream.Position;
            var payload = await ReadFrameAsync(stream, ct);
            if (payload is null)
            {
                TruncatedBytes = stream.Length - offset;
                if (TruncatedBytes > 0)
                {
                    // A torn write from a crash (or garbage appended): it was never acknowledged, so drop it.
                    stream.SetLength(offset);
                    await FlushToDiskAsync(stream, ct);
                }
                stream.Position = offset;
                return;
            }
            replay(offset, payload);
        }
    }

    /// <summary>The payload of the next intact frame, or null at end of file or at a torn/corrupt frame.</summary>
    static async Task<byte[]?> ReadFrameAsync(FileStream stream, CancellationToken ct)
    {
        var head = new byte[FrameHeader];
        if (await stream.ReadAtLeastAsync(head, FrameHeader, throwOnEndOfStream: false, ct) < FrameHeader) return null;
        var length = BinaryPrimitives.ReadUInt32LittleEndian(head);
        var crc = BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(4));
        if (length > MaxRecord || length > stream.Length - stream.Position) return null;
        var payload = new byte[length];
        if (await stream.ReadAtLeastAsync(payload, (int)length, throwOnEndOfStream: false, ct) < length) return null;
        return Crc32C(payload) == crc ? payload : null;
    }

    /// <summary>Appends the records and makes them durable; returns the offset of each (for compaction).</summary>
    public async Task<long[]> AppendAsync(IReadOnlyList<byte[]> payloads, CancellationToken ct)
    {
        var start = stream.Length;
        stream.Position = start;
        var offsets = new long[payloads.Count];
        try
        {
            for (var i = 0; i < payloads.Count; i++)
            {
                offsets[i] = stream.Position;
                await WriteFrameAsync(stream, payloads[i], ct);
            }
            await FlushToDiskAsync(stream, ct);
        }
        catch
        {
            // Cancelled or failed mid-batch: cut back to the last commit so a half batch is never replayed.
            try { stream.SetLength(start); } catch (IOException) { }
            throw;
        }
        return offsets;
    }

    /// <summary>
    /// Rewrites the log with only the records at <paramref name="liveOffsets"/> (in file order) and atomically
    /// replaces it. Returns each kept record's new offset.
    /// </summary>
    public async Task<Dictionary<long, long>> CompactAsync(IReadOnlyCollection<long> liveOffsets, CancellationToken ct)
    {
        var keep = liveOffsets.Order().ToArray();
        var tmp = path + ".compact";
        var moved = new Dictionary<long, long>(keep.Length);
        await using (var output = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
        {
            await WriteFrameAsync(output, Magic.ToArray(), ct);
            await WriteFrameAsync(output, Header, ct);
            foreach (var offset in keep)
            {
                stream.Position = offset;
                var payload = await ReadFrameAsync(stream, ct) ?? throw new InvalidDataException($"Live record at {offset} of '{path}' is unreadable.");
                moved[offset] = output.Position;
                await WriteFrameAsync(output, payload, ct);
            }
            await FlushToDiskAsync(output, ct);
        }
        await stream.DisposeAsync();
        // rename(2) is atomic: a crash leaves either the old log or the new one, never a mix.
        File.Move(tmp, path, overwrite: true);
        stream = OpenExclusive(path, FileMode.Open);
        stream.Position = stream.Length;
        return moved;
    }

    static async Task WriteFrameAsync(Stream output, byte[] payload, CancellationToken ct)
    {
        var head = new byte[FrameHeader];
        BinaryPrimitives.WriteUInt32LittleEndian(head, (uint)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(4), Crc32C(payload));
        await output.WriteAsync(head, ct);
        await output.WriteAsync(payload, ct);
    }

    static async Task FlushToDiskAsync(FileStream output, CancellationToken ct)
    {
        await output.FlushAsync(ct);
        output.Flush(flushToDisk: true); // fsync: the commit point
    }

    /// <summary>CRC-32C (Castagnoli), hardware-accelerated through BitOperations where the CPU has it.</summary>
    internal static uint Crc32C(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        foreach (var b in data) crc = BitOperations.Crc32C(crc, b);
        return ~crc;
    }

    public void Dispose() => stream.Dispose();

    public ValueTask DisposeAsync() => stream.DisposeAsync();
}
