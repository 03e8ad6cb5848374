using System.IO.Compression;

namespace Rag.Ingest;

/// <summary>
/// What one document may cost to extract. A small upload can expand enormously (a 161 KB .docx
/// holding 45 MB of XML; a CSV whose headers are repeated on every row), so the text is capped,
/// and zip-based formats (docx, xlsx, pptx, epub) are refused before parsing when their entries
/// declare more than the budget.
/// </summary>
public sealed record ExtractionLimits
{
    public static ExtractionLimits Default { get; } = new();

    /// <summary>
    /// Most characters of text one document may yield (Rag:Limits:MaxExtractedChars, whose default is the same): more
    /// than a text upload under the 50 MB limit yields, so only expanding formats reach it.
    /// </summary>
    public int MaxChars { get; init; } = 64_000_000;

    /// <summary>Most bytes the entries of a zip-based file may expand to, all together.</summary>
    public long MaxUnzippedBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>
    /// Most uncompressed bytes per compressed byte, over the whole archive, once it expands past
    /// <see cref="RatioFloorBytes"/>. Office XML compresses about 5-20:1; repeated filler compresses hundreds to one.
    /// </summary>
    public int MaxExpansionRatio { get; init; } = 100;

    /// <summary>Below this many uncompressed bytes the ratio is not checked (a tiny file may compress very well).</summary>
    public long RatioFloorBytes { get; init; } = 10L * 1024 * 1024;

    /// <summary>
    /// Most attachments of one e-mail that become documents of their own (Rag:Limits:MaxAttachments); those past it are
    /// only named in the message's text.
    /// </summary>
    public int MaxAttachments { get; init; } = 50;

    public void Validate()
    {
        if (MaxAttachments < 0) throw new ArgumentOutOfRangeException(nameof(MaxAttachments), "MaxAttachments must not be negative.");
        if (MaxChars < 1) throw new ArgumentOutOfRangeException(nameof(MaxChars), "MaxExtractedChars must be at least 1.");
        if (MaxUnzippedBytes < 1) throw new ArgumentOutOfRangeException(nameof(MaxUnzippedBytes), "MaxUnzippedBytes must be at least 1.");
        if (MaxExpansionRatio < 1) throw new ArgumentOutOfRangeException(nameof(MaxExpansionRatio), "MaxExpansionRatio must be at least 1.");
    }

    internal static ExtractionException TooMuchText(int max) =>
        new($"The document's text is longer than the limit of {max:N0} characters (Rag:Limits:MaxExtractedChars); split the document or raise the limit.");

    /// <summary>
    /// Refuses a zip whose entries declare more than the budget, before any of it is inflated. The declared
    /// sizes can be trusted: .NET's zip reader stops inflating an entry at its declared uncompressed size.
    /// </summary>
    /// <param name="format">How the file is named in the message (".docx").</param>
    /// <param name="kind">What it should have been, for the message ("a Word document").</param>
    public void CheckZip(byte[] content, string format, string kind)
    {
        long expanded = 0, compressed = 0;
        try
        {
            using var zip = new ZipArchive(new MemoryStream(content, writable: false), ZipArchiveMode.Read);
            foreach (var entry in zip.Entries)
            {
                expanded += entry.Length;
                compressed += entry.CompressedLength;
            }
        }
        catch (InvalidDataException e)
        {
            throw new ExtractionException($"The {format} file is corrupt or not {kind} (a truncated or damaged zip archive): {e.Message}", e);
        }
        if (expanded > MaxUnzippedBytes)
            throw new ExtractionException(
                $"The {format} file expands to {expanded / 1048576.0:N0} MB, over the limit of {MaxUnzippedBytes / 1048576.0:N0} MB; it is refused unread.");
        var ratio = expanded / (double)Math.Max(1, compressed);
        if (expanded > RatioFloorBytes && ratio > MaxExpansionRatio)
            throw new ExtractionException(
                $"The {format} file expands {ratio:N0}-fold ({content.Length / 1024.0:N0} KB to {expanded / 1048576.0:N0} MB), over the limit of {MaxExpansionRatio}:1 for files of this size; it is refused unread as a likely zip bomb.");
    }
}
