using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using Rag.Storage;

namespace Rag.Ingest.Tests;

public class TitleTests
{
    static Task<ExtractedText> Html(string html) => new HtmlExtractor().ExtractAsync(Encoding.UTF8.GetBytes(html));

    [Fact]
    public async Task EachFormatDeclaresItsTitle()
    {
        Assert.Equal("Runtime configuration", (await Html("<html><head><title> Runtime\n configuration </title></head><body><h1>Other</h1><p>x</p></body></html>")).Title);
        Assert.Equal("Only a heading", (await Html("<body><nav>menu</nav><h1>Only a heading</h1><p>text</p></body>")).Title);
        Assert.Null((await Html("<p>no title at all</p>")).Title);
        Assert.Equal("Guide", (await new MarkdownExtractor().ExtractAsync(Encoding.UTF8.GetBytes("Intro text\n\n# Guide\n\n## Install\n\ntext"))).Title);
        var docx = SampleFiles.Docx([(null, "Body text")]);
        Assert.Null((await new DocxExtractor().ExtractAsync(docx)).Title);
        Assert.Equal("Annual report", (await new DocxExtractor().ExtractAsync(WithTitle(docx, "Annual report"))).Title);
    }

    [SkippableFact]
    public async Task APdfTitleComesFromItsDocumentInformation()
    {
        Skip.IfNot(Environment.GetEnvironmentVariable("PATH")!.Split(':').Any(d => File.Exists(Path.Combine(d, "pdfinfo"))), "pdfinfo (poppler-utils) is not installed");
        Assert.Equal("Safety manual", (await new PdfExtractor().ExtractAsync(SampleFiles.Pdf("Safety manual", ["Wear a helmet on site."]))).Title);
        Assert.Null((await new PdfExtractor().ExtractAsync(SampleFiles.Pdf("Wear a helmet on site."))).Title);
    }

    [Fact]
    public async Task TheDeclaredTitleReplacesTheFileNameButNotATitleGivenAtUpload()
    {
        var h = new Harness();
        var page = Encoding.UTF8.GetBytes("<title>Runtime configuration</title><p>" + Harness.Prose(3) + "</p>");
        var named = (await h.Ingestion.SubmitAsync(Harness.Tenant, DocumentUpload.FromBytes("runtime-config-resource.html", null, page))).Document;
        Assert.Equal("runtime-config-resource", named.Title);
        var given = (await h.Ingestion.SubmitAsync(Harness.Tenant, DocumentUpload.FromBytes("copy.html", null, [.. page, (byte)' '], title: "My own title"))).Document;
        var plain = (await h.SubmitTextAsync("notes.txt", Harness.Prose(3, "beta"))).Document;
        while (await h.Worker().RunOnceAsync()) { }

        Assert.Equal("Runtime configuration", (await h.Store.Documents.GetAsync(Harness.Tenant, named.Id))!.Title);
        Assert.Equal("My own title", (await h.Store.Documents.GetAsync(Harness.Tenant, given.Id))!.Title);
        Assert.Equal("notes", (await h.Store.Documents.GetAsync(Harness.Tenant, plain.Id))!.Title);
        await h.AssertIndexedOnceAsync(named.Id);
    }

    internal static byte[] WithTitle(byte[] office, string title)
    {
        using var ms = new MemoryStream();
        ms.Write(office);
        using (var doc = DocumentFormat.OpenXml.Packaging.WordprocessingDocument.Open(ms, isEditable: true)) doc.PackageProperties.Title = title;
        return ms.ToArray();
    }
}

public class ExtractionLimitTests
{
    /// <summary>
    /// A small .docx whose document.xml inflates to about 45 MB of repeated paragraphs (the shape of the
    /// 161 KB upload that became 45 MB of XML and 22,174 chunks).
    /// </summary>
    static byte[] ExpandingDocx(int paragraphs = 450_000)
    {
        var word = SampleFiles.Docx([(null, "seed")]);
        using var ms = new MemoryStream();
        ms.Write(word);
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Update, leaveOpen: true))
        {
            zip.GetEntry("word/document.xml")!.Delete();
            using var writer = new StreamWriter(zip.CreateEntry("word/document.xml", CompressionLevel.SmallestSize).Open(), new UTF8Encoding(false));
            writer.Write("<?xml version=\"1.0\" encoding=\"utf-8\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>");
            for (var i = 0; i < paragraphs; i++) writer.Write("<w:p><w:r><w:t>All work and no play makes a dull boy, again.</w:t></w:r></w:p>");
            writer.Write("</w:body></w:document>");
        }
        return ms.ToArray();
    }

    [Fact]
    public async Task ADocxThatExpandsHundredsOfTimesIsRefusedBeforeItIsParsed()
    {
        var bomb = ExpandingDocx();
        Assert.True(bomb.Length < 400_000, $"{bomb.Length} bytes");
        var watch = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<ExtractionException>(() => new DocxExtractor().ExtractAsync(bomb));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
        Assert.Contains("zip bomb", e.Message);
        Assert.Contains("-fold", e.Message);
    }

    [Fact]
    public async Task TextOverTheCapFailsTheDocumentAndSaysWhichSetting()
    {
        var h = new Harness(o => o.Extraction = new ExtractionLimits { MaxChars = 20_000 });
        var earlier = (await h.SubmitTextAsync("earlier.txt", Harness.Prose(10, "kestrel"))).Document;
        var md = (await h.SubmitTextAsync("long.md", "# Long\n\n" + Harness.Prose(600))).Document;
        var txt = (await h.SubmitTextAsync("long.txt", Harness.Prose(600, "beta"))).Document;
        var bomb = (await h.Ingestion.SubmitAsync(Harness.Tenant, DocumentUpload.FromBytes("bomb.docx", null, ExpandingDocx()))).Document;
        while (await h.Worker().RunOnceAsync()) { }

        foreach (var id in new[] { md.Id, txt.Id, bomb.Id })
        {
            var doc = (await h.Store.Documents.GetAsync(Harness.Tenant, id))!;
            Assert.Equal(DocumentStatus.Failed, doc.Status);
            Assert.Contains(id == bomb.Id ? "zip bomb" : "Rag:Limits:MaxExtractedChars", doc.Error);
            Assert.Empty(await h.Store.Chunks.GetChunksAsync(Harness.Tenant, id));
        }
        await h.AssertIndexedOnceAsync(earlier.Id);
    }
}
