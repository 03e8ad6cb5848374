using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Rag.Retriever.Qdrant;

/// <summary>What a caller accepts besides 2xx; the request then yields null instead of throwing.</summary>
[Flags]
enum QdrantAllow
{
    None = 0,
    /// <summary>404 with Qdrant's error body: the collection does not exist.</summary>
    MissingCollection = 1,
    /// <summary>409 (Qdrant ≥ 1.8) or 400 "... already exists!" (before 1.8) on collection creation.</summary>
    AlreadyExists = 2,
}

/// <summary>
/// One JSON request to Qdrant's REST API through a retry pipeline, with Qdrant's answers turned into clear errors.
/// Shapes follow Qdrant's OpenAPI spec (qdrant/qdrant docs/redoc/master/openapi.json): every JSON answer is
/// <c>{"result": ..., "status": "ok" | {"error": "..."}, "time": seconds}</c> (ErrorResponse for 4XX/default).
/// The api-key middleware (src/actix/auth.rs) answers 401, or 403 before it told the two apart, with a plain-text
/// body, never JSON; that is how an API key failure is told from Qdrant's own 403 (storage locked).
/// </summary>
sealed class QdrantRestClient : IDisposable
{
    readonly QdrantOptions options;
    readonly HttpClient http;
    readonly bool ownsHttp;
    readonly Uri baseUri;
    readonly ResiliencePipeline<HttpResponseMessage> pipeline;

    public QdrantRestClient(QdrantOptions options, HttpClient? httpClient)
    {
        if (!Uri.TryCreate(options.Url.TrimEnd('/') + "/", UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
            throw new ArgumentException($"Qdrant URL '{options.Url}' is not an absolute http(s) URL.", nameof(options));
        this.options = options;
        baseUri = uri;
        ownsHttp = httpClient is null;
        http = httpClient ?? new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        pipeline = BuildPipeline(options.MaxRetries, options.RetryBaseDelay, options.RequestTimeout);
    }

    public static ResiliencePipeline<HttpResponseMessage> BuildPipeline(int maxRetries, TimeSpan baseDelay, TimeSpan attemptTimeout)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>();
        if (maxRetries > 0)
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = maxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = baseDelay,
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>()      // refused, reset, DNS
                    .Handle<TimeoutRejectedException>()  // this attempt ran past its timeout
                    .HandleResult(IsTransient),
                OnRetry = args =>
                {
                    args.Outcome.Result?.Dispose(); // the failed response is not returned to anyone
                    return ValueTask.CompletedTask;
                },
            });
        return builder.AddTimeout(attemptTimeout).Build();
    }

    /// <summary>5xx (Qdrant: 500 service error, 503 shard unavailable) and 429 (rate limit) may pass; 4xx will not.</summary>
    static bool IsTransient(HttpResponseMessage r) => (int)r.StatusCode >= 500 || r.StatusCode == HttpStatusCode.TooManyRequests;

    /// <summary>Sends one request; returns the parsed body, or null for an allowed outcome (or an empty 2xx body).</summary>
    public Task<JsonNode?> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken ct, QdrantAllow allow = QdrantAllow.None) =>
        SendAsync(method, path, body, pipeline, ct, allow);

    public async Task<JsonNode?> SendAsync(HttpMethod method, string path, JsonNode? body, ResiliencePipeline<HttpResponseMessage> through,
        CancellationToken ct, QdrantAllow allow = QdrantAllow.None)
    {
        var url = new Uri(baseUri, path);
        var json = body?.ToJsonString();
        var what = $"{method} /{path}";
        HttpResponseMessage response;
        try
        {
            response = await through.ExecuteAsync(async token =>
            {
                using var request = new HttpRequestMessage(method, url);
                if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
                if (!string.IsNullOrEmpty(options.ApiKey)) request.Headers.Add("api-key", options.ApiKey);
                return await http.SendAsync(request, token);
            }, ct);
        }
        catch (HttpRequestException e)
        {
            throw new InvalidOperationException($"Qdrant at {options.Url} is not reachable ({what}): {e.Message}{PortHint()}", e);
        }
        catch (TimeoutRejectedException e)
        {
            throw new InvalidOperationException(
                $"Qdrant at {options.Url} is not reachable: no answer to {what} within {e.Timeout.TotalSeconds:0.#} s.{PortHint()}", e);
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            var error = ErrorText(text);
            if (response.IsSuccessStatusCode)
                return text.Length == 0 ? null : ParseJson(text, what);

            // A 404 is a missing collection only when Qdrant says so; a bare 404 means the URL is not Qdrant's REST API.
            if (response.StatusCode == HttpStatusCode.NotFound && error is not null && allow.HasFlag(QdrantAllow.MissingCollection)) return null;
            if (allow.HasFlag(QdrantAllow.AlreadyExists) && IsAlreadyExists(response.StatusCode, error)) return null;
            throw Failure(response, text, error, method, path);
        }
    }

    /// <summary>Qdrant ≥ 1.8 answers 409; earlier 1.x answered 400 "Wrong input: Collection `x` already exists!" (qdrant/qdrant#3422).</summary>
    static bool IsAlreadyExists(HttpStatusCode status, string? error) =>
        status == HttpStatusCode.Conflict ||
        (status == HttpStatusCode.BadRequest && error?.Contains("already exists", StringComparison.OrdinalIgnoreCase) == true);

    InvalidOperationException Failure(HttpResponseMessage response, string text, string? error, HttpMethod method, string path)
    {
        var code = $"{(int)response.StatusCode} {response.ReasonPhrase}";
        var detail = error ?? Truncate(text.Trim());
        var what = $"{method} /{path}";
        if (response.StatusCode == HttpStatusCode.Unauthorized || (response.StatusCode == HttpStatusCode.Forbidden && error is null))
        {
            var key = string.IsNullOrEmpty(options.ApiKey)
                ? "no API key is configured (set the Qdrant API key)"
                : response.StatusCode == HttpStatusCode.Forbidden && method != HttpMethod.Get
                    ? "check the Qdrant API key; a read-only key cannot write"
                    : "check the Qdrant API key";
            return new InvalidOperationException($"Qdrant at {options.Url} rejected the API key ({code} to {what}: {detail}); {key}.");
        }
        if (response.StatusCode == HttpStatusCode.NotFound && error is null)
            return new InvalidOperationException(
                $"Qdrant at {options.Url} answered {code} to {what} without Qdrant's error body; is {options.Url} Qdrant's REST endpoint (port 6333)?");
        var collection = path.StartsWith("collections/" + Uri.EscapeDataString(options.Collection), StringComparison.Ordinal)
            ? $" on collection '{options.Collection}'" : "";
        return new InvalidOperationException($"Qdrant at {options.Url} refused {what}{collection}: {code}: {detail}");
    }

    /// <summary>status.error of Qdrant's ErrorResponse, or null when the body is not one (plain text, HTML, empty).</summary>
    internal static string? ErrorText(string text)
    {
        if (text.Length == 0 || text[0] != '{') return null;
        try
        {
            return JsonNode.Parse(text)?["status"] is JsonObject status && status["error"] is JsonValue e && e.TryGetValue(out string? s) ? s : null;
        }
        catch (JsonException) { return null; }
    }

    JsonNode? ParseJson(string text, string what)
    {
        try { return JsonNode.Parse(text); }
        catch (JsonException e)
        {
            throw new InvalidOperationException(
                $"Qdrant at {options.Url} answered {what} with a body that is not JSON ({Truncate(text)}); is {options.Url} Qdrant's REST endpoint (port 6333)?", e);
        }
    }

    /// <summary>6334 is Qdrant's gRPC port; this client speaks REST, served on 6333 by default.</summary>
    string PortHint() => baseUri.Port == 6334 ? " Port 6334 is Qdrant's gRPC port; the REST API is on 6333." : "";

    static string Truncate(string s) => s.Length <= 300 ? s : s[..300] + "…";

    public void Dispose()
    {
        if (ownsHttp) http.Dispose();
    }
}
