using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Rag.Retriever.Encoders;
using Rag.Retriever.Hybrid;
using Rag.Retriever.Lexical;
using Rag.Retriever.Vectors;
using Rag.Testing;

namespace Rag.Retriever.Tests;

/// <summary>
/// Retrieval's spans and latency histogram, seen through System.Diagnostics listeners (what OpenTelemetry's SDK
/// subscribes to by the same names): a hybrid query makes retrieve with dense, bm25 and fusion children.
/// </summary>
public sealed class RetrieverTelemetryTests : IAsyncLifetime
{
    readonly InMemoryStores stores = new();
    readonly Bm25Index bm25 = Bm25Index.CreateInMemory();
    readonly EmbeddedVectorIndex vectors = new(null);
    readonly HashingEncoder encoder = new();

    public async Task InitializeAsync()
    {
        await vectors.EnsureReadyAsync(encoder.Dimension);
        const string text = "the nile is the longest river in africa";
        stores.AddDocument("t", "nile", "Nile", text);
        await bm25.IndexDocumentAsync("t", "nile", [], [new LexicalRecord("nile:0", text)]);
        await vectors.UpsertAsync([new VectorRecord("nile:0", "t", "nile", encoder.Embed(text), [])]);
    }

    public async Task DisposeAsync()
    {
        await bm25.DisposeAsync();
        await vectors.DisposeAsync();
    }

    [Fact]
    public async Task A_hybrid_query_traces_dense_bm25_and_fusion_under_one_retrieve_span_and_records_its_latency()
    {
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == RetrieverTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);
        var latencies = new ConcurrentBag<(double Seconds, string? Mode)>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == RetrieverTelemetry.Name && instrument.Name == "rag.retrieval.duration") l.EnableMeasurementEvents(instrument);
        };
        meters.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            string? mode = null;
            foreach (var tag in tags) if (tag.Key == "rag.retrieval.mode") mode = tag.Value as string;
            latencies.Add((value, mode));
        });
        meters.Start();

        using var test = new Activity("test").Start(); // our own trace, so other tests' spans are told apart
        var retriever = new HybridRetriever(new DprEmbeddingGenerator(encoder, "hashing-test-double", ownsModel: false), vectors, bm25, stores, stores);
        var result = await retriever.RetrieveAsync(new RetrievalRequest("longest river", new SearchFilter("t"), 1, RetrievalMode.Hybrid));
        test.Stop();
        Assert.Equal("nile:0", result.Passages[0].Chunk.Id);

        var mine = spans.Where(s => s.TraceId == test.TraceId).ToList();
        var retrieve = Assert.Single(mine, s => s.OperationName == "retrieve");
        Assert.Equal(test.SpanId, retrieve.ParentSpanId);
        Assert.Equal("hybrid", retrieve.GetTagItem("rag.retrieval.mode"));
        Assert.Equal(1, retrieve.GetTagItem("rag.retrieval.passages"));
        foreach (var child in new[] { "retrieve.dense", "retrieve.bm25", "retrieve.fusion" })
            Assert.Equal(retrieve.SpanId, Assert.Single(mine, s => s.OperationName == child).ParentSpanId);
        // the clock starts before the span (argument checks come first), so the bound is the test's own enclosing span
        Assert.Contains(latencies, l => l.Mode == "hybrid" && l.Seconds > 0 && l.Seconds <= test.Duration.TotalSeconds);
    }
}
