using System.Text;
using System.Text.RegularExpressions;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;

namespace Rag.Ingest;

/// <summary>
/// .docx: the main document part read with DocumentFormat.OpenXml. Paragraphs styled as headings
/// (a Heading1..9 style id, a "heading N" style name, or an outline level, directly or through
/// the style) open sections; tables become tab-separated rows; content controls are walked through.
/// </summary>
public sealed partial class DocxExtractor(ExtractionLimits? limits = null) : ITextExtractor
{
    readonly ExtractionLimits _limits = limits ?? ExtractionLimits.Default;

    public string Format => "docx";
    public bool IsText => false;
    public IReadOnlyList<string> Extensions { get; } = [".docx"];
    public IReadOnlyList<string> ContentTypes { get; } = ["application/vnd.openxmlformats-officedocument.wordprocessingml.document"];

    // Every OOXML file is a zip; a non-Word zip fails in extraction with a clear message.
    public bool Sniff(ReadOnlySpan<byte> head) => head.StartsWith("PK\x03\x04"u8);

    public Task<ExtractedText> ExtractAsync(byte[] content, CancellationToken ct = default)
    {
        _limits.CheckZip(content, ".docx", "a Word document"); // before the DOM: a small file can hold a huge document.xml
        ExtractedText result;
        try
        {
            using var stream = new MemoryStream(content, writable: false);
            using var document = WordprocessingDocument.Open(stream, isEditable: false);
            var main = document.MainDocumentPart ?? throw new ExtractionException("The .docx file has no main document part: it is not a Word document.");
            var body = main.Document?.Body ?? throw new ExtractionException("The .docx file has no document body.");
            var levels = StyleLevels(main.StyleDefinitionsPart?.Styles);
            var builder = new TextBuilder(_limits) { Title = document.PackageProperties.Title };
            Walk(builder, body, levels, ct);
            result = builder.Build();
        }
        catch (Exception e) when (e is not (ExtractionException or OperationCanceledException))
        {
            // Anything the package reader throws is about these bytes (not a zip, missing parts, bad XML).
            throw new ExtractionException($"The .docx file is corrupt or not a Word document: {e.Message}", e);
        }
        if (TextDecoding.IsBlank(result.Text)) throw new ExtractionException("The Word document has no text.");
        return Task.FromResult(result);
    }

    static void Walk(TextBuilder b, OpenXmlElement container, IReadOnlyDictionary<string, int> levels, CancellationToken ct)
    {
        foreach (var element in container.ChildElements)
        {
            ct.ThrowIfCancellationRequested();
            switch (element)
            {
                case Paragraph p:
                    var text = ParagraphText(p);
                    var level = HeadingLevel(p, levels);
                    if (level > 0)
                    {
                        b.Heading(level, text);
                    }
                    else
                    {
                        b.Paragraph();
                        b.Write(text, preserve: true);
                        b.Paragraph();
                    }
                    break;
                case Table table:
                    b.Paragraph();
                    foreach (var row in table.Elements<TableRow>())
                    {
                        var first = true;
                        foreach (var cell in row.Elements<TableCell>())
                        {
                            if (!first) b.Cell();
                            first = false;
                            b.Write(string.Join(' ', cell.Descendants<Paragraph>().Select(ParagraphText).Where(t => t.Length > 0)));
                        }
                        b.Line();
                    }
                    b.Paragraph();
                    break;
                case SdtBlock sdt when sdt.SdtContentBlock is { } inner:
                    Walk(b, inner, levels, ct);
                    break;
            }
        }
    }

    static string ParagraphText(Paragraph p)
    {
        var sb = new StringBuilder();
        foreach (var e in p.Descendants())
        {
            switch (e)
            {
                case Text t: sb.Append(t.Text); break;
                case TabChar: sb.Append('\t'); break;
                case Break or CarriageReturn: sb.Append('\n'); break;
            }
        }
        return sb.ToString().Trim();
    }

    static int HeadingLevel(Paragraph p, IReadOnlyDictionary<string, int> levels)
    {
        var props = p.ParagraphProperties;
        if (props?.OutlineLevel?.Val?.Value is int outline && outline < 9) return outline + 1;
        var styleId = props?.ParagraphStyleId?.Val?.Value;
        if (styleId is null) return 0;
        if (levels.TryGetValue(styleId, out var level)) return level;
        var m = HeadingId().Match(styleId);
        return m.Success ? int.Parse(m.Groups[1].Value) : 0;
    }

    /// <summary>Style id -> heading level, from the style's name ("heading 2") or outline level, following basedOn.</summary>
    static Dictionary<string, int> StyleLevels(Styles? styles)
    {
        var own = new Dictionary<string, (int Level, string? BasedOn)>(StringComparer.Ordinal);
        foreach (var style in styles?.Elements<Style>() ?? [])
        {
            if (style.StyleId?.Value is not { } id) continue;
            var level = 0;
            if (style.StyleParagraphProperties?.OutlineLevel?.Val?.Value is int outline && outline < 9) level = outline + 1;
            else if (style.StyleName?.Val?.Value is { } name && HeadingName().Match(name) is { Success: true } m) level = int.Parse(m.Groups[1].Value);
            own[id] = (level, style.BasedOn?.Val?.Value);
        }
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var id in own.Keys)
        {
            var (current, hops) = (id, 0);
            while (own.TryGetValue(current, out var s) && hops++ < 10)
            {
                if (s.Level > 0) { result[id] = s.Level; break; }
                if (s.BasedOn is null) break;
                current = s.BasedOn;
            }
        }
        return result;
    }

    [GeneratedRegex(@"^Heading([1-9])$", RegexOptions.IgnoreCase)]
    private static partial Regex HeadingId();

    [GeneratedRegex(@"^heading ([1-9])$", RegexOptions.IgnoreCase)]
    private static partial Regex HeadingName();
}
