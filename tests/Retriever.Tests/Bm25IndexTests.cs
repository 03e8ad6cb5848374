using Rag.Retriever.Lexical;
using Rag.Testing;

namespace Rag.Retriever.Tests;

/// <summary>The embedded index: the shared contract in memory, plus what its log files must do.</summary>
public class Bm25IndexTests : LexicalIndexContract
{
    protected override Task<ILexicalIndex> OpenIndexAsync(Bm25Options options) => Task.FromResult<ILexicalIndex>(Bm25Index.CreateInMemory(options));

    protected override Task<long> CountAsync(ILexicalIndex index, string tenantId) => Task.FromResult((long)((Bm25Index)index).Count(tenantId));

    [Fact]
    public async Task Reopen_replays_the_log()
    {
        using var dir = new TempDir();
        await using (var index = await Bm25Index.OpenAsync(dir.Path, Plain))
        {
            await AddThreeDocuments(index);
            await index.DeleteDocumentAsync("t", "d3");
        }
        await using var reopened = await Bm25Index.OpenAsync(dir.Path, Plain);
        Assert.Equal(2, reopened.Count("t"));
        var banana = await reopened.SearchAsync("banana", new SearchFilter("t"), 10);
        Assert.Equal(["d2:0", "d1:0"], banana.Select(c => c.ChunkId));
        Assert.Empty(await reopened.SearchAsync("fig", new SearchFilter("t"), 10));
    }

    [Fact]
    public async Task A_torn_tail_loses_only_the_unfinished_write()
    {
        using var dir = new TempDir();
        await using (var index = await Bm25Index.OpenAsync(dir.Path, Plain))
            await AddThreeDocuments(index);
        var file = Path.Combine(dir.Path, "bm25.log");
        var committed = new FileInfo(file).Length;
        await using (var index = await Bm25Index.OpenAsync(dir.Path, Plain))
            await index.IndexDocumentAsync("t", "d9", [], [new LexicalRecord("d9:0", "zebra quagga")]);
        using (var fs = new FileStream(file, FileMode.Open)) fs.SetLength(committed + 11); // crash mid-record

        await using var reopened = await Bm25Index.OpenAsync(dir.Path, Plain);
        Assert.Equal(3, reopened.Count("t"));
        Assert.Empty(await reopened.SearchAsync("zebra", new SearchFilter("t"), 10));
        Assert.Equal(committed, new FileInfo(file).Length);
        await reopened.IndexDocumentAsync("t", "d9", [], [new LexicalRecord("d9:0", "zebra")]); // writable again
        Assert.Single(await reopened.SearchAsync("zebra", new SearchFilter("t"), 10));
    }

    [Fact]
    public async Task Compaction_keeps_only_live_documents_and_survives_reopen()
    {
        using var dir = new TempDir();
        var text = string.Join(' ', Enumerable.Range(0, 20000).Select(i => $"w{i % 997}"));
        await using (var index = await Bm25Index.OpenAsync(dir.Path, Plain))
        {
            // ~140 kB per write of the same document: the log passes the compaction threshold several times.
            for (var i = 0; i < 30; i++)
                await index.IndexDocumentAsync("other", "big", [], [new LexicalRecord("big:0", text + $" round{i}")]);
            await AddThreeDocuments(index);
        }
        Assert.True(new FileInfo(Path.Combine(dir.Path, "bm25.log")).Length < 1_000_000);
        await using var reopened = await Bm25Index.OpenAsync(dir.Path, Plain);
        Assert.Equal(3, reopened.Count("t"));
        Assert.Equal(1, reopened.Count("other"));
        Assert.Equal(["big:0"], (await reopened.SearchAsync("round29", new SearchFilter("other"), 10)).Select(c => c.ChunkId));
        Assert.Empty(await reopened.SearchAsync("round3", new SearchFilter("other"), 10));
        Assert.Equal(1.348640f, (await reopened.SearchAsync("apple", new SearchFilter("t"), 10))[0].Score, 4);
    }

    [Fact]
    public async Task Reopening_with_another_analyser_reanalyses_the_stored_text()
    {
        using var dir = new TempDir();
        await using (var index = await Bm25Index.OpenAsync(dir.Path, Plain))
        {
            await index.IndexDocumentAsync("t", "d", [], [new LexicalRecord("d:0", "running")]);
            Assert.Empty(await index.SearchAsync("runs", new SearchFilter("t"), 10));
        }
        await using var porter = await Bm25Index.OpenAsync(dir.Path, new Bm25Options { Analyzer = new TextAnalyzer(EnglishStemmer.Porter) });
        Assert.Equal(["d:0"], (await porter.SearchAsync("runs", new SearchFilter("t"), 10)).Select(c => c.ChunkId));
    }

    [Fact]
    public async Task Concurrent_searches_and_writes_do_not_interfere()
    {
        using var index = Bm25Index.CreateInMemory(Plain);
        await AddThreeDocuments(index);
        var writes = Task.Run(async () =>
        {
            for (var i = 0; i < 200; i++) await index.IndexDocumentAsync("t", $"n{i}", [], [new LexicalRecord($"n{i}:0", $"noise{i} filler")]);
        });
        var reads = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 500; i++) Assert.Equal("d1:0", index.Search("apple", new SearchFilter("t"), 3)[0].ChunkId);
        }));
        await Task.WhenAll(reads.Append(writes));
        Assert.Equal(203, index.Count("t"));
    }
}
