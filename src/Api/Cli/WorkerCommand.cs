using System.CommandLine;
using Rag.Api.Hosting;

namespace Rag.Api.Cli;

static class WorkerCommand
{
    /// <summary>An ingest worker on its own, against the configured (server-mode) stores; several can share one queue.</summary>
    public static Command Worker()
    {
        var worker = new Command("worker", "Run an ingest worker without the HTTP API (server mode: several workers share one queue).");
        worker.SetAction(async (parse, ct) =>
        {
            var builder = Host.CreateApplicationBuilder(parse.GetValue(CliHost.Data) is { } data ? [$"--{RagOptions.Section}:DataDirectory={data}"] : []);
            builder.Services.AddHostedService<RuntimeStarter>();
            builder.Services.AddRagCore(builder.Configuration, runWorker: true);
            using var host = builder.Build();
            try
            {
                await host.RunAsync(ct);
                return 0;
            }
            catch (InvalidOperationException e)
            {
                Console.Error.WriteLine($"rag: {e.Message}");
                return 1;
            }
        });
        return worker;
    }
}
