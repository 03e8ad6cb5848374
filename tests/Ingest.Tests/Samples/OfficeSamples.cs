using System.IO.Compression;
using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using A = DocumentFormat.OpenXml.Drawing;
using P = DocumentFormat.OpenXml.Presentation;

namespace Rag.Ingest.Tests;

/// <summary>Spreadsheets, slide decks and other zip-based samples, generated in code with known content.</summary>
public static class OfficeSamples
{
    /// <summary>A workbook: each sheet a name and rows of cells; a cell that parses as a number is stored as one, text as a shared string.</summary>
    public static byte[] Xlsx(params (string Name, string?[][] Rows)[] sheets) => Xlsx(sheets, title: null, emptyRowsAfter: 0);

    /// <param name="emptyRowsAfter">Rows with only an empty styled cell appended to the first sheet (written streaming).</param>
    public static byte[] Xlsx((string Name, string?[][] Rows)[] sheets, string? title, int emptyRowsAfter)
    {
        using var ms = new MemoryStream();
        using (var doc = SpreadsheetDocument.Create(ms, SpreadsheetDocumentType.Workbook))
        {
            if (title is not null) doc.PackageProperties.Title = title;
            var workbook = doc.AddWorkbookPart();
            workbook.Workbook = new Workbook(new Sheets());
            var sst = workbook.AddNewPart<SharedStringTablePart>();
            sst.SharedStringTable = new SharedStringTable();
            var strings = new Dictionary<string, int>();
            uint sheetId = 1;
            foreach (var (name, rows) in sheets)
            {
                var part = workbook.AddNewPart<WorksheetPart>();
                using (var writer = OpenXmlWriter.Create(part))
                {
                    writer.WriteStartElement(new Worksheet());
                    writer.WriteStartElement(new SheetData());
                    for (var r = 0; r < rows.Length; r++)
                    {
                        writer.WriteStartElement(new Row { RowIndex = (uint)(r + 1) });
                        for (var c = 0; c < rows[r].Length; c++)
                        {
                            if (rows[r][c] is not { } value) continue;
                            var reference = $"{(char)('A' + c)}{r + 1}";
                            if (double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _))
                                writer.WriteElement(new Cell { CellReference = reference, CellValue = new CellValue(value) });
                            else
                            {
                                if (!strings.TryGetValue(value, out var index))
                                {
                                    index = strings[value] = strings.Count;
                                    sst.SharedStringTable.AppendChild(new SharedStringItem(new Text(value)));
                                }
                                writer.WriteElement(new Cell { CellReference = reference, DataType = CellValues.SharedString, CellValue = new CellValue(index.ToString()) });
                            }
                        }
                        writer.WriteEndElement();
                    }
                    if (sheetId == 1)
                        for (var r = rows.Length; r < rows.Length + emptyRowsAfter; r++)
                        {
                            writer.WriteStartElement(new Row { RowIndex = (uint)(r + 1) });
                            writer.WriteElement(new Cell { CellReference = $"A{r + 1}", StyleIndex = 0 });
                            writer.WriteEndElement();
                        }
                    writer.WriteEndElement();
                    writer.WriteEndElement();
                }
                workbook.Workbook.Sheets!.AppendChild(new Sheet { Id = workbook.GetIdOfPart(part), SheetId = sheetId++, Name = name });
            }
            sst.SharedStringTable.Save();
            workbook.Workbook.Save();
        }
        return ms.ToArray();
    }

    /// <summary>A slide deck: each slide a title (null: none), body paragraphs and optional speaker notes.</summary>
    public static byte[] Pptx(params (string? Title, string[] Body, string? Notes)[] slides)
    {
        using var ms = new MemoryStream();
        using (var doc = PresentationDocument.Create(ms, PresentationDocumentType.Presentation))
        {
            var presentation = doc.AddPresentationPart();
            presentation.Presentation = new P.Presentation(new P.SlideIdList());
            uint id = 256;
            foreach (var (title, body, notes) in slides)
            {
                var slide = presentation.AddNewPart<SlidePart>();
                var tree = new P.ShapeTree();
                if (title is not null) tree.Append(Shape(P.PlaceholderValues.Title, [title]));
                tree.Append(Shape(null, body));
                slide.Slide = new P.Slide(new P.CommonSlideData(tree));
                if (notes is not null)
                {
                    var notesPart = slide.AddNewPart<NotesSlidePart>();
                    notesPart.NotesSlide = new P.NotesSlide(new P.CommonSlideData(new P.ShapeTree(
                        Shape(P.PlaceholderValues.SlideImage, []), Shape(P.PlaceholderValues.Body, [notes]))));
                }
                presentation.Presentation.SlideIdList!.Append(new P.SlideId { Id = id++, RelationshipId = presentation.GetIdOfPart(slide) });
            }
            presentation.Presentation.Save();
        }
        return ms.ToArray();

        static P.Shape Shape(P.PlaceholderValues? placeholder, string[] paragraphs)
        {
            var application = new P.ApplicationNonVisualDrawingProperties();
            if (placeholder is { } type) application.Append(new P.PlaceholderShape { Type = type });
            var shape = new P.Shape(
                new P.NonVisualShapeProperties(new P.NonVisualDrawingProperties { Id = 1, Name = "s" }, new P.NonVisualShapeDrawingProperties(), application),
                new P.ShapeProperties());
            var text = new P.TextBody(new A.BodyProperties());
            foreach (var p in paragraphs) text.Append(new A.Paragraph(new A.Run(new A.Text(p))));
            shape.Append(text);
            return shape;
        }
    }

    /// <summary>The first <paramref name="keep"/> share of the bytes: a file cut off in transfer.</summary>
    public static byte[] Truncated(byte[] file, double keep = 0.6) => file[..(int)(file.Length * keep)];

    /// <summary>A zip with the given entries (name, text), deflated; for hand-made packages and zip bombs.</summary>
    public static byte[] Zip(params (string Name, string Text)[] entries)
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, text) in entries)
            {
                using var stream = zip.CreateEntry(name, CompressionLevel.SmallestSize).Open();
                stream.Write(Encoding.UTF8.GetBytes(text));
            }
        }
        return ms.ToArray();
    }

    /// <summary>
    /// A one-sheet workbook written as raw parts, for sizes the SDK's writer is too slow to make in a test: the
    /// rows given, then <paramref name="emptyRows"/> rows holding one styled empty cell each.
    /// </summary>
    public static byte[] XlsxWithEmptyRows(string?[][] rows, int emptyRows)
    {
        const string main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
        const string rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            void Entry(string name, Action<TextWriter> write)
            {
                using var writer = new StreamWriter(zip.CreateEntry(name, CompressionLevel.Fastest).Open(), new UTF8Encoding(false));
                write(writer);
            }
            Entry("[Content_Types].xml", w => w.Write(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">" +
                "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>" +
                "<Default Extension=\"xml\" ContentType=\"application/xml\"/>" +
                "<Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>" +
                "<Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/></Types>"));
            Entry("_rels/.rels", w => w.Write(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">" +
                $"<Relationship Id=\"rId1\" Type=\"{rel}/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"));
            Entry("xl/_rels/workbook.xml.rels", w => w.Write(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">" +
                $"<Relationship Id=\"rId1\" Type=\"{rel}/worksheet\" Target=\"worksheets/sheet1.xml\"/></Relationships>"));
            Entry("xl/workbook.xml", w => w.Write(
                $"<?xml version=\"1.0\" encoding=\"UTF-8\"?><workbook xmlns=\"{main}\" xmlns:r=\"{rel}\"><sheets><sheet name=\"Big\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"));
            Entry("xl/worksheets/sheet1.xml", w =>
            {
                w.Write($"<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet xmlns=\"{main}\"><sheetData>");
                for (var r = 0; r < rows.Length; r++)
                {
                    w.Write($"<row r=\"{r + 1}\">");
                    for (var c = 0; c < rows[r].Length; c++)
                        if (rows[r][c] is { } value)
                            w.Write($"<c r=\"{(char)('A' + c)}{r + 1}\" t=\"inlineStr\"><is><t>{System.Security.SecurityElement.Escape(value)}</t></is></c>");
                    w.Write("</row>");
                }
                for (var r = rows.Length + 1; r <= rows.Length + emptyRows; r++) w.Write($"<row r=\"{r}\"><c r=\"A{r}\" s=\"0\"/></row>");
                w.Write("</sheetData></worksheet>");
            });
        }
        return ms.ToArray();
    }
}
