using System.Text;
using Rag.Retriever;
using Rag.Storage;

namespace Rag.Ingest.Tests;

/// <summary>The newer formats end to end over the embedded stores: indexed and found, or failed with a clear error.</summary>
public sealed partial class RealStoreTests
{
    async Task<string> SubmitAsync(DocumentIngestion ingestion, string name, byte[] bytes) =>
        (await ingestion.SubmitAsync(_tenant, DocumentUpload.FromBytes(name, null, bytes))).Document.Id;

    async Task<ChunkRecord> TopChunkAsync(string query)
    {
        var hit = (await _bm25.SearchAsync(query, new SearchFilter(_tenant), 1)).First();
        return (await _store.Chunks.GetChunksByIdAsync(_tenant, [hit.ChunkId])).Single();
    }

    async Task<DocumentRecord> IndexedAsync(string id)
    {
        var doc = (await _store.Documents.GetAsync(_tenant, id))!;
        Assert.True(doc.Status == DocumentStatus.Indexed, $"{doc.FileName}: {doc.Status} {doc.Error}");
        return doc;
    }

    [Fact]
    public async Task ASpreadsheetCellValueFindsTheChunkOfItsRowWithTheHeadersRepeated()
    {
        var (ingestion, _, worker) = Wire(_store);
        string[] cities = ["Lisbon", "Oslo", "Quito", "Perth", "Dakar", "Hanoi", "Lima", "Riga"];
        var offices = new List<string?[]> { new[] { "City", "Headcount", "Opened" } };
        for (var i = 0; i < 80; i++) offices.Add([i < cities.Length ? cities[i] : $"Town{i}", $"{100 + i}", $"{1990 + i % 30}"]);
        var xlsx = await SubmitAsync(ingestion, "offices.xlsx", OfficeSamples.Xlsx(("Offices", offices.ToArray()), ("Budget", [["Item", "Cost"], ["Printers", "1200"]])));
        var deck = await SubmitAsync(ingestion, "deck.pptx", OfficeSamples.Pptx(("Intro", ["Welcome aboard"], null), ("Pricing", ["Gold plan costs 40 euros"], "Say the discount ends in May.")));
        var csv = await SubmitAsync(ingestion, "fleet.csv", Encoding.UTF8.GetBytes("Vehicle,Plate,Depot\nvan,AB-123,Quayside\ntruck,CD-456,Hilltop\n"));
        while (await worker.RunOnceAsync()) { }

        await IndexedAsync(xlsx);
        await IndexedAsync(csv);
        await IndexedAsync(deck);
        var pricing = await TopChunkAsync("discount May");
        Assert.Equal((deck, 2, "Slide 2: Pricing", "slide 2"), (pricing.DocumentId, pricing.Page!.Value, pricing.HeadingPath!, pricing.PageLabel));
        Assert.True((await _store.Chunks.GetChunksAsync(_tenant, xlsx)).Count > 3);

        // "Headcount" is only in the header row: the query finds Quito's row because every row repeats it.
        var quito = await TopChunkAsync("Quito headcount");
        Assert.Equal(xlsx, quito.DocumentId);
        Assert.Contains("City: Quito; Headcount: 102; Opened: 1992", quito.Text);
        Assert.Equal("Offices", quito.HeadingPath);
        var printers = await TopChunkAsync("printers cost");
        Assert.Equal("Budget", printers.HeadingPath);
        Assert.Contains("Item: Printers; Cost: 1200", printers.Text);
        Assert.Contains("Plate: CD-456; Depot: Hilltop", (await TopChunkAsync("truck depot")).Text);
    }

    [Fact]
    public async Task AnEmailAndABookAreIndexedUnderTheirDeclaredTitlesAndSearchFindsTheirChunks()
    {
        var (ingestion, _, worker) = Wire(_store);
        var figures = Encoding.UTF8.GetBytes("Region,Revenue\nEMEA,4.1M\nAPAC,2.7M\n");
        var mail = await SubmitAsync(ingestion, "survey.eml", MailAndBookSamples.Eml("Harbour survey", "The divers found three wrecks near the pier.", null,
            new MailAndBookSamples.Attachment("figures.csv", "text/csv", figures)));
        var book = await SubmitAsync(ingestion, "coast.epub", MailAndBookSamples.Epub("Tales of the Coast",
        [
            new("one.xhtml", "The Harbour", "<p>Boats come in at dawn.</p>"),
            new("two.xhtml", "The Lighthouse", "<p>The keeper polishes the brass lantern.</p>"),
        ]));
        while (await worker.RunOnceAsync()) { }

        Assert.Equal("Harbour survey", (await IndexedAsync(mail)).Title);
        Assert.Equal("Tales of the Coast", (await IndexedAsync(book)).Title);
        Assert.Equal(mail, (await TopChunkAsync("divers wrecks")).DocumentId);
        var apac = await TopChunkAsync("APAC revenue");
        var figuresDoc = await IndexedAsync(apac.DocumentId); // the attachment is a document of its own
        Assert.Equal(("figures.csv", mail), (figuresDoc.Title, figuresDoc.ParentId));
        Assert.Contains("Region: APAC; Revenue: 2.7M", apac.Text);
        var lantern = await TopChunkAsync("brass lantern");
        Assert.Equal((book, "The Lighthouse"), (lantern.DocumentId, lantern.HeadingPath!));
    }

    [SkippableFact]
    public async Task AScannedPdfIsIndexedThroughOcrAndSearchFindsItsWords()
    {
        Skip.IfNot(HasPdfToText, "pdftotext (poppler-utils) is not installed");
        Skip.IfNot(Environment.GetEnvironmentVariable("PATH")!.Split(':').Any(d => File.Exists(Path.Combine(d, "tesseract"))), "tesseract is not installed (Debian tesseract-ocr)");
        Skip.IfNot(Environment.GetEnvironmentVariable("PATH")!.Split(':').Any(d => File.Exists(Path.Combine(d, "gs"))), "Ghostscript (gs) is not installed: it makes the scanned fixture");
        var (ingestion, _, worker) = Wire(_store);
        var scan = await SubmitAsync(ingestion, "scan.pdf", await OcrTests.RenderAsync("pdfimage8", ["Quarterly report"], ["The pelican budget is approved"]));
        var blank = await SubmitAsync(ingestion, "blank.pdf", SampleFiles.Pdf(Enumerable.Repeat("", 500).ToArray()));
        while (await worker.RunOnceAsync()) { }

        await IndexedAsync(scan);
        var hit = await TopChunkAsync("pelican budget");
        Assert.Equal((scan, 2, "p. 2"), (hit.DocumentId, hit.Page!.Value, hit.PageLabel));
        var failed = (await _store.Documents.GetAsync(_tenant, blank))!;
        Assert.Equal(DocumentStatus.Failed, failed.Status);
        Assert.Contains("Rag:Ocr:MaxPages", failed.Error);
    }

    [Fact]
    public async Task AMillionEmptyRowsAreIndexedAsTheirFewValuesInBoundedTimeAndEarlierDocumentsStayIndexed()
    {
        var (ingestion, _, worker) = Wire(_store);
        var earlier = await SubmitAsync(ingestion, "earlier.txt", Encoding.UTF8.GetBytes(Harness.Prose(20, "heron")));
        while (await worker.RunOnceAsync()) { }
        var earlierChunks = (await _store.Chunks.GetChunksAsync(_tenant, earlier)).Select(c => c.Text).ToList();

        var sparse = await SubmitAsync(ingestion, "sparse.xlsx",
            OfficeSamples.XlsxWithEmptyRows([["Depot", "Vans"], ["Quayside", "12"], ["Hilltop", "7"]], emptyRows: 1_000_000));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (await worker.RunOnceAsync()) { }
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"took {watch.Elapsed}");

        await IndexedAsync(sparse);
        var chunks = await _store.Chunks.GetChunksAsync(_tenant, sparse);
        Assert.Equal("Big\n\nDepot: Quayside; Vans: 12\n\nDepot: Hilltop; Vans: 7", string.Join("\n\n", chunks.Select(c => c.Text.Trim())));
        await IndexedAsync(earlier);
        Assert.Equal(earlierChunks, (await _store.Chunks.GetChunksAsync(_tenant, earlier)).Select(c => c.Text));
        Assert.Equal(sparse, (await TopChunkAsync("Hilltop vans")).DocumentId);
    }

    [Fact]
    public async Task TruncatedAndHostileFilesFailClearlyAndEarlierDocumentsStayIndexed()
    {
        var (ingestion, _, worker) = Wire(_store);
        var earlier = await SubmitAsync(ingestion, "earlier.txt", Encoding.UTF8.GetBytes(Harness.Prose(20, "heron")));
        while (await worker.RunOnceAsync()) { }
        var earlierChunks = (await _store.Chunks.GetChunksAsync(_tenant, earlier)).Select(c => c.Text).ToList();

        var bad = new Dictionary<string, (byte[] Bytes, string Error)>
        {
            ["cut.xlsx"] = (OfficeSamples.Truncated(OfficeSamples.Xlsx(("S", [["a", "b"], ["1", "2"]]))), "is corrupt or not"),
            ["cut.pptx"] = (OfficeSamples.Truncated(OfficeSamples.Pptx(("T", ["body"], "notes"))), "is corrupt or not"),
            ["cut.epub"] = (OfficeSamples.Truncated(MailAndBookSamples.Epub("Book", [new("a.xhtml", "A", "<p>chapter text</p>")])), "is corrupt or not"),
            ["broken.eml"] = (Encoding.UTF8.GetBytes("From: a@example.com\r\nSubject: Lost\r\nContent-Type: multipart/mixed; boundary=\"never\"\r\n\r\n--other\r\n\r\nhidden\r\n"),
                "MIME structure is broken"),
        };
        var ids = new Dictionary<string, string>();
        foreach (var (name, (bytes, _)) in bad) ids[name] = await SubmitAsync(ingestion, name, bytes);
        while (await worker.RunOnceAsync()) { }

        foreach (var (name, (_, error)) in bad)
        {
            var doc = (await _store.Documents.GetAsync(_tenant, ids[name]))!;
            Assert.True(doc.Status == DocumentStatus.Failed, $"{name}: {doc.Status}");
            Assert.Contains(error, doc.Error);
            Assert.Empty(await _store.Chunks.GetChunksAsync(_tenant, ids[name]));
        }
        await IndexedAsync(earlier);
        Assert.Equal(earlierChunks, (await _store.Chunks.GetChunksAsync(_tenant, earlier)).Select(c => c.Text));
        Assert.Equal(earlier, await TopDocumentAsync("heron"));
        Assert.Equal(await _store.Chunks.CountChunksAsync(_tenant), _bm25.Count(_tenant));
    }

    [Fact]
    public async Task AnEmailsAttachmentsAreDocumentsOfTheirOwnFoundBySearchListedUnderItAndDeletedWithIt()
    {
        var (ingestion, pipeline, worker) = Wire(_store);
        var other = (await _store.Tenants.CreateTenantAsync("other")).Id;
        var docx = SampleFiles.Docx([("Heading1", "Koala care"), (null, "Koalas sleep for twenty hours in the eucalyptus canopy.")]);
        var eml = MailAndBookSamples.Eml("Harbour survey", "The divers found three wrecks near the pier.", null,
            new MailAndBookSamples.Attachment("notes.txt", "text/plain", Encoding.UTF8.GetBytes("The lighthouse keeper polishes the brass lantern every Sunday.")),
            new MailAndBookSamples.Attachment("koalas.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", docx),
            new MailAndBookSamples.Attachment("setup.exe", "application/x-msdownload", [0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0]),
            new MailAndBookSamples.Attachment("broken.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "PK\x03\x04 not a zip"u8.ToArray()));
        var mail = await SubmitAsync(ingestion, "survey.eml", eml);
        var earlier = await SubmitAsync(ingestion, "earlier.txt", Encoding.UTF8.GetBytes(Harness.Prose(20, "heron")));
        while (await worker.RunOnceAsync()) { }

        await IndexedAsync(mail);
        var children = await _store.Documents.ListChildrenAsync(_tenant, mail);
        Assert.Equal(["notes.txt", "koalas.docx", "broken.docx"], children.Select(c => c.Title));
        Assert.All(children, c => Assert.Equal(mail, c.ParentId));
        await IndexedAsync(children[0].Id);
        await IndexedAsync(children[1].Id);
        Assert.Equal(DocumentStatus.Failed, children[2].Status); // the broken one fails on its own, with its error
        Assert.Contains("is corrupt or not", children[2].Error);
        var messageText = string.Join("\n", (await _store.Chunks.GetChunksAsync(_tenant, mail)).Select(c => c.Text));
        Assert.Contains("notes.txt", messageText); // the message still says what was attached...
        Assert.Contains("setup.exe (not read: unsupported type application/x-msdownload)", messageText);
        Assert.DoesNotContain("lantern", messageText); // ...but not what the attachments say

        var lantern = await TopChunkAsync("brass lantern");
        Assert.Equal(children[0].Id, lantern.DocumentId);
        Assert.Equal(children[1].Id, (await TopChunkAsync("koalas eucalyptus")).DocumentId);
        Assert.Equal(3 + 1 + 1, (await _store.Documents.ListAsync(_tenant, 0, 10)).Total); // 3 children, the message, earlier.txt

        // The same job again (a retry) adds no child twice.
        Assert.Equal(IngestOutcome.Indexed, await pipeline.RunAsync(_tenant, mail));
        while (await worker.RunOnceAsync()) { }
        Assert.Equal(children.Select(c => c.Id), (await _store.Documents.ListChildrenAsync(_tenant, mail)).Select(c => c.Id));
        Assert.Equal(5, (await _store.Documents.ListAsync(_tenant, 0, 10)).Total);
        Assert.Equal(await _store.Chunks.CountChunksAsync(_tenant), _bm25.Count(_tenant));

        // Another tenant sees none of it.
        Assert.Empty(await _bm25.SearchAsync("brass lantern", new SearchFilter(other), 5));
        Assert.Null(await _store.Documents.GetAsync(other, children[0].Id));
        Assert.Empty(await _store.Documents.ListChildrenAsync(other, mail));
        Assert.False(await ingestion.DeleteAsync(other, mail));
        Assert.NotNull(await _store.Documents.GetAsync(_tenant, children[0].Id));

        Assert.True(await ingestion.DeleteAsync(_tenant, mail));
        foreach (var child in children)
        {
            Assert.Null(await _store.Documents.GetAsync(_tenant, child.Id));
            Assert.Empty(await _store.Chunks.GetChunksAsync(_tenant, child.Id));
            Assert.Null(await _store.Blobs.OpenAsync(_tenant, child.Id));
        }
        Assert.Empty(await _bm25.SearchAsync("brass lantern", new SearchFilter(_tenant), 5));
        await IndexedAsync(earlier); // nothing else touched
        Assert.Equal(earlier, await TopDocumentAsync("heron"));
        Assert.Equal(await _store.Chunks.CountChunksAsync(_tenant), _bm25.Count(_tenant));
        Assert.Equal((await _store.Chunks.GetChunksAsync(_tenant, earlier)).Count, (int)await _vectors.CountAsync(_tenant));
    }
}
