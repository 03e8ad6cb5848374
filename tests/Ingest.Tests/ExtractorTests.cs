using System.Text;

namespace Rag.Ingest.Tests;

public class PlainTextExtractorTests
{
    static async Task<string> Extract(byte[] bytes) => (await new PlainTextExtractor().ExtractAsync(bytes)).Text;

    [Fact]
    public async Task Utf8WithAndWithoutBom()
    {
        var text = "Ça marche: naïve café — ok\n";
        Assert.Equal(text, await Extract(Encoding.UTF8.GetBytes(text)));
        Assert.Equal(text, await Extract([0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(text)]));
    }

    [Fact]
    public async Task Utf16LittleAndBigEndianWithBom()
    {
        var text = "Grüße aus Köln, 東京\n";
        Assert.Equal(text, await Extract([0xFF, 0xFE, .. Encoding.Unicode.GetBytes(text)]));
        Assert.Equal(text, await Extract([0xFE, 0xFF, .. Encoding.BigEndianUnicode.GetBytes(text)]));
    }

    [Fact]
    public async Task InvalidUtf8FallsBackToLatin1AsWindows1252()
    {
        // "café “quoted” £5" in windows-1252: é=E9, “=93, ”=94, £=A3; not valid UTF-8.
        byte[] bytes = [(byte)'c', (byte)'a', (byte)'f', 0xE9, (byte)' ', 0x93, (byte)'q', 0x94, (byte)' ', 0xA3, (byte)'5'];
        Assert.Equal("café “q” £5", await Extract(bytes));
    }

    [Fact]
    public async Task CrLfBecomesLf()
    {
        Assert.Equal("a\nb\nc", await Extract(Encoding.UTF8.GetBytes("a\r\nb\rc")));
    }

    [Fact]
    public async Task BinaryGarbageIsRefused()
    {
        var random = new Random(42);
        var bytes = new byte[4096];
        random.NextBytes(bytes);
        var e = await Assert.ThrowsAsync<ExtractionException>(() => Extract(bytes));
        Assert.Contains("not text", e.Message.Replace("NUL bytes: it is binary data, not text", "not text"));

        // Control characters without NULs are refused too.
        var controls = Enumerable.Range(0, 400).Select(i => (byte)(i % 3 == 0 ? 0x01 : 'a')).ToArray();
        await Assert.ThrowsAsync<ExtractionException>(() => Extract(controls));
    }

    [Fact]
    public async Task WhitespaceOnlyIsRefused()
    {
        await Assert.ThrowsAsync<ExtractionException>(() => Extract(Encoding.UTF8.GetBytes(" \n\t \n")));
    }
}

public class MarkdownExtractorTests
{
    [Fact]
    public async Task HeadingsBecomeHeadingPathsAndMarkupIsGone()
    {
        var md = """
            # Guide

            Welcome to the **guide**.

            ## Install

            Run `make install` and see [the docs](http://example.com).

            - first item
            - second item

            ## Use

            | Name | Value |
            | ---- | ----- |
            | a    | 1     |

            # Appendix

            <div>raw html block</div>

            Last words.
            """;
        var result = await new MarkdownExtractor().ExtractAsync(Encoding.UTF8.GetBytes(md));
        var text = result.Text;
        Assert.DoesNotContain("**", text);
        Assert.DoesNotContain("](", text);
        Assert.DoesNotContain("raw html block", text);
        Assert.Contains("Welcome to the guide.", text);
        Assert.Contains("Run make install and see the docs.", text);
        Assert.Contains("a\t1", text);
        Assert.Equal(["Guide", "Guide > Install", "Guide > Use", "Appendix"], result.Sections.Select(s => s.HeadingPath));
        var install = result.Sections[1];
        Assert.StartsWith("Install", text[install.Start..install.End]);
        Assert.Contains("second item", text[install.Start..install.End]);
        Assert.DoesNotContain("Name", text[install.Start..install.End]);
        Assert.Contains("Last words.", text[result.Sections[3].Start..result.Sections[3].End]);
    }
}

public class HtmlExtractorTests
{
    [Fact]
    public async Task DropsScriptStyleNavAndPageChromeKeepsHeadings()
    {
        var html = """
            <!doctype html><html><head><title>T</title><style>body { color: red }</style></head>
            <body>
              <header><a href="/">Site logo</a> Menu</header>
              <nav><ul><li>Home</li><li>About</li></ul></nav>
              <script>var secret = "script text";</script>
              <noscript>Enable JavaScript</noscript>
              <article>
                <header><h1>Main Title</h1></header>
                <p>First   paragraph
                   with   spaces.</p>
                <h2>Details</h2>
                <p>Second<br>line</p>
                <table><tr><th>k</th><th>v</th></tr><tr><td>x</td><td>1</td></tr></table>
                <div hidden>hidden text</div>
              </article>
              <footer>Copyright notice</footer>
            </body></html>
            """;
        var result = await new HtmlExtractor().ExtractAsync(Encoding.UTF8.GetBytes(html));
        var text = result.Text;
        foreach (var noise in new[] { "color: red", "script text", "Enable JavaScript", "Home", "Site logo", "Copyright", "hidden text" })
            Assert.DoesNotContain(noise, text);
        Assert.Contains("First paragraph with spaces.", text);
        Assert.Contains("Second\nline", text);
        Assert.Contains("k\tv\nx\t1", text);
        Assert.Equal(["Main Title", "Main Title > Details"], result.Sections.Select(s => s.HeadingPath));
        Assert.StartsWith("Details", text[result.Sections[1].Start..]);
    }
}

public class PdfExtractorTests
{
    static bool HasPdfToText => Environment.GetEnvironmentVariable("PATH")?.Split(':').Any(d => File.Exists(Path.Combine(d, "pdftotext"))) == true;

    [SkippableFact]
    public async Task PagesAreKeptWithTheirNumbers()
    {
        Skip.IfNot(HasPdfToText, "pdftotext (poppler-utils) is not installed");
        var result = await new PdfExtractor().ExtractAsync(SampleFiles.Pdf("Alpha page one text", "Beta page two text", "Gamma page three"));
        Assert.Equal([1, 2, 3], result.Pages.Select(p => p.Page));
        Assert.Equal("Alpha page one text", result.Text[result.Pages[0].Start..result.Pages[0].End].Trim());
        Assert.Equal("Beta page two text", result.Text[result.Pages[1].Start..result.Pages[1].End].Trim());
        Assert.Contains("Gamma page three", result.Text[result.Pages[2].Start..result.Pages[2].End]);
    }

    [SkippableFact]
    public async Task CorruptPdfGivesAClearErrorWithPdfToTextsMessage()
    {
        Skip.IfNot(HasPdfToText, "pdftotext (poppler-utils) is not installed");
        var bytes = SampleFiles.Pdf("Some text")[..40];
        var e = await Assert.ThrowsAsync<ExtractionException>(() => new PdfExtractor().ExtractAsync(bytes));
        Assert.Contains("The PDF could not be read", e.Message);
        Assert.Contains("pdftotext exit code", e.Message);
    }

    [Fact]
    public async Task MissingToolGivesTheInstallHint()
    {
        var e = await Assert.ThrowsAsync<ExtractionException>(() => new PdfExtractor("/nonexistent/pdftotext").ExtractAsync(SampleFiles.Pdf("x")));
        Assert.Equal(PdfExtractor.MissingToolMessage, e.Message);
    }

    [Fact]
    public void FormFeedsSplitPages()
    {
        var result = PdfExtractor.BuildPages("one\n\fTwo two\n\f\fFour\n\f");
        Assert.Equal([1, 2, 3, 4], result.Pages.Select(p => p.Page));
        Assert.Equal("Two two", result.Text[result.Pages[1].Start..result.Pages[1].End]);
        Assert.Equal("Four", result.Text[result.Pages[3].Start..result.Pages[3].End]);
    }
}

public class DocxExtractorTests
{
    [Fact]
    public async Task HeadingsAndTables()
    {
        var bytes = SampleFiles.Docx(
            [("Heading1", "Manual"), (null, "Intro text."), ("Heading2", "Setup"), (null, "Plug it in."), ("Heading1", "Specs")],
            table: [["Size", "10 cm"], ["Weight", "2 kg"]]);
        var result = await new DocxExtractor().ExtractAsync(bytes);
        Assert.Equal(["Manual", "Manual > Setup", "Specs"], result.Sections.Select(s => s.HeadingPath));
        Assert.Contains("Plug it in.", result.Text[result.Sections[1].Start..result.Sections[1].End]);
        Assert.Contains("Size\t10 cm\nWeight\t2 kg", result.Text[result.Sections[2].Start..result.Sections[2].End]);
    }

    [Fact]
    public async Task HeadingStyleFoundByNameWhenTheIdIsLocalised()
    {
        var bytes = SampleFiles.Docx([("Titre1", "Chapitre"), (null, "Texte.")], customize: main =>
        {
            var styles = main.AddNewPart<DocumentFormat.OpenXml.Packaging.StyleDefinitionsPart>();
            styles.Styles = new DocumentFormat.OpenXml.Wordprocessing.Styles(
                new DocumentFormat.OpenXml.Wordprocessing.Style(new DocumentFormat.OpenXml.Wordprocessing.StyleName { Val = "heading 1" })
                { StyleId = "Titre1", Type = DocumentFormat.OpenXml.Wordprocessing.StyleValues.Paragraph });
        });
        var result = await new DocxExtractor().ExtractAsync(bytes);
        Assert.Equal(["Chapitre"], result.Sections.Select(s => s.HeadingPath));
    }

    [Fact]
    public async Task CorruptDocxGivesAClearError()
    {
        var good = SampleFiles.Docx([(null, "hello")]);
        foreach (var bad in new[] { good[..(good.Length / 2)], "PK\x03\x04 not really a zip"u8.ToArray(), Encoding.UTF8.GetBytes("plain text") })
        {
            var e = await Assert.ThrowsAsync<ExtractionException>(() => new DocxExtractor().ExtractAsync(bad));
            Assert.StartsWith("The .docx file is corrupt or not a Word document", e.Message);
        }
    }
}

public class ExtractorRegistryTests
{
    readonly ExtractorRegistry _registry = new([new PlainTextExtractor(), new MarkdownExtractor(), new HtmlExtractor(), new PdfExtractor(), new DocxExtractor()]);

    [Theory]
    [InlineData("a.TXT", null, "txt")]
    [InlineData("a.md", "application/octet-stream", "md")]
    [InlineData("a.htm", "text/plain", "html")]
    [InlineData(null, "text/html; charset=utf-8", "html")]
    [InlineData("upload", "application/pdf", "pdf")]
    [InlineData("notes.docx", null, "docx")]
    public void ChoosesByExtensionThenContentType(string? name, string? type, string expected)
    {
        Assert.Equal(expected, _registry.Resolve(name, type, [])!.Format);
    }

    [Fact]
    public void SniffsMagicNumbersWhenNameAndTypeSayNothing()
    {
        Assert.Equal("pdf", _registry.Resolve("blob", "application/octet-stream", "%PDF-1.7"u8)!.Format);
        Assert.Equal("docx", _registry.Resolve(null, null, "PK\x03\x04"u8)!.Format);
    }

    [Fact]
    public void RefusesUnknownAndMediaTypes()
    {
        Assert.Null(_registry.Resolve("photo.png", "image/png", []));
        Assert.Null(_registry.Resolve("a.txt", "image/png", "hello"u8));
        Assert.Null(_registry.Resolve("a.exe", "application/x-msdownload", "MZ"u8));
        Assert.Null(_registry.Resolve(null, null, "hello"u8));
    }
}
