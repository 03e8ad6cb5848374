using System.Security.Cryptography;
using Rag.Testing;

namespace Rag.Storage.Tests;

/// <summary>
/// The blob tests measure the process's allocations around a 50 MB stream, so nothing else may run meanwhile:
/// xunit runs a collection with parallelization disabled on its own, after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BlobMemoryCollection
{
    public const string Name = "blob memory";
}

public abstract class BlobContract(IStoreBackend backend) : StoreContract(backend)
{
    [SkippableFact]
    public async Task Originals_are_saved_replaced_read_and_deleted()
    {
        var store = await OpenAsync();
        byte[] v1 = [1, 2, 3, 4, 5], v2 = [.. Enumerable.Range(0, 600_000).Select(i => (byte)i)]; // v2 spans several chunk rows
        await store.Blobs.SaveAsync("t1", "d1", new MemoryStream(v1));
        Assert.Equal(v1, await ReadAsync(store, "t1", "d1"));

        await store.Blobs.SaveAsync("t1", "d1", new MemoryStream(v2));
        Assert.Equal(v2, await ReadAsync(store, "t1", "d1"));
        Assert.Null(await store.Blobs.OpenAsync("t2", "d1")); // per tenant

        await store.Blobs.SaveAsync("t1", "d1", new MemoryStream(v1)); // shorter again: no chunk of v2 survives
        Assert.Equal(v1, await ReadAsync(store, "t1", "d1"));

        await store.Blobs.DeleteAsync("t1", "d1");
        Assert.Null(await store.Blobs.OpenAsync("t1", "d1"));
        await store.Blobs.DeleteAsync("t1", "d1"); // deleting what is gone is fine
    }

    [SkippableFact]
    public async Task A_missing_blob_is_null_and_an_empty_one_is_empty()
    {
        var store = await OpenAsync();
        Assert.Null(await store.Blobs.OpenAsync("t1", "never-saved"));
        await store.Blobs.DeleteAsync("t1", "never-saved");

        await store.Blobs.SaveAsync("t1", "empty", new MemoryStream([]));
        Assert.Empty(await ReadAsync(store, "t1", "empty"));
    }

    [SkippableFact]
    public async Task Another_handle_reads_what_one_saved()
    {
        var (writer, reader) = (await OpenAsync(), await OpenAsync()); // two processes on one store
        byte[] bytes = [.. Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7))];
        await writer.Blobs.SaveAsync("t1", "d1", new MemoryStream(bytes));
        Assert.Equal(bytes, await ReadAsync(reader, "t1", "d1"));
        await reader.Blobs.DeleteAsync("t1", "d1");
        Assert.Null(await writer.Blobs.OpenAsync("t1", "d1"));
    }

    [SkippableFact]
    public async Task A_save_that_fails_mid_stream_leaves_the_previous_original()
    {
        var store = await OpenAsync();
        byte[] v1 = [9, 8, 7];
        await store.Blobs.SaveAsync("t1", "d1", new MemoryStream(v1));

        await Assert.ThrowsAsync<IOException>(() => store.Blobs.SaveAsync("t1", "d1", new FailingStream(700_000)));

        Assert.Equal(v1, await ReadAsync(store, "t1", "d1"));
        if (store.Blobs is FileBlobStore files) // and no temp file is left beside it
            Assert.Equal(["d1"], Directory.GetFiles(Path.Combine(files.Root, "t1")).Select(Path.GetFileName));
    }

    [SkippableFact]
    public async Task A_50_MB_original_streams_in_and_out_in_bounded_memory()
    {
        var store = await OpenAsync();
        const long size = 50L * 1024 * 1024;
        await store.Blobs.SaveAsync("t1", "warm-up", new MemoryStream([1, 2, 3])); // connections, prepared paths, JIT
        (await ReadAsync(store, "t1", "warm-up")).ToString();

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var source = new PatternStream(size);
        await store.Blobs.SaveAsync("t1", "big", source);
        var sink = new HashingSink();
        await using (var blob = await store.Blobs.OpenAsync("t1", "big"))
        {
            Assert.NotNull(blob);
            await blob.CopyToAsync(sink);
        }
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(size, sink.Length);
        Assert.Equal(source.Sha256Hex(), sink.Sha256Hex());
        // Buffering the original whole would allocate at least its 50 MB (a MemoryStream about twice that).
        Assert.True(allocated < 8L * 1024 * 1024, $"a 50 MB save and read allocated {allocated / 1048576.0:0.0} MB");
        await store.Blobs.DeleteAsync("t1", "big");
        Assert.Null(await store.Blobs.OpenAsync("t1", "big"));
    }

    static async Task<byte[]> ReadAsync(IRagStore store, string tenant, string doc)
    {
        await using var s = await store.Blobs.OpenAsync(tenant, doc);
        Assert.NotNull(s);
        using var m = new MemoryStream();
        await s.CopyToAsync(m);
        return m.ToArray();
    }

    /// <summary>Yields some bytes, then fails like a dropped upload.</summary>
    sealed class FailingStream(int bytesBeforeFailure) : ReadOnlyStream
    {
        int _left = bytesBeforeFailure;
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_left == 0) throw new IOException("connection reset by peer");
            var n = Math.Min(count, _left);
            Array.Fill(buffer, (byte)0xAB, offset, n);
            _left -= n;
            return n;
        }
    }

    /// <summary>A long deterministic byte pattern produced on the fly, hashed as it is read (nothing held).</summary>
    sealed class PatternStream(long length) : ReadOnlyStream
    {
        readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long _position;

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            for (var i = 0; i < n; i++) buffer[offset + i] = (byte)((_position + i) * 2654435761 >> 13);
            _sha.AppendData(buffer, offset, n);
            _position += n;
            return n;
        }

        public string Sha256Hex() => Convert.ToHexString(_sha.GetHashAndReset());
    }

    /// <summary>Counts and hashes what is written to it, keeping nothing.</summary>
    sealed class HashingSink : Stream
    {
        readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long _length;

        public override void Write(byte[] buffer, int offset, int count)
        {
            _sha.AppendData(buffer, offset, count);
            _length += count;
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _sha.AppendData(buffer);
            _length += buffer.Length;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public string Sha256Hex() => Convert.ToHexString(_sha.GetHashAndReset());
        public override long Length => _length;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Position { get => _length; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
