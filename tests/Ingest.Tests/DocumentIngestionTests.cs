using System.Text;
using Rag.Storage;

namespace Rag.Ingest.Tests;

public class DocumentIngestionTests
{
    const string T = Harness.Tenant;

    [Fact]
    public async Task SubmitStoresBlobRowAndJob()
    {
        var h = new Harness();
        var bytes = Encoding.UTF8.GetBytes("Hello ingestion world.");
        var result = await h.Ingestion.SubmitAsync(T, DocumentUpload.FromBytes("notes/hello.txt", "text/plain; charset=utf-8", bytes, tags: ["a", " a ", "b"]));

        Assert.False(result.Duplicate);
        var doc = result.Document;
        Assert.Equal(("hello", "hello.txt", "text/plain", DocumentStatus.Queued), (doc.Title, doc.FileName, doc.ContentType, doc.Status));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), doc.ContentHash);
        Assert.Equal(["a", "b"], doc.Tags);
        Assert.Equal(bytes.Length, doc.SizeBytes);
        var job = Assert.Single(h.Store.Queue.All);
        Assert.Equal((result.JobId, "ingest"), (job.Id, job.Kind));
        Assert.Equal(new IngestJobPayload(T, doc.Id), IngestJobPayload.Parse(job.Payload));
        await using var blob = await h.Store.Blobs.OpenAsync(T, doc.Id);
        Assert.NotNull(blob);
    }

    [Fact]
    public async Task SameBytesGiveTheExistingDocumentAndNoNewJob()
    {
        var h = new Harness();
        var first = await h.SubmitTextAsync("a.txt", "Same content.");
        var second = await h.SubmitTextAsync("b.txt", "Same content.");
        Assert.True(second.Duplicate);
        Assert.Null(second.JobId);
        Assert.Equal(first.Document.Id, second.Document.Id);
        Assert.Single(h.Store.Queue.All);
        Assert.Equal(1, h.Store.Docs.DocumentCount);

        // Another tenant with the same bytes gets its own document.
        var other = await h.Ingestion.SubmitAsync("t2", DocumentUpload.FromText("a", "Same content."));
        Assert.False(other.Duplicate);
        Assert.NotEqual(first.Document.Id, other.Document.Id);
    }

    [Fact]
    public async Task RejectedUploadsLeaveStoredDataUntouched()
    {
        var h = new Harness(o => o.MaxUploadBytes = 1000);
        var kept = await h.SubmitTextAsync("kept.txt", "Kept document text.");
        var garbage = new byte[600];
        new Random(1).NextBytes(garbage);

        var cases = new (DocumentUpload Upload, IngestRejectReason Reason)[]
        {
            (DocumentUpload.FromBytes("empty.txt", "text/plain", []), IngestRejectReason.Empty),
            (DocumentUpload.FromBytes("blank.md", null, Encoding.UTF8.GetBytes(" \n\t\r\n ")), IngestRejectReason.Empty),
            (DocumentUpload.FromBytes("blank16.txt", null, [0xFF, 0xFE, .. Encoding.Unicode.GetBytes("   ")]), IngestRejectReason.Empty),
            (DocumentUpload.FromBytes("clip.mp4", "video/mp4", [0x00, 0x00, 0x00, 0x18]), IngestRejectReason.UnsupportedType),
            (DocumentUpload.FromBytes("report.txt", "audio/mpeg", Encoding.UTF8.GetBytes("text")), IngestRejectReason.UnsupportedType),
            (DocumentUpload.FromBytes(null, null, Encoding.UTF8.GetBytes("no name, no type")), IngestRejectReason.UnsupportedType),
            (DocumentUpload.FromBytes("big.txt", "text/plain", new byte[1001]), IngestRejectReason.TooLarge),
            (new DocumentUpload("big.txt", "text/plain", new NonSeekableStream(new byte[5000])), IngestRejectReason.TooLarge),
            (DocumentUpload.FromBytes("garbage.txt", "text/plain", garbage), IngestRejectReason.Unreadable),
        };
        foreach (var (upload, reason) in cases)
        {
            var e = await Assert.ThrowsAsync<IngestRejectedException>(() => h.Ingestion.SubmitAsync(T, upload));
            Assert.Equal(reason, e.Reason);
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
        }
        Assert.Equal(1, h.Store.Docs.DocumentCount);
        Assert.Equal(1, h.Store.BlobStore.Count);
        Assert.Single(h.Store.Queue.All);
        Assert.NotNull(await h.Store.Documents.GetAsync(T, kept.Document.Id));
    }

    [Fact]
    public async Task CorruptBinaryFormatsAreAcceptedAndFailInThePipeline()
    {
        var h = new Harness();
        var result = await h.Ingestion.SubmitAsync(T, DocumentUpload.FromBytes("broken.docx", null, "PK\x03\x04 broken"u8.ToArray()));
        Assert.Equal(IngestOutcome.Failed, await h.Pipeline.RunAsync(T, result.Document.Id));
        var doc = await h.Store.Documents.GetAsync(T, result.Document.Id);
        Assert.Equal(DocumentStatus.Failed, doc!.Status);
        Assert.StartsWith("The .docx file is corrupt", doc.Error);
        Assert.Empty(await h.Store.Chunks.GetChunksAsync(T, result.Document.Id));
    }

    [Fact]
    public async Task ExternalIdReuploadReplacesContentUnderTheSameId()
    {
        var h = new Harness();
        var v1 = await h.SubmitTextAsync("doc.txt", Harness.Prose(40, "old"), externalId: "ext-1");
        Assert.Equal(IngestOutcome.Indexed, await h.Pipeline.RunAsync(T, v1.Document.Id));
        var oldCount = (await h.Store.Chunks.GetChunksAsync(T, v1.Document.Id)).Count;

        var v2 = await h.SubmitTextAsync("doc.txt", Harness.Prose(10, "new"), externalId: "ext-1");
        Assert.False(v2.Duplicate);
        Assert.Equal(v1.Document.Id, v2.Document.Id);
        Assert.Equal(DocumentStatus.Queued, (await h.Store.Documents.GetAsync(T, v1.Document.Id))!.Status);
        Assert.Equal(2, h.Store.Queue.All.Count);
        // Until the job runs, the old chunks are still served whole.
        Assert.Equal(oldCount, (await h.Store.Chunks.GetChunksAsync(T, v1.Document.Id)).Count);

        Assert.Equal(IngestOutcome.Indexed, await h.Pipeline.RunAsync(T, v1.Document.Id));
        await h.AssertIndexedOnceAsync(v1.Document.Id);
        var chunks = await h.Store.Chunks.GetChunksAsync(T, v1.Document.Id);
        Assert.True(chunks.Count < oldCount);
        Assert.All(chunks, c => Assert.DoesNotContain("old", c.Text));
        Assert.All(h.Lexical.Records(T, v1.Document.Id), r => Assert.DoesNotContain("old", r.Text));

        // The same bytes under the same external id again: nothing to do.
        var v3 = await h.SubmitTextAsync("doc.txt", Harness.Prose(10, "new"), externalId: "ext-1");
        Assert.True(v3.Duplicate);
        Assert.Equal(2, h.Store.Queue.All.Count);
    }

    [Fact]
    public async Task DeleteRemovesTheDocumentFromEveryIndex()
    {
        var h = new Harness();
        var gone = await h.SubmitTextAsync("gone.txt", Harness.Prose(30, "gone"));
        var kept = await h.SubmitTextAsync("kept.txt", Harness.Prose(30, "kept"));
        await h.Pipeline.RunAsync(T, gone.Document.Id);
        await h.Pipeline.RunAsync(T, kept.Document.Id);

        Assert.True(await h.Ingestion.DeleteAsync(T, gone.Document.Id));
        Assert.Null(await h.Store.Documents.GetAsync(T, gone.Document.Id));
        Assert.Empty(await h.Store.Chunks.GetChunksAsync(T, gone.Document.Id));
        Assert.DoesNotContain(h.Vectors.Records, r => r.DocumentId == gone.Document.Id);
        Assert.Empty(h.Lexical.Records(T, gone.Document.Id));
        Assert.Null(await h.Store.Blobs.OpenAsync(T, gone.Document.Id));
        await h.AssertIndexedOnceAsync(kept.Document.Id);

        Assert.False(await h.Ingestion.DeleteAsync(T, gone.Document.Id));
        Assert.False(await h.Ingestion.DeleteAsync("t2", kept.Document.Id)); // other tenants cannot delete it
        await h.AssertIndexedOnceAsync(kept.Document.Id);

        // Its job running late does not resurrect it.
        Assert.Equal(IngestOutcome.Deleted, await h.Pipeline.RunAsync(T, gone.Document.Id));
        Assert.DoesNotContain(h.Vectors.Records, r => r.DocumentId == gone.Document.Id);
    }

    [Fact]
    public async Task ReingestQueuesTheDocumentAgainAndItsJobReplacesTheIndexEntries()
    {
        var h = new Harness();
        var doc = (await h.SubmitTextAsync("a.txt", Harness.Prose(30))).Document;
        await h.Pipeline.RunAsync(T, doc.Id);
        var chunks = await h.Store.Chunks.GetChunksAsync(T, doc.Id);

        var jobId = await h.Ingestion.ReingestAsync(T, doc.Id);
        Assert.Equal(jobId, h.Store.Queue.All[^1].Id);
        Assert.Equal(new IngestJobPayload(T, doc.Id), IngestJobPayload.Parse(h.Store.Queue.All[^1].Payload));
        Assert.Equal(DocumentStatus.Queued, (await h.Store.Documents.GetAsync(T, doc.Id))!.Status);
        Assert.Equal(chunks.Count, (await h.Store.Chunks.GetChunksAsync(T, doc.Id)).Count); // still served until the job runs

        Assert.Equal(IngestOutcome.Indexed, await h.Pipeline.RunAsync(T, doc.Id));
        await h.AssertIndexedOnceAsync(doc.Id);
        Assert.Equal(chunks.Select(c => c.Text), (await h.Store.Chunks.GetChunksAsync(T, doc.Id)).Select(c => c.Text));

        Assert.Null(await h.Ingestion.ReingestAsync(T, "no-such-document"));
        Assert.Null(await h.Ingestion.ReingestAsync("t2", doc.Id)); // another tenant's document
        Assert.Equal(2, h.Store.Queue.All.Count);
    }

    [Fact]
    public async Task ReingestAllPagesThroughEveryDocumentOfTheTenantOnceAndFiltersByStatus()
    {
        var h = new Harness();
        // More than one page (200) of documents, every tenth failed.
        var ids = new List<string>();
        for (var i = 0; i < 450; i++)
        {
            var id = (await h.SubmitTextAsync($"d{i}.txt", $"Document number {i}.")).Document.Id;
            await h.Store.Documents.SetStatusAsync(T, id, i % 10 == 0 ? DocumentStatus.Failed : DocumentStatus.Indexed, i % 10 == 0 ? "boom" : null);
            ids.Add(id);
        }
        await h.Ingestion.SubmitAsync("t2", DocumentUpload.FromText("other", "Another tenant's document."));
        var jobsBefore = h.Store.Queue.All.Count;

        Assert.Equal(45, await h.Ingestion.ReingestAllAsync(T, DocumentStatus.Failed));
        var failedJobs = h.Store.Queue.All.Skip(jobsBefore).Select(j => IngestJobPayload.Parse(j.Payload)).ToList();
        Assert.Equal(ids.Where((_, i) => i % 10 == 0).Order(), failedJobs.Select(p => p.DocumentId).Order());
        Assert.All(failedJobs, p => Assert.Equal(T, p.TenantId));
        Assert.Equal(DocumentStatus.Queued, (await h.Store.Documents.GetAsync(T, ids[0]))!.Status);
        Assert.Null((await h.Store.Documents.GetAsync(T, ids[0]))!.Error);
        Assert.Equal(DocumentStatus.Indexed, (await h.Store.Documents.GetAsync(T, ids[1]))!.Status);

        Assert.Equal(0, await h.Ingestion.ReingestAllAsync(T, DocumentStatus.Processing));
        jobsBefore = h.Store.Queue.All.Count;
        Assert.Equal(450, await h.Ingestion.ReingestAllAsync(T, null));
        var all = h.Store.Queue.All.Skip(jobsBefore).Select(j => IngestJobPayload.Parse(j.Payload).DocumentId).ToList();
        Assert.Equal(ids.Order(), all.Order()); // each once, none of the other tenant's
        Assert.Equal(0, await h.Ingestion.ReingestAllAsync("no-such-tenant", null));
    }

    sealed class NonSeekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
    }
}
