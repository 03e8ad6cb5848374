using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Rag.Hosting;
using Rag.Ingest;

namespace Rag.Api.Hosting;

/// <summary>The HTTP service's OpenTelemetry: ours (<see cref="RagTelemetry"/>), ASP.NET Core's request spans and metrics, and /metrics.</summary>
static class Telemetry
{
    public static void AddRagServerTelemetry(this WebApplicationBuilder builder, TelemetrySettings settings)
    {
        var on = builder.Services.AddRagTelemetry(builder.Configuration, settings.Prometheus,
            tracing: t => t.AddAspNetCoreInstrumentation(),
            metrics: m =>
            {
                m.AddAspNetCoreInstrumentation();
                if (settings.Prometheus) m.AddPrometheusExporter();
            });
        if (on) builder.Services.AddQueueDepthGauge(settings);
    }

    /// <summary>Prometheus's scrape endpoint, without an API key like the health check: serve it on a network only the scraper reaches.</summary>
    public static void MapRagTelemetry(this WebApplication app, TelemetrySettings settings)
    {
        if (settings.Prometheus) app.MapPrometheusScrapingEndpoint("/metrics");
    }
}
