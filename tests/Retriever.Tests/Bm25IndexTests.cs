using Rag.Retriever.Lexical;
using Rag.Testing;

namespace Rag.Retriever.Tests;

public class Bm25IndexTests
{
    static readonly Bm25Options Plain = new() { Analyzer = new TextAnalyzer(EnglishStemmer.None) };

    static async Task AddThreeDocuments(Bm25Index index, string tenant = "t")
    {
        await index.IndexDocumentAsync(tenant, "d1", [], [new LexicalRecord("d1:0", "apple banana apple")]);
        await index.IndexDocumentAsync(tenant, "d2", ["fruit"], [new LexicalRecord("d2:0", "banana cherry")]);
        await index.IndexDocumentAsync(tenant, "d3", [], [new LexicalRecord("d3:0", "cherry date elder fig")]);
    }

    [Fact]
    public async Task Scores_match_hand_computed_okapi_bm25()
    {
        // N = 3, avgdl = (3 + 2 + 4) / 3 = 3, k1 = 1.2, b = 0.75.
        // "apple": df 1, idf = ln(1 + 2.5/1.5) = 0.980829; d1 tf 2, |d| 3: 0.980829·2·2.2/(2 + 1.2) = 1.348640.
        // "banana": df 2, idf = ln(1 + 1.5/2.5) = 0.470004; d1: ·1·2.2/(1 + 1.2) = 0.470004;
        //           d2 (|d| 2): ·2.2/(1 + 1.2·(0.25 + 0.75·2/3)) = 0.544215.
        // "cherry" in d2 is 0.544215 too, so "banana cherry" gives d2 1.088429, d1 0.470004 and d3 (|d| 4) 0.413603.
        using var index = Bm25Index.CreateInMemory(Plain);
        await AddThreeDocuments(index);
        var apple = await index.SearchAsync("apple", new SearchFilter("t"), 10);
        Assert.Equal("d1:0", Assert.Single(apple).ChunkId);
        Assert.Equal(1.348640f, apple[0].Score, 4);

        var banana = await index.SearchAsync("banana", new SearchFilter("t"), 10);
        Assert.Equal(["d2:0", "d1:0"], banana.Select(c => c.ChunkId));
        Assert.Equal(0.544215f, banana[0].Score, 4);
        Assert.Equal(0.470004f, banana[1].Score, 4);

        var both = await index.SearchAsync("banana cherry", new SearchFilter("t"), 10);
        Assert.Equal(["d2:0", "d1:0", "d3:0"], both.Select(c => c.ChunkId));
        Assert.Equal(1.088429f, both[0].Score, 4);
        Assert.Equal(0.470004f, both[1].Score, 4);
        Assert.Equal(0.413603f, both[2].Score, 4);
    }

    [Fact]
    public async Task Top_k_truncates_and_unknown_terms_match_nothing()
    {
        using var index = Bm25Index.CreateInMemory(Plain);
        await AddThreeDocuments(index);
        Assert.Single(await index.SearchAsync("banana cherry", new SearchFilter("t"), 1));
        Assert.Empty(await index.SearchAsync("zebra", new SearchFilter("t"), 10));
        Assert.Empty(await index.SearchAsync("the of", new SearchFilter("t"), 10)); // only stop words
    }

    [Fact]
    public async Task Tenants_are_isolated_in_results_and_statistics()
    {
        using var index = Bm25Index.CreateInMemory(Plain);
        await AddThreeDocuments(index, "a");
        await index.IndexDocumentAsync("b", "x", [], [new LexicalRecord("x:0", "apple apple apple pie")]);
        var a = await index.SearchAsync("apple", new SearchFilter("a"), 10);
        Assert.Equal(["d1:0"], a.Select(c => c.ChunkId));
        Assert.Equal(1.348640f, a[0].Score, 4); // b's apples change neither df nor N for tenant a
        Assert.Equal(["x:0"], (await index.SearchAsync("apple", new SearchFilter("b"), 10)).Select(c => c.ChunkId));
        Assert.Empty(await index.SearchAsync("apple", new SearchFilter("nobody"), 10));
    }

    [Fact]
    public async Task Document_and_tag_filters_narrow_results()
    {
        using var index = Bm25Index.CreateInMemory(Plain);
        await AddThreeDocuments(index);
        var byDoc = await index.SearchAsync("banana cherry", new SearchFilter("t", DocumentIds: ["d1", "d3"]), 10);
        Assert.Equal(["d1:0", "d3:0"], byDoc.Select(c => c.ChunkId));
        var byTag = await index.SearchAsync("banana cherry", new SearchFilter("t", Tags: ["fruit"]), 10);
        Assert.Equal(["d2:0"], byTag.Select(c => c.ChunkId));
    }

    [Fact]
    public async Task Delete_and_replace_update_postings_and_statistics()
    {
        using var index = Bm25Index.CreateInMemory(Plain);
        await AddThreeDocuments(index);
        await index.IndexDocumentAsync("t", "d4", [], [new LexicalRecord("d4:0", "zebra")]);
        await index.DeleteDocumentAsync("t", "d4");
        // Back to the three-document statistics exactly.
        Assert.Equal(1.348640f, (await index.SearchAsync("apple", new SearchFilter("t"), 10))[0].Score, 4);
        Assert.Empty(await index.SearchAsync("zebra", new SearchFilter("t"), 10));

        await index.IndexDocumentAsync("t", "d1", [], [new LexicalRecord("d1:0", "kiwi"), new LexicalRecord("d1:1", "mango")]);
        Assert.Empty(await index.SearchAsync("apple", new SearchFilter("t"), 10));
        Assert.Equal(["d1:1"], (await index.SearchAsync("mango", new SearchFilter("t"), 10)).Select(c => c.ChunkId));
        Assert.Equal(4, index.Count("t"));
    }

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
