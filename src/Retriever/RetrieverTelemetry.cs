using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Rag.Retriever;

/// <summary>
/// Retrieval's traces and metrics through System.Diagnostics only, so this library needs no OpenTelemetry package;
/// a host subscribes by name (OpenTelemetry's AddSource / AddMeter with <see cref="Name"/>).
/// Spans: retrieve (mode, k, passages), with children retrieve.dense, retrieve.bm25 and retrieve.fusion.
/// </summary>
public static class RetrieverTelemetry
{
    public const string Name = "Rag.Retriever";

    public static readonly ActivitySource Source = new(Name);

    static readonly Meter Meter = new(Name);

    /// <summary>Wall time of one retrieval, tagged with the mode actually used.</summary>
    public static readonly Histogram<double> Duration = Meter.CreateHistogram<double>(
        "rag.retrieval.duration", unit: "s", description: "Time to retrieve the passages of one query.");
}
