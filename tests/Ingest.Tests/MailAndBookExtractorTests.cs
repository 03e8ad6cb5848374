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
    public async Task AttachmentsOfSupportedTypesFollowUnderTheirFileNames()
    {
        var csv = Encoding.UTF8.GetBytes("Region,Revenue\nEMEA,4.1M\nAPAC,2.7M\n");
        var note = Encoding.UTF8.GetBytes("# Agenda\n\nBudget review first.");
        var eml = Eml("Harbour survey", "Figures attached.",
            html: null,
            new Attachment("figures.csv", "text/csv", csv),
            new Attachment("agenda.md", "application/octet-stream", note),
            new Attachment("archive.bin", "application/x-thing", [1, 2, 3, 0, 255]),
            new Attachment("broken.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", [80, 75, 3, 4, 9, 9]));
        var result = await Extractor().ExtractAsync(eml);

        Assert.StartsWith(Header + "\n\nFigures attached.\n\nAttachment: figures.csv\n\nRegion: EMEA; Revenue: 4.1M\n\nRegion: APAC; Revenue: 2.7M\n\n" +
            "Attachment: agenda.md\n\nAgenda\n\nBudget review first.\n\nAttachment: archive.bin\n\n(not read: unsupported type application/x-thing)\n\n" +
            "Attachment: broken.pptx\n\n(not read: The .pptx file is corrupt or not a PowerPoint deck", result.Text);
        Assert.Equal(["Attachment: figures.csv", "Attachment: agenda.md", "Attachment: agenda.md > Agenda", "Attachment: archive.bin", "Attachment: broken.pptx"],
            result.Sections.Select(s => s.HeadingPath));
        // The spreadsheet's rows stay records: a chunk never splits one.
        var rows = result.Records.Select(r => result.Text[r.Start..r.End]).ToList();
        Assert.Equal(["Region: EMEA; Revenue: 4.1M\n\nRegion: APAC; Revenue: 2.7M"], rows.Select(r => r.TrimEnd()));
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
