namespace Rag.Ingest;

/// <summary>How scanned pages and images are read (Rag:Ocr).</summary>
public sealed record OcrOptions
{
    /// <summary>Off: a PDF page without a text layer stays empty, and images are refused at extraction.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>The tesseract executable (Debian tesseract-ocr).</summary>
    public string TesseractPath { get; init; } = "tesseract";

    /// <summary>poppler's pdftoppm, which renders a PDF page to an image (Debian poppler-utils).</summary>
    public string PdfToPpmPath { get; init; } = "pdftoppm";

    /// <summary>Tesseract languages, "+"-joined (eng, deu+eng); each needs its tesseract-ocr-LANG package.</summary>
    public string Languages { get; init; } = "eng";

    /// <summary>Rendering resolution; Tesseract reads best at about 300 dpi.</summary>
    public int Dpi { get; init; } = 300;

    /// <summary>A PDF page with fewer visible characters than this in its text layer is read by OCR instead.</summary>
    public int MinPageChars { get; init; } = 20;

    /// <summary>Most pages one document may send to OCR; a document that needs more fails, saying so, before any is read.</summary>
    public int MaxPages { get; init; } = 100;

    /// <summary>Time for rendering and reading one PDF page or one image file.</summary>
    public TimeSpan PageTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public void Validate()
    {
        if (Dpi is < 50 or > 1200) throw new ArgumentOutOfRangeException(nameof(Dpi), "Ocr Dpi must be between 50 and 1200.");
        if (MinPageChars < 0) throw new ArgumentOutOfRangeException(nameof(MinPageChars), "Ocr MinPageChars must not be negative.");
        if (MaxPages < 1) throw new ArgumentOutOfRangeException(nameof(MaxPages), "Ocr MaxPages must be at least 1.");
        if (PageTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(PageTimeout), "Ocr PageTimeout must be positive.");
    }
}

/// <summary>Tesseract run as a process on an image file, or on a PDF page that pdftoppm has rendered.</summary>
public sealed class TesseractOcr(OcrOptions? options = null)
{
    public const string MissingTesseract = "OCR needs Tesseract (apt-get install tesseract-ocr).";
    public const string MissingPdfToPpm = "OCR of PDF pages needs poppler's pdftoppm (apt-get install poppler-utils).";

    public OcrOptions Options { get; } = options ?? new OcrOptions();

    /// <summary>The text of an image file; a multi-page TIFF gives its pages separated by form feeds.</summary>
    public Task<string> ReadImageAsync(string imagePath, CancellationToken ct) => ReadAsync(imagePath, Options.PageTimeout, "The image", ct);

    /// <summary>Renders page (1-based) of the PDF and reads it; render and read share one page time limit.</summary>
    public async Task<string> ReadPdfPageAsync(string pdfPath, int page, CancellationToken ct)
    {
        var started = DateTime.UtcNow;
        var prefix = Path.Combine(Path.GetTempPath(), $"rag-ocr-{Guid.NewGuid():N}");
        using var image = new ExternalTool.TempFile(prefix + ".png");
        await ExternalTool.RunAsync(Options.PdfToPpmPath,
            ["-r", Options.Dpi.ToString(), "-gray", "-png", "-f", page.ToString(), "-l", page.ToString(), "-singlefile", pdfPath, prefix],
            Options.PageTimeout, $"Page {page} of the PDF", MissingPdfToPpm, ct);
        var left = Options.PageTimeout - (DateTime.UtcNow - started);
        if (left <= TimeSpan.Zero) throw new ExtractionException($"OCR of page {page} did not finish within {Options.PageTimeout.TotalSeconds:0} s.");
        return await ReadAsync(image.Path, left, $"Page {page} of the PDF", ct);
    }

    Task<string> ReadAsync(string imagePath, TimeSpan timeout, string what, CancellationToken ct) =>
        // "stdout" as the output base writes the text to standard output; --psm 3 is automatic page segmentation.
        ExternalTool.RunAsync(Options.TesseractPath, [imagePath, "stdout", "-l", Options.Languages, "--psm", "3"], timeout, what, MissingTesseract, ct);
}
