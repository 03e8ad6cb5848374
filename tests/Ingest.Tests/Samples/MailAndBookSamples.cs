using System.Text;

namespace Rag.Ingest.Tests;

/// <summary>E-mails written out as raw RFC 5322 text and EPUB books zipped from hand-written parts, with known content.</summary>
public static class MailAndBookSamples
{
    /// <summary>An attachment of an e-mail: its file name, MIME type and bytes (sent base64).</summary>
    public sealed record Attachment(string FileName, string ContentType, byte[] Bytes);

    /// <summary>
    /// A message from Ada to Bob: a multipart/alternative body when both plain and html are given, otherwise the one given,
    /// wrapped in multipart/mixed with the attachments.
    /// </summary>
    public static byte[] Eml(string subject, string? plain, string? html = null, params Attachment[] attachments)
    {
        var sb = new StringBuilder();
        sb.Append("From: Ada Lovelace <ada@example.com>\r\nTo: Bob Babbage <bob@example.com>, carol@example.com\r\n");
        sb.Append($"Subject: {subject}\r\nDate: Sat, 14 Mar 2026 09:30:00 +0100\r\nMessage-ID: <sample@example.com>\r\nMIME-Version: 1.0\r\n");
        var body = Body(plain, html);
        if (attachments.Length == 0)
        {
            sb.Append(body);
        }
        else
        {
            sb.Append("Content-Type: multipart/mixed; boundary=\"mixed-1\"\r\n\r\n--mixed-1\r\n").Append(body);
            foreach (var a in attachments)
            {
                if (a.ContentType == "message/rfc822" && a.FileName.EndsWith(".raw.eml", StringComparison.Ordinal))
                {
                    // A forwarded message as most clients send it: unencoded, its own headers and body inline.
                    sb.Append($"\r\n--mixed-1\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"{a.FileName}\"\r\n\r\n");
                    sb.Append(Encoding.UTF8.GetString(a.Bytes)).Append("\r\n");
                    continue;
                }
                sb.Append($"\r\n--mixed-1\r\nContent-Type: {a.ContentType}; name=\"{a.FileName}\"\r\n");
                sb.Append($"Content-Disposition: attachment; filename=\"{a.FileName}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n");
                sb.Append(Convert.ToBase64String(a.Bytes, Base64FormattingOptions.InsertLineBreaks)).Append("\r\n");
            }
            sb.Append("--mixed-1--\r\n");
        }
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    static string Body(string? plain, string? html)
    {
        const string plainHeaders = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n";
        const string htmlHeaders = "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n";
        if (plain is not null && html is not null)
            return $"Content-Type: multipart/alternative; boundary=\"alt-1\"\r\n\r\n--alt-1\r\n{plainHeaders}{plain}\r\n--alt-1\r\n{htmlHeaders}{html}\r\n--alt-1--\r\n";
        return plain is not null ? plainHeaders + plain + "\r\n" : htmlHeaders + html + "\r\n";
    }

    /// <summary>A chapter of a book: its file (relative to the package), its title in the table of contents (null: none), and its XHTML body.</summary>
    public sealed record Chapter(string Href, string? TocTitle, string Body, string? HtmlTitle = null);

    /// <summary>
    /// An EPUB 3 book (nav document) or, with <paramref name="ncx"/>, an EPUB 2 one (toc.ncx): package at OEBPS/content.opf,
    /// the manifest listing the chapters in reverse so that only the spine gives the reading order.
    /// </summary>
    public static byte[] Epub(string title, Chapter[] chapters, bool ncx = false)
    {
        var manifest = new StringBuilder();
        for (var i = chapters.Length - 1; i >= 0; i--)
            manifest.Append($"<item id=\"c{i}\" href=\"{chapters[i].Href.Replace(" ", "%20")}\" media-type=\"application/xhtml+xml\"/>");
        manifest.Append(ncx ? "<item id=\"ncx\" href=\"toc.ncx\" media-type=\"application/x-dtbncx+xml\"/>"
                            : "<item id=\"nav\" href=\"nav.xhtml\" media-type=\"application/xhtml+xml\" properties=\"nav\"/>");
        var spine = string.Concat(chapters.Select((_, i) => $"<itemref idref=\"c{i}\"/>"));
        var entries = new List<(string, string)>
        {
            ("mimetype", "application/epub+zip"),
            ("META-INF/container.xml",
                "<?xml version=\"1.0\"?><container version=\"1.0\" xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\">" +
                "<rootfiles><rootfile full-path=\"OEBPS/content.opf\" media-type=\"application/oebps-package+xml\"/></rootfiles></container>"),
            ("OEBPS/content.opf",
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><package xmlns=\"http://www.idpf.org/2007/opf\" version=\"3.0\" unique-identifier=\"id\">" +
                $"<metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:identifier id=\"id\">urn:sample</dc:identifier><dc:title>{title}</dc:title><dc:language>en</dc:language></metadata>" +
                $"<manifest>{manifest}</manifest><spine{(ncx ? " toc=\"ncx\"" : "")}>{spine}</spine></package>"),
        };
        var listed = chapters.Where(c => c.TocTitle is not null).ToArray();
        if (ncx)
        {
            entries.Add(("OEBPS/toc.ncx",
                "<?xml version=\"1.0\"?><!DOCTYPE ncx PUBLIC \"-//NISO//DTD ncx 2005-1//EN\" \"http://www.daisy.org/z3986/2005/ncx-2005-1.dtd\">" +
                "<ncx xmlns=\"http://www.daisy.org/z3986/2005/ncx/\" version=\"2005-1\"><navMap>" +
                string.Concat(listed.Select((c, i) => $"<navPoint id=\"n{i}\" playOrder=\"{i + 1}\"><navLabel><text>{c.TocTitle}</text></navLabel><content src=\"{c.Href}#start\"/></navPoint>")) +
                "</navMap></ncx>"));
        }
        else
        {
            entries.Add(("OEBPS/nav.xhtml",
                "<?xml version=\"1.0\"?><html xmlns=\"http://www.w3.org/1999/xhtml\" xmlns:epub=\"http://www.idpf.org/2007/ops\"><head><title>Contents</title></head><body>" +
                "<nav epub:type=\"toc\"><ol>" + string.Concat(listed.Select(c => $"<li><a href=\"{c.Href}\">{c.TocTitle}</a></li>")) + "</ol></nav></body></html>"));
        }
        foreach (var c in chapters)
        {
            entries.Add(("OEBPS/" + c.Href,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><!DOCTYPE html><html xmlns=\"http://www.w3.org/1999/xhtml\">" +
                $"<head><title>{c.HtmlTitle ?? ""}</title></head><body>{c.Body}</body></html>"));
        }
        return OfficeSamples.Zip([.. entries]);
    }
}
