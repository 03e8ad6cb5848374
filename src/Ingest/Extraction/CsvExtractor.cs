using System.Globalization;
using CsvHelper;

namespace Rag.Ingest;

/// <summary>
/// .csv and .tsv: parsed with CsvHelper (RFC 4180 quoting; the separator is detected, so "a;b" European
/// files work). Each row is a record that repeats the column headers, as for a spreadsheet. Malformed
/// quoting is recovered from and short rows are read as they are, rather than refused.
/// </summary>
public sealed class CsvExtractor(ExtractionLimits? limits = null) : ITextExtractor
{
    readonly ExtractionLimits _limits = limits ?? ExtractionLimits.Default;

    public string Format => "csv";
    public bool IsText => true;
    public IReadOnlyList<string> Extensions { get; } = [".csv", ".tsv", ".tab"];
    public IReadOnlyList<string> ContentTypes { get; } = ["text/csv", "text/tab-separated-values"];

    public bool Sniff(ReadOnlySpan<byte> head) => false;

    public Task<ExtractedText> ExtractAsync(byte[] content, CancellationToken ct = default)
    {
        var (source, _) = TextDecoding.Decode(content);
        var options = new CsvReaderOptions
        {
            HasHeader = false, // the header row goes through TabularText like any other
            Separator = null, // detected from the first lines: ",", ";", tab or "|"
            MalformedData = CsvMalformedDataHandling.Recover,
            FieldCountMismatch = CsvFieldCountHandling.Allow,
        };
        var builder = new TextBuilder(_limits);
        var table = new TabularText(i => $"Column {i + 1}");
        var cells = new List<string?>();
        try
        {
            using var reader = CsvReader.FromText(source, options);
            var rows = 0;
            while (reader.Read())
            {
                if ((++rows & 0xFFF) == 0) ct.ThrowIfCancellationRequested();
                cells.Clear();
                for (var i = 0; i < reader.FieldCount; i++) cells.Add(reader.GetString(i));
                table.Row(builder, cells);
            }
        }
        catch (CsvFormatException e)
        {
            throw new ExtractionException($"The table could not be read: {e.Message}", e);
        }
        table.Finish(builder);
        var result = builder.Build();
        if (TextDecoding.IsBlank(result.Text)) throw new ExtractionException("The table has no values.");
        return Task.FromResult(result);
    }
}
