using System.Text;

namespace Rag.Ingest.Tests;

public class XlsxExtractorTests
{
    static readonly string?[][] Sales =
    [
        ["Region", "Q3 revenue", "Manager"],
        ["EMEA", "4.1M", "Ada Lovelace"],
        ["APAC", "2.7M", null],
        [null, null, null],
        ["Americas", "5.0M", "Grace Hopper"],
    ];

    [Fact]
    public async Task EverySheetIsASectionAndEveryRowRepeatsTheHeaders()
    {
        var bytes = OfficeSamples.Xlsx([("Sales", Sales), ("Staff", [["Name", "Office"], ["Linus", "Helsinki"]])], title: "Quarterly figures", emptyRowsAfter: 0);
        var result = await new XlsxExtractor().ExtractAsync(bytes);

        Assert.Equal(
            "Sales\n\nRegion: EMEA; Q3 revenue: 4.1M; Manager: Ada Lovelace\n\nRegion: APAC; Q3 revenue: 2.7M\n\n" +
            "Region: Americas; Q3 revenue: 5.0M; Manager: Grace Hopper\n\nStaff\n\nName: Linus; Office: Helsinki",
            result.Text);
        Assert.Equal(["Sales", "Staff"], result.Sections.Select(s => s.HeadingPath));
        Assert.Equal("Quarterly figures", result.Title);
        Assert.Equal(["Region: EMEA", "Name: Linus"], result.Records.Select(r => result.Text[r.Start..r.End].Split("; ")[0]));
    }

    [Fact]
    public async Task ColumnsWithoutAHeaderAreNamedByLetterAndAHeaderOnlySheetIsListed()
    {
        var bytes = OfficeSamples.Xlsx(("Odd", [["Key", null], ["k1", "orphan value"]]), ("Empty table", [["Only", "Headers"]]));
        var text = (await new XlsxExtractor().ExtractAsync(bytes)).Text;
        Assert.Contains("Key: k1; Column B: orphan value", text);
        Assert.Contains("Only; Headers", text);
    }

    [Fact]
    public async Task ChunksHoldWholeRowsAndRepeatNone()
    {
        var rows = new List<string?[]> { new[] { "City", "Country", "Headcount", "Notes" } };
        for (var i = 0; i < 120; i++) rows.Add([$"City{i}", $"Country{i % 7}", $"{i * 3}", $"Opened in year {1990 + i % 30}. Staff are happy."]);
        var extracted = await new XlsxExtractor().ExtractAsync(OfficeSamples.Xlsx(("Offices", rows.ToArray())));
        var chunks = new TextChunker(new ChunkingOptions { MaxTokens = 48, OverlapTokens = 12 }).Chunk(extracted).ToList();

        Assert.True(chunks.Count > 10);
        var seen = new List<string>();
        foreach (var chunk in chunks)
        {
            Assert.Equal("Offices", chunk.HeadingPath);
            if (chunk.Text == "Offices") continue;
            foreach (var row in chunk.Text.Split("\n\n"))
            {
                Assert.Matches(@"^City: City\d+; Country: Country\d; Headcount: \d+; Notes: Opened in year \d{4}\. Staff are happy\.$", row);
                seen.Add(row);
            }
        }
        Assert.Equal(120, seen.Count); // every row once: none split, none repeated as overlap
        Assert.Equal(120, seen.Distinct().Count());
    }

    [Fact]
    public async Task AMillionEmptyRowsCostOnePassAndYieldOnlyTheValues()
    {
        var bytes = OfficeSamples.XlsxWithEmptyRows(Sales, emptyRows: 1_000_000);
        var result = await new XlsxExtractor().ExtractAsync(bytes);
        Assert.Equal(3, result.Text.Split("\n\n").Count(p => p.StartsWith("Region: ", StringComparison.Ordinal)));
        Assert.Contains("Region: EMEA; Q3 revenue: 4.1M; Manager: Ada Lovelace", result.Text);
    }

    [Fact]
    public async Task TruncatedOrForeignZipsFailWithAClearMessage()
    {
        var bytes = OfficeSamples.Xlsx(("Sales", Sales));
        var truncated = await Assert.ThrowsAsync<ExtractionException>(() => new XlsxExtractor().ExtractAsync(OfficeSamples.Truncated(bytes)));
        Assert.Contains(".xlsx file is corrupt or not an Excel workbook (a truncated", truncated.Message);
        var word = await Assert.ThrowsAsync<ExtractionException>(() => new XlsxExtractor().ExtractAsync(SampleFiles.Docx([(null, "hello")])));
        Assert.Contains("not an Excel workbook", word.Message);
    }
}

public class CsvExtractorTests
{
    static Task<ExtractedText> Extract(string text) => new CsvExtractor().ExtractAsync(Encoding.UTF8.GetBytes(text));

    [Fact]
    public async Task RowsRepeatTheHeaderAndQuotedFieldsStayWhole()
    {
        var result = await Extract("Region,Q3 revenue,Comment\r\nEMEA,4.1M,\"strong, steady\"\r\nAPAC,2.7M,\"said \"\"ok\"\"\nthen left\"\r\n,,\r\n");
        Assert.Equal("Region: EMEA; Q3 revenue: 4.1M; Comment: strong, steady\n\nRegion: APAC; Q3 revenue: 2.7M; Comment: said \"ok\" then left", result.Text);
        Assert.Equal(new RecordBlock(0, result.Text.Length), Assert.Single(result.Records));
    }

    [Fact]
    public async Task SemicolonsAndTabsAreDetected()
    {
        Assert.Equal("Stadt: Köln; Einwohner: 1,08 Mio", (await Extract("Stadt;Einwohner\nKöln;1,08 Mio\n")).Text);
        Assert.Equal("Name: Ada; Role: Engineer, Analyst", (await Extract("Name\tRole\nAda\tEngineer, Analyst\n")).Text);
    }

    [Fact]
    public async Task ExtraFieldsAreNamedByPositionAndAnEmptyTableIsRefused()
    {
        Assert.Equal("A: 1; B: 2; Column 3: 3", (await Extract("A,B\n1,2,3\n")).Text);
        await Assert.ThrowsAsync<ExtractionException>(() => Extract(",,\n,,\n"));
    }

    [Fact]
    public async Task HeaderRepetitionPastTheTextCapFailsEarly()
    {
        var header = string.Join(',', Enumerable.Range(0, 50).Select(i => $"a fairly long column header number {i}"));
        var rows = string.Concat(Enumerable.Repeat("\n" + string.Join(',', Enumerable.Range(0, 50).Select(i => i.ToString())), 2000));
        var e = await Assert.ThrowsAsync<ExtractionException>(() => new CsvExtractor(new ExtractionLimits { MaxChars = 100_000 }).ExtractAsync(Encoding.UTF8.GetBytes(header + rows)));
        Assert.Contains("Rag:Limits:MaxExtractedChars", e.Message);
    }
}
