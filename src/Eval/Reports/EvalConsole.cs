using Spectre.Console;

namespace Rag.Eval;

/// <summary>What the `rag eval` commands print: a Spectre table, then the plain "Metric value" lines.</summary>
public static class EvalConsole
{
    public static void Render(EvalRunResult result, IAnsiConsole console)
    {
        var header = new Table().Border(TableBorder.None).HideHeaders().AddColumn("").AddColumn("");
        header.AddRow("[grey]run[/]", Markup.Escape(result.RunId));
        header.AddRow("[grey]dataset[/]", Markup.Escape($"{result.DatasetName} ({result.Questions.Count} of {result.QuestionCount} questions, {result.CorpusSize} documents)"));
        header.AddRow("[grey]mode[/]", Markup.Escape(result.Mode + (result.ModeNotice is null ? "" : $" ({result.ModeNotice})")));
        if (result.Directory is not null) header.AddRow("[grey]reports[/]", Markup.Escape(result.Directory));
        if (result.Warnings.Count > 0) header.AddRow("[yellow]warnings[/]", Markup.Escape($"{result.Warnings.Count} dataset lines skipped or flagged (report.md lists them)"));
        console.Write(header);

        var table = new Table().Border(TableBorder.Rounded).AddColumn("Metric").AddColumn(new TableColumn("Value").RightAligned()).AddColumn(new TableColumn("Questions").RightAligned());
        foreach (var m in result.Metrics)
            table.AddRow(Markup.Escape(m.Name), Markup.Escape(EvalText.Format(m) + (m.Unit is "" or "count" ? "" : " " + m.Unit)), m.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        console.Write(table);
        console.WriteLine();
        // Plain lines last, so `| tail` and scripts see them without table borders.
        console.Profile.Out.Writer.Write(EvalText.Summary(result));
    }

    public static void Render(EvalComparison comparison, IAnsiConsole console)
    {
        foreach (var note in comparison.Notes) console.MarkupLine("[yellow]" + Markup.Escape(note) + "[/]");
        var table = new Table().Border(TableBorder.Rounded).AddColumn("Metric")
            .AddColumn(new TableColumn(Markup.Escape(comparison.RunA)).RightAligned())
            .AddColumn(new TableColumn(Markup.Escape(comparison.RunB)).RightAligned())
            .AddColumn(new TableColumn("Delta").RightAligned()).AddColumn("");
        foreach (var d in comparison.Deltas)
            table.AddRow(Markup.Escape(d.Name), d.A is { } a ? EvalText.Format(a, d.Unit) : "-", d.B is { } b ? EvalText.Format(b, d.Unit) : "-",
                Markup.Escape(EvalText.SignedDelta(d)), d.Regression ? "[red]regression[/]" : "");
        console.Write(table);
        console.MarkupLine(comparison.HasRegression
            ? $"[red]{comparison.Deltas.Count(d => d.Regression)} regression(s)[/]"
            : "[green]no regressions[/]");
    }

    /// <summary>Runs <paramref name="run"/> under a Spectre progress display fed by its IProgress&lt;EvalProgress&gt;.</summary>
    public static async Task<T> WithProgressAsync<T>(IAnsiConsole console, Func<IProgress<EvalProgress>, Task<T>> run)
    {
        T result = default!;
        await console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var tasks = new Dictionary<EvalPhase, ProgressTask>();
                var gate = new object();
                var progress = new SynchronousProgress(p =>
                {
                    lock (gate)
                    {
                        if (p.Phase is EvalPhase.Done) { foreach (var t in tasks.Values) t.StopTask(); return; }
                        if (!tasks.TryGetValue(p.Phase, out var task))
                            tasks[p.Phase] = task = ctx.AddTask(p.Phase.ToString(), maxValue: Math.Max(1, p.Total));
                        task.MaxValue = Math.Max(1, p.Total);
                        task.Value = p.Completed;
                        task.Description = Markup.Escape(p.Message);
                    }
                });
                result = await run(progress);
            });
        return result;
    }

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to a thread pool and could arrive out of order).</summary>
    sealed class SynchronousProgress(Action<EvalProgress> report) : IProgress<EvalProgress>
    {
        public void Report(EvalProgress value) => report(value);
    }
}
