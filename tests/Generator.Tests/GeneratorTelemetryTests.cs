using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Rag.Generator.Local;

namespace Rag.Generator.Tests;

/// <summary>
/// Generation's span and instruments, seen through System.Diagnostics listeners (what OpenTelemetry's SDK subscribes
/// to by the same name). Other tests generate in parallel, so only spans and measurements made in this test's own
/// trace are read: the answerer records while the test's activity is current.
/// </summary>
public sealed class GeneratorTelemetryTests
{
    [Fact]
    public async Task A_generated_answer_is_one_generate_span_with_its_token_count_and_records_latency_tokens_and_tokens_per_second()
    {
        using var test = new Activity("test").SetIdFormat(ActivityIdFormat.W3C).Start();
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == GeneratorTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { if (a.TraceId == test.TraceId) spans.Add(a); },
        };
        ActivitySource.AddActivityListener(listener);
        var measured = new ConcurrentQueue<(string Name, double Value, string? Mode)>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == GeneratorTelemetry.Name) l.EnableMeasurementEvents(instrument);
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (Activity.Current?.TraceId != test.TraceId) return; // another test's answer
            string? mode = null;
            foreach (var tag in tags) if (tag.Key == "rag.answer.mode") mode = tag.Value as string;
            measured.Enqueue((instrument.Name, value, mode));
        }
        meters.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        meters.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        meters.Start();

        var model = new ScriptedModel("qwen2", "Construction", " finished", " in", " 1889", " [1].", "<|im_end|>");
        using var client = new LocalChatClient(model);
        var answerer = new GroundedAnswerer(client, AnswerMode.Generated, new GeneratorOptions { MaxNewTokens = 64 }, null);
        var done = await answerer.AnswerCompleteAsync("When was the Eiffel Tower finished?", Passages.Eiffel, []);
        test.Stop();
        Assert.Equal(5, done.TokenCount);

        var generate = Assert.Single(spans, s => s.OperationName == "generate");
        Assert.Equal(test.SpanId, generate.ParentSpanId);
        Assert.Equal("generated", generate.GetTagItem("rag.answer.mode"));
        Assert.Equal(5, generate.GetTagItem("rag.answer.tokens"));
        Assert.Equal(Passages.Eiffel.Length, generate.GetTagItem("rag.answer.passages"));
        Assert.Equal(1, generate.GetTagItem("rag.answer.citations"));

        var seconds = done.GenerationTime.TotalSeconds;
        var duration = Assert.Single(measured, m => m.Name == "rag.generation.duration");
        Assert.Equal(("generated", seconds), (duration.Mode, duration.Value));
        Assert.Equal(5, Assert.Single(measured, m => m.Name == "rag.generation.tokens").Value);
        Assert.Equal(5 / seconds, Assert.Single(measured, m => m.Name == "rag.generation.speed").Value, 6);
        Assert.True(seconds <= generate.Duration.TotalSeconds + 0.001, "the recorded latency lies within the span");
    }

    [Fact]
    public async Task An_extractive_answer_records_its_latency_but_no_tokens()
    {
        using var test = new Activity("test").SetIdFormat(ActivityIdFormat.W3C).Start();
        var measured = new ConcurrentQueue<string>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == GeneratorTelemetry.Name) l.EnableMeasurementEvents(instrument);
        };
        meters.SetMeasurementEventCallback<long>((i, _, _, _) => { if (Activity.Current?.TraceId == test.TraceId) measured.Enqueue(i.Name); });
        meters.SetMeasurementEventCallback<double>((i, _, _, _) => { if (Activity.Current?.TraceId == test.TraceId) measured.Enqueue(i.Name); });
        meters.Start();

        var answerer = new GroundedAnswerer(null, AnswerMode.Extractive, new GeneratorOptions(), null);
        await answerer.AnswerCompleteAsync("When was the Eiffel Tower finished?", Passages.Eiffel, []);

        Assert.Equal(["rag.generation.duration"], measured);
    }
}
