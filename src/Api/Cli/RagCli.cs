using System.CommandLine;
using Rag.Api.Hosting;
using Rag.Hosting;

namespace Rag.Api.Cli;

/// <summary>
/// The `rag` command line. With no command, or `serve`, it runs the HTTP service and hands every
/// other argument (--urls, --Rag:Models:Generator=..., ...) to ASP.NET's configuration.
/// </summary>
public static class RagCli
{
    /// <summary>
    /// How long a command may take to stop once asked to (Ctrl+C, SIGTERM). A command that honours its token ends as soon
    /// as it has; the bound is for a training checkpoint (about 270 MB for arctic-embed-xs), which took 2-9 s to write here.
    /// </summary>
    internal static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] == "serve" || IsHostArgument(args[0]))
            return await ServeAsync(args.Length > 0 && args[0] == "serve" ? args[1..] : args);

        var root = new RootCommand("rag: open-book question answering over your documents. With no command, serves the HTTP API.");
        root.Options.Add(CliHost.Data); // recursive: every command takes --data
        root.Subcommands.Add(new Command("serve", "Run the HTTP service (the default). Takes --urls and --data."));
        root.Subcommands.Add(DocumentCommands.Ingest());
        root.Subcommands.Add(AskCommands.Ask());
        root.Subcommands.Add(AskCommands.Search());
        root.Subcommands.Add(DocumentCommands.Docs());
        root.Subcommands.Add(KeyCommands.Keys());
        root.Subcommands.Add(ModelCommands.Models());
        root.Subcommands.Add(EvalCommands.Eval());
        root.Subcommands.Add(WorkerCommand.Worker());
        root.Subcommands.Add(TrainCommands.Train());
        // Configuration arguments (--Rag:Limits:MaxUploadBytes=...) go to every command's host, as they go to `serve`'s.
        var (settings, rest) = SplitSettings(args);
        CliHost.Settings.Value = settings;
        // On Ctrl+C or SIGTERM a command gets this long to stop through its token before the process ends: two seconds
        // (the library's default) cut `rag train encoder`'s final checkpoint short, and a checkpoint is 100s of MB.
        return await root.Parse(rest).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = StopGrace });
    }

    /// <summary>`--Section:Key=value` arguments (a configuration key: a colon before the '='), and the command's own arguments.</summary>
    internal static (string[] Settings, string[] CommandArguments) SplitSettings(IReadOnlyList<string> args)
    {
        static bool IsSetting(string arg) =>
            arg.StartsWith("--", StringComparison.Ordinal) && arg.IndexOf('=') is var equals and > 2 && arg.IndexOf(':', 2, equals - 2) > 2;
        return ([.. args.Where(IsSetting)], [.. args.Where(a => !IsSetting(a))]);
    }

    static bool IsHostArgument(string arg) =>
        arg.StartsWith("--", StringComparison.Ordinal) && arg is not ("--help" or "--version");

    static async Task<int> ServeAsync(string[] args)
    {
        var app = RagServiceExtensions.BuildRagServer(RagOptions.TranslateArguments(args));
        try
        {
            await app.RunAsync();
            return 0;
        }
        catch (InvalidOperationException e)
        {
            // Start-up configuration errors (a missing model folder, an unreachable database): one clear line.
            Console.Error.WriteLine($"rag: {e.Message}");
            return 1;
        }
    }
}
