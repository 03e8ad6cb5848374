using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Rag.Hosting;

/// <summary>The Rag:Telemetry section. OTLP needs no setting here: it is on when OTEL_EXPORTER_OTLP_ENDPOINT is set.</summary>
public sealed class TelemetrySettings
{
    /// <summary>Serve Prometheus's scrape endpoint at /metrics (the HTTP service only). Off by default.</summary>
    public bool Prometheus { get; set; }

    /// <summary>How often the rag.queue.depth gauge reads the job queue, while something collects it.</summary>
    public double QueueSampleSeconds { get; set; } = 5;
}

/// <summary>
/// OpenTelemetry for every process of the service. Our libraries trace and measure through System.Diagnostics
/// (RetrieverTelemetry, IngestTelemetry, GeneratorTelemetry), each source and meter named Rag.&lt;Library&gt;, so one
/// wildcard subscribes to all of them. Off unless an exporter is on: then nothing is sampled or aggregated at all.
/// </summary>
public static class RagTelemetry
{
    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    const string Ours = "Rag.*";

    // The SDK's default buckets (0 to 10000) suit milliseconds; our latencies are in seconds and speeds in tokens/s.
    static readonly double[] SecondsBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
    static readonly double[] SpeedBuckets = [1, 2, 5, 10, 20, 30, 50, 75, 100, 200, 500, 1000];

    /// <summary>
    /// Traces and metrics exported by OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (the exporter reads the other OTEL_*
    /// variables itself); metrics alone when only <paramref name="prometheus"/> is on, for the host to add its exporter in
    /// <paramref name="metrics"/>. False, with nothing registered, when neither is on.
    /// </summary>
    public static bool AddRagTelemetry(this IServiceCollection services, IConfiguration configuration, bool prometheus = false,
        Action<TracerProviderBuilder>? tracing = null, Action<MeterProviderBuilder>? metrics = null)
    {
        var otlp = !string.IsNullOrWhiteSpace(configuration[OtlpEndpointKey]);
        if (!otlp && !prometheus) return false;
        var otel = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : "rag"));
        if (otlp)
        {
            otel.WithTracing(t =>
            {
                t.AddSource(Ours);
                tracing?.Invoke(t);
                t.AddOtlpExporter();
            });
        }
        otel.WithMetrics(m =>
        {
            m.AddMeter(Ours);
            m.AddView(instrument => !instrument.Meter.Name.StartsWith("Rag.", StringComparison.Ordinal) || instrument is not Histogram<double> ? null
                : instrument.Unit switch
                {
                    "s" => new ExplicitBucketHistogramConfiguration { Boundaries = SecondsBuckets },
                    "{token}/s" => new ExplicitBucketHistogramConfiguration { Boundaries = SpeedBuckets },
                    _ => null,
                });
            metrics?.Invoke(m);
            if (otlp) m.AddOtlpExporter();
        });
        return true;
    }
}
