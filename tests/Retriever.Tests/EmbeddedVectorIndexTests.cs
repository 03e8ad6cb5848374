using Rag.Retriever.Vectors;
using Rag.Testing;

namespace Rag.Retriever.Tests;

public sealed class EmbeddedVectorIndexTests : VectorIndexContract, IDisposable
{
    readonly TempDir dir = new();

    string Folder => Path.Combine(dir.Path, "vectors");
    string LogFile => Path.Combine(Folder, "vectors.log");

    protected override Task<IVectorIndex> CreateIndexAsync(VectorDistance distance) =>
        Task.FromResult<IVectorIndex>(new EmbeddedVectorIndex(Folder, distance));

    protected override Task<IVectorIndex?> OpenSeparateStoreAsync(int dimension, VectorDistance distance) =>
        OpenSeparate(dimension, distance);

    async Task<IVectorIndex?> OpenSeparate(int dimension, VectorDistance distance)
    {
        var index = new EmbeddedVectorIndex(Path.Combine(dir.Path, "separate-" + distance), distance);
        await index.EnsureReadyAsync(dimension);
        return index;
    }

    public void Dispose() => dir.Dispose();

    static VectorRecord Record(string doc, params float[] v) => new($"{doc}:0", "t", doc, v, []);

    async Task<long> WriteCommittedAsync()
    {
        await using var index = new EmbeddedVectorIndex(Folder);
        await index.EnsureReadyAsync(3);
        await index.UpsertAsync([Record("a", 1, 0, 0), Record("b", 0, 1, 0)]);
        await index.UpsertAsync([Record("c", 0, 0, 1)]);
        return new FileInfo(LogFile).Length;
    }

    [Fact]
    public async Task A_record_torn_mid_write_is_dropped_and_everything_committed_kept()
    {
        var committed = await WriteCommittedAsync();
        await using (var index = new EmbeddedVectorIndex(Folder))
        {
            await index.EnsureReadyAsync(3);
            await index.UpsertAsync([Record("d", 1, 1, 1)]);
        }
        var full = new FileInfo(LogFile).Length;
        using (var fs = new FileStream(LogFile, FileMode.Open)) fs.SetLength(committed + (full - committed) / 2);

        await using var reopened = new EmbeddedVectorIndex(Folder);
        await reopened.EnsureReadyAsync(3);
        Assert.Equal(3, await reopened.CountAsync("t"));
        Assert.True(reopened.RecoveredTornBytes > 0);
        Assert.Equal(committed, new FileInfo(LogFile).Length);
        Assert.DoesNotContain("d:0", (await reopened.SearchAsync([1, 1, 1], new SearchFilter("t"), 10)).Select(h => h.ChunkId));
        await reopened.UpsertAsync([Record("d", 1, 1, 1)]); // the log is writable after recovery
        Assert.Equal("d:0", (await reopened.SearchAsync([1, 1, 1], new SearchFilter("t"), 1))[0].ChunkId);
    }

    [Theory]
    [InlineData(new byte[] { 0xDE, 0xAD })]                                   // shorter than a frame header
    [InlineData(new byte[] { 4, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4 })]           // a whole frame with a wrong CRC
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0x7F, 1, 2, 3, 4, 5, 6, 7, 8 })] // a length past the end of the file
    public async Task Garbage_after_the_last_commit_is_truncated(byte[] garbage)
    {
        var committed = await WriteCommittedAsync();
        await using (var fs = new FileStream(LogFile, FileMode.Append)) await fs.WriteAsync(garbage);

        await using var reopened = new EmbeddedVectorIndex(Folder);
        await reopened.EnsureReadyAsync(3);
        Assert.Equal(3, await reopened.CountAsync("t"));
        Assert.Equal(committed, new FileInfo(LogFile).Length);
    }

    [Fact]
    public async Task A_crash_before_the_header_was_written_starts_empty()
    {
        Directory.CreateDirectory(Folder);
        await File.WriteAllBytesAsync(LogFile, [5, 0]);
        await using var index = new EmbeddedVectorIndex(Folder);
        await index.EnsureReadyAsync(3);
        Assert.Equal(0, await index.CountAsync("t"));
    }

    [Fact]
    public async Task Compaction_drops_dead_records_and_keeps_live_ones()
    {
        var rng = new Random(5);
        const int dim = 256;
        var latest = new Dictionary<string, float[]>();
        await using (var index = new EmbeddedVectorIndex(Folder) { CompactionSlackBytes = 0 })
        {
            await index.EnsureReadyAsync(dim);
            // 10 rounds rewriting the same 200 chunks: the log passes twice its live size, so compaction runs.
            for (var round = 0; round < 10; round++)
            {
                var batch = Enumerable.Range(0, 200).Select(i => new VectorRecord($"d{i}:0", "t", $"d{i}", RandomVector(rng, dim), [])).ToList();
                foreach (var r in batch) latest[r.ChunkId] = r.Vector;
                await index.UpsertAsync(batch);
            }
            await index.DeleteDocumentAsync("t", "d0");
            latest.Remove("d0:0");
        }
        Assert.True(new FileInfo(LogFile).Length < 3 * 200 * dim * 4, $"log is {new FileInfo(LogFile).Length} bytes");
        await using var reopened = new EmbeddedVectorIndex(Folder);
        await reopened.EnsureReadyAsync(dim);
        Assert.Equal(199, await reopened.CountAsync("t"));
        foreach (var (chunkId, vector) in latest.Take(5))
            Assert.Equal(chunkId, (await reopened.SearchAsync(vector, new SearchFilter("t"), 1))[0].ChunkId); // under cosine a vector is its own best match
    }

    [Fact]
    public async Task A_second_open_of_the_same_folder_is_refused_while_the_first_is_open()
    {
        await using var first = new EmbeddedVectorIndex(Folder);
        await first.EnsureReadyAsync(3);
        await using var second = new EmbeddedVectorIndex(Folder);
        var e = await Assert.ThrowsAsync<IOException>(() => second.EnsureReadyAsync(3));
        Assert.Contains("in use by another process", e.Message);
    }

    [Fact]
    public async Task Opening_with_another_distance_is_a_clear_error()
    {
        await WriteCommittedAsync();
        await using var index = new EmbeddedVectorIndex(Folder, VectorDistance.Dot);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.EnsureReadyAsync(3));
        Assert.Contains("Cosine", e.Message);
    }

    [Fact]
    public async Task Upserting_before_EnsureReady_is_a_clear_error()
    {
        await using var index = new EmbeddedVectorIndex(Folder);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => index.UpsertAsync([Record("a", 1, 0, 0)]));
        Assert.Contains("EnsureReadyAsync", e.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Before_EnsureReady_an_empty_index_answers_empty(bool persisted)
    {
        await using var index = new EmbeddedVectorIndex(persisted ? Folder : null);
        await index.DeleteDocumentAsync("t", "d");
        Assert.Equal(0, await index.CountAsync("t"));
        Assert.Empty(await index.SearchAsync([1, 2, 3], new SearchFilter("t"), 3));
        Assert.False(File.Exists(LogFile)); // nothing was created
    }

    [Fact]
    public async Task Concurrent_searches_during_writes_see_consistent_rows()
    {
        await using var index = new EmbeddedVectorIndex(null, VectorDistance.Dot);
        await index.EnsureReadyAsync(16);
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < 100; i++)
                await index.UpsertAsync([new VectorRecord($"d{i}:0", "t", $"d{i}", RandomVector(new Random(i), 16), [])]);
            for (var i = 0; i < 50; i++) await index.DeleteDocumentAsync("t", $"d{i}");
        });
        var readers = Enumerable.Range(0, 3).Select(r => Task.Run(() =>
        {
            for (var i = 0; i < 300; i++)
            {
                var hits = index.Search(RandomVector(new Random(r * 1000 + i), 16), new SearchFilter("t"), 5);
                Assert.Equal(hits.Count, hits.Select(h => h.ChunkId).Distinct().Count());
                Assert.All(hits, h => Assert.Equal(h.ChunkId, h.DocumentId + ":0"));
            }
        }));
        await Task.WhenAll(readers.Append(writer));
        Assert.Equal(50, await index.CountAsync("t"));
    }
}
