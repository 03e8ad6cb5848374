using System.CommandLine;
using Rag.Api.Hosting;
using Rag.Hosting;
using Rag.Neural.Builtin;
using Rag.Retriever;
using Spectre.Console;

namespace Rag.Api.Cli;

static class ModelCommands
{
    public static Command Models()
    {
        var models = new Command("models", "Show or check the configured models.");

        var show = new Command("show", "Show which models are configured (without loading them).");
        show.SetAction(parse =>
        {
            var options = CliHost.Configured(parse);
            var table = new Table().AddColumns("role", "setting", "value");
            string Encoder(string? spec) => spec is null ? "none: BM25-only retrieval" : $"{spec}\n{BuiltinEncoders.WeightsSource(spec)}";
            table.AddRow("retrieval", "", Markup.Escape(RetrievalLabels.Describe(RetrievalMode.Hybrid,
                options.Models.ActiveQuestionEncoder is { } q ? BuiltinEncoders.DisplayName(q) : null)));
            table.AddRow("question encoder", "Rag:Models:QuestionEncoder", Markup.Escape(Encoder(options.Models.ActiveQuestionEncoder)));
            table.AddRow("context encoder", "Rag:Models:ContextEncoder", Markup.Escape(options.Models.ActiveContextEncoder == options.Models.ActiveQuestionEncoder
                ? "(the question encoder: one shared bi-encoder)" : Encoder(options.Models.ActiveContextEncoder)));
            table.AddRow("generator", "Rag:Models:Generator", Markup.Escape(options.Models.Generator
                ?? (options.RemoteGenerator.BaseUrl is { } url ? $"remote {url} ({options.RemoteGenerator.Model})" : "(none: extractive answers)")));
            table.AddRow("device", "Rag:Models:Device", options.Models.Device);
            table.AddRow("data", "Rag:DataDirectory / RAG_DATA / --data", Markup.Escape(options.DataPath));
            AnsiConsole.Write(table);
            return 0;
        });

        var check = new Command("check", "Load every configured model and report its shape, or the first error.");
        check.SetAction((parse, ct) => CliHost.RunAsync(parse, (services, _) =>
        {
            var runtime = services.GetRequiredService<RagRuntime>();
            if (runtime.QuestionEncoder is { } q) Console.WriteLine($"question encoder: ok, {runtime.EncoderName}, {q.Dimension} dimensions, up to {q.MaxTokens} tokens");
            else Console.WriteLine("question encoder: none configured (BM25-only retrieval)");
            if (runtime.ContextEncoder is { } c && !ReferenceEquals(c, runtime.QuestionEncoder)) Console.WriteLine($"context encoder: ok, {c.Dimension} dimensions");
            if (runtime.Generator is { } g) Console.WriteLine($"generator: ok, {g.Architecture}, context {g.ContextLength} tokens");
            else Console.WriteLine("generator: no local model configured");
            return Task.FromResult(0);
        }, ct, RuntimeRole.Models)); // the models only: no index, so it runs beside a service too

        models.Subcommands.Add(show);
        models.Subcommands.Add(check);
        return models;
    }
}
