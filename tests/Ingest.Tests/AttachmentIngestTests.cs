using System.Text;
using Rag.Storage;
using static Rag.Ingest.Tests.MailAndBookSamples;

namespace Rag.Ingest.Tests;

/// <summary>An e-mail's attachments as documents of their own, over the in-memory doubles: crashes, retries, replacement and deletes.</summary>
public class AttachmentIngestTests
{
    const string T = Harness.Tenant;

    static byte[] Mail(params (string Name, string Text)[] files) =>
        Eml("Harbour survey", "The files are attached.", null,
            [.. files.Select(f => new Attachment(f.Name, "text/plain", Encoding.UTF8.GetBytes(f.Text)))]);

    static async Task<string> SubmitAsync(Harness h, byte[] eml, string? externalId = null, string[]? tags = null) =>
        (await h.Ingestion.SubmitAsync(T, DocumentUpload.FromBytes("survey.eml", null, eml, externalId: externalId, tags: tags))).Document.Id;

    static async Task DrainAsync(IngestWorker worker)
    {
        while (await worker.RunOnceAsync()) { }
    }

    [Fact]
    public async Task AWorkerKilledAfterTheChildrenWereAddedRetriesTheJobAndAddsNoneTwice()
    {
        var h = new Harness();
        var mail = await SubmitAsync(h, Mail(("a.txt", Harness.Prose(12, "heron")), ("b.txt", Harness.Prose(12, "egret"))));
        var gets = 0;
        // The pipeline re-reads the message after adding its children; the first time, the process "dies" there.
        h.Store.Docs.BeforeGet = id =>
            id == mail && ++gets == 2 ? throw new IOException("simulated crash after the children were queued") : Task.CompletedTask;
        var worker = h.Worker();
        await DrainAsync(worker);

        Assert.True(gets > 2, "the message's job ran again after the crash");
        var message = await h.Store.Documents.GetAsync(T, mail);
        Assert.Equal(DocumentStatus.Indexed, message!.Status);
        var children = await h.Store.Documents.ListChildrenAsync(T, mail);
        Assert.Equal(["a.txt", "b.txt"], children.Select(c => c.Title));
        Assert.Equal(3, h.Store.Docs.DocumentCount);
        foreach (var child in children) await h.AssertIndexedOnceAsync(child.Id);

        // Running the message's job yet again changes nothing.
        Assert.Equal(IngestOutcome.Indexed, await h.Pipeline.RunAsync(T, mail));
        await DrainAsync(worker);
        Assert.Equal(children.Select(c => c.Id), (await h.Store.Documents.ListChildrenAsync(T, mail)).Select(c => c.Id));
        Assert.Equal(3, h.Store.Docs.DocumentCount);
        Assert.Equal(3, h.Store.BlobStore.Count);
    }

    [Fact]
    public async Task AMessageReplacedUnderItsExternalIdReplacesChangedChildrenAndDeletesThoseNoLongerAttached()
    {
        var h = new Harness();
        var worker = h.Worker();
        var mail = await SubmitAsync(h, Mail(("a.txt", Harness.Prose(12, "heron")), ("b.txt", Harness.Prose(12, "egret"))), externalId: "m-1");
        await DrainAsync(worker);
        var before = await h.Store.Documents.ListChildrenAsync(T, mail);
        Assert.Equal(2, before.Count);

        Assert.Equal(mail, await SubmitAsync(h, Mail(("a.txt", Harness.Prose(12, "ibis"))), externalId: "m-1", tags: ["birds"]));
        await DrainAsync(worker);

        var after = Assert.Single(await h.Store.Documents.ListChildrenAsync(T, mail));
        Assert.Equal(before[0].Id, after.Id); // the same attachment position keeps its document
        Assert.Equal(["birds"], after.Tags); // the message's tags
        await h.AssertIndexedOnceAsync(after.Id);
        Assert.All(await h.Store.Chunks.GetChunksAsync(T, after.Id), c => Assert.Contains("ibis", c.Text));
        Assert.Null(await h.Store.Documents.GetAsync(T, before[1].Id));
        Assert.Null(await h.Store.Blobs.OpenAsync(T, before[1].Id));
        Assert.Empty(h.Lexical.Records(T, before[1].Id));
        Assert.DoesNotContain(h.Vectors.Records, r => r.DocumentId == before[1].Id);
    }

    [Fact]
    public async Task AMessageDeletedWhileItsJobAddsItsChildrenLeavesNothingBehind()
    {
        var h = new Harness();
        var mail = await SubmitAsync(h, Mail(("a.txt", Harness.Prose(12, "heron")), ("b.txt", Harness.Prose(12, "egret"))));
        var gets = 0;
        // Deleted after the children were added, before the message is marked indexed.
        h.Store.Docs.BeforeGet = async id =>
        {
            if (id == mail && ++gets == 2) await h.Ingestion.DeleteAsync(T, mail);
        };
        Assert.Equal(IngestOutcome.Deleted, await h.Pipeline.RunAsync(T, mail));
        h.Store.Docs.BeforeGet = null;
        await DrainAsync(h.Worker()); // the children's jobs find them gone

        Assert.Equal(0, h.Store.Docs.DocumentCount);
        Assert.Equal(0, h.Store.BlobStore.Count);
        Assert.Equal(0, h.Lexical.DocumentCount);
        Assert.Empty(h.Vectors.Records);
    }

    [Fact]
    public async Task DeletingAMessageWhoseRowIsAlreadyGoneStillDeletesItsChildren()
    {
        var h = new Harness();
        var mail = await SubmitAsync(h, Mail(("a.txt", Harness.Prose(12, "heron"))));
        await DrainAsync(h.Worker());
        var child = Assert.Single(await h.Store.Documents.ListChildrenAsync(T, mail));
        await h.Store.Documents.DeleteAsync(T, mail); // a delete cut short after the message's row went

        Assert.False(await h.Ingestion.DeleteAsync(T, mail)); // the message is unknown...
        Assert.Null(await h.Store.Documents.GetAsync(T, child.Id)); // ...and its orphan is gone with everything of it
        Assert.Empty(h.Lexical.Records(T, child.Id));
        Assert.Null(await h.Store.Blobs.OpenAsync(T, child.Id));
    }
}
