namespace Rag.Storage.Tests;

public abstract class BlobContract(IStoreBackend backend) : StoreContract(backend)
{
    [SkippableFact]
    public async Task Originals_are_saved_replaced_read_and_deleted()
    {
        var store = await OpenAsync();
        byte[] v1 = [1, 2, 3, 4, 5], v2 = [.. Enumerable.Range(0, 200_000).Select(i => (byte)i)];
        await store.Blobs.SaveAsync("t1", "d1", new MemoryStream(v1));
        Assert.Equal(v1, await ReadAsync(store, "t1", "d1"));

        await store.Blobs.SaveAsync("t1", "d1", new MemoryStream(v2));
        Assert.Equal(v2, await ReadAsync(store, "t1", "d1"));
        Assert.Null(await store.Blobs.OpenAsync("t2", "d1")); // per tenant

        await store.Blobs.DeleteAsync("t1", "d1");
        Assert.Null(await store.Blobs.OpenAsync("t1", "d1"));
        await store.Blobs.DeleteAsync("t1", "d1"); // deleting what is gone is fine
    }

    [SkippableFact]
    public async Task A_save_that_fails_mid_stream_leaves_the_previous_original_and_no_temp_file()
    {
        var store = await OpenAsync();
        byte[] v1 = [9, 8, 7];
        await store.Blobs.SaveAsync("t1", "d1", new MemoryStream(v1));

        await Assert.ThrowsAsync<IOException>(() => store.Blobs.SaveAsync("t1", "d1", new FailingStream(100_000)));

        Assert.Equal(v1, await ReadAsync(store, "t1", "d1"));
        var root = Assert.IsType<FileBlobStore>(store.Blobs).Root;
        Assert.Equal(["d1"], Directory.GetFiles(Path.Combine(root, "t1")).Select(Path.GetFileName));
    }

    [SkippableFact]
    public async Task Ids_that_would_escape_the_blob_folder_are_refused()
    {
        var store = await OpenAsync();
        foreach (var (tenant, doc) in new[] { ("..", "d"), ("t", ".."), ("t", "../x"), ("a/b", "d"), ("t", ""), ("t", "d.tmp-1") })
            await Assert.ThrowsAnyAsync<ArgumentException>(() => store.Blobs.SaveAsync(tenant, doc, new MemoryStream([1])));
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
    sealed class FailingStream(int bytesBeforeFailure) : Stream
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
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
