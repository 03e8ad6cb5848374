using Rag.Api.Cli;
using Rag.Testing;
using Spectre.Console;

namespace Rag.Api.Tests.Cli;

/// <summary>The `rag` command line, run in-process on a temporary data folder (console redirected, so not in parallel).</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class CliTests
{
    static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        using var output = new StringWriter();
        using var error = new StringWriter();
        Console.SetOut(output);
        Console.SetError(error);
        // Spectre keeps the writer it was created with: point it at this run's output too.
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
        try
        {
            var code = await RagCli.RunAsync(args);
            return (code, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    [Fact]
    public async Task Keys_create_prints_the_key_alone_on_its_last_line_and_keys_revoke_refuses_unknown_ids()
    {
        using var data = new TempDir();
        var (code, output, _) = await RunAsync("keys", "create", "--tenant", "acme", "--data", data.Path);
        Assert.Equal(0, code);
        var last = output.TrimEnd().Split('\n')[^1].Trim();
        Assert.Matches("^rag_[A-Za-z0-9_-]{20,}$", last);

        var (revoke, _, err) = await RunAsync("keys", "revoke", "no-such-key", "--data", data.Path);
        Assert.Equal(1, revoke);
        Assert.Contains("No key with id", err);
    }

    [Fact]
    public async Task Ingest_a_folder_then_ask_and_search()
    {
        using var data = new TempDir();
        using var docs = new TempDir();
        await File.WriteAllTextAsync(Path.Combine(docs.Path, "etna.txt"), Documents.DocumentsEndToEndTests.Volcano);
        await File.WriteAllTextAsync(Path.Combine(docs.Path, "bees.md"), Documents.DocumentsEndToEndTests.Bees);
        await File.WriteAllBytesAsync(Path.Combine(docs.Path, "ignored.png"), [0x89, 0x50, 0x4E, 0x47]);

        var (ingest, _, ingestErr) = await RunAsync("ingest", docs.Path, "--data", data.Path);
        Assert.True(ingest == 0, ingestErr);

        var (ask, answer, askErr) = await RunAsync("ask", "Which volcano is on the east coast of Sicily?", "--data", data.Path);
        Assert.True(ask == 0, askErr);
        Assert.Contains("Etna", answer);

        var (glob, _, globErr) = await RunAsync("ingest", Path.Combine(docs.Path, "*.md"), "--data", data.Path);
        Assert.True(glob == 0, globErr); // the same bytes again: the same document, nothing new
    }

    [Fact]
    public async Task Mistakes_get_one_readable_line_and_a_non_zero_exit_code()
    {
        using var data = new TempDir();
        var (code, _, err) = await RunAsync("ask", "anything", "--tenant", "nobody", "--data", data.Path);
        Assert.Equal(1, code);
        Assert.StartsWith("rag: No tenant named 'nobody'", err.Trim());

        var (missing, _, missingErr) = await RunAsync("ingest", Path.Combine(data.Path, "nope.txt"), "--data", data.Path);
        Assert.Equal(1, missing);
        Assert.Contains("neither a file, a folder nor a glob", missingErr);
    }
}

[CollectionDefinition(nameof(ConsoleCollection), DisableParallelization = true)]
public sealed class ConsoleCollection;
