using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Rag.Storage;
using Rag.Testing;

namespace Rag.Api.Tests;

/// <summary>
/// The real service in-process on a fresh data folder. Settings are configuration keys
/// ("Rag:Models:Generator" ...) applied as the command line would; services, when given, run after the service's own
/// registrations (test exporters, say).
/// </summary>
public sealed class RagApiFactory(
    IReadOnlyDictionary<string, string?>? settings = null, string? dataDirectory = null, Action<IServiceCollection>? services = null)
    : WebApplicationFactory<Program>
{
    readonly TempDir? ownedData = dataDirectory is null ? new TempDir() : null;

    public string DataDirectory => dataDirectory ?? ownedData!.Path;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Rag:DataDirectory", DataDirectory);
        builder.UseSetting("Rag:Worker:PollSeconds", "0.2");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            builder.UseSetting(key, value);
        if (services is not null) builder.ConfigureTestServices(services);
    }

    public IRagStore Store => Services.GetRequiredService<IRagStore>();

    /// <summary>A client authenticated as a fresh tenant's key.</summary>
    public async Task<TenantClient> NewTenantAsync(string name)
    {
        var tenant = await Store.Tenants.CreateTenantAsync(name + "-" + Guid.NewGuid().ToString("N")[..6]);
        var key = await Store.Tenants.CreateApiKeyAsync(tenant.Id, "test");
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Plaintext);
        client.Timeout = TimeSpan.FromMinutes(3);
        return new TenantClient(client, tenant.Id, key.Plaintext);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) ownedData?.Dispose();
    }
}

public sealed record TenantClient(HttpClient Http, string TenantId, string Key);

/// <summary>Small helpers the API tests share: uploads and waiting for ingestion.</summary>
public static class Api
{
    public static async Task<DocumentView> UploadAsync(this HttpClient http, string fileName, byte[] content, string contentType = "application/octet-stream", string? title = null)
    {
        using var response = await http.PostAsync("/v1/documents", Multipart(fileName, content, contentType, title));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"upload of {fileName} failed: {(int)response.StatusCode} {body}");
        return System.Text.Json.JsonSerializer.Deserialize<UploadView>(body, Json.Web)!.Document;
    }

    public static MultipartFormDataContent Multipart(string fileName, byte[] content, string contentType, string? title = null)
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        form.Add(file, "file", fileName);
        if (title is not null) form.Add(new StringContent(title), "title");
        return form;
    }

    /// <summary>Polls until the document leaves queued/processing; returns it as it ends.</summary>
    public static async Task<DocumentView> WaitForIngestAsync(this HttpClient http, string id, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(2));
        while (true)
        {
            var doc = (await http.GetFromJsonAsync<DocumentView>($"/v1/documents/{id}", Json.Web))!;
            if (doc.Status is "indexed" or "failed") return doc;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"document {id} still {doc.Status}");
            await Task.Delay(100);
        }
    }

    public static async Task<SearchView> SearchAsync(this HttpClient http, string query, string mode = "bm25", int k = 5, string[]? documentIds = null)
    {
        using var response = await http.PostAsJsonAsync("/v1/search", new { query, mode, k, documentIds });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"search failed: {(int)response.StatusCode} {body}");
        return System.Text.Json.JsonSerializer.Deserialize<SearchView>(body, Json.Web)!;
    }
}

public static class Json
{
    public static readonly System.Text.Json.JsonSerializerOptions Web = new(System.Text.Json.JsonSerializerDefaults.Web);
}

// What the tests read back: plain records mirroring the JSON, so a renamed field fails a test.
public sealed record DocumentView(string Id, string Title, string? FileName, string ContentType, long SizeBytes, string Status, string? Error, int ChunkCount);
public sealed record UploadView(DocumentView Document, bool Duplicate);
public sealed record DocumentPageView(List<DocumentView> Items, int Total, int Offset, int Limit);
public sealed record HitView(int Rank, string DocumentId, string DocumentTitle, string ChunkId, string Text, float Score, int StartChar, int EndChar);
public sealed record SearchView(string Mode, string? Notice, List<HitView> Results);
public sealed record CitationView(int Number, string DocumentId, string DocumentTitle, string ChunkId, int StartChar, int EndChar, string Snippet);
public sealed record TimingsView(double RetrievalMs, double GenerationMs, double TotalMs, int GeneratedTokens);
public sealed record ChatView(string Answer, List<CitationView> Citations, string? ConversationId, string Mode, string RetrievalMode, List<string> Notices, string StandaloneQuestion, TimingsView Timings);
public sealed record ProblemView(string? Title, string? Detail, int? Status);
