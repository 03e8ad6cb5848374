using System.CommandLine;
using Rag.Api.Apis;
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
        ask.SetAction((parse, ct) => CliHost.RunAsync(parse,
            throughService: async (client, services, token) =>
            {
                var tenant = await CliHost.TenantAsync(services, parse.GetValue(CliHost.Tenant)!, create: false, token);
                await foreach (var (text, done) in client.AskAsync(tenant.Id, Required(parse.GetValue(question)), parse.GetValue(K), parse.GetValue(Mode), token))
                    if (done is not null) RenderAnswer(done);
                    else Console.Write(text);
                return 0;
            },
            alone: async (services, token) =>
            {
                var tenant = await CliHost.TenantAsync(services, parse.GetValue(CliHost.Tenant)!, create: false, token);
                var request = new ChatRequest(Required(parse.GetValue(question)), K: parse.GetValue(K), Mode: parse.GetValue(Mode), Remember: false);
                await foreach (var e in services.GetRequiredService<ChatService>().AskAsync(tenant.Id, request, token))
                    if (e is ChatToken t) Console.Write(t.Text);
                    else if (e is ChatCompleted { Result: var r }) RenderAnswer(ChatApiResponse.From(r));
                return 0;
            }, ct));
        return ask;
    }

    /// <summary>After the streamed answer: its notices, its citations and how it was made.</summary>
    static void RenderAnswer(ChatApiResponse r)
    {
        Console.WriteLine();
        foreach (var notice in r.Notices) AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(notice)}[/]");
        var table = new Table().AddColumns("#", "document", "where", "passage");
        foreach (var c in r.Citations)
            table.AddRow($"[[{c.Number}]]", Markup.Escape(c.DocumentTitle),
                c.PageLabel ?? $"chars {c.StartChar}-{c.EndChar}", Markup.Escape(c.Snippet));
        if (r.Citations.Count > 0) AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"[grey]{r.Mode} answer, {r.RetrievalMode} retrieval, " +
            $"{r.Timings.RetrievalMs:F0} ms retrieval, {r.Timings.GenerationMs:F0} ms generation[/]");
    }

    public static Command Search()
    {
        var (search, query) = QueryCommand("search", "Show the passages retrieval finds for a query.", "query", "The query, in quotes.");
        search.SetAction((parse, ct) => CliHost.RunAsync(parse,
            throughService: async (client, services, token) =>
            {
                var tenant = await CliHost.TenantAsync(services, parse.GetValue(CliHost.Tenant)!, create: false, token);
                var result = await client.SearchAsync(tenant.Id, Required(parse.GetValue(query)), parse.GetValue(K), parse.GetValue(Mode), token);
                RenderPassages(result.Notice, result.Results.Select(h => (h.Score, h.DocumentTitle, h.Text)));
                return 0;
            },
            alone: async (services, token) =>
            {
                var tenant = await CliHost.TenantAsync(services, parse.GetValue(CliHost.Tenant)!, create: false, token);
                var result = await services.GetRequiredService<IRetriever>().RetrieveAsync(
                    new RetrievalRequest(Required(parse.GetValue(query)), new SearchFilter(tenant.Id), parse.GetValue(K), parse.GetValue(Mode)), token);
                RenderPassages(result.Notice, result.Passages.Select(p => (p.Score, p.DocumentTitle, p.Chunk.Text)));
                return 0;
            }, ct));
        return search;
    }

    static void RenderPassages(string? notice, IEnumerable<(float Score, string Title, string Text)> passages)
    {
        if (notice is not null) AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(notice)}[/]");
        var table = new Table().AddColumns("rank", "score", "document", "passage");
        foreach (var ((score, title, text), i) in passages.Select((p, i) => (p, i)))
            table.AddRow($"{i + 1}", $"{score:F4}", Markup.Escape(title), Markup.Escape(Shorten(text, 160)));
        AnsiConsole.Write(table);
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
