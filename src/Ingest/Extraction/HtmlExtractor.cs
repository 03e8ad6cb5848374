using AngleSharp.Dom;
using AngleSharp.Html.Parser;

namespace Rag.Ingest;

/// <summary>
/// .html: parsed with AngleSharp (the HTML5 algorithm, so broken markup parses as a browser would).
/// Page furniture is dropped: script, style, noscript, template, svg, nav, forms' controls, hidden
/// elements, and header/footer that belong to the page rather than to an article. h1-h6 open
/// sections; block elements break paragraphs; table cells are tab-separated.
/// </summary>
public sealed class HtmlExtractor(ExtractionLimits? limits = null) : ITextExtractor
{
    static readonly HashSet<string> Dropped = new(StringComparer.Ordinal)
    {
        "script", "style", "noscript", "template", "svg", "math", "nav", "iframe", "object", "embed",
        "canvas", "button", "select", "input", "textarea", "head", "dialog",
    };

    static readonly HashSet<string> Blocks = new(StringComparer.Ordinal)
    {
        "p", "div", "section", "article", "main", "aside", "blockquote", "pre", "ul", "ol", "li", "dl", "dt", "dd",
        "table", "thead", "tbody", "tfoot", "caption", "figure", "figcaption", "address", "hr", "form", "fieldset",
        "legend", "details", "summary", "body", "header", "footer",
    };

    static readonly HashSet<string> Landmarks = new(StringComparer.Ordinal) { "navigation", "banner", "contentinfo", "search" };

    public string Format => "html";
    public bool IsText => true;
    public IReadOnlyList<string> Extensions { get; } = [".html", ".htm", ".xhtml"];
    public IReadOnlyList<string> ContentTypes { get; } = ["text/html", "application/xhtml+xml"];

    public bool Sniff(ReadOnlySpan<byte> head) => false;

    public async Task<ExtractedText> ExtractAsync(byte[] content, CancellationToken ct = default)
    {
        var (source, _) = TextDecoding.Decode(content);
        var document = await ParseAsync(source, ct);
        var builder = new TextBuilder(limits) { Title = DeclaredTitle(document) };
        Write(builder, document, new HtmlLayout(), ct);
        var result = builder.Build();
        if (TextDecoding.IsBlank(result.Text)) throw new ExtractionException("The HTML page has no visible text.");
        return result;
    }

    internal static async Task<IDocument> ParseAsync(string source, CancellationToken ct) => await new HtmlParser().ParseDocumentAsync(source, ct);

    /// <summary>The page's &lt;title&gt;, else its first &lt;h1&gt;; null when it has neither.</summary>
    internal static string? DeclaredTitle(IDocument document) =>
        document.Title is { Length: > 0 } title ? title : document.QuerySelector("h1")?.TextContent;

    /// <summary>
    /// Lays out the visible text of a parsed page into the builder, so that formats that carry HTML (an e-mail's
    /// HTML body, an EPUB's chapters) read it exactly as an .html upload is read.
    /// </summary>
    internal static void Write(TextBuilder b, IDocument document, HtmlLayout layout, CancellationToken ct) =>
        Walk(b, document.Body ?? (INode?)document.DocumentElement ?? document, preserve: false, layout, ct);

    static void Walk(TextBuilder b, INode node, bool preserve, HtmlLayout layout, CancellationToken ct)
    {
        foreach (var child in node.ChildNodes)
        {
            if (child is IText text)
            {
                b.Write(text.Data, preserve);
                continue;
            }
            if (child is not IElement e) continue;
            ct.ThrowIfCancellationRequested();
            var tag = e.LocalName;
            if (IsNoise(e, tag) || ReferenceEquals(e, layout.Skip)) continue;

            if (tag.Length == 2 && tag[0] == 'h' && tag[1] is >= '1' and <= '6')
            {
                b.Heading(tag[1] - '0' + layout.HeadingOffset, e.TextContent);
                continue;
            }
            switch (tag)
            {
                case "br":
                    b.Line();
                    continue;
                case "td" or "th":
                    if (e.PreviousElementSibling is not null) b.Cell();
                    Walk(b, e, preserve, layout, ct);
                    continue;
                case "tr":
                    b.Line();
                    Walk(b, e, preserve, layout, ct);
                    b.Line();
                    continue;
            }
            if (Blocks.Contains(tag))
            {
                b.Paragraph();
                Walk(b, e, preserve || tag == "pre", layout, ct);
                b.Paragraph();
            }
            else
            {
                Walk(b, e, preserve, layout, ct);
            }
        }
    }

    static bool IsNoise(IElement e, string tag)
    {
        if (Dropped.Contains(tag)) return true;
        if (e.HasAttribute("hidden") || e.GetAttribute("aria-hidden") == "true") return true;
        if (e.GetAttribute("role") is { } role && Landmarks.Contains(role)) return true;
        // A header or footer is page chrome unless it sits inside sectioning content (an article's own header keeps its h1).
        if (tag is "header" or "footer")
        {
            for (var p = e.ParentElement; p is not null; p = p.ParentElement)
                if (p.LocalName is "article" or "section" or "main" or "aside") return false;
            return true;
        }
        return false;
    }
}

/// <summary>
/// How embedded HTML sits in the document that carries it: its h1-h6 open sections HeadingOffset levels deeper
/// (an EPUB chapter's headings nest under the chapter's title), and Skip is left out (a heading already written).
/// </summary>
internal sealed record HtmlLayout(int HeadingOffset = 0, IElement? Skip = null);
