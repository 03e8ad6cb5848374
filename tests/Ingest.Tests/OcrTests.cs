using System.Diagnostics;
using System.Text;

namespace Rag.Ingest.Tests;

/// <summary>Scanned PDFs and images, made at test time by Ghostscript from PostScript text, read by Tesseract.</summary>
public class OcrTests
{
    static bool OnPath(string tool) => Environment.GetEnvironmentVariable("PATH")?.Split(':').Any(d => File.Exists(Path.Combine(d, tool))) == true;

    static void SkipUnlessTools()
    {
        Skip.IfNot(OnPath("tesseract"), "tesseract is not installed (Debian tesseract-ocr)");
        Skip.IfNot(OnPath("pdftotext") && OnPath("pdftoppm"), "pdftotext/pdftoppm are not installed (Debian poppler-utils)");
        Skip.IfNot(OnPath("gs"), "Ghostscript (gs) is not installed: it makes the scanned fixtures");
    }

    /// <summary>Renders one page per entry, each a few lines of 36 pt Helvetica, through the Ghostscript device given (an image-only PDF, or a PNG).</summary>
    internal static async Task<byte[]> RenderAsync(string device, params string[][] pages)
    {
        var ps = new StringBuilder("%!PS\n/Helvetica findfont 36 scalefont setfont\n");
        foreach (var lines in pages)
        {
            for (var i = 0; i < lines.Length; i++) ps.Append($"72 {650 - 60 * i} moveto ({lines[i]}) show\n");
            ps.Append("showpage\n");
        }
        var dir = Directory.CreateTempSubdirectory("rag-ocr-test-").FullName;
        try
        {
            var input = Path.Combine(dir, "in.ps");
            var output = Path.Combine(dir, "out");
            await File.WriteAllTextAsync(input, ps.ToString());
            var start = new ProcessStartInfo("gs") { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in new[] { "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", $"-sDEVICE={device}", "-r150", $"-sOutputFile={output}", input }) start.ArgumentList.Add(a);
            using var gs = Process.Start(start)!;
            await gs.WaitForExitAsync();
            Assert.True(gs.ExitCode == 0, await gs.StandardError.ReadToEndAsync());
            return await File.ReadAllBytesAsync(output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    static PdfExtractor Pdf(OcrOptions? options = null) => new(ocr: new TesseractOcr(options));

    [SkippableFact]
    public async Task AScannedPdfIsReadPageByPageWithItsPageNumbers()
    {
        SkipUnlessTools();
        var scan = await RenderAsync("pdfimage8", ["The walrus sings at midnight"], ["Invoice 4711 is overdue"]);
        Assert.Throws<ExtractionException>(() => PdfExtractor.BuildPages(""));

        var result = await Pdf().ExtractAsync(scan);
        Assert.Equal([1, 2], result.Pages.Select(p => p.Page));
        Assert.Contains("walrus sings at midnight", result.Text[result.Pages[0].Start..result.Pages[0].End]);
        Assert.Contains("Invoice 4711", result.Text[result.Pages[1].Start..result.Pages[1].End]);
    }

    [SkippableFact]
    public async Task TextPagesKeepTheirTextLayerAndOnlyEmptyPagesAreRead()
    {
        SkipUnlessTools();
        // A text-layer PDF: with a tesseract that does not exist, OCR is never started for its pages.
        var result = await Pdf(new OcrOptions { TesseractPath = "/nonexistent/tesseract" }).ExtractAsync(SampleFiles.Pdf("A page with enough real text on it", "Another page with plenty of text"));
        Assert.Contains("enough real text", result.Text);

        // A page that needs OCR, with tesseract missing: failed, naming the package.
        var scan = await RenderAsync("pdfimage8", ["Scanned words"]);
        var e = await Assert.ThrowsAsync<ExtractionException>(() => Pdf(new OcrOptions { TesseractPath = "/nonexistent/tesseract" }).ExtractAsync(scan));
        Assert.Equal(TesseractOcr.MissingTesseract, e.Message);
        Assert.Contains("tesseract-ocr", e.Message);
    }

    [SkippableFact]
    public async Task FiveHundredBlankPagesFailAtThePageCapWithoutReadingAny()
    {
        Skip.IfNot(OnPath("pdftotext"), "pdftotext is not installed (Debian poppler-utils)");
        var blank = SampleFiles.Pdf(Enumerable.Repeat("", 500).ToArray());
        var watch = Stopwatch.StartNew();
        // tesseract need not exist: the cap is checked before any page is rendered.
        var e = await Assert.ThrowsAsync<ExtractionException>(() => Pdf(new OcrOptions { TesseractPath = "/nonexistent/tesseract" }).ExtractAsync(blank));
        Assert.Equal("500 of the PDF's 500 pages have no text layer; OCR reads at most 100 pages per document (Rag:Ocr:MaxPages).", e.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
    }

    [SkippableFact]
    public async Task ImagesAreReadAndAPageTimeLimitStopsTesseract()
    {
        SkipUnlessTools();
        var png = await RenderAsync("pnggray", ["Lighthouse keeper logbook"]);
        var registry = ExtractorRegistry.CreateDefault(new IngestOptions());
        var extractor = registry.Resolve("scan.png", "image/png", png);
        Assert.IsType<ImageExtractor>(extractor);
        Assert.Contains("Lighthouse keeper logbook", (await extractor!.ExtractAsync(png)).Text);
        Assert.IsType<ImageExtractor>(registry.Resolve(null, null, png)); // by magic number

        var slow = new ImageExtractor(new TesseractOcr(new OcrOptions { PageTimeout = TimeSpan.FromMilliseconds(1) }));
        var e = await Assert.ThrowsAsync<ExtractionException>(() => slow.ExtractAsync(png));
        Assert.Contains("did not finish within", e.Message);
        var off = await Assert.ThrowsAsync<ExtractionException>(() => new ImageExtractor(null).ExtractAsync(png));
        Assert.Contains("Rag:Ocr:Enabled", off.Message);
    }
}
