namespace Rag.Ingest;

/// <summary>.txt: decoded by <see cref="TextDecoding"/>; no headings or pages.</summary>
public sealed class PlainTextExtractor : ITextExtractor
{
    public string Format => "txt";
    public bool IsText => true;
    public IReadOnlyList<string> Extensions { get; } = [".txt", ".text"];
    public IReadOnlyList<string> ContentTypes { get; } = ["text/plain"];

    // Plain text has no magic number; it is chosen by name or content type only.
    public bool Sniff(ReadOnlySpan<byte> head) => false;

    public Task<ExtractedText> ExtractAsync(byte[] content, CancellationToken ct = default)
    {
        var (text, _) = TextDecoding.Decode(content);
        if (TextDecoding.IsBlank(text)) throw new ExtractionException("The file has no text.");
        return Task.FromResult(ExtractedText.Plain(text));
    }
}
