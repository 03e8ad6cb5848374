using Markdig;
using Markdig.Extensions.Tables;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Rag.Ingest;

/// <summary>
/// .md: parsed with Markdig (CommonMark + pipe tables) and rendered to plain text: headings open
/// sections ("Guide > Install"), blocks become paragraphs, table rows tab-separated lines, code kept
/// verbatim. Raw HTML blocks are markup, not prose, and are dropped.
/// </summary>
public sealed class MarkdownExtractor(ExtractionLimits? limits = null) : ITextExtractor
{
    static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UsePipeTables().Build();

    public string Format => "md";
    public bool IsText => true;
    public IReadOnlyList<string> Extensions { get; } = [".md", ".markdown"];
    public IReadOnlyList<string> ContentTypes { get; } = ["text/markdown", "text/x-markdown"];

    public bool Sniff(ReadOnlySpan<byte> head) => false;

    public Task<ExtractedText> ExtractAsync(byte[] content, CancellationToken ct = default)
    {
        var (source, _) = TextDecoding.Decode(content);
        var document = Markdown.Parse(source, Pipeline);
        var builder = new TextBuilder(limits);
        foreach (var block in document) WriteBlock(builder, block, ct);
        var result = builder.Build();
        // The first heading names the document (the first section's path is that heading alone).
        result = result with { Title = result.Sections.Count > 0 ? result.Sections[0].HeadingPath : null };
        if (TextDecoding.IsBlank(result.Text)) throw new ExtractionException("The Markdown file has no text.");
        return Task.FromResult(result);
    }

    static void WriteBlock(TextBuilder b, Block block, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        switch (block)
        {
            case HeadingBlock h:
                var heading = new TextBuilder();
                WriteInlines(heading, h.Inline);
                b.Heading(h.Level, heading.Build().Text);
                break;
            case ParagraphBlock p:
                b.Paragraph();
                WriteInlines(b, p.Inline);
                b.Paragraph();
                break;
            case CodeBlock code: // fenced and indented
                b.Paragraph();
                b.Write(code.Lines.ToString(), preserve: true);
                b.Paragraph();
                break;
            case Table table:
                b.Paragraph();
                foreach (var row in table.OfType<TableRow>())
                {
                    var first = true;
                    foreach (var cell in row.OfType<TableCell>())
                    {
                        if (!first) b.Cell();
                        first = false;
                        foreach (var inner in cell.OfType<LeafBlock>()) WriteInlines(b, inner.Inline);
                    }
                    b.Line();
                }
                b.Paragraph();
                break;
            case HtmlBlock:
            case LinkReferenceDefinitionGroup:
                break;
            case ThematicBreakBlock:
                b.Paragraph();
                break;
            case ContainerBlock container: // lists, list items, quotes
                foreach (var child in container) WriteBlock(b, child, ct);
                break;
            case LeafBlock leaf:
                b.Paragraph();
                WriteInlines(b, leaf.Inline);
                b.Paragraph();
                break;
        }
    }

    static void WriteInlines(TextBuilder b, ContainerInline? container)
    {
        if (container is null) return;
        foreach (var inline in container)
        {
            switch (inline)
            {
                case LiteralInline literal:
                    b.Write(literal.Content.AsSpan());
                    break;
                case CodeInline code:
                    b.Write(code.Content);
                    break;
                case LineBreakInline lineBreak:
                    if (lineBreak.IsHard) b.Line(); else b.Space();
                    break;
                case HtmlEntityInline entity:
                    b.Write(entity.Transcoded.AsSpan());
                    break;
                case AutolinkInline link:
                    b.Write(link.Url);
                    break;
                case HtmlInline:
                    break;
                case ContainerInline inner: // emphasis, links (their text, not their URL)
                    WriteInlines(b, inner);
                    break;
            }
        }
    }
}
