namespace Rag.Storage.Tests;

public abstract class ChunkContract(IStoreBackend backend) : StoreContract(backend)
{
    [SkippableFact]
    public async Task Replacing_chunks_swaps_the_whole_set_and_counts_them()
    {
        var store = await OpenAsync();
        var a = await NewTenantAsync(store);
        var doc = await store.Documents.AddAsync(NewDocument(a));
        ChunkRecord[] first = [NewChunk(doc, 2), NewChunk(doc, 0), NewChunk(doc, 1) with { HeadingPath = null, Page = null, PageLabel = null }];
        await store.Chunks.ReplaceChunksAsync(a, doc.Id, first);

        var read = await store.Chunks.GetChunksAsync(a, doc.Id);
        Assert.Equal(first.OrderBy(c => c.Ordinal), read);
        Assert.Equal(3, (await store.Documents.GetAsync(a, doc.Id))!.ChunkCount);

        ChunkRecord[] second = [NewChunk(doc, 0, "only one now")];
        await store.Chunks.ReplaceChunksAsync(a, doc.Id, second);
        Assert.Equal(second, await store.Chunks.GetChunksAsync(a, doc.Id));
        Assert.Equal(1, (await store.Documents.GetAsync(a, doc.Id))!.ChunkCount);
        Assert.Equal(1, await store.Chunks.CountChunksAsync(a));
    }

    [SkippableFact]
    public async Task A_page_without_a_label_reads_as_a_numbered_page()
    {
        var store = await OpenAsync();
        var a = await NewTenantAsync(store);
        var doc = await store.Documents.AddAsync(NewDocument(a));
        await store.Chunks.ReplaceChunksAsync(a, doc.Id, [NewChunk(doc, 0), NewChunk(doc, 1) with { Page = 7, PageLabel = null }]);

        Assert.Equal(["slide 1", "p. 7"], (await store.Chunks.GetChunksAsync(a, doc.Id)).Select(c => c.PageLabel));
    }

    [SkippableFact]
    public async Task A_replacement_that_fails_part_way_leaves_the_old_chunks()
    {
        var store = await OpenAsync();
        var a = await NewTenantAsync(store);
        var doc = await store.Documents.AddAsync(NewDocument(a));
        ChunkRecord[] old = [NewChunk(doc, 0), NewChunk(doc, 1)];
        await store.Chunks.ReplaceChunksAsync(a, doc.Id, old);

        // The duplicate ordinal fails on the third insert, after the delete and two inserts ran.
        await Assert.ThrowsAnyAsync<Exception>(() => store.Chunks.ReplaceChunksAsync(a, doc.Id, [NewChunk(doc, 5), NewChunk(doc, 6), NewChunk(doc, 5)]));

        Assert.Equal(old, await store.Chunks.GetChunksAsync(a, doc.Id));
        Assert.Equal(2, (await store.Documents.GetAsync(a, doc.Id))!.ChunkCount);
    }

    [SkippableFact]
    public async Task Chunks_by_id_come_back_in_the_order_asked_and_unknown_ids_are_skipped()
    {
        var store = await OpenAsync();
        var a = await NewTenantAsync(store);
        var d1 = await store.Documents.AddAsync(NewDocument(a, "one"));
        var d2 = await store.Documents.AddAsync(NewDocument(a, "two"));
        await store.Chunks.ReplaceChunksAsync(a, d1.Id, [.. Enumerable.Range(0, 4).Select(i => NewChunk(d1, i))]);
        await store.Chunks.ReplaceChunksAsync(a, d2.Id, [.. Enumerable.Range(0, 3).Select(i => NewChunk(d2, i))]);

        string[] asked = [ChunkId.Of(d2.Id, 2), ChunkId.Of(d1.Id, 0), "missing:1", ChunkId.Of(d1.Id, 3), ChunkId.Of(d2.Id, 0)];
        var got = await store.Chunks.GetChunksByIdAsync(a, asked);
        Assert.Equal([asked[0], asked[1], asked[3], asked[4]], got.Select(c => c.Id));
        Assert.Equal("chunk 2 of two", got[0].Text);
        Assert.Empty(await store.Chunks.GetChunksByIdAsync(a, []));
    }

    [SkippableFact]
    public async Task Another_tenant_never_sees_or_writes_a_tenants_chunks()
    {
        var store = await OpenAsync();
        var a = await NewTenantAsync(store);
        var b = await NewTenantAsync(store);
        var doc = await store.Documents.AddAsync(NewDocument(a));
        await store.Chunks.ReplaceChunksAsync(a, doc.Id, [NewChunk(doc, 0), NewChunk(doc, 1)]);

        Assert.Empty(await store.Chunks.GetChunksAsync(b, doc.Id));
        Assert.Empty(await store.Chunks.GetChunksByIdAsync(b, [ChunkId.Of(doc.Id, 0), ChunkId.Of(doc.Id, 1)]));
        Assert.Equal(0, await store.Chunks.CountChunksAsync(b));
        Assert.Equal(2, await store.Chunks.CountChunksAsync(a));

        var foreign = doc with { TenantId = b };
        await Assert.ThrowsAsync<KeyNotFoundException>(() => store.Chunks.ReplaceChunksAsync(b, doc.Id, [NewChunk(foreign, 0)]));
        await Assert.ThrowsAsync<ArgumentException>(() => store.Chunks.ReplaceChunksAsync(a, doc.Id, [NewChunk(foreign, 0)]));
        Assert.Equal(2, await store.Chunks.CountChunksAsync(a));
    }
}
