using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;

namespace Rag.Ingest.Tests;

/// <summary>Small sample documents generated in code, so no binary files live in the repo.</summary>
public static class SampleFiles
{
    /// <summary>A valid PDF with one Helvetica text line per page (objects and xref offsets computed, as the spec requires).</summary>
    public static byte[] Pdf(params string[] pages) => Pdf(title: null, pages);

    /// <summary>As <see cref="Pdf(string[])"/>, with a Title in the document information dictionary.</summary>
    public static byte[] Pdf(string? title, string[] pages)
    {
        var objects = new List<string>
        {
            "<< /Type /Catalog /Pages 2 0 R >>",
            $"<< /Type /Pages /Kids [{string.Join(' ', pages.Select((_, i) => $"{4 + 2 * i} 0 R"))}] /Count {pages.Length} >>",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        };
        foreach (var text in pages)
        {
            var pageObj = objects.Count + 1;
            objects.Add($"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {pageObj + 1} 0 R /Resources << /Font << /F1 3 0 R >> >> >>");
            var escaped = text.Replace("\\", "\\\\").Replace("(", "\\(").Replace(")", "\\)");
            var content = $"BT /F1 14 Tf 72 700 Td ({escaped}) Tj ET";
            objects.Add($"<< /Length {Encoding.ASCII.GetByteCount(content)} >>\nstream\n{content}\nendstream");
        }
        if (title is not null) objects.Add($"<< /Title ({title}) >>");
        var sb = new StringBuilder("%PDF-1.4\n");
        var offsets = new List<int>();
        for (var i = 0; i < objects.Count; i++)
        {
            offsets.Add(Encoding.ASCII.GetByteCount(sb.ToString()));
            sb.Append($"{i + 1} 0 obj\n{objects[i]}\nendobj\n");
        }
        var xref = Encoding.ASCII.GetByteCount(sb.ToString());
        sb.Append($"xref\n0 {objects.Count + 1}\n0000000000 65535 f \n");
        foreach (var o in offsets) sb.Append($"{o:D10} 00000 n \n");
        sb.Append($"trailer\n<< /Size {objects.Count + 1} /Root 1 0 R{(title is null ? "" : $" /Info {objects.Count} 0 R")} >>\nstartxref\n{xref}\n%%EOF\n");
        return Encoding.ASCII.GetBytes(sb.ToString());
    }

    /// <summary>A Word document: ("Heading1", "Intro") makes a heading paragraph; a null style a body paragraph; plus an optional table.</summary>
    public static byte[] Docx(IEnumerable<(string? Style, string Text)> paragraphs, string[][]? table = null, Action<MainDocumentPart>? customize = null)
    {
        using var ms = new MemoryStream();
        using (var doc = WordprocessingDocument.Create(ms, WordprocessingDocumentType.Document))
        {
            var main = doc.AddMainDocumentPart();
            var body = new Body();
            foreach (var (style, text) in paragraphs)
            {
                var p = new Paragraph();
                if (style is not null) p.Append(new ParagraphProperties(new ParagraphStyleId { Val = style }));
                p.Append(new Run(new Text(text) { Space = SpaceProcessingModeValues.Preserve }));
                body.Append(p);
            }
            if (table is not null)
            {
                var t = new Table();
                foreach (var row in table)
                    t.Append(new TableRow(row.Select(cell => new TableCell(new Paragraph(new Run(new Text(cell)))))));
                body.Append(t);
            }
            main.Document = new Document(body);
            customize?.Invoke(main);
            main.Document.Save();
        }
        return ms.ToArray();
    }
}
