namespace Rag.Eval;

/// <summary>Writes a run's three reports into its folder.</summary>
public static class EvalReports
{
    public static async Task WriteAllAsync(EvalRunResult result, string directory, CancellationToken ct = default)
    {
        Directory.CreateDirectory(directory);
        await EvalJson.WriteAsync(result, Path.Combine(directory, EvalRunner.JsonReportName), ct);
        await File.WriteAllTextAsync(Path.Combine(directory, EvalRunner.MarkdownReportName), EvalText.Markdown(result), ct);
        await File.WriteAllTextAsync(Path.Combine(directory, EvalRunner.HtmlReportName), HtmlReport.Render(result), ct);
    }
}
