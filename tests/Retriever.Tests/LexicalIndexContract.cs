using Rag.Retriever.Lexical;

namespace Rag.Retriever.Tests;

/// <summary>
/// What every ILexicalIndex must do, with scores checked against hand-computed Okapi BM25: run on the
/// embedded index (Bm25IndexTests) and on PostgreSQL (PostgresBm25IndexTests), so both modes rank alike.
/// </summary>
public abstract class LexicalIndexContract : IAsyncLifetime
{
    protected static readonly Bm25Options Plain = new() { Analyzer = new TextAnalyzer(EnglishStemmer.None) };
    readonly List<ILexicalIndex> opened = [];

    /// <summary>A fresh, empty index for one test.</summary>
    protected abstract Task<ILexicalIndex> OpenIndexAsync(Bm25Options options);

    protected abstract Task<long> CountAsync(ILexicalIndex index, string tenantId);

    protected async Task<ILexicalIndex> OpenAsync(Bm25Options options)
    {
        var index = await OpenIndexAsync(options);
        opened.Add(index);
        return index;
    }

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var index in opened)
            if (index is IAsyncDisposable a) await a.DisposeAsync(); else (index as IDisposable)?.Dispose();
    }

    protected static async Task AddThreeDocuments(ILexicalIndex index, string tenant = "t")
    {
        await index.IndexDocumentAsync(tenant, "d1", [], [new LexicalRecord("d1:0", "apple banana apple")]);
        await index.IndexDocumentAsync(tenant, "d2", ["fruit"], [new LexicalRecord("d2:0", "banana cherry")]);
        await index.IndexDocumentAsync(tenant, "d3", [], [new LexicalRecord("d3:0", "cherry date elder fig")]);
    }

    [SkippableFact]
    public async Task Scores_match_hand_computed_okapi_bm25()
    {
        // N = 3, avgdl = (3 + 2 + 4) / 3 = 3, k1 = 1.2, b = 0.75.
        // "apple": df 1, idf = ln(1 + 2.5/1.5) = 0.980829; d1 tf 2, |d| 3: 0.980829·2·2.2/(2 + 1.2) = 1.348640.
        // "banana": df 2, idf = ln(1 + 1.5/2.5) = 0.470004; d1: ·1·2.2/(1 + 1.2) = 0.470004;
        //           d2 (|d| 2): ·2.2/(1 + 1.2·(0.25 + 0.75·2/3)) = 0.544215.
        // "cherry" in d2 is 0.544215 too, so "banana cherry" gives d2 1.088429, d1 0.470004 and d3 (|d| 4) 0.413603.
        var index = await OpenAsync(Plain);
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

    [SkippableFact]
    public async Task Top_k_truncates_and_unknown_terms_match_nothing()
    {
        var index = await OpenAsync(Plain);
        await AddThreeDocuments(index);
        Assert.Single(await index.SearchAsync("banana cherry", new SearchFilter("t"), 1));
        Assert.Empty(await index.SearchAsync("zebra", new SearchFilter("t"), 10));
        Assert.Empty(await index.SearchAsync("the of", new SearchFilter("t"), 10)); // only stop words
    }

    [SkippableFact]
    public async Task Tenants_are_isolated_in_results_and_statistics()
    {
        var index = await OpenAsync(Plain);
        await AddThreeDocuments(index, "a");
        await index.IndexDocumentAsync("b", "x", [], [new LexicalRecord("x:0", "apple apple apple pie")]);
        var a = await index.SearchAsync("apple", new SearchFilter("a"), 10);
        Assert.Equal(["d1:0"], a.Select(c => c.ChunkId));
        Assert.Equal(1.348640f, a[0].Score, 4); // b's apples change neither df nor N for tenant a
        Assert.Equal(["x:0"], (await index.SearchAsync("apple", new SearchFilter("b"), 10)).Select(c => c.ChunkId));
        Assert.Empty(await index.SearchAsync("apple", new SearchFilter("nobody"), 10));
    }

    [SkippableFact]
    public async Task Document_and_tag_filters_narrow_results()
    {
        var index = await OpenAsync(Plain);
        await AddThreeDocuments(index);
        var byDoc = await index.SearchAsync("banana cherry", new SearchFilter("t", DocumentIds: ["d1", "d3"]), 10);
        Assert.Equal(["d1:0", "d3:0"], byDoc.Select(c => c.ChunkId));
        var byTag = await index.SearchAsync("banana cherry", new SearchFilter("t", Tags: ["fruit"]), 10);
        Assert.Equal(["d2:0"], byTag.Select(c => c.ChunkId));
    }

    [SkippableFact]
    public async Task Delete_and_replace_update_postings_and_statistics()
    {
        var index = await OpenAsync(Plain);
        await AddThreeDocuments(index);
        await index.IndexDocumentAsync("t", "d4", [], [new LexicalRecord("d4:0", "zebra")]);
        await index.DeleteDocumentAsync("t", "d4");
        // Back to the three-document statistics exactly.
        Assert.Equal(1.348640f, (await index.SearchAsync("apple", new SearchFilter("t"), 10))[0].Score, 4);
        Assert.Empty(await index.SearchAsync("zebra", new SearchFilter("t"), 10));

        await index.IndexDocumentAsync("t", "d1", [], [new LexicalRecord("d1:0", "kiwi"), new LexicalRecord("d1:1", "mango")]);
        Assert.Empty(await index.SearchAsync("apple", new SearchFilter("t"), 10));
        Assert.Equal(["d1:1"], (await index.SearchAsync("mango", new SearchFilter("t"), 10)).Select(c => c.ChunkId));
        Assert.Equal(4, await CountAsync(index, "t"));
    }
}
