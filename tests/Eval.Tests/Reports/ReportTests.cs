using System.Text.RegularExpressions;
using Rag.Testing;
using Spectre.Console;

namespace Rag.Eval.Tests.Reports;

public class ReportTests
{
    static EvalRunResult Sample() => Fixtures.Run("eval-0123456789abcdef",
        [Fixtures.Question("a", 1, 1, 10, "Denver Broncos"), Fixtures.Question("b", null, null, 25, "Carolina")], generate: true, ks: [1, 5, 20]);

    [Fact]
    public void Html_is_self_contained_with_both_charts_and_escaped_text()
    {
        var html = HtmlReport.Render(Sample());
        Assert.Contains("<svg id=\"chart-recall\"", html);
        Assert.Contains("<svg id=\"chart-latency-retrieval\"", html);
        Assert.Contains("<svg id=\"chart-latency-generation\"", html);
        Assert.Contains("<polyline", html);
        Assert.Contains("class=\"bar\"", html);
        Assert.DoesNotMatch(new Regex("https?://|<link|src=|@import|url\\(", RegexOptions.IgnoreCase), html);
        Assert.Contains("Super Bowl &lt;50&gt;", html);
        Assert.Contains("The Denver Broncos &amp; the &quot;Panthers&quot;.", html);
        Assert.Contains("class=\"miss\"", html); // question b missed its gold document
        Assert.Contains("4 passages</summary>", html);
        Assert.Contains("then: d7, d8", html);
    }

    [Fact]
    public void Recall_curve_and_histogram_numbers()
    {
        // first ranks 1, 3, none, 2 over 4 questions: recall(1) = 1/4, recall(2) = 2/4, recall(3..) = 3/4
        Assert.Equal([0.25, 0.5, 0.75, 0.75], EvalCharts.RecallCurve([1, 3, null, 2], 4));
        Assert.Equal([0.0, 0.0], EvalCharts.RecallCurve([], 2));
        var (edges, counts) = EvalCharts.Histogram([0, 1, 2, 3, 4, 10], bins: 5);
        Assert.Equal([0.0, 2, 4, 6, 8, 10], edges);
        Assert.Equal([2, 2, 1, 0, 1], counts); // max lands in the last bin
        Assert.Equal([3], EvalCharts.Histogram([7, 7, 7]).Counts);
    }

    [Fact]
    public void Markdown_has_a_summary_table_and_the_warnings()
    {
        var md = EvalText.Markdown(Sample());
        Assert.Contains("| Metric | Value | Questions |", md);
        Assert.Contains("| Recall@1 | 0.500 | 2 |", md);
        Assert.Contains("| EM | 0.500 | 2 |", md);
        Assert.Contains("- q.jsonl:7: not valid JSON; skipped", md);
    }

    [Fact]
    public async Task Json_report_round_trips()
    {
        using var dir = new TempDir();
        var run = Sample();
        var runDir = Path.Combine(dir.Path, run.RunId);
        await EvalReports.WriteAllAsync(run, runDir);
        var back = await EvalRunner.LoadReportAsync(run.RunId, dir.Path);
        Assert.Equal(run.Metrics, back.Metrics);
        Assert.Equal(run.Questions.Count, back.Questions.Count);
        Assert.Equal(run.Questions[0].Retrieved, back.Questions[0].Retrieved);
        Assert.Equal(["d9", "d1", "d7", "d8"], back.Questions[1].RankedDocumentIds);
        Assert.Equal(run.Questions[1].FirstGoldRank, back.Questions[1].FirstGoldRank);
        Assert.True(File.Exists(Path.Combine(runDir, "report.md")));
        Assert.True(File.Exists(Path.Combine(runDir, "report.html")));
        Assert.Equal(run.Metrics, (await EvalRunner.LoadReportAsync(Path.Combine(runDir, "report.json"), "/nowhere")).Metrics);
        await Assert.ThrowsAsync<FileNotFoundException>(() => EvalRunner.LoadReportAsync("eval-missing", dir.Path));
        var summaryOnly = EvalJson.FromSummaryJson(EvalJson.SummaryJson(run));
        Assert.Empty(summaryOnly.Questions);
        Assert.Equal(run.Metrics, summaryOnly.Metrics);
    }

    [Fact]
    public void Console_prints_the_table_then_plain_lines()
    {
        var (console, output) = PlainConsole();
        EvalConsole.Render(Sample(), console);
        var text = output.ToString();
        Assert.Contains("│ Recall@1", text);
        var tail = text.TrimEnd('\n').Split('\n').TakeLast(3).ToList();
        Assert.Equal("Errors 0", tail[^1]);
        Assert.Matches(@"^\S+ [0-9.]+$", tail[0]);
    }

    [Fact]
    public void Console_prints_a_comparison()
    {
        var (console, output) = PlainConsole();
        var a = Fixtures.WithMetrics("A", ("Recall@20", 0.96, ""));
        var b = Fixtures.WithMetrics("B", ("Recall@20", 0.90, ""));
        EvalConsole.Render(EvalComparer.Compare(a, b), console);
        Assert.Contains("regression", output.ToString());
        Assert.Contains("-0.060", output.ToString());
    }

    static (IAnsiConsole Console, StringWriter Output) PlainConsole()
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(output),
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 160;
        return (console, output);
    }
}
