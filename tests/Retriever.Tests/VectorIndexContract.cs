namespace Rag.Retriever.Tests;

/// <summary>
/// What every IVectorIndex must do, run against each implementation (embedded always, Qdrant when reachable).
/// A derived class opens indexes over one store per test instance: OpenAsync twice sees the same data.
/// </summary>
public abstract class VectorIndexContract : IAsyncLifetime
{
    readonly List<IVectorIndex> opened = [];

    /// <summary>Opens the index over this test's store (the same store on every call).</summary>
    protected abstract Task<IVectorIndex> CreateIndexAsync(VectorDistance distance);

    /// <summary>Closes an index so the next OpenAsync reads the store afresh.</summary>
    protected static async Task CloseAsync(IVectorIndex index)
    {
        switch (index)
        {
            case IAsyncDisposable a: await a.DisposeAsync(); break;
            case IDisposable d: d.Dispose(); break;
        }
    }

    protected async Task<IVectorIndex> OpenAsync(int dimension, VectorDistance distance = VectorDistance.Cosine)
    {
        var index = await CreateIndexAsync(distance);
        opened.Add(index);
        await index.EnsureReadyAsync(dimension);
        return index;
    }

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var index in opened) await CloseAsync(index);
    }

    protected static float[] RandomVector(Random rng, int dim) => [.. Enumerable.Range(0, dim).Select(_ => (float)(rng.NextDouble() * 2 - 1))];

    static VectorRecord Record(string tenant, string doc, int ordinal, float[] v, params string[] tags) => new($"{doc}:{ordinal}", tenant, doc, v, tags);

    static float Dot(float[] a, float[] b) => a.Zip(b, (x, y) => x * y).Sum();
    static float Norm(float[] a) => MathF.Sqrt(Dot(a, a));

    [SkippableTheory]
    [InlineData(VectorDistance.Dot)]
    [InlineData(VectorDistance.Cosine)]
    public async Task Top_k_is_exact_against_brute_force(VectorDistance distance)
    {
        var rng = new Random(42);
        const int dim = 24;
        var records = Enumerable.Range(0, 300).Select(i => Record("t", $"doc{i / 3}", i % 3, RandomVector(rng, dim))).ToList();
        var index = await OpenAsync(dim, distance);
        await index.UpsertAsync(records);
        for (var q = 0; q < 5; q++)
        {
            var query = RandomVector(rng, dim);
            float Score(float[] v) => distance == VectorDistance.Dot ? Dot(v, query) : Dot(v, query) / (Norm(v) * Norm(query));
            var expected = records.Select(r => (r.ChunkId, Score: Score(r.Vector))).OrderByDescending(x => x.Score).Take(10).ToList();
            var actual = await index.SearchAsync(query, new SearchFilter("t"), 10);
            Assert.Equal(expected.Select(e => e.ChunkId), actual.Select(a => a.ChunkId));
            for (var i = 0; i < 10; i++) Assert.Equal(expected[i].Score, actual[i].Score, 3);
        }
    }

    [SkippableFact]
    public async Task Cosine_ignores_length_and_dot_does_not()
    {
        float[] query = [1, 0];
        var parallelShort = Record("t", "a", 0, [0.5f, 0]);
        var diagonalLong = Record("t", "b", 0, [10, 10]);
        var cosine = await OpenAsync(2, VectorDistance.Cosine);
        await cosine.UpsertAsync([parallelShort, diagonalLong]);
        Assert.Equal("a:0", (await cosine.SearchAsync(query, new SearchFilter("t"), 2))[0].ChunkId);
        await CloseAsync(cosine);
        opened.Remove(cosine);
        var dot = await OpenDotStoreAsync();
        if (dot is null) return;
        await dot.UpsertAsync([parallelShort, diagonalLong]);
        var hits = await dot.SearchAsync(query, new SearchFilter("t"), 2);
        Assert.Equal(["b:0", "a:0"], hits.Select(h => h.ChunkId));
        Assert.Equal(10f, hits[0].Score, 4);
    }

    /// <summary>A second, separate store with dot distance (null when the implementation cannot make one here).</summary>
    protected abstract Task<IVectorIndex?> OpenSeparateStoreAsync(int dimension, VectorDistance distance);

    async Task<IVectorIndex?> OpenDotStoreAsync()
    {
        var index = await OpenSeparateStoreAsync(2, VectorDistance.Dot);
        if (index is not null) opened.Add(index);
        return index;
    }

    [SkippableFact]
    public async Task A_tenant_never_sees_another_tenants_vectors()
    {
        var rng = new Random(1);
        var index = await OpenAsync(8);
        await index.UpsertAsync([.. Enumerable.Range(0, 50).Select(i => Record(i % 2 == 0 ? "a" : "b", $"d{i}", 0, RandomVector(rng, 8)))]);
        for (var q = 0; q < 5; q++)
        {
            var hits = await index.SearchAsync(RandomVector(rng, 8), new SearchFilter("a"), 100);
            Assert.Equal(25, hits.Count);
            Assert.All(hits, h => Assert.Equal(0, int.Parse(h.DocumentId[1..]) % 2));
        }
        Assert.Empty(await index.SearchAsync(RandomVector(rng, 8), new SearchFilter("c"), 10));
        // Even a document filter naming the other tenant's document returns nothing.
        Assert.Empty(await index.SearchAsync(RandomVector(rng, 8), new SearchFilter("a", DocumentIds: ["d1"]), 10));
        Assert.Equal(25, await index.CountAsync("a"));
        Assert.Equal(25, await index.CountAsync("b"));
        Assert.Equal(0, await index.CountAsync("c"));
    }

    [SkippableFact]
    public async Task Document_and_tag_filters_narrow_results()
    {
        var index = await OpenAsync(3);
        await index.UpsertAsync(
        [
            Record("t", "d1", 0, [1, 0, 0], "red"),
            Record("t", "d1", 1, [0.9f, 0.1f, 0], "red"),
            Record("t", "d2", 0, [0.8f, 0.2f, 0], "blue"),
            Record("t", "d3", 0, [0.7f, 0.3f, 0], "blue", "red"),
        ]);
        float[] q = [1, 0, 0];
        Assert.Equal(["d2:0", "d3:0"], (await index.SearchAsync(q, new SearchFilter("t", DocumentIds: ["d2", "d3"]), 10)).Select(h => h.ChunkId));
        Assert.Equal(["d2:0", "d3:0"], (await index.SearchAsync(q, new SearchFilter("t", Tags: ["blue"]), 10)).Select(h => h.ChunkId));
        Assert.Equal(["d3:0"], (await index.SearchAsync(q, new SearchFilter("t", DocumentIds: ["d1", "d3"], Tags: ["blue"]), 10)).Select(h => h.ChunkId));
        var all = await index.SearchAsync(q, new SearchFilter("t"), 2);
        Assert.Equal(["d1:0", "d1:1"], all.Select(h => h.ChunkId));
        Assert.Equal("d1", all[0].DocumentId);
    }

    [SkippableFact]
    public async Task Upsert_replaces_and_delete_removes_a_document()
    {
        var index = await OpenAsync(2);
        await index.UpsertAsync([Record("t", "d1", 0, [1, 0]), Record("t", "d1", 1, [0, 1]), Record("t", "d2", 0, [1, 1])]);
        await index.UpsertAsync([Record("t", "d1", 0, [-1, 0])]); // same chunk again: replaced, not duplicated
        Assert.Equal(3, await index.CountAsync("t"));
        Assert.Equal("d1:0", (await index.SearchAsync([-1, 0], new SearchFilter("t"), 1))[0].ChunkId);

        await index.DeleteDocumentAsync("t", "d1");
        Assert.Equal(1, await index.CountAsync("t"));
        Assert.Equal(["d2:0"], (await index.SearchAsync([1, 0], new SearchFilter("t"), 10)).Select(h => h.ChunkId));
        await index.DeleteDocumentAsync("t", "absent"); // no-op
        await index.DeleteDocumentAsync("other", "d2"); // another tenant's delete does not touch t
        Assert.Equal(1, await index.CountAsync("t"));
    }

    [SkippableFact]
    public async Task Reopening_keeps_the_data()
    {
        var rng = new Random(3);
        var index = await OpenAsync(4);
        var records = Enumerable.Range(0, 20).Select(i => Record("t", $"d{i}", 0, RandomVector(rng, 4))).ToList();
        await index.UpsertAsync(records);
        await index.DeleteDocumentAsync("t", "d0");
        var query = RandomVector(rng, 4);
        var before = await index.SearchAsync(query, new SearchFilter("t"), 5);
        await CloseAsync(index);
        opened.Remove(index);

        var reopened = await OpenAsync(4);
        Assert.Equal(19, await reopened.CountAsync("t"));
        var after = await reopened.SearchAsync(query, new SearchFilter("t"), 5);
        Assert.Equal(before.Select(h => h.ChunkId), after.Select(h => h.ChunkId));
    }

    [SkippableFact]
    public async Task A_dimension_mismatch_is_a_clear_error()
    {
        var index = await OpenAsync(4);
        await index.UpsertAsync([Record("t", "d", 0, [1, 2, 3, 4])]);
        await CloseAsync(index);
        opened.Remove(index);
        var other = await CreateIndexAsync(VectorDistance.Cosine);
        opened.Add(other);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => other.EnsureReadyAsync(8));
        Assert.Contains("dimension 4", e.Message);
        Assert.Contains("8", e.Message);
    }

    [SkippableFact]
    public async Task Deletes_counts_and_searches_work_before_EnsureReady_on_stored_data()
    {
        // A BM25-only service never calls EnsureReadyAsync but still deletes documents from every index.
        var index = await OpenAsync(2);
        await index.UpsertAsync([Record("t", "d1", 0, [1, 0]), Record("t", "d2", 0, [0, 1])]);
        await CloseAsync(index);
        opened.Remove(index);

        var cold = await CreateIndexAsync(VectorDistance.Cosine);
        opened.Add(cold);
        Assert.Equal(2, await cold.CountAsync("t"));
        await cold.DeleteDocumentAsync("t", "d1");
        Assert.Equal(1, await cold.CountAsync("t"));
        Assert.Equal(["d2:0"], (await cold.SearchAsync([1, 0], new SearchFilter("t"), 5)).Select(h => h.ChunkId));
    }

    [SkippableFact]
    public async Task A_vector_of_the_wrong_length_is_refused()
    {
        var index = await OpenAsync(4);
        await Assert.ThrowsAsync<ArgumentException>(() => index.UpsertAsync([Record("t", "d", 0, [1, 2, 3])]));
        await Assert.ThrowsAsync<ArgumentException>(() => index.SearchAsync([1, 2, 3], new SearchFilter("t"), 3));
    }
}
