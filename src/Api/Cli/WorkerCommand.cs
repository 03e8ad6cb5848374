using System.CommandLine;
using Rag.Ingest.Hosting;

namespace Rag.Api.Cli;

static class WorkerCommand
{
    static readonly Option<bool> Drain = new(IngestHost.DrainFlag) { Description = "Exit once no job is ready (a batch ingest) instead of waiting for more." };

    /// <summary>The standalone ingest worker (the same program as `dotnet run --project src/Ingest`), inside the `rag` binary.</summary>
    public static Command Worker()
    {
        var worker = new Command("worker", "Run an ingest worker without the HTTP API (server mode: several workers share one queue).");
        worker.Options.Add(Drain);
        worker.SetAction((parse, ct) =>
        {
            if (Rag.Api.Hosting.LocalServiceInfo.Find(CliHost.Configured(parse).DataPath) is { } service)
            {
                Console.Error.WriteLine($"rag: The service at {service.Url} runs on this data folder and its worker ingests the queue; stop it to run a worker here.");
                return Task.FromResult(1);
            }
            var args = new List<string>(CliHost.DataArguments(parse));
            if (parse.GetValue(Drain)) args.Add(IngestHost.DrainFlag);
            return IngestHost.RunAsync(args, ct);
        });
        return worker;
    }
}
