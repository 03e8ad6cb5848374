using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rag.Client;

/// <summary>
/// Typed client for the Rag HTTP API (/v1). Every call sends the API key as a bearer token; an answer that is
/// not 2xx becomes a <see cref="RagApiException"/> carrying the problem details' status and detail.
/// </summary>
public sealed class RagClient : IDisposable
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    readonly HttpClient http;
    readonly bool ownsHttp;

    /// <summary>Over a caller's HttpClient (e.g. from IHttpClientFactory); its BaseAddress is the service's root.</summary>
    public RagClient(HttpClient http, string apiKey)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentException.ThrowIfNullOrWhiteSpace(apiKey);
        if (http.BaseAddress is null) throw new ArgumentException("The HttpClient needs a BaseAddress (the service's root, e.g. http://localhost:5000/).", nameof(http));
        this.http = http;
        ApiKey = apiKey;
    }

    public RagClient(Uri baseAddress, string apiKey) : this(new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(5) }, apiKey) =>
        ownsHttp = true;

    string ApiKey { get; }

    // Documents

    public async Task<RagUpload> UploadFileAsync(string path, string? title = null, IReadOnlyList<string>? tags = null, CancellationToken ct = default)
    {
        await using var file = File.OpenRead(path);
        return await UploadAsync(file, Path.GetFileName(path), contentType: null, title, tags, ct);
    }

    /// <summary>Multipart upload; the content type, when null, is left for the server to infer from the file name.</summary>
    public async Task<RagUpload> UploadAsync(Stream content, string fileName, string? contentType = null, string? title = null,
        IReadOnlyList<string>? tags = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentException.ThrowIfNullOrWhiteSpace(fileName);
        using var form = new MultipartFormDataContent();
        var file = new StreamContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType ?? "application/octet-stream");
        form.Add(file, "file", fileName);
        if (title is not null) form.Add(new StringContent(title), "title");
        if (tags is { Count: > 0 }) form.Add(new StringContent(string.Join(',', tags)), "tags");
        return await SendAsync<RagUpload>(HttpMethod.Post, "v1/documents", form, ct);
    }

    public Task<RagUpload> UploadTextAsync(string title, string text, IReadOnlyList<string>? tags = null, string? externalId = null, CancellationToken ct = default) =>
        SendAsync<RagUpload>(HttpMethod.Post, "v1/documents", JsonContent.Create(new { title, text, externalId, tags }, options: Json), ct);

    public Task<RagDocument> GetDocumentAsync(string id, CancellationToken ct = default) =>
        SendAsync<RagDocument>(HttpMethod.Get, "v1/documents/" + Uri.EscapeDataString(id), null, ct);

    public Task<RagDocumentPage> ListDocumentsAsync(int offset = 0, int limit = 50, string? title = null, CancellationToken ct = default) =>
        SendAsync<RagDocumentPage>(HttpMethod.Get,
            $"v1/documents?offset={offset}&limit={limit}" + (title is null ? "" : "&title=" + Uri.EscapeDataString(title)), null, ct);

    public async Task DeleteDocumentAsync(string id, CancellationToken ct = default)
    {
        using var response = await SendRawAsync(HttpMethod.Delete, "v1/documents/" + Uri.EscapeDataString(id), null, HttpCompletionOption.ResponseContentRead, ct);
    }

    /// <summary>Polls until the document is indexed; throws <see cref="RagIngestFailedException"/> when it fails, TimeoutException past the timeout.</summary>
    public async Task<RagDocument> WaitForIndexedAsync(string id, TimeSpan? timeout = null, TimeSpan? pollInterval = null, CancellationToken ct = default)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(10));
        while (true)
        {
            var document = await GetDocumentAsync(id, ct);
            if (document.IsIndexed) return document;
            if (document.IsFailed) throw new RagIngestFailedException(document);
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Document '{id}' is still {document.Status} after {timeout ?? TimeSpan.FromMinutes(10)}.");
            await Task.Delay(pollInterval ?? TimeSpan.FromMilliseconds(250), ct);
        }
    }

    /// <summary>Queues the document for ingestion again (202); it goes back to queued, then indexed or failed.</summary>
    public Task<RagReingest> ReingestAsync(string id, CancellationToken ct = default) =>
        SendAsync<RagReingest>(HttpMethod.Post, $"v1/documents/{Uri.EscapeDataString(id)}/reingest", null, ct);

    /// <summary>Queues every document of the key's tenant (or only those with this status, e.g. failed); returns how many.</summary>
    public async Task<int> ReingestAllAsync(string? status = null, CancellationToken ct = default) =>
        (await SendAsync<ReingestAll>(HttpMethod.Post, "v1/documents/reingest" + (status is null ? "" : "?status=" + Uri.EscapeDataString(status)), null, ct)).Queued;

    sealed record ReingestAll(int Queued);

    // Retrieval and chat

    public Task<RagSearchResult> SearchAsync(string query, RagQueryOptions? options = null, CancellationToken ct = default) =>
        SendAsync<RagSearchResult>(HttpMethod.Post, "v1/search", JsonContent.Create(new
        {
            query,
            k = options?.K,
            mode = options?.Mode,
            documentIds = options?.DocumentIds,
            tags = options?.Tags,
        }, options: Json), ct);

    public Task<RagAnswer> AskAsync(string question, RagQueryOptions? options = null, CancellationToken ct = default) =>
        SendAsync<RagAnswer>(HttpMethod.Post, "v1/chat", ChatBody(question, options, stream: false), ct);

    /// <summary>The answer as it is generated: <see cref="RagChatToken"/>s, then one <see cref="RagChatCompleted"/> with the citations.</summary>
    public async IAsyncEnumerable<RagChatEvent> StreamAsync(string question, RagQueryOptions? options = null, [EnumeratorCancellation] CancellationToken ct = default)
    {
        using var response = await SendRawAsync(HttpMethod.Post, "v1/chat", ChatBody(question, options, stream: true), HttpCompletionOption.ResponseHeadersRead, ct);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        using var reader = new StreamReader(body);
        string? eventName = null;
        var data = new List<string>();
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.Length > 0)
            {
                if (line.StartsWith("event:", StringComparison.Ordinal)) eventName = line[6..].Trim();
                else if (line.StartsWith("data:", StringComparison.Ordinal)) data.Add(line[5..].TrimStart());
                continue;
            }
            if (data.Count == 0) continue;
            var json = string.Join('\n', data);
            data.Clear();
            switch (eventName)
            {
                case "token":
                    yield return new RagChatToken(Deserialize<TokenFrame>(json).Text);
                    break;
                case "done":
                    yield return new RagChatCompleted(Deserialize<RagAnswer>(json));
                    yield break;
                case "error":
                    var problem = Deserialize<Problem>(json);
                    throw new RagApiException(problem.Status ?? 500, problem.Title ?? "Error", problem.Detail ?? "The answer could not be completed.");
            }
            eventName = null;
        }
        throw new RagApiException(502, "Incomplete stream", "The chat stream ended before its done event.");
    }

    sealed record TokenFrame(string Text);

    static JsonContent ChatBody(string question, RagQueryOptions? options, bool stream) => JsonContent.Create(new
    {
        question,
        conversationId = options?.ConversationId,
        k = options?.K,
        mode = options?.Mode,
        documentIds = options?.DocumentIds,
        tags = options?.Tags,
        stream,
    }, options: Json);

    // Transport

    async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? content, CancellationToken ct)
    {
        using var response = await SendRawAsync(method, path, content, HttpCompletionOption.ResponseContentRead, ct);
        return Deserialize<T>(await response.Content.ReadAsStringAsync(ct));
    }

    async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string path, HttpContent? content, HttpCompletionOption completion, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        var response = await http.SendAsync(request, completion, ct);
        if (response.IsSuccessStatusCode) return response;
        using (response) throw await ToExceptionAsync(response, ct);
    }

    /// <summary>Problem details (application/problem+json) when the server sent them, else the status line and body.</summary>
    static async Task<RagApiException> ToExceptionAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        var status = (int)response.StatusCode;
        Problem? problem = null;
        if (text.StartsWith('{'))
            try { problem = JsonSerializer.Deserialize<Problem>(text, Json); }
            catch (JsonException) { }
        var detail = problem?.Detail is { Length: > 0 } d ? d : text.Length > 0 ? (text.Length > 500 ? text[..500] + "…" : text) : response.ReasonPhrase ?? "no detail";
        return new RagApiException(status, problem?.Title ?? response.ReasonPhrase ?? status.ToString(), detail);
    }

    sealed record Problem(string? Title, string? Detail, int? Status);

    static T Deserialize<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, Json) ?? throw new RagApiException(502, "Empty answer", $"The API answered without a {typeof(T).Name}.");

    public void Dispose()
    {
        if (ownsHttp) http.Dispose();
    }
}
