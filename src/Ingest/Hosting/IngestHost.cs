using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Rag.Hosting;

namespace Rag.Ingest.Hosting;

/// <summary>
/// The standalone ingest worker: `dotnet run --project src/Ingest` (or `rag worker`) against the
/// configured stores. Several workers share one queue; with --drain it exits once the queue is empty.
/// </summary>
public static class IngestHost
{
    public const string DrainFlag = "--drain";

    public static async Task<int> Main(string[] args)
    {
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
        return await RunAsync(args, stop.Token);
    }

    /// <summary>Runs until stopped (or, with --drain, until no job is ready); configuration errors print one line and return 1.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        if (args.Contains("--help") || args.Contains("-h"))
        {
            Console.WriteLine("""
                Ingest worker: leases ingest jobs from the configured store and writes chunks to the indexes.
                Options: --data DIR (the data folder; or RAG_DATA), --drain (exit when the queue is empty),
                and any setting as --Rag:Section:Key=value or Rag__Section__Key environment variables.
                """);
            return 0;
        }
        var drain = args.Contains(DrainFlag);
        var builder = Host.CreateApplicationBuilder(RagOptions.TranslateArguments([.. args.Where(a => a != DrainFlag)]));
        AddWorker(builder.Services, builder.Configuration, runInBackground: !drain);
        using var host = builder.Build();
        // Resolved now: RunAsync disposes the host (and its services) on its way out, also when starting failed.
        var runtime = host.Services.GetRequiredService<RagRuntime>();
        try
        {
            if (!drain)
            {
                await host.RunAsync(ct);
                return 0;
            }
            await runtime.InitializeAsync(ct);
            var finished = await host.Services.GetRequiredService<IngestWorker>().DrainAsync(ct);
            Console.WriteLine($"Ingest worker: queue drained, {finished} job(s) finished.");
            return 0;
        }
        catch (InvalidOperationException e)
        {
            Console.Error.WriteLine($"rag-ingest: {e.Message}");
            return 1;
        }
        finally
        {
            await runtime.DisposeAsync();
        }
    }

    /// <summary>The runtime (context encoder only) and the ingest services; the worker runs as a hosted service unless draining.</summary>
    public static void AddWorker(IServiceCollection services, Microsoft.Extensions.Configuration.IConfiguration configuration, bool runInBackground)
    {
        services.AddHostedService<RuntimeStarter>(); // first: stores open before the worker leases a job
        var options = services.AddRagRuntime(configuration, RuntimeRole.IngestWorker);
        // The host waits for the worker's grace period, and a little more for releasing what it could not finish.
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(options.Worker.ShutdownGraceSeconds + 10));
        services.AddRagIngest(options, runInBackground);
        if (services.AddRagTelemetry(configuration)) services.AddQueueDepthGauge(options.Telemetry); // OTLP only: a worker serves no /metrics
    }
}
