namespace Rag.Ingest;

/// <summary>
/// .pdf: poppler's pdftotext run as a child process (plain reading order, not -layout, which pads
/// columns with spaces and breaks prose). pdftotext ends every page with a form feed, so splitting on
/// '\f' keeps page numbers. A page whose text layer has fewer than <see cref="OcrOptions.MinPageChars"/>
/// visible characters (a scan) is rendered by pdftoppm and read by Tesseract, when OCR is configured.
/// Every process is killed on cancellation or after its time limit.
/// </summary>
public sealed class PdfExtractor(string toolPath = "pdftotext", TimeSpan? timeout = null, TesseractOcr? ocr = null) : ITextExtractor
{
    public const string MissingToolMessage = "PDF extraction needs poppler's pdftotext (apt-get install poppler-utils).";

    readonly TimeSpan _timeout = timeout ?? TimeSpan.FromMinutes(2);

    public string Format => "pdf";
    public bool IsText => false;
    public IReadOnlyList<string> Extensions { get; } = [".pdf"];
    public IReadOnlyList<string> ContentTypes { get; } = ["application/pdf"];

    public bool Sniff(ReadOnlySpan<byte> head) => head.StartsWith("%PDF-"u8);

    public async Task<ExtractedText> ExtractAsync(byte[] content, CancellationToken ct = default)
    {
        // pdftotext seeks, so it reads a file rather than stdin.
        using var file = await ExternalTool.WriteTempAsync(content, ".pdf", ct);
        var output = await ExternalTool.RunAsync(toolPath, ["-enc", "UTF-8", "-eol", "unix", file.Path, "-"], _timeout, "The PDF", MissingToolMessage, ct);
        var pages = SplitPages(output);
        if (ocr is not null) await OcrScannedPagesAsync(pages, file.Path, ct);
        return BuildPages(pages, ocrTried: ocr is not null) with { Title = await TitleAsync(file.Path, ct) };
    }

    /// <summary>The Title of the document information dictionary, by poppler's pdfinfo (beside pdftotext); null when absent or unreadable.</summary>
    async Task<string?> TitleAsync(string pdfPath, CancellationToken ct)
    {
        var pdfinfo = Path.IsPathRooted(toolPath) ? Path.Combine(Path.GetDirectoryName(toolPath)!, "pdfinfo") : "pdfinfo";
        try
        {
            var info = await ExternalTool.RunAsync(pdfinfo, ["-enc", "UTF-8", pdfPath], TimeSpan.FromSeconds(15), "The PDF", MissingToolMessage, ct);
            var line = info.Split('\n').FirstOrDefault(l => l.StartsWith("Title:", StringComparison.Ordinal));
            return line?["Title:".Length..].Trim() is { Length: > 0 } title ? title : null;
        }
        catch (ExtractionException)
        {
            return null; // the title is a nicety; the text is already read
        }
    }

    /// <summary>Replaces each page whose text layer is (nearly) empty with what OCR reads on it; the page cap is checked first.</summary>
    async Task OcrScannedPagesAsync(string[] pages, string pdfPath, CancellationToken ct)
    {
        var options = ocr!.Options;
        var scanned = Enumerable.Range(0, pages.Length).Where(i => VisibleChars(pages[i]) < options.MinPageChars).ToList();
        if (scanned.Count == 0) return;
        if (scanned.Count > options.MaxPages)
            throw new ExtractionException(
                $"{scanned.Count} of the PDF's {pages.Length} pages have no text layer; OCR reads at most {options.MaxPages} pages per document (Rag:Ocr:MaxPages).");
        foreach (var i in scanned)
        {
            var text = await ocr.ReadPdfPageAsync(pdfPath, i + 1, ct);
            if (VisibleChars(text) > VisibleChars(pages[i])) pages[i] = text;
        }
    }

    static int VisibleChars(string s)
    {
        var n = 0;
        foreach (var c in s)
            if (!char.IsWhiteSpace(c) && c != '\f') n++;
        return n;
    }

    static string[] SplitPages(string output)
    {
        var pages = output.Split('\f');
        // The last form feed ends the last page; what follows it is not a page.
        return pages.Length > 1 && string.IsNullOrWhiteSpace(pages[^1]) ? pages[..^1] : pages;
    }

    internal static ExtractedText BuildPages(string output) => BuildPages(SplitPages(output), ocrTried: false);

    static ExtractedText BuildPages(string[] pages, bool ocrTried)
    {
        var builder = new TextBuilder();
        for (var i = 0; i < pages.Length; i++)
        {
            builder.Page(i + 1);
            builder.Write(pages[i].Trim(), preserve: true);
        }
        var result = builder.Build();
        if (TextDecoding.IsBlank(result.Text))
            throw new ExtractionException(ocrTried
                ? "The PDF has no text: neither a text layer nor any text OCR could read."
                : "The PDF has no extractable text (a scanned PDF needs OCR, which is switched off: Rag:Ocr:Enabled).");
        return result;
    }
}
