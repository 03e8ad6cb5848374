using System.Text;

namespace Rag.Ingest;

/// <summary>
/// A table row as text that says what each value is: "Region: EMEA; Q3 revenue: 4.1M". The first
/// row with any value is the header row; a column without a header is named by its position.
/// </summary>
internal sealed class TabularText(Func<int, string> columnName)
{
    string[]? _headers;
    int _rows;

    /// <summary>Writes one row (cell values by 0-based column; null or blank = empty) as a record of the builder.</summary>
    public void Row(TextBuilder builder, IReadOnlyList<string?> cells)
    {
        if (cells.All(string.IsNullOrWhiteSpace)) return;
        if (_headers is null)
        {
            _headers = cells.Select(c => Clean(c ?? "")).ToArray();
            return;
        }
        var sb = new StringBuilder();
        for (var i = 0; i < cells.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(cells[i])) continue;
            var header = i < _headers.Length && _headers[i].Length > 0 ? _headers[i] : columnName(i);
            if (sb.Length > 0) sb.Append("; ");
            sb.Append(header).Append(": ").Append(Clean(cells[i]!));
        }
        builder.Record(sb.ToString());
        _rows++;
    }

    /// <summary>A table that is only a header row is still text: its values, listed.</summary>
    public void Finish(TextBuilder builder)
    {
        if (_headers is not null && _rows == 0) builder.Record(string.Join("; ", _headers.Where(h => h.Length > 0)));
    }

    static string Clean(string value) => string.Join(' ', value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
