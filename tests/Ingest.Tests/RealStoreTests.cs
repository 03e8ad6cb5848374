using System.Text;
using Rag.Retriever;
using Rag.Retriever.Lexical;
using Rag.Retriever.Vectors;
using Rag.Storage;
using Rag.Storage.Sqlite;
using Rag.Testing;

namespace Rag.Ingest.Tests;

/// <summary>End to end over the embedded stores: SqliteRagStore, EmbeddedVectorIndex and Bm25Index, in a temp data folder.</summary>
public sealed partial class RealStoreTests : IAsyncLifetime
{
    readonly TempDir _dir = new();
    SqliteRagStore _store = null!;
    EmbeddedVectorIndex _vectors = null!;
    Bm25Index _bm25 = null!;
    string _tenant = null!;

    public async Task InitializeAsync()
    {
        _store = await SqliteRagStore.OpenAsync(Path.Combine(_dir.Path, "db"));
        _vectors = new EmbeddedVectorIndex(Path.Combine(_dir.Path, "vectors"));
        _bm25 = await Bm25Index.OpenAsync(Path.Combine(_dir.Path, "bm25"));
        _tenant = (await _store.Tenants.CreateTenantAsync("acme")).Id;
    }

    public async Task DisposeAsync()
    {
        await _bm25.DisposeAsync();
        await _vectors.DisposeAsync();
        await _store.DisposeAsync();
        _dir.Dispose();
    }

    (DocumentIngestion Ingestion, IngestPipeline Pipeline, IngestWorker Worker) Wire(IRagStore store, IVectorIndex? vectors = null)
    {
        var options = new IngestOptions { Chunking = new ChunkingOptions { MaxTokens = 64, OverlapTokens = 8 }, EmbeddingBatchSize = 8, LeaseDuration = TimeSpan.FromSeconds(5) };
        var registry = ExtractorRegistry.CreateDefault(options);
        var ingestion = new DocumentIngestion(store, registry, _bm25, options, vectors ?? _vectors);
        var pipeline = new IngestPipeline(store, registry, new TextChunker(options.Chunking), _bm25, options, vectors ?? _vectors, new FakeEmbedder(), documents: ingestion);
        return (ingestion, pipeline, new IngestWorker(store, [new IngestJobHandler(pipeline, store)], options));
    }

    static bool HasPdfToText => Environment.GetEnvironmentVariable("PATH")?.Split(':').Any(d => File.Exists(Path.Combine(d, "pdftotext"))) == true;

    async Task<string?> TopDocumentAsync(string query) =>
        (await _bm25.SearchAsync(query, new SearchFilter(_tenant), 3)).FirstOrDefault()?.DocumentId;

    [Fact]
    public async Task EveryFormatIsIndexedCorruptFilesFailAndOthersCarryOn()
    {
        var (ingestion, _, worker) = Wire(_store);
        async Task<string> Submit(string name, byte[] bytes) =>
            (await ingestion.SubmitAsync(_tenant, DocumentUpload.FromBytes(name, null, bytes))).Document.Id;

        var txt = await Submit("a.txt", Encoding.UTF8.GetBytes(Harness.Prose(30, "zebra")));
        var latin1 = await Submit("b.txt", [.. Encoding.Latin1.GetBytes("Le café de la gare, très apprécié des voyageurs. "), 0x93, (byte)'x', 0x94]);
        var md = await Submit("c.md", Encoding.UTF8.GetBytes("# Manual\n\n## Giraffe care\n\n" + Harness.Prose(10, "giraffe")));
        var html = await Submit("d.html", Encoding.UTF8.GetBytes("<nav>menu</nav><h1>Otters</h1><p>" + Harness.Prose(10, "otter") + "</p><script>pangolin()</script>"));
        var docx = await Submit("e.docx", SampleFiles.Docx([("Heading1", "Koalas"), (null, Harness.Prose(10, "koala"))]));
        var badDocx = await Submit("f.docx", "PK\x03\x04 this is not a zip"u8.ToArray());
        string? pdf = null, badPdf = null;
        if (HasPdfToText)
        {
            pdf = await Submit("g.pdf", SampleFiles.Pdf("The walrus page one", "The walrus page two"));
            badPdf = await Submit("h.pdf", "%PDF-1.4\ngarbage without objects"u8.ToArray());
        }

        while (await worker.RunOnceAsync()) { }

        foreach (var (id, word) in new[] { (txt, "zebra"), (latin1, "café"), (md, "giraffe"), (html, "otter"), (docx, "koala") })
        {
            var doc = await _store.Documents.GetAsync(_tenant, id);
            Assert.True(doc!.Status == DocumentStatus.Indexed, $"{doc.FileName}: {doc.Status} {doc.Error}");
            Assert.Equal(id, await TopDocumentAsync(word));
            Assert.Equal(doc.ChunkCount, (await _store.Chunks.GetChunksAsync(_tenant, id)).Count);
        }
        Assert.Null(await TopDocumentAsync("pangolin")); // the script was dropped
        Assert.Equal(["Manual", "Manual > Giraffe care"], (await _store.Chunks.GetChunksAsync(_tenant, md)).Select(c => c.HeadingPath).Distinct());
        Assert.Equal("“x”", (await _store.Chunks.GetChunksAsync(_tenant, latin1))[0].Text[^3..]);
        var failed = await _store.Documents.GetAsync(_tenant, badDocx);
        Assert.Equal(DocumentStatus.Failed, failed!.Status);
        Assert.StartsWith("The .docx file is corrupt", failed.Error);
        if (pdf is not null)
        {
            Assert.Equal([1, 2], (await _store.Chunks.GetChunksAsync(_tenant, pdf)).Select(c => c.Page ?? 0).Distinct().Order());
            var bad = await _store.Documents.GetAsync(_tenant, badPdf!);
            Assert.Equal(DocumentStatus.Failed, bad!.Status);
            Assert.Contains("pdftotext", bad.Error);
        }
        Assert.Equal(await _store.Chunks.CountChunksAsync(_tenant), await _vectors.CountAsync(_tenant));
        Assert.Equal(await _store.Chunks.CountChunksAsync(_tenant), _bm25.Count(_tenant));
        Assert.Equal([JobStatus.Done], (await _store.Jobs.CountByStatusAsync()).Where(kv => kv.Value > 0).Select(kv => kv.Key));

        // Delete: gone from search, vectors, chunks and the blob store.
        Assert.True(await ingestion.DeleteAsync(_tenant, txt));
        Assert.Null(await TopDocumentAsync("zebra"));
        Assert.Equal(await _store.Chunks.CountChunksAsync(_tenant), await _vectors.CountAsync(_tenant));
        Assert.Equal(await _store.Chunks.CountChunksAsync(_tenant), _bm25.Count(_tenant));
        Assert.Null(await _store.Blobs.OpenAsync(_tenant, txt));
        Assert.Equal(md, await TopDocumentAsync("giraffe"));
    }

    [Fact]
    public async Task ACrashMidBatchThenAResumeIndexesExactlyOnce()
    {
        var faulty = new FaultyVectorIndex(_vectors);
        var (ingestion, pipeline, _) = Wire(_store, faulty);
        var id = (await ingestion.SubmitAsync(_tenant, DocumentUpload.FromText("big", Harness.Prose(200, "crash")))).Document.Id;
        await pipeline.RunAsync(_tenant, id);
        // Re-ingest so the crash happens over a complete earlier set, the hardest case for duplicates.
        faulty.FailOnCall = faulty.Calls + 2;
        await Assert.ThrowsAsync<IOException>(() => pipeline.RunAsync(_tenant, id));
        Assert.Equal(DocumentStatus.Processing, (await _store.Documents.GetAsync(_tenant, id))!.Status);

        Assert.Equal(IngestOutcome.Indexed, await pipeline.RunAsync(_tenant, id));
        var chunks = await _store.Chunks.GetChunksAsync(_tenant, id);
        Assert.True(chunks.Count > 16);
        Assert.Equal(chunks.Count, await _vectors.CountAsync(_tenant));
        Assert.Equal(chunks.Count, _bm25.Count(_tenant));
        Assert.Equal(chunks.Count, (await _store.Documents.GetAsync(_tenant, id))!.ChunkCount);
    }

    [Fact]
    public async Task TwoProcessesShareOneQueueAndEachJobIsDoneOnce()
    {
        // A second store on the same folder stands for a second worker process.
        await using var other = await SqliteRagStore.OpenAsync(Path.Combine(_dir.Path, "db"));
        var (ingestion, _, first) = Wire(_store);
        var (_, _, second) = Wire(other);
        var ids = new List<string>();
        for (var i = 0; i < 10; i++)
            ids.Add((await ingestion.SubmitAsync(_tenant, DocumentUpload.FromText($"d{i}", Harness.Prose(15, $"topic{i}")))).Document.Id);

        await Task.WhenAll(Drain(first), Drain(second));
        Assert.Equal(10, first.CompletedJobs + second.CompletedJobs);
        foreach (var id in ids) Assert.Equal(DocumentStatus.Indexed, (await _store.Documents.GetAsync(_tenant, id))!.Status);
        Assert.Equal(await _store.Chunks.CountChunksAsync(_tenant), await _vectors.CountAsync(_tenant));
        Assert.Equal(await _store.Chunks.CountChunksAsync(_tenant), _bm25.Count(_tenant));

        static async Task Drain(IngestWorker w)
        {
            while (await w.RunOnceAsync()) { }
        }
    }

    sealed class FaultyVectorIndex(IVectorIndex inner) : IVectorIndex
    {
        public int Calls { get; private set; }
        public int FailOnCall { get; set; }
        public Task EnsureReadyAsync(int dimension, CancellationToken ct = default) => inner.EnsureReadyAsync(dimension, ct);
        public Task UpsertAsync(IReadOnlyList<VectorRecord> records, CancellationToken ct = default) =>
            ++Calls == FailOnCall ? throw new IOException("simulated crash mid-batch") : inner.UpsertAsync(records, ct);
        public Task<IReadOnlyList<ScoredChunk>> SearchAsync(float[] query, SearchFilter filter, int k, CancellationToken ct = default) => inner.SearchAsync(query, filter, k, ct);
        public Task DeleteDocumentAsync(string tenantId, string documentId, CancellationToken ct = default) => inner.DeleteDocumentAsync(tenantId, documentId, ct);
        public Task<long> CountAsync(string tenantId, CancellationToken ct = default) => inner.CountAsync(tenantId, ct);
    }
}
