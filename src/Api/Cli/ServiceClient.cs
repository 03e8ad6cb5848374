using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Rag.Api.Apis;
using Rag.Api.Hosting;
using Rag.Retriever;

namespace Rag.Api.Cli;

/// <summary>
/// The HTTP API of the service running on the CLI's data folder, as the local operator (see <see cref="LocalServiceInfo"/>).
/// A refusal becomes a <see cref="CliException"/> carrying the problem's detail.
/// </summary>
sealed class ServiceClient : IDisposable
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    readonly HttpClient http;

    public ServiceClient(LocalServiceInfo service)
    {
        Url = service.Url;
        http = new HttpClient { BaseAddress = new Uri(service.Url), Timeout = Timeout.InfiniteTimeSpan }; // answers and evals take their time; ct ends them
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", service.Token);
    }

    public string Url { get; }

    /// <summary>Several files in one request; one result each.</summary>
    public async Task<IReadOnlyList<UploadItemResult>> UploadAsync(string tenantId, IReadOnlyList<string> files, CancellationToken ct)
    {
        using var form = new MultipartFormDataContent();
        var streams = new List<Stream>();
        try
        {
            foreach (var file in files)
            {
                var stream = File.OpenRead(file);
                streams.Add(stream);
                form.Add(new StreamContent(stream), "files", Path.GetFileName(file));
            }
            var response = await SendAsync(tenantId, new HttpRequestMessage(HttpMethod.Post, "/v1/documents") { Content = form }, ct);
            return (await ReadAsync<BatchUploadResponse>(response, ct)).Results;
        }
        finally
        {
            foreach (var stream in streams) await stream.DisposeAsync();
        }
    }

    public async Task<SearchResponse> SearchAsync(string tenantId, string query, int k, RetrievalMode mode, CancellationToken ct) =>
        await ReadAsync<SearchResponse>(await SendAsync(tenantId, Post("/v1/search", new SearchRequest(query, k, mode, null, null)), ct), ct);

    /// <summary>The answer's tokens as the service streams them, then its result (with the citations).</summary>
    public async IAsyncEnumerable<(string? Token, ChatApiResponse? Done)> AskAsync(string tenantId, string question, int k, RetrievalMode mode,
        [EnumeratorCancellation] CancellationToken ct)
    {
        var request = Post("/v1/chat", new ChatApiRequest(question, null, k, mode, null, null, Stream: true));
        using var response = await SendAsync(tenantId, request, ct, HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        await foreach (var item in SseParser.Create(body).EnumerateAsync(ct))
        {
            switch (item.EventType)
            {
                case "token":
                    yield return (JsonSerializer.Deserialize<TokenEvent>(item.Data, Json)?.Text, null);
                    break;
                case "done":
                    yield return (null, JsonSerializer.Deserialize<ChatApiResponse>(item.Data, Json));
                    yield break;
                case "error":
                    throw new CliException(JsonSerializer.Deserialize<ProblemBody>(item.Data, Json)?.Detail ?? "The answer could not be completed.");
            }
        }
        throw new CliException($"The service at {Url} ended the answer without a result.");
    }

    /// <summary>False when the tenant has no such document.</summary>
    public async Task<bool> DeleteAsync(string tenantId, string documentId, CancellationToken ct)
    {
        using var response = await SendAsync(tenantId, new HttpRequestMessage(HttpMethod.Delete, $"/v1/documents/{Uri.EscapeDataString(documentId)}"), ct, allowNotFound: true);
        return response.StatusCode != HttpStatusCode.NotFound;
    }

    /// <summary>The job id, or null when the tenant has no such document.</summary>
    public async Task<string?> ReingestAsync(string tenantId, string documentId, CancellationToken ct)
    {
        var response = await SendAsync(tenantId, new HttpRequestMessage(HttpMethod.Post, $"/v1/documents/{Uri.EscapeDataString(documentId)}/reingest"), ct, allowNotFound: true);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            response.Dispose();
            return null;
        }
        return (await ReadAsync<ReingestResponse>(response, ct)).JobId;
    }

    public async Task<int> ReingestAllAsync(string tenantId, string? status, CancellationToken ct)
    {
        var query = status is null ? "" : "?status=" + Uri.EscapeDataString(status);
        return (await ReadAsync<ReingestAllResponse>(await SendAsync(tenantId, new HttpRequestMessage(HttpMethod.Post, "/v1/documents/reingest" + query), ct), ct)).Queued;
    }

    public async Task<EvalRunView> StartEvalAsync(string tenantId, EvalStartRequest request, CancellationToken ct) =>
        await ReadAsync<EvalRunView>(await SendAsync(tenantId, Post("/v1/evals", request), ct), ct);

    public async Task<EvalRunView> GetEvalAsync(string tenantId, string runId, CancellationToken ct) =>
        await ReadAsync<EvalRunView>(await SendAsync(tenantId, new HttpRequestMessage(HttpMethod.Get, $"/v1/evals/{Uri.EscapeDataString(runId)}"), ct), ct);

    static HttpRequestMessage Post<T>(string path, T body) => new(HttpMethod.Post, path) { Content = JsonContent.Create(body, options: Json) };

    async Task<HttpResponseMessage> SendAsync(string tenantId, HttpRequestMessage request, CancellationToken ct,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead, bool allowNotFound = false)
    {
        using (request)
        {
            request.Headers.Add(LocalServiceInfo.TenantHeader, tenantId);
            HttpResponseMessage response;
            try { response = await http.SendAsync(request, completion, ct); }
            catch (HttpRequestException e)
            {
                throw new CliException($"The service on this data folder ({Url}) does not answer: {e.Message}. If it is stopped, run the command again.");
            }
            if (response.IsSuccessStatusCode || (allowNotFound && response.StatusCode == HttpStatusCode.NotFound)) return response;
            using (response)
            {
                var problem = await ReadProblemAsync(response, ct);
                throw new CliException(problem?.Detail is { Length: > 0 } detail ? detail : $"The service answered {(int)response.StatusCode} {response.ReasonPhrase}.");
            }
        }
    }

    static async Task<ProblemBody?> ReadProblemAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try { return await response.Content.ReadFromJsonAsync<ProblemBody>(Json, ct); }
        catch (Exception e) when (e is JsonException or NotSupportedException) { return null; }
    }

    static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken ct)
    {
        using (response)
            return await response.Content.ReadFromJsonAsync<T>(Json, ct) ?? throw new CliException($"The service answered {(int)response.StatusCode} with an empty body.");
    }

    public void Dispose() => http.Dispose();

    sealed record TokenEvent(string? Text);

    sealed record ProblemBody(string? Title, string? Detail, int? Status);
}
