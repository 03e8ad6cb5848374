using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using A = DocumentFormat.OpenXml.Drawing;
using P = DocumentFormat.OpenXml.Presentation;

namespace Rag.Ingest;

/// <summary>
/// .pptx: slides in presentation order, read with DocumentFormat.OpenXml. Slide N is page N (citations name the
/// slide), its title placeholder opens a section "Slide N: Title", its other text (shapes, tables, groups) follows
/// in document order, and its speaker notes come last, marked as such.
/// </summary>
public sealed class PptxExtractor(ExtractionLimits? limits = null) : ITextExtractor
{
    readonly ExtractionLimits _limits = limits ?? ExtractionLimits.Default;

    public string Format => "pptx";
    public bool IsText => false;
    public IReadOnlyList<string> Extensions { get; } = [".pptx", ".pptm"];
    public IReadOnlyList<string> ContentTypes { get; } = ["application/vnd.openxmlformats-officedocument.presentationml.presentation", "application/vnd.ms-powerpoint.presentation.macroenabled.12"];

    // A zip: .docx claims unnamed zips; a deck is recognised by its name or content type.
    public bool Sniff(ReadOnlySpan<byte> head) => false;

    public Task<ExtractedText> ExtractAsync(byte[] content, CancellationToken ct = default)
    {
        _limits.CheckZip(content, ".pptx", "a PowerPoint deck");
        var builder = new TextBuilder(_limits);
        try
        {
            using var stream = new MemoryStream(content, writable: false);
            using var document = PresentationDocument.Open(stream, isEditable: false);
            var presentation = document.PresentationPart ?? throw new ExtractionException("The .pptx file has no presentation part: it is not a PowerPoint deck.");
            string? firstTitle = null;
            var number = 0;
            var anyText = false;
            foreach (var slideId in presentation.Presentation?.SlideIdList?.Elements<P.SlideId>() ?? [])
            {
                ct.ThrowIfCancellationRequested();
                if (slideId.RelationshipId?.Value is not { } rel || presentation.GetPartById(rel) is not SlidePart slide) continue;
                number++;
                builder.Page(number);
                var shapes = slide.Slide?.CommonSlideData?.ShapeTree?.Descendants<P.Shape>().ToList() ?? [];
                var titleShape = shapes.FirstOrDefault(IsTitle);
                var title = titleShape is null ? "" : ShapeText(titleShape);
                firstTitle ??= title.Length > 0 ? title : null;
                builder.Heading(1, title.Length > 0 ? $"Slide {number}: {title}" : $"Slide {number}");
                // Every paragraph of the slide but the title's: shapes, table cells, grouped shapes, in document order.
                foreach (var paragraph in slide.Slide?.CommonSlideData?.ShapeTree?.Descendants<A.Paragraph>() ?? [])
                {
                    if (titleShape is not null && paragraph.Ancestors<P.Shape>().Contains(titleShape)) continue;
                    anyText |= WriteParagraph(builder, paragraph);
                }
                var notes = slide.NotesSlidePart?.NotesSlide?.CommonSlideData?.ShapeTree?.Descendants<P.Shape>()
                    .Where(s => PlaceholderType(s) == P.PlaceholderValues.Body).Select(ShapeText).Where(t => t.Length > 0).ToList() ?? [];
                anyText |= title.Length > 0 || notes.Count > 0;
                if (notes.Count > 0)
                {
                    builder.Paragraph();
                    builder.Write("Speaker notes: " + string.Join("\n", notes), preserve: true);
                    builder.Paragraph();
                }
            }
            if (number == 0) throw new ExtractionException("The .pptx file has no slides.");
            if (!anyText) throw new ExtractionException("The slides have no text.");
            builder.Title = document.PackageProperties.Title is { Length: > 0 } t ? t : firstTitle;
        }
        catch (Exception e) when (e is not (ExtractionException or OperationCanceledException))
        {
            throw new ExtractionException($"The .pptx file is corrupt or not a PowerPoint deck: {e.Message}", e);
        }
        return Task.FromResult(builder.Build() with { PageKind = Rag.Storage.PageKind.Slide });
    }

    static P.PlaceholderValues? PlaceholderType(P.Shape shape)
    {
        var placeholder = shape.NonVisualShapeProperties?.ApplicationNonVisualDrawingProperties?.PlaceholderShape;
        if (placeholder is null) return null;
        return placeholder.Type?.Value ?? P.PlaceholderValues.Body; // a placeholder without a type is a body
    }

    static bool IsTitle(P.Shape shape) => PlaceholderType(shape) is P.PlaceholderValues.Title or P.PlaceholderValues.CenteredTitle;

    static string ShapeText(P.Shape shape) =>
        string.Join("\n", shape.Descendants<A.Paragraph>().Select(ParagraphText).Where(t => t.Length > 0));

    static bool WriteParagraph(TextBuilder b, A.Paragraph paragraph)
    {
        var text = ParagraphText(paragraph);
        if (text.Length == 0) return false;
        b.Paragraph();
        b.Write(text);
        b.Paragraph();
        return true;
    }

    static string ParagraphText(A.Paragraph paragraph)
    {
        var sb = new StringBuilder();
        foreach (var e in paragraph.Descendants())
        {
            switch (e)
            {
                case A.Text t: sb.Append(t.Text); break;
                case A.Break: sb.Append(' '); break;
            }
        }
        return sb.ToString().Trim();
    }
}
