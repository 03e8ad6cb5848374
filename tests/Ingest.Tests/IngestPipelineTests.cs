using Rag.Storage;

namespace Rag.Ingest.Tests;

public class IngestPipelineTests
{
    const string T = Harness.Tenant;

    [Fact]
    public async Task IndexesChunksVectorsAndLexicalEntriesInBatches()
    {
        var h = new Harness();
        var doc = (await h.SubmitTextAsync("a.txt", Harness.Prose(60))).Document;
        var steps = new List<IngestStep>();
        var outcome = await h.Pipeline.RunAsync(T, doc.Id, new SyncProgress(p => steps.Add(p.Step)));

        Assert.Equal(IngestOutcome.Indexed, outcome);
        await h.AssertIndexedOnceAsync(doc.Id);
        var chunks = await h.Store.Chunks.GetChunksAsync(T, doc.Id);
        Assert.Equal((chunks.Count + 3) / 4, h.Embedder.Calls); // batches of EmbeddingBatchSize = 4
        Assert.Equal(4, h.Embedder.MaxBatch);
        Assert.Equal(FakeEmbedder.Dimension, h.Vectors.Dimension);
        Assert.Equal([IngestStep.Extract, IngestStep.Chunk], steps.Take(2));
        Assert.Equal([IngestStep.Save, IngestStep.MarkIndexed], steps.TakeLast(2));
        Assert.All(steps.Skip(2).SkipLast(2), s => Assert.Equal(IngestStep.Embed, s));
    }

    [Fact]
    public async Task WithoutAnEncoderOnlyTheLexicalIndexIsBuilt()
    {
        var h = new Harness(dense: false);
        var doc = (await h.SubmitTextAsync("a.txt", Harness.Prose(20))).Document;
        Assert.Equal(IngestOutcome.Indexed, await h.Pipeline.RunAsync(T, doc.Id));
        Assert.False(h.Pipeline.HasDenseIndex);
        Assert.Empty(h.Vectors.Records);
        Assert.NotEmpty(h.Lexical.Records(T, doc.Id));
    }

    public static TheoryData<string> CrashPoints => ["vector upsert", "lexical index", "chunk rows", "progress after embed", "progress after save"];

    [Theory]
    [MemberData(nameof(CrashPoints))]
    public async Task ACrashAtAnyStepThenARerunLeavesExactlyOneSetOfChunks(string crashPoint)
    {
        var h = new Harness();
        var doc = (await h.SubmitTextAsync("a.txt", Harness.Prose(50))).Document;
        // A first, complete run, so the crash happens over existing entries as on a re-ingest.
        await h.Pipeline.RunAsync(T, doc.Id);

        IProgress<IngestProgress>? progress = null;
        switch (crashPoint)
        {
            case "vector upsert": h.Vectors.FailOnUpsertCall = h.Vectors.UpsertCalls + 2; break;
            case "lexical index": h.Lexical.FailNext = true; break;
            case "chunk rows": h.Store.Docs.FailNextReplace = true; break;
            case "progress after embed": progress = new SyncProgress(p => { if (p.Step == IngestStep.Embed && p.Done > 8) throw new IOException("crash"); }); break;
            case "progress after save": progress = new SyncProgress(p => { if (p.Step == IngestStep.Save) throw new IOException("crash"); }); break;
        }
        await Assert.ThrowsAsync<IOException>(() => h.Pipeline.RunAsync(T, doc.Id, progress));
        Assert.Equal(DocumentStatus.Processing, (await h.Store.Documents.GetAsync(T, doc.Id))!.Status);

        Assert.Equal(IngestOutcome.Indexed, await h.Pipeline.RunAsync(T, doc.Id));
        await h.AssertIndexedOnceAsync(doc.Id);
    }

    [Fact]
    public async Task RunningTwiceIsIdempotent()
    {
        var h = new Harness();
        var doc = (await h.SubmitTextAsync("a.txt", Harness.Prose(30))).Document;
        await h.Pipeline.RunAsync(T, doc.Id);
        var first = await h.Store.Chunks.GetChunksAsync(T, doc.Id);
        await h.Pipeline.RunAsync(T, doc.Id);
        Assert.Equal(first, await h.Store.Chunks.GetChunksAsync(T, doc.Id));
        await h.AssertIndexedOnceAsync(doc.Id);
    }

    [Fact]
    public async Task ChunkRowsCarryOffsetsIntoTheExtractedText()
    {
        var h = new Harness();
        var md = "# Guide\n\nIntro para.\n\n## Install\n\n" + Harness.Prose(12) + "\n\n## Use\n\nUse it well.";
        var doc = (await h.SubmitTextAsync("g.md", md)).Document;
        await h.Pipeline.RunAsync(T, doc.Id);
        var extracted = await new MarkdownExtractor().ExtractAsync(System.Text.Encoding.UTF8.GetBytes(md));
        var chunks = await h.Store.Chunks.GetChunksAsync(T, doc.Id);
        Assert.All(chunks, c => Assert.Equal(extracted.Text[c.StartChar..c.EndChar], c.Text));
        Assert.Equal(["Guide", "Guide > Install", "Guide > Use"], chunks.Select(c => c.HeadingPath).Distinct());
    }

    [Fact]
    public async Task DeletedWhileRunningLeavesNothingBehind()
    {
        var h = new Harness();
        var doc = (await h.SubmitTextAsync("a.txt", Harness.Prose(30))).Document;
        var gets = 0;
        // The pipeline reads the row at the start and again after saving; delete it in between.
        h.Store.Docs.BeforeGet = async id =>
        {
            if (id == doc.Id && ++gets == 2) await h.Ingestion.DeleteAsync(T, doc.Id);
        };
        Assert.Equal(IngestOutcome.Deleted, await h.Pipeline.RunAsync(T, doc.Id));
        Assert.Null(await h.Store.Documents.GetAsync(T, doc.Id));
        Assert.Empty(h.Vectors.Records);
        Assert.Equal(0, h.Lexical.DocumentCount);
        Assert.Empty(await h.Store.Chunks.GetChunksAsync(T, doc.Id));
    }

    [Fact]
    public async Task DeletedBeforeSavingChunkRowsIsUndone()
    {
        var h = new Harness();
        var doc = (await h.SubmitTextAsync("a.txt", Harness.Prose(30))).Document;
        // Delete between the vector upserts and the chunk rows: the store then refuses the rows (KeyNotFound).
        var progress = new SyncProgress(p =>
        {
            if (p.Step == IngestStep.Embed && p.Done == p.Total) h.Ingestion.DeleteAsync(T, doc.Id).GetAwaiter().GetResult();
        });
        Assert.Equal(IngestOutcome.Deleted, await h.Pipeline.RunAsync(T, doc.Id, progress));
        Assert.Empty(h.Vectors.Records);
        Assert.Equal(0, h.Lexical.DocumentCount);
    }

    [Fact]
    public async Task ReuploadedWhileRunningIndexesTheNewContent()
    {
        var h = new Harness();
        var doc = (await h.SubmitTextAsync("a.txt", Harness.Prose(30, "old"), externalId: "e")).Document;
        var gets = 0;
        h.Store.Docs.BeforeGet = async id =>
        {
            if (id == doc.Id && ++gets == 2) await h.SubmitTextAsync("a.txt", Harness.Prose(8, "new"), externalId: "e");
        };
        Assert.Equal(IngestOutcome.Indexed, await h.Pipeline.RunAsync(T, doc.Id));
        await h.AssertIndexedOnceAsync(doc.Id);
        Assert.All(await h.Store.Chunks.GetChunksAsync(T, doc.Id), c => Assert.DoesNotContain("old", c.Text));
        Assert.StartsWith("new", (await h.Store.Chunks.GetChunksAsync(T, doc.Id))[0].Text);
    }

    [Fact]
    public async Task MissingBlobFailsTheDocument()
    {
        var h = new Harness();
        var doc = (await h.SubmitTextAsync("a.txt", "Some text here.")).Document;
        await h.Store.Blobs.DeleteAsync(T, doc.Id);
        Assert.Equal(IngestOutcome.Failed, await h.Pipeline.RunAsync(T, doc.Id));
        Assert.Contains("missing", (await h.Store.Documents.GetAsync(T, doc.Id))!.Error);
    }

    [Fact]
    public void AnEncoderWithoutAVectorIndexIsAConfigurationError()
    {
        var h = new Harness();
        var e = Assert.Throws<InvalidOperationException>(() => new IngestPipeline(h.Store, h.Registry, new TextChunker(), h.Lexical, h.Options, vectors: null, embedder: h.Embedder));
        Assert.Contains("IVectorIndex", e.Message);
    }

    /// <summary>Reports synchronously on the caller's thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    sealed class SyncProgress(Action<IngestProgress> report) : IProgress<IngestProgress>
    {
        public void Report(IngestProgress value) => report(value);
    }
}
