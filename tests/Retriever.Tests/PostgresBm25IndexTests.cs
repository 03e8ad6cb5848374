using Rag.Retriever.Lexical;
using Rag.Retriever.Postgres;
using Rag.Storage.Postgres;
using Rag.Testing;
using Xunit.Abstractions;

namespace Rag.Retriever.Tests;

/// <summary>
/// The lexical contract on PostgreSQL (server mode), each test in a schema of its own; skipped without
/// RAG_TEST_POSTGRES. The store is opened first because its migrations create the bm25_* tables.
/// </summary>
public sealed class PostgresBm25IndexTests(PostgresDatabase database, ITestOutputHelper output) : LexicalIndexContract, IClassFixture<PostgresDatabase>
{
    readonly TempDir blobs = new();
    readonly List<IAsyncDisposable> stores = [];

    protected override async Task<ILexicalIndex> OpenIndexAsync(Bm25Options options)
    {
        var connectionString = await database.NewSchemaAsync(); // skips the test without PostgreSQL
        stores.Add(await PostgresRagStore.OpenAsync(connectionString, blobs.Path));
        return new PostgresBm25Index(connectionString, options);
    }

    protected override Task<long> CountAsync(ILexicalIndex index, string tenantId) => ((PostgresBm25Index)index).CountAsync(tenantId);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        foreach (var store in stores) await store.DisposeAsync();
        blobs.Dispose();
    }

    [SkippableFact]
    public async Task Concurrent_writers_keep_the_statistics_exact()
    {
        var index = await OpenAsync(Plain);
        // Eight writers (as eight ingest workers would) index and re-index 40 documents at once.
        await Parallel.ForEachAsync(Enumerable.Range(0, 80), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            var doc = $"d{i % 40}";
            await index.IndexDocumentAsync("t", doc, [], [new LexicalRecord($"{doc}:0", "alpha beta"), new LexicalRecord($"{doc}:1", $"gamma w{i % 40}")], ct);
        });
        Assert.Equal(80, await CountAsync(index, "t"));
        await index.DeleteDocumentAsync("t", "d0");
        Assert.Equal(78, await CountAsync(index, "t"));
        // With every document alike, "alpha" scores each first chunk the same: N = 78, df = 39, |d| = avgdl = 2.
        var hits = await index.SearchAsync("alpha", new SearchFilter("t"), 100);
        Assert.Equal(39, hits.Count);
        var idf = MathF.Log(1f + (78 - 39 + 0.5f) / (39 + 0.5f));
        Assert.All(hits, h => Assert.Equal(idf * 2.2f / 2.2f, h.Score, 4));
    }

    /// <summary>The two modes rank SQuAD alike: same analyser, same formula, one in .NET floats and one in SQL doubles.</summary>
    [SkippableFact]
    public async Task Ranks_squad_questions_like_the_embedded_index()
    {
        var path = SharedData.File(Squad.File);
        Skip.If(path is null, SharedData.MissingReason(Squad.File));
        var (paragraphs, questions) = Squad.Load(path!);
        const int Paragraphs = 400;
        var postgres = await OpenAsync(new Bm25Options());
        using var embedded = Bm25Index.CreateInMemory();
        await Parallel.ForEachAsync(Enumerable.Range(0, Paragraphs), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, ct) =>
        {
            LexicalRecord[] chunk = [new($"p{i}:0", paragraphs[i])];
            await postgres.IndexDocumentAsync("t", $"p{i}", [], chunk, ct);
            await embedded.IndexDocumentAsync("t", $"p{i}", [], chunk, ct);
        });

        var asked = questions.Where(q => q.Paragraph < Paragraphs).Take(300).ToList();
        var (sameTop, compared) = (0, 0);
        foreach (var (question, _) in asked)
        {
            var a = await embedded.SearchAsync(question, new SearchFilter("t"), 5);
            var b = await postgres.SearchAsync(question, new SearchFilter("t"), 5);
            Assert.Equal(a.Count, b.Count);
            for (var i = 0; i < a.Count; i++) Assert.Equal(a[i].Score, b[i].Score, 3);
            // Ranks may swap only between scores equal to float precision.
            for (var i = 0; i < a.Count; i++)
                if (a[i].ChunkId != b[i].ChunkId) Assert.Equal(a[i].Score, b.First(x => x.ChunkId == a[i].ChunkId).Score, 3);
            compared++;
            if (a.Count > 0 && a[0].ChunkId == b[0].ChunkId) sameTop++;
        }
        output.WriteLine($"{sameTop}/{compared} questions have the same top passage in both modes");
        Assert.True(sameTop >= compared - 3, $"only {sameTop} of {compared} top passages agree");
    }
}
