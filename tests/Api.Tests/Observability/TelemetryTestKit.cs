using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Rag.Api.Tests.Observability;

/// <summary>
/// The telemetry tests read process-wide sources and meters (as OpenTelemetry does), so they run alone: no other
/// test's host adds spans, counts or queue samples while they look.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "Telemetry";
}

/// <summary>An ICollection the in-memory exporter can add to from any thread while a test reads it.</summary>
public sealed class LockedList<T> : ICollection<T>
{
    readonly List<T> items = [];

    public T[] Snapshot()
    {
        lock (items) return [.. items];
    }

    public void Add(T item)
    {
        lock (items) items.Add(item);
    }

    public void Clear()
    {
        lock (items) items.Clear();
    }

    public int Count
    {
        get { lock (items) return items.Count; }
    }

    public bool IsReadOnly => false;
    public bool Contains(T item) => Snapshot().Contains(item);
    public void CopyTo(T[] array, int arrayIndex) => Snapshot().CopyTo(array, arrayIndex);
    public bool Remove(T item)
    {
        lock (items) return items.Remove(item);
    }

    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)Snapshot()).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// A stand-in OTLP/HTTP collector on a loopback port: it answers 200 to every export and keeps what was posted, so a
/// test sees what the service's OTLP exporter really sends (protobuf; span and metric names appear in it as UTF-8).
/// </summary>
public sealed class OtlpReceiver : IDisposable
{
    readonly HttpListener listener = new();
    readonly Task loop;

    public OtlpReceiver()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Endpoint = $"http://127.0.0.1:{port}";
        listener.Prefixes.Add(Endpoint + "/");
        listener.Start();
        loop = Task.Run(ServeAsync);
    }

    public string Endpoint { get; }

    /// <summary>Each export: its path (/v1/traces, /v1/metrics) and body.</summary>
    public ConcurrentQueue<(string Path, byte[] Body)> Exports { get; } = new();

    /// <summary>The settings that point the service's exporter here.</summary>
    public Dictionary<string, string?> Settings() => new()
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Endpoint,
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
    };

    async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            Exports.Enqueue((context.Request.Url!.AbsolutePath, body.ToArray()));
            context.Response.StatusCode = 200;
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        listener.Stop();
        listener.Close();
        loop.Wait(TimeSpan.FromSeconds(5));
    }
}

static class Spans
{
    /// <summary>A traceparent header naming a fresh trace, and that trace's ids, so a test finds its own spans.</summary>
    public static (string Header, ActivityTraceId Trace, ActivitySpanId Parent) NewTrace()
    {
        var trace = ActivityTraceId.CreateRandom();
        var parent = ActivitySpanId.CreateRandom();
        return ($"00-{trace.ToHexString()}-{parent.ToHexString()}-01", trace, parent);
    }

    /// <summary>Waits until <paramref name="done"/> holds for the exported spans (a span is exported when it ends).</summary>
    public static async Task<Activity[]> WaitForAsync(LockedList<Activity> spans, Func<Activity[], bool> done, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var now = spans.Snapshot();
            if (done(now)) return now;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{what}; exported: {string.Join(", ", now.Select(s => s.OperationName))}");
            await Task.Delay(50);
        }
    }
}
