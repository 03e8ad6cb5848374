using System.Globalization;
using System.Text;
using System.Xml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;

namespace Rag.Ingest;

/// <summary>
/// .xlsx: every worksheet in workbook order. The package and workbook are opened with DocumentFormat.OpenXml;
/// the sheets and shared strings are streamed (one row in memory at a time, so a sheet of a million empty rows
/// costs one pass over its XML and nothing more).
/// The sheet name is the heading; each row is a record that repeats the column headers
/// ("Region: EMEA; Q3 revenue: 4.1M"), so a passage read alone still says what its numbers are.
/// Cells give their cached values (formulas are not recalculated); dates are written as ISO dates.
/// </summary>
public sealed class XlsxExtractor(ExtractionLimits? limits = null) : ITextExtractor
{
    // No DTDs (no entity expansion); the zip check has already bounded the part sizes.
    static readonly XmlReaderSettings ReaderSettings = new() { DtdProcessing = DtdProcessing.Prohibit, IgnoreWhitespace = false, CloseInput = true };

    readonly ExtractionLimits _limits = limits ?? ExtractionLimits.Default;

    public string Format => "xlsx";
    public bool IsText => false;
    public IReadOnlyList<string> Extensions { get; } = [".xlsx", ".xlsm"];
    public IReadOnlyList<string> ContentTypes { get; } = ["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/vnd.ms-excel.sheet.macroenabled.12"];

    // A zip: .docx claims unnamed zips; a spreadsheet is recognised by its name or content type.
    public bool Sniff(ReadOnlySpan<byte> head) => false;

    public Task<ExtractedText> ExtractAsync(byte[] content, CancellationToken ct = default)
    {
        _limits.CheckZip(content, ".xlsx", "an Excel workbook");
        var builder = new TextBuilder(_limits);
        try
        {
            using var stream = new MemoryStream(content, writable: false);
            using var document = SpreadsheetDocument.Open(stream, isEditable: false);
            var workbook = document.WorkbookPart ?? throw new ExtractionException("The .xlsx file has no workbook part: it is not an Excel workbook.");
            builder.Title = document.PackageProperties.Title;
            var strings = SharedStrings(workbook.SharedStringTablePart, ct);
            var dateStyles = DateStyles(workbook.WorkbookStylesPart?.Stylesheet);
            foreach (var sheet in workbook.Workbook?.Sheets?.Elements<Sheet>() ?? [])
            {
                if (sheet.Id?.Value is not { } id || workbook.GetPartById(id) is not WorksheetPart part) continue; // chart sheets
                builder.Heading(1, sheet.Name?.Value ?? "Sheet");
                var table = new TabularText(ColumnLetters);
                foreach (var row in Rows(part, strings, dateStyles, ct)) table.Row(builder, row);
                table.Finish(builder);
            }
        }
        catch (Exception e) when (e is not (ExtractionException or OperationCanceledException))
        {
            throw new ExtractionException($"The .xlsx file is corrupt or not an Excel workbook: {e.Message}", e);
        }
        var result = builder.Build();
        if (TextDecoding.IsBlank(result.Text)) throw new ExtractionException("The workbook has no values in any sheet.");
        return Task.FromResult(result);
    }

    static List<string> SharedStrings(SharedStringTablePart? part, CancellationToken ct)
    {
        var strings = new List<string>();
        if (part is null) return strings;
        using var xml = XmlReader.Create(part.GetStream(FileMode.Open, FileAccess.Read), ReaderSettings);
        var text = new StringBuilder();
        var depth = -1; // depth of the open <si>
        var phonetic = false;
        var positioned = false; // ReadElementContentAsString leaves the reader on the next node already
        while (positioned || xml.Read())
        {
            positioned = false;
            if (xml.NodeType == XmlNodeType.Element)
            {
                switch (xml.LocalName)
                {
                    case "si" when !xml.IsEmptyElement: depth = xml.Depth; text.Clear(); break;
                    case "si": strings.Add(""); break;
                    case "rPh" when !xml.IsEmptyElement: phonetic = true; break; // a reading guide, not the cell's text
                    case "t" when depth >= 0 && !phonetic && !xml.IsEmptyElement:
                        text.Append(xml.ReadElementContentAsString());
                        positioned = true;
                        continue;
                }
            }
            else if (xml.NodeType == XmlNodeType.EndElement)
            {
                if (xml.LocalName == "rPh") phonetic = false;
                else if (xml.LocalName == "si" && xml.Depth == depth)
                {
                    strings.Add(text.ToString());
                    depth = -1;
                    if ((strings.Count & 0xFFF) == 0) ct.ThrowIfCancellationRequested();
                }
            }
        }
        return strings;
    }

    /// <summary>Cell style indexes whose number format is a date (built-in ids 14-22 and 45-47, or a custom format with d/m/y).</summary>
    static HashSet<uint> DateStyles(Stylesheet? styles)
    {
        var custom = styles?.NumberingFormats?.Elements<NumberingFormat>()
            .Where(f => f.NumberFormatId?.Value is not null && IsDateFormat(f.FormatCode?.Value))
            .Select(f => f.NumberFormatId!.Value).ToHashSet() ?? [];
        var result = new HashSet<uint>();
        var index = 0u;
        foreach (var format in styles?.CellFormats?.Elements<CellFormat>() ?? [])
        {
            var id = format.NumberFormatId?.Value ?? 0;
            if (id is >= 14 and <= 22 or >= 45 and <= 47 || custom.Contains(id)) result.Add(index);
            index++;
        }
        return result;
    }

    static bool IsDateFormat(string? code)
    {
        if (code is null) return false;
        // Quoted literals and [colour]/[locale] sections are not format letters.
        var bare = System.Text.RegularExpressions.Regex.Replace(code, "\"[^\"]*\"|\\[[^\\]]*\\]", "");
        return bare.IndexOfAny(['d', 'y', 'D', 'Y']) >= 0;
    }

    /// <summary>
    /// The rows of one sheet as cell values by column, read with a plain XmlReader over the part (the SDK's typed
    /// reader costs ~10 us a row, which a million empty rows turn into seconds); rows without values are skipped.
    /// </summary>
    static IEnumerable<IReadOnlyList<string?>> Rows(WorksheetPart part, List<string> strings, HashSet<uint> dateStyles, CancellationToken ct)
    {
        using var xml = XmlReader.Create(part.GetStream(FileMode.Open, FileAccess.Read), ReaderSettings);
        var cells = new List<string?>();
        var rows = 0;
        string? reference = null, type = null, style = null, value = null;
        var positioned = false; // ReadElementContentAsString leaves the reader on the next node already
        while (positioned || xml.Read())
        {
            positioned = false;
            if (xml.NodeType == XmlNodeType.Element)
            {
                switch (xml.LocalName)
                {
                    case "row":
                        if ((++rows & 0xFFFF) == 0) ct.ThrowIfCancellationRequested();
                        cells.Clear();
                        if (xml.IsEmptyElement) continue;
                        break;
                    case "c":
                        (reference, type, style, value) = (xml.GetAttribute("r"), xml.GetAttribute("t"), xml.GetAttribute("s"), null);
                        if (xml.IsEmptyElement) continue; // a styled empty cell
                        break;
                    case "v" when !xml.IsEmptyElement:
                        value = xml.ReadElementContentAsString();
                        positioned = true;
                        continue;
                    case "is" when !xml.IsEmptyElement: // inline string: its t elements, less phonetic guides
                        value = InlineText(xml.ReadSubtree());
                        continue;
                }
            }
            else if (xml.NodeType == XmlNodeType.EndElement)
            {
                if (xml.LocalName == "c")
                {
                    var text = CellText(type, style, value, strings, dateStyles);
                    if (string.IsNullOrWhiteSpace(text)) continue;
                    var column = reference is not null ? ColumnIndex(reference) : cells.Count;
                    while (cells.Count < column) cells.Add(null);
                    if (cells.Count == column) cells.Add(text); else cells[column] = text;
                }
                else if (xml.LocalName == "row" && cells.Count > 0)
                {
                    yield return cells;
                    cells.Clear();
                }
            }
        }
    }

    static string InlineText(XmlReader inline)
    {
        var sb = new StringBuilder();
        using (inline)
        {
            var phonetic = 0;
            var positioned = false;
            while (positioned || inline.Read())
            {
                positioned = false;
                if (inline.NodeType == XmlNodeType.Element && inline.LocalName == "rPh" && !inline.IsEmptyElement) phonetic++;
                else if (inline.NodeType == XmlNodeType.EndElement && inline.LocalName == "rPh") phonetic--;
                else if (inline.NodeType == XmlNodeType.Element && inline.LocalName == "t" && phonetic == 0 && !inline.IsEmptyElement)
                {
                    sb.Append(inline.ReadElementContentAsString());
                    positioned = true;
                }
            }
        }
        return sb.ToString();
    }

    static string? CellText(string? type, string? style, string? raw, List<string> strings, HashSet<uint> dateStyles)
    {
        if (raw is null) return null;
        switch (type)
        {
            case "s": return int.TryParse(raw, out var i) && i >= 0 && i < strings.Count ? strings[i] : null;
            case "b": return raw == "1" ? "TRUE" : "FALSE";
            case null or "n":
                if (style is not null && uint.TryParse(style, out var s) && dateStyles.Contains(s)
                    && double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var serial)
                    && serial is > -657435 and < 2958466)
                {
                    var date = DateTime.FromOADate(serial);
                    return date.TimeOfDay == TimeSpan.Zero ? date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : date.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
                }
                return raw;
            default: return raw; // inlineStr (from <is>), formula strings (str), errors (#DIV/0!)
        }
    }

    /// <summary>"C12" -> 2 (0-based).</summary>
    static int ColumnIndex(string reference)
    {
        var column = 0;
        foreach (var c in reference)
        {
            if (c is >= 'A' and <= 'Z') column = column * 26 + (c - 'A' + 1);
            else if (c is >= 'a' and <= 'z') column = column * 26 + (c - 'a' + 1);
            else break;
            if (column > 16384) return 16383; // past XFD: not a real column
        }
        return Math.Max(0, column - 1);
    }

    /// <summary>0 -> "Column A", 27 -> "Column AB".</summary>
    static string ColumnLetters(int index)
    {
        var name = "";
        for (var n = index + 1; n > 0; n = (n - 1) / 26) name = (char)('A' + (n - 1) % 26) + name;
        return "Column " + name;
    }
}
