using System.CommandLine;
using Rag.Chat;
using Rag.Retriever;
using Spectre.Console;

namespace Rag.Api.Cli;

static class AskCommands
{
    static readonly Option<int> K = new("--k") { Description = "How many passages to retrieve.", DefaultValueFactory = _ => 5 };
    static readonly Option<RetrievalMode> Mode = new("--mode") { Description = "hybrid, dense or bm25.", DefaultValueFactory = _ => RetrievalMode.Hybrid };

    public static Command Ask()
    {
        var (ask, question) = QueryCommand("ask", "Ask a question: streams the answer, then lists its citations.", "question", "The question, in quotes.");
        ask.SetAction((parse, ct) => CliHost.RunAsync(parse, async (services, token) =>
        {
            var tenant = await CliHost.TenantAsync(services, parse.GetValue(CliHost.Tenant)!, create: false, token);
            var request = new ChatRequest(Required(parse.GetValue(question)), K: parse.GetValue(K), Mode: parse.GetValue(Mode), Remember: false);
            await foreach (var e in services.GetRequiredService<ChatService>().AskAsync(tenant.Id, request, token))
            {
                if (e is ChatToken t) Console.Write(t.Text);
                else if (e is ChatCompleted { Result: var r })
                {
                    Console.WriteLine();
                    foreach (var notice in r.Notices) AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(notice)}[/]");
                    var table = new Table().AddColumns("#", "document", "where", "passage");
                    foreach (var c in r.Citations)
                        table.AddRow($"[[{c.Number}]]", Markup.Escape(c.DocumentTitle),
                            c.Page is { } page ? $"p. {page}" : $"chars {c.StartChar}-{c.EndChar}", Markup.Escape(c.Snippet));
                    if (r.Citations.Count > 0) AnsiConsole.Write(table);
                    AnsiConsole.MarkupLine($"[grey]{r.Mode.ToString().ToLowerInvariant()} answer, {r.RetrievalMode.ToString().ToLowerInvariant()} retrieval, " +
                        $"{r.Timings.RetrievalMs:F0} ms retrieval, {r.Timings.GenerationMs:F0} ms generation[/]");
                }
            }
            return 0;
        }, ct));
        return ask;
    }

    public static Command Search()
    {
        var (search, query) = QueryCommand("search", "Show the passages retrieval finds for a query.", "query", "The query, in quotes.");
        search.SetAction((parse, ct) => CliHost.RunAsync(parse, async (services, token) =>
        {
            var tenant = await CliHost.TenantAsync(services, parse.GetValue(CliHost.Tenant)!, create: false, token);
            var result = await services.GetRequiredService<IRetriever>().RetrieveAsync(
                new RetrievalRequest(Required(parse.GetValue(query)), new SearchFilter(tenant.Id), parse.GetValue(K), parse.GetValue(Mode)), token);
            if (result.Notice is { } notice) AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(notice)}[/]");
            var table = new Table().AddColumns("rank", "score", "document", "passage");
            foreach (var (p, i) in result.Passages.Select((p, i) => (p, i)))
                table.AddRow($"{i + 1}", $"{p.Score:F4}", Markup.Escape(p.DocumentTitle), Markup.Escape(Shorten(p.Chunk.Text, 160)));
            AnsiConsole.Write(table);
            return 0;
        }, ct));
        return search;
    }

    /// <summary>A command taking one quoted text and the tenant, --k and --mode options.</summary>
    static (Command Command, Argument<string> Text) QueryCommand(string name, string description, string argument, string argumentDescription)
    {
        var command = new Command(name, description);
        var text = new Argument<string>(argument) { Description = argumentDescription };
        command.Arguments.Add(text);
        command.Options.Add(CliHost.Tenant);
        command.Options.Add(K);
        command.Options.Add(Mode);
        return (command, text);
    }

    static string Required(string? text) =>
        string.IsNullOrWhiteSpace(text) ? throw new CliException("The question must not be empty.") : text;

    static string Shorten(string text, int max) =>
        text.ReplaceLineEndings(" ") is var line && line.Length <= max ? line : line[..max] + "…";
}
