using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Rag.Api.Apis;

/// <summary>Writes text/event-stream frames and flushes each, so tokens reach the client as they are made.</summary>
sealed class ServerSentEvents
{
    readonly HttpResponse response;
    readonly JsonSerializerOptions json;

    ServerSentEvents(HttpResponse response, JsonSerializerOptions json) => (this.response, this.json) = (response, json);

    public static ServerSentEvents Start(HttpContext context)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no"; // proxies must not buffer the stream
        var json = context.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        return new ServerSentEvents(response, json);
    }

    public Task WriteAsync<T>(string? eventName, T data, CancellationToken ct) =>
        WriteRawAsync(eventName, JsonSerializer.Serialize(data, json), ct);

    public async Task WriteRawAsync(string? eventName, string data, CancellationToken ct)
    {
        var frame = eventName is null ? $"data: {data}\n\n" : $"event: {eventName}\ndata: {data}\n\n";
        await response.WriteAsync(frame, ct);
        await response.Body.FlushAsync(ct);
    }
}
