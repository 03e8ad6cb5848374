using System.IO.Compression;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using AngleSharp.Dom;

namespace Rag.Ingest;

/// <summary>
/// .epub: a zip whose META-INF/container.xml names the OPF package; the package's spine gives the chapters in reading
/// order. Each chapter's XHTML is read as an .html upload is; it opens a section titled from the book's table of
/// contents (the EPUB 3 nav document, else the EPUB 2 NCX), else the chapter's first heading or &lt;title&gt;, and its
/// own headings nest under that. The book's title is the package's dc:title.
/// </summary>
public sealed class EpubExtractor(ExtractionLimits? limits = null) : ITextExtractor
{
    static readonly XNamespace Container = "urn:oasis:names:tc:opendocument:xmlns:container";
    static readonly XNamespace Opf = "http://www.idpf.org/2007/opf";
    static readonly XNamespace Dc = "http://purl.org/dc/elements/1.1/";
    static readonly XNamespace Ncx = "http://www.daisy.org/z3986/2005/ncx/";

    readonly ExtractionLimits _limits = limits ?? ExtractionLimits.Default;

    public string Format => "epub";
    public bool IsText => false;
    public IReadOnlyList<string> Extensions { get; } = [".epub"];
    public IReadOnlyList<string> ContentTypes { get; } = ["application/epub+zip"];

    // A zip: .docx claims unnamed zips; a book is recognised by its name or content type.
    public bool Sniff(ReadOnlySpan<byte> head) => false;

    public async Task<ExtractedText> ExtractAsync(byte[] content, CancellationToken ct = default)
    {
        _limits.CheckZip(content, ".epub", "an EPUB book"); // the declared sizes are within budget before anything is inflated
        var builder = new TextBuilder(_limits);
        try
        {
            using var zip = new ZipArchive(new MemoryStream(content, writable: false), ZipArchiveMode.Read);
            var container = ReadXml(zip, "META-INF/container.xml")
                ?? throw new ExtractionException("The .epub file has no META-INF/container.xml: it is not an EPUB book.");
            var opfPath = container.Descendants(Container + "rootfile").Select(r => (string?)r.Attribute("full-path")).FirstOrDefault(p => !string.IsNullOrEmpty(p))
                ?? throw new ExtractionException("The EPUB's container.xml names no package (rootfile full-path).");
            var opf = ReadXml(zip, opfPath) ?? throw new ExtractionException($"The EPUB's package {opfPath} is missing.");
            var package = opf.Root!;
            builder.Title = package.Descendants(Dc + "title").Select(t => t.Value.Trim()).FirstOrDefault(t => t.Length > 0);

            var manifest = package.Element(Opf + "manifest")?.Elements(Opf + "item")
                .Where(i => i.Attribute("id") is not null && i.Attribute("href") is not null)
                .GroupBy(i => (string)i.Attribute("id")!).ToDictionary(g => g.Key, g => g.First())
                ?? throw new ExtractionException("The EPUB's package has no manifest.");
            var spine = package.Element(Opf + "spine") ?? throw new ExtractionException("The EPUB's package has no spine: its reading order is unknown.");
            var nav = manifest.Values.FirstOrDefault(i => ((string?)i.Attribute("properties"))?.Split(' ').Contains("nav") == true);
            var ncx = (string?)spine.Attribute("toc") is { } tocId && manifest.TryGetValue(tocId, out var t) ? t
                : manifest.Values.FirstOrDefault(i => (string?)i.Attribute("media-type") == "application/x-dtbncx+xml");
            var titles = nav is not null ? await NavTitlesAsync(zip, Resolve(opfPath, (string)nav.Attribute("href")!), ct)
                : ncx is not null ? NcxTitles(zip, Resolve(opfPath, (string)ncx.Attribute("href")!))
                : [];

            var chapters = 0;
            foreach (var itemRef in spine.Elements(Opf + "itemref"))
            {
                ct.ThrowIfCancellationRequested();
                if ((string?)itemRef.Attribute("idref") is not { } idref || !manifest.TryGetValue(idref, out var item) || item == nav) continue;
                var path = Resolve(opfPath, (string)item.Attribute("href")!);
                if (ReadText(zip, path) is not { } xhtml) continue;
                var document = await HtmlExtractor.ParseAsync(xhtml, ct);
                if (document.Body is null || TextDecoding.IsBlank(document.Body.TextContent)) continue; // a cover image, a blank page
                var heading = document.Body.QuerySelector("h1, h2, h3, h4, h5, h6");
                var title = titles.GetValueOrDefault(path) ?? heading?.TextContent ?? document.Title;
                // The chapter's own first heading, when it is the title, is not written twice.
                var skip = heading is not null && title is not null && SameText(heading.TextContent, title) ? heading : null;
                chapters++;
                builder.Heading(1, string.IsNullOrWhiteSpace(title) ? $"Chapter {chapters}" : title);
                HtmlExtractor.Write(builder, document, new HtmlLayout(HeadingOffset: 1, Skip: skip), ct);
            }
            if (chapters == 0) throw new ExtractionException("The EPUB book has no chapters with text.");
        }
        catch (Exception e) when (e is not (ExtractionException or OperationCanceledException))
        {
            // Anything the zip or XML readers throw is about these bytes (a damaged entry, malformed XML).
            throw new ExtractionException($"The .epub file is corrupt or not an EPUB book: {e.Message}", e);
        }
        return builder.Build();
    }

    /// <summary>Chapter path -> title, from the EPUB 3 nav document's table of contents.</summary>
    static async Task<Dictionary<string, string>> NavTitlesAsync(ZipArchive zip, string navPath, CancellationToken ct)
    {
        var titles = new Dictionary<string, string>(StringComparer.Ordinal);
        if (ReadText(zip, navPath) is not { } source) return titles;
        var document = await HtmlExtractor.ParseAsync(source, ct);
        var toc = document.QuerySelectorAll("nav").FirstOrDefault(n => n.GetAttribute("epub:type") == "toc") ?? document.QuerySelector("nav");
        foreach (var link in toc?.QuerySelectorAll("a[href]") ?? Enumerable.Empty<IElement>())
            titles.TryAdd(Resolve(navPath, link.GetAttribute("href")!), Clean(link.TextContent));
        return titles;
    }

    /// <summary>Chapter path -> title, from the EPUB 2 NCX's navPoints.</summary>
    static Dictionary<string, string> NcxTitles(ZipArchive zip, string ncxPath)
    {
        var titles = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var point in ReadXml(zip, ncxPath)?.Descendants(Ncx + "navPoint") ?? [])
        {
            var label = point.Element(Ncx + "navLabel")?.Element(Ncx + "text")?.Value;
            var src = (string?)point.Element(Ncx + "content")?.Attribute("src");
            if (label is not null && src is not null) titles.TryAdd(Resolve(ncxPath, src), Clean(label));
        }
        return titles;
    }

    /// <summary>An href relative to the file that holds it, as a zip entry name: fragment dropped, %-escapes decoded, ".." folded.</summary>
    internal static string Resolve(string from, string href)
    {
        var hash = href.IndexOf('#');
        if (hash >= 0) href = href[..hash];
        href = Uri.UnescapeDataString(href);
        var slash = from.LastIndexOf('/');
        var parts = new List<string>(slash >= 0 ? from[..slash].Split('/') : []);
        foreach (var part in href.Split('/'))
        {
            if (part is "" or ".") continue;
            if (part == "..") { if (parts.Count > 0) parts.RemoveAt(parts.Count - 1); }
            else parts.Add(part);
        }
        return string.Join('/', parts);
    }

    static string? ReadText(ZipArchive zip, string path)
    {
        if (path.Length == 0 || zip.GetEntry(path) is not { } entry) return null;
        using var stream = entry.Open();
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return TextDecoding.Decode(buffer.ToArray()).Text;
    }

    static XDocument? ReadXml(ZipArchive zip, string path)
    {
        if (zip.GetEntry(path) is not { } entry) return null;
        using var stream = entry.Open();
        // NCX files carry a DOCTYPE: it is skipped, never fetched, so no entity expands.
        using var reader = XmlReader.Create(stream, new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore, XmlResolver = null });
        return XDocument.Load(reader);
    }

    static string Clean(string s) => string.Join(' ', s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    static bool SameText(string a, string b) => string.Equals(Clean(a), Clean(b), StringComparison.OrdinalIgnoreCase);
}
