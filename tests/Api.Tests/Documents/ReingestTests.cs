using System.Net;
using System.Net.Http.Json;
using System.Text;

namespace Rag.Api.Tests.Documents;

/// <summary>POST /v1/documents/{id}/reingest and /v1/documents/reingest end to end (embedded stores, BM25 only).</summary>
public sealed class ReingestTests : IClassFixture<BareServiceFixture>
{
    readonly RagApiFactory factory;

    public ReingestTests(BareServiceFixture fixture) => factory = fixture.Factory;

    // A zip signature and nothing after it: accepted as .docx at upload, fails in extraction.
    static readonly byte[] BrokenDocx = "PK\x03\x04 not really a Word document"u8.ToArray();
    const string DocxType = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

    sealed record ReingestView(string DocumentId, string JobId);
    sealed record ReingestAllView(int Queued);

    static async Task<ReingestView> ReingestAsync(HttpClient http, string id)
    {
        using var response = await http.PostAsync($"/v1/documents/{id}/reingest", null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode} {body}");
        return System.Text.Json.JsonSerializer.Deserialize<ReingestView>(body, Json.Web)!;
    }

    static async Task<int> ReingestAllAsync(HttpClient http, string query = "")
    {
        using var response = await http.PostAsync($"/v1/documents/reingest{query}", null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode} {body}");
        return System.Text.Json.JsonSerializer.Deserialize<ReingestAllView>(body, Json.Web)!.Queued;
    }

    static async Task<ProblemView> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return System.Text.Json.JsonSerializer.Deserialize<ProblemView>(body, Json.Web)!;
    }

    static async Task<DocumentView> GetAsync(HttpClient http, string id) =>
        (await http.GetFromJsonAsync<DocumentView>($"/v1/documents/{id}", Json.Web))!;

    [Fact]
    public async Task A_failed_document_reingested_fails_again_with_its_error()
    {
        var c = await factory.NewTenantAsync("reingest-failed");
        var broken = await c.Http.UploadAsync("broken.docx", BrokenDocx, DocxType);
        var failed = await c.Http.WaitForIngestAsync(broken.Id);
        Assert.Equal("failed", failed.Status);
        Assert.False(string.IsNullOrWhiteSpace(failed.Error));

        var queued = await ReingestAsync(c.Http, broken.Id);
        Assert.Equal(broken.Id, queued.DocumentId);
        Assert.False(string.IsNullOrEmpty(queued.JobId));

        // The job named in the answer runs (the document's own status would read failed before it ran, too).
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while ((await factory.Store.Jobs.GetAsync(queued.JobId))?.Status is not Rag.Storage.JobStatus.Done)
        {
            Assert.True(DateTime.UtcNow < deadline, $"job {queued.JobId} did not finish");
            await Task.Delay(100);
        }
        var again = await c.Http.WaitForIngestAsync(broken.Id);
        Assert.Equal("failed", again.Status);
        Assert.Equal(failed.Error, again.Error);
        Assert.Equal(0, again.ChunkCount);
    }

    [Fact]
    public async Task A_good_document_reingested_is_indexed_again_with_the_same_chunks_and_found_once()
    {
        var c = await factory.NewTenantAsync("reingest-good");
        var doc = await c.Http.UploadAsync("etna.txt", Encoding.UTF8.GetBytes(DocumentsEndToEndTests.Volcano), "text/plain");
        var first = await c.Http.WaitForIngestAsync(doc.Id);
        Assert.Equal("indexed", first.Status);
        var before = await c.Http.SearchAsync("stratovolcano Sicily eruptions", k: 10);

        await ReingestAsync(c.Http, doc.Id);
        var second = await c.Http.WaitForIngestAsync(doc.Id);
        Assert.Equal("indexed", second.Status);
        Assert.Equal(first.ChunkCount, second.ChunkCount);
        Assert.Equal(first.SizeBytes, second.SizeBytes);

        var after = await c.Http.SearchAsync("stratovolcano Sicily eruptions", k: 10);
        Assert.Equal(before.Results.Select(r => r.ChunkId), after.Results.Select(r => r.ChunkId));
        Assert.Equal(first.ChunkCount, after.Results.Count(r => r.DocumentId == doc.Id)); // each chunk once, not once per ingestion
        Assert.Equal(after.Results.Count, after.Results.Select(r => r.ChunkId).Distinct().Count());
    }

    [Fact]
    public async Task Another_tenants_document_and_an_unknown_id_are_404_and_left_alone()
    {
        var a = await factory.NewTenantAsync("reingest-a");
        var b = await factory.NewTenantAsync("reingest-b");
        var doc = await a.Http.UploadAsync("etna.txt", Encoding.UTF8.GetBytes(DocumentsEndToEndTests.Volcano), "text/plain");
        Assert.Equal("indexed", (await a.Http.WaitForIngestAsync(doc.Id)).Status);
        var jobs = await factory.Store.Jobs.CountByStatusAsync();

        using (var r = await b.Http.PostAsync($"/v1/documents/{doc.Id}/reingest", null))
            Assert.Contains(doc.Id, (await AssertProblemAsync(r, HttpStatusCode.NotFound)).Detail);
        using (var r = await a.Http.PostAsync("/v1/documents/no-such-document/reingest", null))
            await AssertProblemAsync(r, HttpStatusCode.NotFound);
        Assert.Equal(0, await ReingestAllAsync(b.Http)); // B's "all" is B's documents only

        Assert.Equal(jobs.Values.Sum(), (await factory.Store.Jobs.CountByStatusAsync()).Values.Sum()); // nothing queued
        Assert.Equal("indexed", (await GetAsync(a.Http, doc.Id)).Status);
        Assert.Equal(doc.Id, (await a.Http.SearchAsync("stratovolcano Sicily")).Results[0].DocumentId);
    }

    [Theory]
    [InlineData("broken")]
    [InlineData("3")]
    [InlineData("failed,indexed")]
    public async Task An_unknown_status_is_400_naming_the_allowed_values_and_queues_nothing(string status)
    {
        var c = await factory.NewTenantAsync("reingest-bad");
        var doc = await c.Http.UploadAsync("etna.txt", Encoding.UTF8.GetBytes(DocumentsEndToEndTests.Volcano), "text/plain");
        Assert.Equal("indexed", (await c.Http.WaitForIngestAsync(doc.Id)).Status);

        using var r = await c.Http.PostAsync($"/v1/documents/reingest?status={Uri.EscapeDataString(status)}", null);
        var problem = await AssertProblemAsync(r, HttpStatusCode.BadRequest);
        Assert.Contains($"'{status}'", problem.Detail);
        Assert.Contains("queued, processing, indexed, failed", problem.Detail);
        Assert.Equal("indexed", (await GetAsync(c.Http, doc.Id)).Status);
    }

    [Fact]
    public async Task Reingest_all_counts_the_documents_it_queues_optionally_only_one_status()
    {
        var c = await factory.NewTenantAsync("reingest-all");
        var good = new[]
        {
            await c.Http.UploadAsync("etna.txt", Encoding.UTF8.GetBytes(DocumentsEndToEndTests.Volcano), "text/plain"),
            await c.Http.UploadAsync("bees.md", Encoding.UTF8.GetBytes(DocumentsEndToEndTests.Bees), "text/markdown"),
        };
        var broken = await c.Http.UploadAsync("broken.docx", BrokenDocx, DocxType);
        foreach (var d in good) Assert.Equal("indexed", (await c.Http.WaitForIngestAsync(d.Id)).Status);
        Assert.Equal("failed", (await c.Http.WaitForIngestAsync(broken.Id)).Status);

        Assert.Equal(0, await ReingestAllAsync(c.Http, "?status=processing"));
        Assert.Equal(1, await ReingestAllAsync(c.Http, "?status=Failed")); // case does not matter
        foreach (var d in good) Assert.Equal("indexed", (await GetAsync(c.Http, d.Id)).Status); // the others are not touched
        Assert.Equal("failed", (await c.Http.WaitForIngestAsync(broken.Id)).Status);

        Assert.Equal(3, await ReingestAllAsync(c.Http));
        foreach (var d in good) Assert.Equal("indexed", (await c.Http.WaitForIngestAsync(d.Id)).Status);
        Assert.Equal("failed", (await c.Http.WaitForIngestAsync(broken.Id)).Status);
        Assert.Equal(good[1].Id, (await c.Http.SearchAsync("who lays the eggs in a hive")).Results[0].DocumentId);
    }
}
