namespace Rag.Ingest;

/// <summary>
/// Picks the extractor for an upload: by file extension, then by content type, then by magic
/// number. A content type that names media (image/, audio/, video/, font/) and that no extractor
/// claims (as OCR claims image/png) is refused outright: its bytes are not a document whatever the file is called.
/// </summary>
public sealed class ExtractorRegistry
{
    static readonly string[] GenericTypes = ["application/octet-stream", "binary/octet-stream", "application/unknown"];
    static readonly string[] MediaPrefixes = ["image/", "audio/", "video/", "font/", "model/"];

    readonly IReadOnlyList<ITextExtractor> _extractors;

    public ExtractorRegistry(IEnumerable<ITextExtractor> extractors)
    {
        _extractors = extractors.ToArray();
        if (_extractors.Count == 0) throw new ArgumentException("No text extractors are registered.", nameof(extractors));
    }

    public IReadOnlyList<ITextExtractor> Extractors => _extractors;

    /// <summary>Every format this project reads, configured from the options; the order settles magic-number ties.</summary>
    public static ExtractorRegistry CreateDefault(IngestOptions options)
    {
        var limits = options.Extraction;
        var ocr = options.Ocr.Enabled ? new TesseractOcr(options.Ocr) : null;
        ITextExtractor[] files =
        [
            new PlainTextExtractor(),
            new MarkdownExtractor(limits),
            new HtmlExtractor(limits),
            new DocxExtractor(limits),
            new PdfExtractor(options.PdfToTextPath, options.PdfTimeout, ocr),
            new XlsxExtractor(limits),
            new PptxExtractor(limits),
            new CsvExtractor(limits),
            new ImageExtractor(ocr),
            new JsonExtractor(limits),
            new EpubExtractor(limits),
        ];
        // An e-mail's attachments are read by the same extractors (a forwarded message by the e-mail extractor itself).
        return new ExtractorRegistry([.. files, new EmlExtractor(new ExtractorRegistry(files), limits)]);
    }

    /// <summary>The supported extensions, for error messages: ".txt, .md, ...".</summary>
    public string SupportedList => string.Join(", ", _extractors.SelectMany(e => e.Extensions.Take(1)));

    /// <summary>The extractor for this upload, or null when the type is not supported.</summary>
    public ITextExtractor? Resolve(string? fileName, string? contentType, ReadOnlySpan<byte> head)
    {
        var type = NormalizeContentType(contentType);
        // Media: the type wins over the name (a JPEG named .txt is a picture), and only an extractor that claims it reads it.
        if (type is not null && MediaPrefixes.Any(p => type.StartsWith(p, StringComparison.Ordinal)))
            return _extractors.FirstOrDefault(e => e.ContentTypes.Contains(type));

        var extension = Path.GetExtension(fileName ?? "").ToLowerInvariant();
        if (extension.Length > 0 && _extractors.FirstOrDefault(e => e.Extensions.Contains(extension)) is { } byName) return byName;
        if (type is not null && _extractors.FirstOrDefault(e => e.ContentTypes.Contains(type)) is { } byType) return byType;
        foreach (var e in _extractors)
            if (e.Sniff(head)) return e;
        return null;
    }

    /// <summary>"Text/HTML; charset=utf-8" -> "text/html"; generic and empty types -> null.</summary>
    internal static string? NormalizeContentType(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType)) return null;
        var semicolon = contentType.IndexOf(';');
        var type = (semicolon >= 0 ? contentType[..semicolon] : contentType).Trim().ToLowerInvariant();
        return type.Length == 0 || GenericTypes.Contains(type) ? null : type;
    }
}
