using Rag.Storage;

namespace Rag.Ingest;

/// <summary>A heading path ("Guide > Install") and the char range [Start, End) of the text under it.</summary>
public sealed record Section(string HeadingPath, int Start, int End);

/// <summary>A 1-based page number and the char range [Start, End) of its text.</summary>
public sealed record PageSpan(int Page, int Start, int End);

/// <summary>
/// The char range [Start, End) of a run of records (spreadsheet rows), one per paragraph: chunks hold
/// whole records and repeat none as overlap, so a passage never starts or ends in the middle of a row.
/// </summary>
public sealed record RecordBlock(int Start, int End);

/// <summary>
/// The plain text of a document. Sections, pages and record blocks index into Text with UTF-16 offsets;
/// text outside every section has no heading.
/// </summary>
public sealed record ExtractedText(string Text, IReadOnlyList<Section> Sections, IReadOnlyList<PageSpan> Pages)
{
    public static ExtractedText Plain(string text) => new(text, [], []);

    /// <summary>The title the document gives itself (HTML &lt;title&gt;, document properties, first heading); null when it has none.</summary>
    public string? Title { get; init; }

    public IReadOnlyList<RecordBlock> Records { get; init; } = [];

    /// <summary>
    /// Files carried inside this one that are documents of their own (an e-mail's attachments of readable types): the
    /// text names them but does not hold theirs; ingestion stores each as a document whose parent is this one.
    /// </summary>
    public IReadOnlyList<ExtractedAttachment> Attachments { get; init; } = [];

    /// <summary>What the page numbers count (a deck's pages are its slides), so citations name them as the format does.</summary>
    public PageKind PageKind { get; init; } = PageKind.Page;

    /// <summary>"p. 7", "slide 7"; null for text without pages.</summary>
    public string? PageLabel(int? page) => page is { } p ? PageLabels.Of(PageKind, p) : null;
}

/// <summary>
/// A file carried inside a document, to be ingested as a document of its own. Index is its position among the
/// carrier's attachments (1-based, stable for the same bytes), from which the child document's id is derived;
/// ContentType is the canonical type of the extractor that reads it.
/// </summary>
public sealed record ExtractedAttachment(int Index, string? FileName, string ContentType, byte[] Content);

/// <summary>Turns one file format into plain text with headings and pages.</summary>
public interface ITextExtractor
{
    /// <summary>Short format name: "txt", "md", "html", "pdf", "docx", "xlsx", ...</summary>
    string Format { get; }

    /// <summary>File extensions with the dot, lower case; the first is canonical.</summary>
    IReadOnlyList<string> Extensions { get; }

    /// <summary>MIME types, lower case; the first is canonical.</summary>
    IReadOnlyList<string> ContentTypes { get; }

    /// <summary>True for text formats (txt, md, html): their bytes are decoded and checked at upload time.</summary>
    bool IsText { get; }

    /// <summary>True when the leading bytes identify this format (magic numbers).</summary>
    bool Sniff(ReadOnlySpan<byte> head);

    /// <exception cref="ExtractionException">The bytes can never yield text (corrupt, binary, empty, tool missing).</exception>
    Task<ExtractedText> ExtractAsync(byte[] content, CancellationToken ct = default);
}

/// <summary>
/// Extraction failed for a reason that retrying will not fix (corrupt file, binary content,
/// a missing tool). The pipeline marks the document failed with this message at once.
/// </summary>
public sealed class ExtractionException(string message, Exception? inner = null) : Exception(message, inner);
