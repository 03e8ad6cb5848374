using System.Text;
using static Rag.Ingest.Tests.MailAndBookSamples;

namespace Rag.Ingest.Tests;

public class MailAndBookRegistryTests
{
    [Fact]
    public void MessagesAndBooksAreResolvedByNameOrTypeAndListedAsSupported()
    {
        var registry = ExtractorRegistry.CreateDefault(new IngestOptions());
        Assert.Equal("eml", registry.Resolve("note.EML", "application/octet-stream", "From: a"u8)?.Format);
        Assert.Equal("eml", registry.Resolve(null, "message/rfc822", "From: a"u8)?.Format);
        Assert.Equal("epub", registry.Resolve("book.epub", null, "PK\x03\x04"u8)?.Format);
        Assert.Equal("epub", registry.Resolve(null, "application/epub+zip", "PK\x03\x04"u8)?.Format);
        Assert.Contains(".eml", registry.SupportedList.Split(", "));
        Assert.Contains(".epub", registry.SupportedList.Split(", "));
    }
}

public class EmlExtractorTests
{
    static EmlExtractor Extractor() => (EmlExtractor)ExtractorRegistry.CreateDefault(new IngestOptions()).Extractors.Single(e => e.Format == "eml");

    const string Header =
        "Subject: Harbour survey\nFrom: Ada Lovelace <ada@example.com>\nTo: Bob Babbage <bob@example.com>, carol@example.com\nDate: 2026-03-14 09:30 +01:00";

    [Fact]
    public async Task TheHeaderBlockOpensThePlainBodyAndTheSubjectIsTheTitle()
    {
        var eml = Eml("Harbour survey", "Hello Bob,\r\n\r\nthe survey found\r\nthree wrecks.\r\n\r\n\r\nAda", "<p>HTML copy that must not be read</p>");
        var result = await Extractor().ExtractAsync(eml);

        Assert.Equal(Header + "\n\nHello Bob,\n\nthe survey found\nthree wrecks.\n\nAda", result.Text);
        Assert.Equal("Harbour survey", result.Title);
        Assert.Empty(result.Sections);
    }

    [Fact]
    public async Task AnHtmlOnlyBodyIsReadAsAnHtmlPageIs()
    {
        var eml = Eml("Harbour survey", plain: null, "<html><head><style>p{}</style></head><body><h2>Findings</h2><p>Three <b>wrecks</b> near the pier.</p><script>x()</script></body></html>");
        var result = await Extractor().ExtractAsync(eml);

        Assert.Equal(Header + "\n\nFindings\n\nThree wrecks near the pier.", result.Text);
        Assert.Equal(["Findings"], result.Sections.Select(s => s.HeadingPath));
    }

    [Fact]
    public async Task AttachmentsAreListedByNameAndThoseOfReadableTypesComeBackAsDocumentsOfTheirOwn()
    {
        var csv = Encoding.UTF8.GetBytes("Region,Revenue\nEMEA,4.1M\nAPAC,2.7M\n");
        var note = Encoding.UTF8.GetBytes("# Agenda\n\nBudget review first.");
        byte[] brokenDeck = [80, 75, 3, 4, 9, 9];
        var eml = Eml("Harbour survey", "Figures attached.",
            html: null,
            new Attachment("figures.csv", "text/csv", csv),
            new Attachment("agenda.md", "application/octet-stream", note),
            new Attachment("archive.bin", "application/x-thing", [1, 2, 3, 0, 255]),
            new Attachment("broken.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", brokenDeck));
        var result = await Extractor().ExtractAsync(eml);

        // Named, not inlined: the text of a readable attachment is its own document's.
        Assert.Equal(Header + "\n\nFigures attached.\n\nAttachments\n\nfigures.csv\nagenda.md\narchive.bin (not read: unsupported type application/x-thing)\nbroken.pptx",
            result.Text);
        Assert.Equal(["Attachments"], result.Sections.Select(s => s.HeadingPath));
        Assert.Empty(result.Records);
        // A broken file of a readable type is still a document: it fails there with its own error.
        Assert.Equal([(1, "figures.csv", "text/csv"), (2, "agenda.md", "text/markdown"), (4, "broken.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation")],
            result.Attachments.Select(x => (x.Index, x.FileName!, x.ContentType)));
        Assert.Equal([csv, note, brokenDeck], result.Attachments.Select(x => x.Content));
    }

    [Fact]
    public async Task AMessageWithOnlyAnAttachmentIsIndexedAndPastTheCapAttachmentsAreOnlyNamed()
    {
        var registry = ExtractorRegistry.CreateDefault(new IngestOptions { Extraction = new ExtractionLimits { MaxAttachments = 2 } });
        var eml = Eml("Harbour survey", plain: "", html: null,
            new Attachment("one.txt", "text/plain", Encoding.UTF8.GetBytes("first")),
            new Attachment("two.txt", "text/plain", Encoding.UTF8.GetBytes("second")),
            new Attachment("three.txt", "text/plain", Encoding.UTF8.GetBytes("third")));
        var result = await registry.Extractors.Single(e => e.Format == "eml").ExtractAsync(eml);

        Assert.Equal(Header + "\n\nAttachments\n\none.txt\ntwo.txt\nthree.txt (not read: over the limit of 2 attachments per message, Rag:Limits:MaxAttachments)", result.Text);
        Assert.Equal(["one.txt", "two.txt"], result.Attachments.Select(x => x.FileName));

        // Only unreadable attachments and no body: nothing to index, as before.
        var unreadable = Eml("Harbour survey", plain: "", html: null, new Attachment("archive.bin", "application/x-thing", [1, 2, 3]));
        var e = await Assert.ThrowsAsync<ExtractionException>(() => Extractor().ExtractAsync(unreadable));
        Assert.StartsWith("The e-mail has no text", e.Message);
    }

    [Fact]
    public async Task TheAttachmentsOfAForwardedMessageAreDocumentsOfTheOuterMessage()
    {
        var inner = Eml("Original report", "The pier needs repair.", null, new Attachment("pier.txt", "text/plain", Encoding.UTF8.GetBytes("Pier photos.")));
        var eml = Eml("Fwd: Original report", "See below.", null,
            new Attachment("outer.txt", "text/plain", Encoding.UTF8.GetBytes("Cover note.")),
            new Attachment("older.eml", "message/rfc822", inner));
        var result = await Extractor().ExtractAsync(eml);

        Assert.Contains("See below.\n\nAttachments\n\nouter.txt\n\nAttachment: older.eml\n\nSubject: Original report\n", result.Text);
        Assert.EndsWith("The pier needs repair.\n\nAttachments\n\npier.txt", result.Text);
        Assert.Equal(["Attachments", "Attachment: older.eml", "Attachment: older.eml > Attachments"], result.Sections.Select(s => s.HeadingPath));
        Assert.Equal([(1, "outer.txt"), (2, "pier.txt")], result.Attachments.Select(x => (x.Index, x.FileName!)));
    }

    [Fact]
    public async Task AForwardedMessageIsReadUnderItsOwnHeadingWhetherInlineOrEncoded()
    {
        var eml = Eml("Fwd: Original report", "See below.", html: null,
            new Attachment("report.raw.eml", "message/rfc822", Eml("Original report", "The pier needs repair.")),
            new Attachment("older.eml", "message/rfc822", Eml("Older report", "The buoy drifted.")));
        var result = await Extractor().ExtractAsync(eml);

        Assert.Contains("See below.\n\nAttachment: report.raw.eml\n\nSubject: Original report\nFrom: Ada Lovelace <ada@example.com>", result.Text);
        Assert.Contains("The pier needs repair.\n\nAttachment: older.eml\n\nSubject: Older report\n", result.Text);
        Assert.EndsWith("The buoy drifted.", result.Text);
        Assert.Equal(["Attachment: report.raw.eml", "Attachment: older.eml"], result.Sections.Select(s => s.HeadingPath));
        Assert.Equal("Fwd: Original report", result.Title);
    }

    [Fact]
    public async Task ABrokenMimeStructureFailsWithAClearMessage()
    {
        // The boundary the header declares never occurs in the body.
        var lost = Encoding.UTF8.GetBytes("From: a@example.com\r\nSubject: Lost\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"never\"\r\n\r\n--other\r\nContent-Type: text/plain\r\n\r\nhidden\r\n--other--\r\n");
        var e = await Assert.ThrowsAsync<ExtractionException>(() => Extractor().ExtractAsync(lost));
        Assert.Equal("The e-mail's MIME structure is broken: its multipart/mixed part has no parts (its boundary \"never\" never occurs).", e.Message);

        var headersOnly = Encoding.UTF8.GetBytes("From: a@example.com\r\nSubject: Nothing\r\n");
        var empty = await Assert.ThrowsAsync<ExtractionException>(() => Extractor().ExtractAsync(headersOnly));
        Assert.StartsWith("The e-mail has no", empty.Message);

        var binary = new byte[4096];
        new Random(7).NextBytes(binary);
        var garbage = await Assert.ThrowsAsync<ExtractionException>(() => Extractor().ExtractAsync(binary));
        Assert.StartsWith("The .eml file is not an e-mail message (its MIME headers cannot be read): ", garbage.Message);
    }
}

public class EpubExtractorTests
{
    static readonly Chapter[] Chapters =
    [
        new("text/ch1.xhtml", "The Harbour", "<h1>The Harbour</h1><p>Boats come in at dawn.</p><h2>Tides</h2><p>High tide is at noon.</p>"),
        new("text/ch2.xhtml", "The Lighthouse", "<h1>Chapter Two</h1><p>The keeper lights the lamp.</p>"),
        new("cover.xhtml", null, "<div><img src=\"cover.jpg\"/></div>"),
        new("text/ch 3.xhtml", null, "<p>An epilogue without a heading.</p>", HtmlTitle: "Epilogue"),
    ];

    [Fact]
    public async Task ChaptersFollowTheSpineWithTheirTableOfContentsTitlesAsHeadings()
    {
        var result = await new EpubExtractor().ExtractAsync(Epub("Tales of the Coast", Chapters));

        Assert.Equal(
            "The Harbour\n\nBoats come in at dawn.\n\nTides\n\nHigh tide is at noon.\n\n" +
            "The Lighthouse\n\nChapter Two\n\nThe keeper lights the lamp.\n\n" +
            "Epilogue\n\nAn epilogue without a heading.",
            result.Text);
        Assert.Equal(["The Harbour", "The Harbour > Tides", "The Lighthouse", "The Lighthouse > Chapter Two", "Epilogue"], result.Sections.Select(s => s.HeadingPath));
        Assert.Equal("Tales of the Coast", result.Title);
    }

    [Fact]
    public async Task AnEpub2BookTakesItsChapterTitlesFromTheNcx()
    {
        Chapter[] chapters =
        [
            new("one.xhtml", "Arrival", "<p>The ship docks.</p>"),
            new("two.xhtml", null, "<h1>Departure</h1><p>The ship sails.</p>"),
        ];
        var result = await new EpubExtractor().ExtractAsync(Epub("Voyage", chapters, ncx: true));

        Assert.Equal("Arrival\n\nThe ship docks.\n\nDeparture\n\nThe ship sails.", result.Text);
        Assert.Equal(["Arrival", "Departure"], result.Sections.Select(s => s.HeadingPath));
        Assert.Equal("Voyage", result.Title);
    }

    [Fact]
    public async Task TruncatedForeignAndHollowBooksFailWithAClearMessage()
    {
        var book = Epub("Tales of the Coast", Chapters);
        var truncated = await Assert.ThrowsAsync<ExtractionException>(() => new EpubExtractor().ExtractAsync(OfficeSamples.Truncated(book)));
        Assert.Contains(".epub file is corrupt or not an EPUB book (a truncated", truncated.Message);
        var word = await Assert.ThrowsAsync<ExtractionException>(() => new EpubExtractor().ExtractAsync(SampleFiles.Docx([(null, "hello")])));
        Assert.Equal("The .epub file has no META-INF/container.xml: it is not an EPUB book.", word.Message);
        var hollow = await Assert.ThrowsAsync<ExtractionException>(() => new EpubExtractor().ExtractAsync(Epub("Empty", [new("a.xhtml", "A", "<p> </p>")])));
        Assert.Equal("The EPUB book has no chapters with text.", hollow.Message);
        var badXml = OfficeSamples.Zip(("META-INF/container.xml", "<container><rootfiles"));
        Assert.Contains("corrupt or not an EPUB book", (await Assert.ThrowsAsync<ExtractionException>(() => new EpubExtractor().ExtractAsync(badXml))).Message);
    }

    [Fact]
    public async Task ABookThatExpandsHundredsOfTimesIsRefusedBeforeItIsRead()
    {
        var bomb = OfficeSamples.Zip(("mimetype", "application/epub+zip"), ("OEBPS/filler.xhtml", new string('a', 20_000_000)));
        var e = await Assert.ThrowsAsync<ExtractionException>(() => new EpubExtractor().ExtractAsync(bomb));
        Assert.Contains("likely zip bomb", e.Message);
    }
}
