using Rag.Api.Cli;
using Rag.Testing;
using Spectre.Console;

namespace Rag.Api.Tests.Cli;

/// <summary>The `rag` command line, run in-process on a temporary data folder (console redirected, so not in parallel).</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class CliTests
{
    internal static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        using var output = new StringWriter();
        using var error = new StringWriter();
        Console.SetOut(output);
        Console.SetError(error);
        // Spectre keeps the writer it was created with: point it at this run's output too.
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
        AnsiConsole.Console.Profile.Width = 250; // wide enough that table cells (document ids) are not wrapped
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
        await File.WriteAllBytesAsync(Path.Combine(docs.Path, "ignored.mp4"), [0x00, 0x00, 0x00, 0x18]);

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

/// <summary>`rag docs reingest`: it queues only; `rag worker --drain` (or the service) ingests.</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class CliReingestTests
{
    static Task<(int Code, string Out, string Err)> RunAsync(params string[] args) => CliTests.RunAsync(args);

    [Fact]
    public async Task Reingest_queues_one_or_all_documents_and_the_worker_ingests_them_again()
    {
        using var data = new TempDir();
        using var docs = new TempDir();
        await File.WriteAllTextAsync(Path.Combine(docs.Path, "etna.txt"), Documents.DocumentsEndToEndTests.Volcano);
        await File.WriteAllBytesAsync(Path.Combine(docs.Path, "broken.docx"), "PK\x03\x04 not really a Word document"u8.ToArray());
        var (ingest, _, _) = await RunAsync("ingest", docs.Path, "--data", data.Path);
        Assert.Equal(2, ingest); // one document failed

        var (all, allOut, allErr) = await RunAsync("docs", "reingest", "--all", "--status", "failed", "--data", data.Path);
        Assert.True(all == 0, allErr);
        Assert.Contains("Queued 1 failed document(s)", allOut);
        Assert.Contains("rag worker --drain", allOut);
        var (_, listed, _) = await RunAsync("docs", "list", "--data", data.Path);
        Assert.Single(listed.Split('\n'), l => l.Contains(" queued "));

        var (drain, drained, drainErr) = await RunAsync("worker", "--drain", "--data", data.Path);
        Assert.True(drain == 0, drainErr);
        Assert.Contains("1 job(s) finished", drained);
        (_, listed, _) = await RunAsync("docs", "list", "--data", data.Path);
        Assert.Contains("failed: The .docx file is corrupt", listed); // failed again, with its error
        Assert.DoesNotContain(" queued ", listed);

        var etna = System.Text.RegularExpressions.Regex.Match(listed.Split('\n').Single(l => l.Contains(" etna ")), "[0-9a-f]{32}").Value;
        var (one, oneOut, oneErr) = await RunAsync("docs", "reingest", etna, "--data", data.Path);
        Assert.True(one == 0, oneErr);
        Assert.StartsWith($"Queued {etna} for ingestion again (job ", oneOut);
        (drain, _, drainErr) = await RunAsync("worker", "--drain", "--data", data.Path);
        Assert.True(drain == 0, drainErr);
        var (ask, answer, askErr) = await RunAsync("search", "stratovolcano Sicily", "--data", data.Path);
        Assert.True(ask == 0, askErr);
        Assert.Contains("Etna", answer);

        var (every, everyOut, _) = await RunAsync("docs", "reingest", "--all", "--data", data.Path);
        Assert.Equal(0, every);
        Assert.Contains("Queued 2 document(s)", everyOut);
    }

    [Theory]
    [InlineData("rag: No document 'nope' in tenant", "docs", "reingest", "nope")]
    [InlineData("rag: Give a document ID, or --all", "docs", "reingest")]
    [InlineData("rag: Give either a document ID or --all, not both.", "docs", "reingest", "abc", "--all")]
    [InlineData("rag: --status goes with --all.", "docs", "reingest", "abc", "--status", "failed")]
    [InlineData("rag: Unknown document status 'broken'; allowed: queued, processing, indexed, failed.", "docs", "reingest", "--all", "--status", "broken")]
    public async Task Reingest_mistakes_get_one_line_and_exit_code_1(string expected, params string[] args)
    {
        using var data = new TempDir();
        var (created, _, createErr) = await RunAsync("keys", "create", "--data", data.Path); // the default tenant exists
        Assert.True(created == 0, createErr);
        var (code, output, err) = await RunAsync([.. args, "--data", data.Path]);
        Assert.Equal(1, code);
        Assert.StartsWith(expected, err.Trim());
        Assert.Single(err.Trim().Split('\n'));
        Assert.Equal("", output);
    }

    [Theory]
    [InlineData("'maybe'", "--hard-negatives", "maybe")]
    [InlineData("rag: --holdout-articles 2 leaves nothing to train on: the dataset has 2 articles", "--holdout-articles", "2")]
    [InlineData("rag: the batch needs at least 2 questions", "--batch", "1")]
    [InlineData("rag: --rounds re-mines the hard negatives with each round's model: use it with --hard-negatives encoder", "--rounds", "2")]
    [InlineData("rag: --rounds must be at least 1", "--rounds", "0", "--hard-negatives", "encoder")]
    public async Task Train_encoder_mistakes_are_refused_before_any_training(string expected, params string[] args)
    {
        using var dir = new TempDir();
        var squad = Path.Combine(dir.Path, "dev.json");
        File.WriteAllText(squad, """
            {"data": [
              {"title": "Paris", "paragraphs": [{"context": "The Eiffel Tower stands in Paris.", "qas": [{"id": "a", "question": "Where is the Eiffel Tower?", "answers": [{"text": "Paris", "answer_start": 27}]}]}]},
              {"title": "Rome", "paragraphs": [{"context": "The Colosseum stands in Rome.", "qas": [{"id": "b", "question": "Where is the Colosseum?", "answers": [{"text": "Rome", "answer_start": 24}]}]}]}
            ]}
            """);
        var output = Path.Combine(dir.Path, "out");
        var (code, _, err) = await RunAsync(["train", "encoder", "--dataset", "squad:" + squad, "--out", output, .. args]);
        Assert.NotEqual(0, code);
        Assert.Contains(expected, err);
        Assert.False(Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any(), "nothing is written for a refused run");
    }

    [Fact]
    public async Task Train_encoder_rounds_mine_each_rounds_negatives_with_the_last_rounds_model_as_a_second_run_from_it_would()
    {
        using var dir = new TempDir();
        var squad = Path.Combine(dir.Path, "dev.json");
        string[] places = ["Paris", "Rome", "Oslo", "Lima", "Cairo", "Delhi"];
        string[] things = ["tower", "bridge", "market", "museum", "harbour", "library", "garden", "station"];
        var articles = places.Select((place, a) => new
        {
            title = place,
            paragraphs = things.Skip(a % 3).Take(4).Select((thing, p) => new
            {
                context = $"The old {thing} of {place} opened in year {1800 + 10 * a + p}, and people still visit it.",
                qas = new[]
                {
                    new { id = $"{a}-{p}-a", question = $"When did the {thing} of {place} open?", answers = new[] { new { text = $"{1800 + 10 * a + p}", answer_start = 0 } } },
                    new { id = $"{a}-{p}-b", question = $"Which year saw the {place} {thing} open?", answers = new[] { new { text = $"{1800 + 10 * a + p}", answer_start = 0 } } },
                },
            }).ToArray(),
        }).ToArray();
        File.WriteAllText(squad, System.Text.Json.JsonSerializer.Serialize(new { data = articles }));
        var tiny = Path.Combine(dir.Path, "tiny");
        TinyModels.WriteBertEncoder(tiny, kind: "sentence-transformer");
        string[] common = ["train", "encoder", "--dataset", "squad:" + squad, "--hard-negatives", "encoder", "--batch", "4", "--lr", "1e-3",
            "--holdout-articles", "2", "--max-passage-tokens", "48"];

        var rounds = Path.Combine(dir.Path, "rounds");
        var (code, output, err) = await RunAsync([.. common, "--base", tiny, "--out", rounds, "--rounds", "2"]);
        Assert.True(code == 0, err);
        Assert.Contains("round 2 of 2", output);
        Assert.Contains("round-1", output);
        Assert.Matches(@"round 1\s*[│|]\s*0\.\d{3}", output); // each round's held-out scores
        Assert.Matches(@"round 2\s*[│|]\s*0\.\d{3}", output);

        // By hand: one run from the base, then one from its model (whose hard negatives it mines).
        var first = Path.Combine(dir.Path, "first");
        var second = Path.Combine(dir.Path, "second");
        Assert.Equal(0, (await RunAsync([.. common, "--base", tiny, "--out", first])).Code);
        Assert.Equal(0, (await RunAsync([.. common, "--base", first, "--out", second])).Code);
        static byte[] Weights(params string[] path) => File.ReadAllBytes(Path.Combine([.. path, "model.safetensors"]));
        Assert.Equal(Weights(first), Weights(rounds, "round-1"));
        Assert.Equal(Weights(second), Weights(rounds));
        Assert.NotEqual(Weights(first), Weights(second));
        Assert.False(Directory.Exists(Path.Combine(rounds, "round-1", "round-1")), "a round's folder is not copied into the next");
    }
}

[CollectionDefinition(nameof(ConsoleCollection), DisableParallelization = true)]
public sealed class ConsoleCollection;
