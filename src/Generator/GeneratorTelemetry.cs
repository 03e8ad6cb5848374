using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Rag.Generator;

/// <summary>
/// Generation's traces and metrics through System.Diagnostics only, as Rag.Retriever's RetrieverTelemetry: a host
/// subscribes by <see cref="Name"/>. One span per answer, generate (mode, passages, tokens, citations).
/// </summary>
public static class GeneratorTelemetry
{
    public const string Name = "Rag.Generator";

    public static readonly ActivitySource Source = new(Name);

    static readonly Meter Meter = new(Name);

    /// <summary>Wall time of one answer, prompt to last token, tagged rag.answer.mode (generated, extractive).</summary>
    public static readonly Histogram<double> Duration = Meter.CreateHistogram<double>(
        "rag.generation.duration", unit: "s", description: "Time to write one answer.");

    /// <summary>Tokens generated (generated answers only).</summary>
    public static readonly Counter<long> Tokens = Meter.CreateCounter<long>(
        "rag.generation.tokens", unit: "{token}", description: "Tokens generated.");

    /// <summary>Each generated answer's tokens divided by its generation time.</summary>
    public static readonly Histogram<double> TokensPerSecond = Meter.CreateHistogram<double>(
        "rag.generation.speed", unit: "{token}/s", description: "Tokens per second of one generated answer.");

    /// <summary>Tags the answer's span and records its latency and speed.</summary>
    internal static void Completed(Activity? activity, AnswerCompleted answer, int passages)
    {
        var mode = new KeyValuePair<string, object?>("rag.answer.mode", answer.Mode == AnswerMode.Generated ? "generated" : "extractive");
        if (activity is not null)
        {
            activity.SetTag(mode.Key, mode.Value);
            activity.SetTag("rag.answer.passages", passages);
            activity.SetTag("rag.answer.tokens", answer.TokenCount);
            activity.SetTag("rag.answer.citations", answer.Citations.Count);
        }
        var seconds = answer.GenerationTime.TotalSeconds;
        Duration.Record(seconds, mode);
        if (answer.TokenCount <= 0) return;
        Tokens.Add(answer.TokenCount);
        if (seconds > 0) TokensPerSecond.Record(answer.TokenCount / seconds);
    }
}
