using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using OpenTelemetry.Trace;
using Rag.Neural.Builtin;

namespace Rag.Api.Tests.Observability;

/// <summary>
/// Traces of the real service with OTLP on (pointed at a stand-in collector) and an in-memory exporter beside it:
/// an upload's request, its storing and its ingest steps, linked parent to child across the queue; a chat's
/// retrieval and generation under its request; and what reaches the collector.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class TracingTests
{
    [Fact]
    public async Task An_upload_is_one_trace_from_its_request_through_storing_to_every_ingest_step_and_a_chat_traces_retrieval_and_generation()
    {
        var spans = new LockedList<Activity>();
        using var collector = new LoopbackServer();
        var settings = collector.OtlpSettings();
        settings["Rag:Models:QuestionEncoder"] = BuiltinEncoders.Default.Spec; // a dense index, so ingest has an embed step
        using var generator = new LoopbackServer(LoopbackServer.OpenAiStream("It ends", " in the Black Sea", " [1]."));
        settings["Rag:RemoteGenerator:BaseUrl"] = generator.Endpoint + "/v1";
        settings["Rag:RemoteGenerator:Model"] = "fake";
        using var factory = new RagApiFactory(settings, services: s => s.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(spans)));
        var tenant = await factory.NewTenantAsync("traced");

        var upload = Spans.NewTrace();
        var text = "The Danube flows through ten countries.\n\nIt rises in the Black Forest and ends in the Black Sea.";
        DocumentView document;
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/documents") { Content = Api.Multipart("danube.txt", Encoding.UTF8.GetBytes(text), "text/plain") })
        {
            request.Headers.Add("traceparent", upload.Header);
            using var response = await tenant.Http.SendAsync(request);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            document = (await response.Content.ReadFromJsonAsync<UploadView>(Json.Web))!.Document;
        }
        var indexed = await tenant.Http.WaitForIngestAsync(document.Id);
        Assert.Equal("indexed", indexed.Status);

        var trace = (await Spans.WaitForAsync(spans, s => s.Any(a => a.OperationName == "ingest" && a.TraceId == upload.Trace), "the ingest span of the upload"))
            .Where(s => s.TraceId == upload.Trace).ToList();
        var post = Assert.Single(trace, s => s.Kind == ActivityKind.Server);
        Assert.Equal(upload.Parent, post.ParentSpanId);
        Assert.Equal("POST", post.GetTagItem("http.request.method"));
        var stored = Assert.Single(trace, s => s.OperationName == "document.upload");
        Assert.Equal(post.SpanId, stored.ParentSpanId);
        Assert.Equal(document.Id, stored.GetTagItem("rag.document.id"));
        Assert.Equal(false, stored.GetTagItem("rag.upload.duplicate"));
        // The job ran later on the worker, yet its span is the upload's child: the trace context went with the job.
        var ingest = Assert.Single(trace, s => s.OperationName == "ingest");
        Assert.Equal(stored.SpanId, ingest.ParentSpanId);
        Assert.Equal(ActivityKind.Consumer, ingest.Kind);
        Assert.Equal(document.Id, ingest.GetTagItem("rag.document.id"));
        Assert.Equal("indexed", ingest.GetTagItem("rag.ingest.outcome"));
        Assert.True(ingest.StartTimeUtc >= stored.StartTimeUtc + stored.Duration, "ingest starts after the upload is stored");
        var steps = new[] { "ingest.extract", "ingest.chunk", "ingest.embed", "ingest.index" }
            .Select(name => Assert.Single(trace, s => s.OperationName == name)).ToList();
        Assert.All(steps, step => Assert.Equal(ingest.SpanId, step.ParentSpanId));
        for (var i = 1; i < steps.Count; i++)
            Assert.True(steps[i].StartTimeUtc >= steps[i - 1].StartTimeUtc + steps[i - 1].Duration, $"{steps[i].OperationName} starts after {steps[i - 1].OperationName} ends");
        Assert.Equal(indexed.ChunkCount, steps[1].GetTagItem("rag.ingest.passages"));

        var chat = Spans.NewTrace();
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat") { Content = JsonContent.Create(new { question = "Where does the Danube end?", mode = "hybrid" }) })
        {
            request.Headers.Add("traceparent", chat.Header);
            using var response = await tenant.Http.SendAsync(request);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        }
        var chatTrace = (await Spans.WaitForAsync(spans, s => s.Count(a => a.TraceId == chat.Trace && a.Kind == ActivityKind.Server) == 1, "the chat request span"))
            .Where(s => s.TraceId == chat.Trace).ToList();
        var chatRequest = Assert.Single(chatTrace, s => s.Kind == ActivityKind.Server);
        Assert.Equal(chat.Parent, chatRequest.ParentSpanId);
        var retrieve = Assert.Single(chatTrace, s => s.OperationName == "retrieve");
        Assert.Equal(chatRequest.SpanId, retrieve.ParentSpanId);
        Assert.Equal("hybrid", retrieve.GetTagItem("rag.retrieval.mode"));
        foreach (var child in new[] { "retrieve.dense", "retrieve.bm25", "retrieve.fusion" })
            Assert.Equal(retrieve.SpanId, Assert.Single(chatTrace, s => s.OperationName == child).ParentSpanId);
        var generate = Assert.Single(chatTrace, s => s.OperationName == "generate");
        Assert.Equal(chatRequest.SpanId, generate.ParentSpanId);
        Assert.True(generate.StartTimeUtc >= retrieve.StartTimeUtc + retrieve.Duration, "generation starts after retrieval");
        Assert.Equal("generated", generate.GetTagItem("rag.answer.mode"));
        Assert.Equal(3, generate.GetTagItem("rag.answer.tokens")); // the generator reported no usage: one per streamed piece
        Assert.Equal(1, generate.GetTagItem("rag.answer.citations"));
        Assert.True((int)generate.GetTagItem("rag.answer.passages")! >= 1);
        Assert.Contains(generator.Requests, r => r.Path == "/v1/chat/completions");
    }

    [Fact]
    public async Task With_an_otlp_endpoint_the_spans_and_metrics_of_an_upload_reach_the_collector()
    {
        using var collector = new LoopbackServer();
        var upload = Spans.NewTrace();
        var settings = collector.OtlpSettings();
        settings["OTEL_METRIC_EXPORT_INTERVAL"] = "200"; // ms: the gauge is read while the host runs, not only at its last flush
        settings["OTEL_BSP_SCHEDULE_DELAY"] = "200"; // ms: spans are sent while the host runs too, not left to the flush at its stop
        settings["Rag:Telemetry:QueueSampleSeconds"] = "0.1";
        using (var factory = new RagApiFactory(settings))
        {
            var tenant = await factory.NewTenantAsync("exported");
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/documents")
            {
                Content = JsonContent.Create(new { title = "Rhine", text = "The Rhine flows from the Alps to the North Sea." }),
            };
            request.Headers.Add("traceparent", upload.Header);
            using var response = await tenant.Http.SendAsync(request);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            var document = (await response.Content.ReadFromJsonAsync<UploadView>(Json.Web))!.Document;
            Assert.Equal("indexed", (await tenant.Http.WaitForIngestAsync(document.Id)).Status);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (!(collector.Requests.Any(e => e.Path == "/v1/metrics" && Contains(e.Body, "rag.queue.depth") && Contains(e.Body, "rag.ingest.documents"))
                     && collector.Requests.Any(e => e.Path == "/v1/traces" && Contains(e.Body, "ingest.index")))
                && DateTime.UtcNow < deadline)
                await Task.Delay(100);
        } // stopping the host flushes both exporters

        var traces = collector.Requests.Where(e => e.Path == "/v1/traces").Select(e => e.Body).ToList();
        Assert.NotEmpty(traces);
        var traceId = Convert.FromHexString(upload.Trace.ToHexString());
        Assert.Contains(traces, body => body.AsSpan().IndexOf(traceId) >= 0);
        foreach (var name in new[] { "document.upload", "ingest", "ingest.extract", "ingest.chunk", "ingest.index" })
            Assert.Contains(traces, body => Contains(body, name));
        var metrics = collector.Requests.Where(e => e.Path == "/v1/metrics").Select(e => e.Body).ToList();
        Assert.Contains(metrics, body => Contains(body, "rag.ingest.documents") && Contains(body, "rag.queue.depth"));
    }

    static bool Contains(byte[] body, string text) => body.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;
}
