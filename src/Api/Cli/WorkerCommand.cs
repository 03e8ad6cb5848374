using System.CommandLine;
using Rag.Hosting;
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
            var args = new List<string>();
            if (parse.GetValue(CliHost.Data) is { } data) args.Add(RagOptions.DataArgument(data));
            if (parse.GetValue(Drain)) args.Add(IngestHost.DrainFlag);
            return IngestHost.RunAsync(args, ct);
        });
        return worker;
    }
}
