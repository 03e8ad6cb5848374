using System.CommandLine;
using Rag.Api.Apis;
using Rag.Eval;
using Rag.Hosting;
using Rag.Retriever;
using Spectre.Console;

namespace Rag.Api.Cli;

static class EvalCommands
{
    public static Command Eval()
    {
        var eval = new Command("eval", "Run a question set through retrieval (and generation) and report the metrics.");

        var run = new Command("run", "Run an evaluation; stopped midway, the same command continues where it stopped.");
        var dataset = new Option<string>("--dataset") { Description = "squad:PATH, jsonl:PATH or beir:DIR.", Required = true };
        var limit = new Option<int?>("--limit") { Description = "Ask only the first N questions." };
        var ks = new Option<string>("--k") { Description = "Cut-offs, comma separated.", DefaultValueFactory = _ => "1,5,20,100" };
        var mode = new Option<RetrievalMode?>("--mode") { Description = "bm25, dense or hybrid (default: hybrid with an encoder, bm25 without)." };
        var generate = new Option<bool>("--generate") { Description = "Also generate answers and score EM/F1." };
        var concurrency = new Option<int>("--concurrency") { Description = "Questions in flight.", DefaultValueFactory = _ => Environment.ProcessorCount };
        foreach (var option in new Option[] { dataset, limit, ks, mode, generate, concurrency }) run.Options.Add(option);
        run.SetAction((parse, ct) => CliHost.RunAsync(parse,
            throughService: async (client, services, token) =>
            {
                var output = services.GetRequiredService<EvalOptions>().OutputDirectory;
                // The run is the operator's, in the default tenant (as an admin key's run would be).
                var owner = await CliHost.TenantAsync(services, Hosting.Bootstrap.DefaultTenant, create: true, token);
                var request = new EvalStartRequest(AbsoluteSpec(parse.GetValue(dataset)!), parse.GetValue(limit), ParseKs(parse.GetValue(ks)!),
                    parse.GetValue(mode), parse.GetValue(generate), parse.GetValue(concurrency));
                var result = await EvalConsole.WithProgressAsync(AnsiConsole.Console, async progress =>
                {
                    var view = await client.StartEvalAsync(owner.Id, request, token);
                    while (view.Status == "running")
                    {
                        var phase = Enum.TryParse<EvalPhase>(view.Phase, ignoreCase: true, out var p) ? p : EvalPhase.Loading;
                        progress.Report(new EvalProgress(phase, (int)(view.Progress * 1000), 1000, view.Message ?? phase.ToString()));
                        await Task.Delay(500, token);
                        view = await client.GetEvalAsync(owner.Id, view.Id, token);
                    }
                    progress.Report(new EvalProgress(EvalPhase.Done, 1, 1, view.Status));
                    if (view.Status != "completed") throw new CliException($"Eval run {view.Id} {view.Status}: {view.Error}");
                    return await Guard(() => EvalRunner.LoadReportAsync(view.Id, output, token));
                });
                EvalConsole.Render(result, AnsiConsole.Console);
                return 0;
            },
            alone: async (services, token) =>
            {
                var options = new EvalRunOptions
                {
                    DatasetSpec = parse.GetValue(dataset)!,
                    Limit = parse.GetValue(limit),
                    Ks = ParseKs(parse.GetValue(ks)!),
                    Mode = parse.GetValue(mode),
                    Generate = parse.GetValue(generate),
                    Concurrency = parse.GetValue(concurrency),
                    OutputDirectory = services.GetRequiredService<EvalOptions>().OutputDirectory,
                };
                var runner = services.GetRequiredService<EvalRunner>();
                var result = await Guard(() => EvalConsole.WithProgressAsync(AnsiConsole.Console, p => runner.RunAsync(options, p, token)));
                EvalConsole.Render(result, AnsiConsole.Console);
                return 0;
            }, ct));

        var compare = new Command("compare", "Compare two runs: deltas per metric, regressions flagged (exit code 3 when any).");
        var a = new Argument<string>("run-a") { Description = "Run id or report.json path." };
        var b = new Argument<string>("run-b") { Description = "Run id or report.json path." };
        compare.Arguments.Add(a);
        compare.Arguments.Add(b);
        compare.SetAction((parse, ct) => CliHost.RunAsync(parse, async (services, token) =>
        {
            var output = services.GetRequiredService<EvalOptions>().OutputDirectory;
            var runA = await Guard(() => EvalRunner.LoadReportAsync(parse.GetValue(a)!, output, token));
            var runB = await Guard(() => EvalRunner.LoadReportAsync(parse.GetValue(b)!, output, token));
            var comparison = EvalComparer.Compare(runA, runB, new CompareThresholds());
            EvalConsole.Render(comparison, AnsiConsole.Console);
            return comparison.HasRegression ? 3 : 0;
        }, ct, RuntimeRole.Metadata)); // report files only: runs beside a service too

        eval.Subcommands.Add(run);
        eval.Subcommands.Add(compare);
        return eval;
    }

    /// <summary>The spec with its path made absolute: the service resolves paths from its own working directory, not this one.</summary>
    static string AbsoluteSpec(string spec) =>
        spec.IndexOf(':') is var colon and > 0 && spec[(colon + 1)..] is { Length: > 0 } path
            ? spec[..(colon + 1)] + Path.GetFullPath(path)
            : spec;

    static IReadOnlyList<int> ParseKs(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var ks = new List<int>();
        foreach (var part in parts)
            ks.Add(int.TryParse(part, out var k) && k > 0 ? k : throw new CliException($"--k takes positive whole numbers separated by commas, not '{text}'."));
        return ks.Count > 0 ? ks : throw new CliException("--k needs at least one cut-off.");
    }

    /// <summary>The harness's own errors (a missing file, a bad spec) are the user's to fix: one line, not a stack.</summary>
    static async Task<T> Guard<T>(Func<Task<T>> body)
    {
        try { return await body(); }
        catch (Exception e) when (e is ArgumentException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException)
        {
            throw new CliException(e.Message);
        }
    }
}
