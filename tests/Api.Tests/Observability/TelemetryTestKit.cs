using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

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
/// An HTTP server on a loopback port standing in for a service the API talks to: an OTLP/HTTP collector (every post
/// answered 200 and kept, so a test sees what the exporter really sends: protobuf, in which span and metric names
/// appear as UTF-8), or an OpenAI-compatible generator (<see cref="OpenAiStream"/>).
/// </summary>
public sealed class LoopbackServer : IDisposable
{
    readonly HttpListener listener = new();
    readonly Func<string, byte[], (string ContentType, string Body)> respond;
    readonly Task loop;

    public LoopbackServer(Func<string, byte[], (string ContentType, string Body)>? respond = null)
    {
        this.respond = respond ?? ((_, _) => ("application/x-protobuf", ""));
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

    /// <summary>Each request: its path (/v1/traces, /v1/metrics, /v1/chat/completions) and body.</summary>
    public ConcurrentQueue<(string Path, byte[] Body)> Requests { get; } = new();

    /// <summary>The settings that point the service's OTLP exporter here.</summary>
    public Dictionary<string, string?> OtlpSettings() => new()
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Endpoint,
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
    };

    /// <summary>A streamed chat completion of these pieces, as an OpenAI-compatible server sends it.</summary>
    public static Func<string, byte[], (string ContentType, string Body)> OpenAiStream(params string[] pieces) => (_, _) =>
    {
        static string Chunk(string? content, string? finish) => "data: " + JsonSerializer.Serialize(new
        {
            id = "chatcmpl-1",
            @object = "chat.completion.chunk",
            created = 1700000000,
            model = "fake",
            choices = new[] { new { index = 0, delta = content is null ? new Dictionary<string, string>() : new() { ["content"] = content }, finish_reason = finish } },
        }) + "\n\n";
        return ("text/event-stream", string.Concat(pieces.Select(p => Chunk(p, null))) + Chunk(null, "stop") + "data: [DONE]\n\n");
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
            var path = context.Request.Url!.AbsolutePath;
            Requests.Enqueue((path, body.ToArray()));
            var (contentType, reply) = respond(path, body.ToArray());
            context.Response.StatusCode = 200;
            context.Response.ContentType = contentType;
            var bytes = Encoding.UTF8.GetBytes(reply);
            await context.Response.OutputStream.WriteAsync(bytes);
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
