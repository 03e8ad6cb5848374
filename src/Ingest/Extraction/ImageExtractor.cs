namespace Rag.Ingest;

/// <summary>
/// .png, .jpg, .tiff: read by Tesseract (a multi-page TIFF keeps its page numbers). Without OCR configured
/// an image is accepted and fails in extraction, saying how to switch OCR on.
/// </summary>
public sealed class ImageExtractor(TesseractOcr? ocr) : ITextExtractor
{
    public string Format => "image";
    public bool IsText => false;
    public IReadOnlyList<string> Extensions { get; } = [".png", ".jpg", ".jpeg", ".tif", ".tiff"];
    public IReadOnlyList<string> ContentTypes { get; } = ["image/png", "image/jpeg", "image/tiff"];

    public bool Sniff(ReadOnlySpan<byte> head) =>
        head.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G'])
        || head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF])
        || head.StartsWith("II*\0"u8) || head.StartsWith("MM\0*"u8);

    public async Task<ExtractedText> ExtractAsync(byte[] content, CancellationToken ct = default)
    {
        if (ocr is null) throw new ExtractionException("Images are read by OCR, which is switched off (Rag:Ocr:Enabled).");
        var extension = content.AsSpan().StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P']) ? ".png" : content.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8]) ? ".jpg" : ".tif";
        using var file = await ExternalTool.WriteTempAsync(content, extension, ct);
        var output = await ocr.ReadImageAsync(file.Path, ct);
        var pages = output.Split('\f');
        if (pages.Length > 1 && string.IsNullOrWhiteSpace(pages[^1])) pages = pages[..^1];
        var builder = new TextBuilder();
        for (var i = 0; i < pages.Length; i++)
        {
            if (pages.Length > 1) builder.Page(i + 1);
            builder.Write(pages[i].Trim(), preserve: true);
        }
        var result = builder.Build();
        if (TextDecoding.IsBlank(result.Text)) throw new ExtractionException("OCR found no text in the image.");
        return result;
    }
}
