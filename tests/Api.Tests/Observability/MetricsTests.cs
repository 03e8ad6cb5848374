using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Rag.Generator;
using Rag.Ingest;
using Rag.Retriever;

namespace Rag.Api.Tests.Observability;

/// <summary>
/// The service's instruments, read two ways: a MeterListener (what any OpenTelemetry SDK subscribes to) and the
/// Prometheus scrape endpoint. The worker is off, so the queue's depth is known: what was uploaded and not yet drained.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class MetricsTests
{
    sealed record Measured(string Name, double Value, Dictionary<string, object?> Tags);

    [Fact]
    public async Task Queue_depth_follows_the_queue_and_ingest_retrieval_and_generation_are_measured_and_scraped()
    {
        using var generator = new LoopbackServer(LoopbackServer.OpenAiStream("It flows", " into the North Sea", " at Cuxhaven [1]."));
        using var factory = new RagApiFactory(new Dictionary<string, string?>
        {
            ["Rag:RemoteGenerator:BaseUrl"] = generator.Endpoint + "/v1",
            ["Rag:RemoteGenerator:Model"] = "fake",
            ["Rag:Telemetry:Prometheus"] = "true",
            ["Rag:Telemetry:QueueSampleSeconds"] = "0.1",
            ["Rag:Worker:Enabled"] = "false",
        });
        var tenant = await factory.NewTenantAsync("measured");

        var measured = new ConcurrentQueue<Measured>(); // counters and histograms
        var gauges = new ConcurrentQueue<Measured>(); // what RecordObservableInstruments collects
        using var listener = new MeterListener();
        string[] ours = [IngestTelemetry.Name, RetrieverTelemetry.Name, GeneratorTelemetry.Name];
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ours.Contains(instrument.Meter.Name)) l.EnableMeasurementEvents(instrument);
        };
        static void Record(ConcurrentQueue<Measured> into, Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var copy = new Dictionary<string, object?>();
            foreach (var tag in tags) copy[tag.Key] = tag.Value;
            into.Enqueue(new Measured(instrument.Name, value, copy));
        }
        listener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i.IsObservable ? gauges : measured, i, v, t));
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(measured, i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(measured, i, v, t));
        listener.Start();

        await QueueDepthAsync(listener, gauges, queued: 0);
        var rivers = new[] { "The Loire is the longest river in France.", "The Elbe flows into the North Sea at Cuxhaven." };
        foreach (var (text, i) in rivers.Select((t, i) => (t, i)))
        {
            using var response = await tenant.Http.PostAsJsonAsync("/v1/documents", new { title = $"River {i}", text });
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }
        await tenant.Http.UploadAsync("broken.pdf", "%PDF-1.4 not really a pdf"u8.ToArray(), "application/pdf"); // accepted; fails in the pipeline
        await QueueDepthAsync(listener, gauges, queued: 3);
        await ScrapedAsync(factory, @"rag_queue_depth\{[^}]*rag_job_status=""queued""[^}]*\} 3(\s|$)");

        Assert.Equal(3, await factory.Services.GetRequiredService<IngestWorker>().DrainAsync());
        await QueueDepthAsync(listener, gauges, queued: 0);
        var ingested = measured.Where(m => m.Name == "rag.ingest.documents").ToList();
        Assert.Equal(2, ingested.Where(m => Equals(m.Tags["rag.ingest.outcome"], "indexed")).Sum(m => m.Value));
        Assert.Equal(1, ingested.Where(m => Equals(m.Tags["rag.ingest.outcome"], "failed")).Sum(m => m.Value));
        Assert.Equal(2, measured.Where(m => m.Name == "rag.ingest.passages").Sum(m => m.Value)); // one short passage each

        await tenant.Http.SearchAsync("longest river in France");
        using (var chat = await tenant.Http.PostAsJsonAsync("/v1/chat", new { question = "Where does the Elbe flow into the sea?" }))
            Assert.True(chat.IsSuccessStatusCode, await chat.Content.ReadAsStringAsync());
        var retrievals = measured.Where(m => m.Name == "rag.retrieval.duration").ToList();
        Assert.Equal(2, retrievals.Count); // the search and the chat's
        Assert.All(retrievals, m =>
        {
            Assert.Equal("bm25", m.Tags["rag.retrieval.mode"]); // the mode used: tests run without an encoder
            Assert.InRange(m.Value, 1e-7, 60);
        });
        var generation = Assert.Single(measured, m => m.Name == "rag.generation.duration");
        Assert.Equal("generated", generation.Tags["rag.answer.mode"]);
        Assert.InRange(generation.Value, 1e-7, 60);
        Assert.Equal(3, Assert.Single(measured, m => m.Name == "rag.generation.tokens").Value); // one per streamed piece
        Assert.Equal(3 / generation.Value, Assert.Single(measured, m => m.Name == "rag.generation.speed").Value, 6);

        await ScrapedAsync(factory, @"rag_ingest_documents_total\{[^}]*rag_ingest_outcome=""indexed""[^}]*\} 2(\s|$)");
        await ScrapedAsync(factory, @"rag_retrieval_duration_seconds_bucket\{[^}]*le=""0.005""[^}]*\} \d"); // buckets in seconds, not the SDK's millisecond defaults
        await ScrapedAsync(factory, @"rag_retrieval_duration_seconds_count\{[^}]*rag_retrieval_mode=""bm25""[^}]*\} 2(\s|$)");
        await ScrapedAsync(factory, @"rag_generation_duration_seconds_count\{[^}]*rag_answer_mode=""generated""[^}]*\} 1(\s|$)");
        await ScrapedAsync(factory, @"rag_generation_tokens_total\{[^}]*\} 3(\s|$)");
        await ScrapedAsync(factory, @"rag_generation_speed_per_second_count\{[^}]*\} 1(\s|$)");
        await ScrapedAsync(factory, @"http_server_request_duration_seconds_count\{"); // ASP.NET Core's own, through its instrumentation
    }

    [Fact]
    public async Task Telemetry_is_off_by_default_no_provider_no_metrics_endpoint()
    {
        using var factory = new RagApiFactory();
        using var client = factory.CreateClient();
        using var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Null(factory.Services.GetService<TracerProvider>());
        Assert.Null(factory.Services.GetService<MeterProvider>());
    }

    /// <summary>Collects the gauges until rag.queue.depth reports <paramref name="queued"/> queued jobs (it samples in the background).</summary>
    static async Task QueueDepthAsync(MeterListener listener, ConcurrentQueue<Measured> gauges, int queued)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            gauges.Clear();
            listener.RecordObservableInstruments();
            var depth = gauges.Where(m => m.Name == "rag.queue.depth").ToList();
            if (depth.Any(m => Equals(m.Tags["rag.job.status"], "queued") && m.Value == queued)
                && depth.Any(m => Equals(m.Tags["rag.job.status"], "leased") && m.Value == 0))
                return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"queue depth never reported {queued} queued; last: {string.Join(", ", depth.Select(m => $"{m.Tags["rag.job.status"]}={m.Value}"))}");
            await Task.Delay(50);
        }
    }

    /// <summary>Scrapes /metrics (anonymously, as Prometheus does) until a line matches.</summary>
    static async Task ScrapedAsync(RagApiFactory factory, string pattern)
    {
        using var client = factory.CreateClient();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var text = await client.GetStringAsync("/metrics");
            if (Regex.IsMatch(text, pattern, RegexOptions.Multiline)) return;
            if (DateTime.UtcNow > deadline) Assert.Fail($"/metrics has no line matching {pattern}:\n{text}");
            await Task.Delay(100);
        }
    }
}
