using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;

namespace Rag.Api.Tests.Robustness;

/// <summary>
/// The bad inputs real users send: each gets a clear 4xx problem, and every document stored
/// before it is still there and searchable afterwards.
/// </summary>
public sealed class BadInputTests : IClassFixture<SmallLimitServiceFixture>
{
    readonly RagApiFactory factory;

    public BadInputTests(SmallLimitServiceFixture fixture) => factory = fixture.Factory;

    async Task<(TenantClient Client, DocumentView Keeper)> TenantWithOneDocumentAsync()
    {
        var c = await factory.NewTenantAsync("bad");
        var keeper = await c.Http.UploadAsync("keeper.txt", Encoding.UTF8.GetBytes("The lighthouse keeper polished the great Fresnel lens every morning."), "text/plain");
        Assert.Equal("indexed", (await c.Http.WaitForIngestAsync(keeper.Id)).Status);
        return (c, keeper);
    }

    static async Task AssertKeeperStillSearchable(TenantClient c, DocumentView keeper)
    {
        var hits = await c.Http.SearchAsync("Fresnel lens lighthouse");
        Assert.Equal(keeper.Id, hits.Results[0].DocumentId);
        Assert.Equal("indexed", (await c.Http.GetFromJsonAsync<DocumentView>($"/v1/documents/{keeper.Id}", Json.Web))!.Status);
    }

    static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = System.Text.Json.JsonSerializer.Deserialize<ProblemView>(body, Json.Web)!;
        Assert.False(string.IsNullOrWhiteSpace(problem.Title));
        Assert.False(string.IsNullOrWhiteSpace(problem.Detail));
    }

    public static TheoryData<string, string, byte[], HttpStatusCode> RefusedUploads => new()
    {
        { "empty.txt", "text/plain", [], HttpStatusCode.BadRequest },
        { "blank.txt", "text/plain", Encoding.UTF8.GetBytes("  \n\t \r\n  "), HttpStatusCode.BadRequest },
        { "garbage.txt", "text/plain", Garbage(4096), HttpStatusCode.BadRequest },
        { "clip.mp4", "video/mp4", [0x00, 0x00, 0x00, 0x18, (byte)'f', (byte)'t', (byte)'y', (byte)'p', 1, 2, 3], HttpStatusCode.UnsupportedMediaType },
        { "tool.exe", "application/x-msdownload", Encoding.ASCII.GetBytes("MZ this is not a document"), HttpStatusCode.UnsupportedMediaType },
        { "big.txt", "text/plain", Encoding.ASCII.GetBytes(new string('a', 3 * 1024 * 1024)), HttpStatusCode.RequestEntityTooLarge },
    };

    [Theory]
    [MemberData(nameof(RefusedUploads))]
    public async Task Refused_uploads_get_a_problem_and_leave_stored_documents_alone(string name, string type, byte[] content, HttpStatusCode status)
    {
        var (c, keeper) = await TenantWithOneDocumentAsync();
        using var response = await c.Http.PostAsync("/v1/documents", Api.Multipart(name, content, type));
        await AssertProblem(response, status);
        Assert.Equal(1, (await c.Http.GetFromJsonAsync<DocumentPageView>("/v1/documents", Json.Web))!.Total);
        await AssertKeeperStillSearchable(c, keeper);
    }

    [Fact]
    public async Task Malformed_multipart_invalid_json_and_wrong_content_type_are_400_or_415()
    {
        var (c, keeper) = await TenantWithOneDocumentAsync();

        var broken = new StringContent("--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nhello (no closing boundary)");
        broken.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=xyz");
        using (var r = await c.Http.PostAsync("/v1/documents", broken)) await AssertProblem(r, HttpStatusCode.BadRequest);

        using (var r = await c.Http.PostAsync("/v1/documents", new StringContent("{\"title\": \"x\", \"text\": ", Encoding.UTF8, "application/json")))
            await AssertProblem(r, HttpStatusCode.BadRequest);
        using (var r = await c.Http.PostAsync("/v1/search", new StringContent("{not json", Encoding.UTF8, "application/json")))
            await AssertProblem(r, HttpStatusCode.BadRequest);
        using (var r = await c.Http.PostAsync("/v1/documents", new StringContent("just text", Encoding.UTF8, "text/plain")))
            await AssertProblem(r, HttpStatusCode.UnsupportedMediaType);
        using (var r = await c.Http.PostAsync("/v1/documents", new MultipartFormDataContent { { new StringContent("x"), "notfile" } }))
            await AssertProblem(r, HttpStatusCode.BadRequest);
        using (var r = await c.Http.PostAsJsonAsync("/v1/search", new { query = "  " })) await AssertProblem(r, HttpStatusCode.BadRequest);
        using (var r = await c.Http.PostAsJsonAsync("/v1/search", new { query = "lens", k = 0 })) await AssertProblem(r, HttpStatusCode.BadRequest);
        using (var r = await c.Http.PostAsJsonAsync("/v1/chat", new { question = "" })) await AssertProblem(r, HttpStatusCode.BadRequest);

        await AssertKeeperStillSearchable(c, keeper);
    }

    [Fact]
    public async Task Unknown_ids_are_404_problems()
    {
        var c = await factory.NewTenantAsync("unknown");
        using (var r = await c.Http.GetAsync("/v1/documents/does-not-exist")) await AssertProblem(r, HttpStatusCode.NotFound);
        using (var r = await c.Http.DeleteAsync("/v1/documents/does-not-exist")) await AssertProblem(r, HttpStatusCode.NotFound);
        using (var r = await c.Http.PostAsJsonAsync("/v1/chat", new { question = "hi", conversationId = "nope" })) await AssertProblem(r, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Missing_or_wrong_api_key_is_401()
    {
        using var anonymous = factory.CreateClient();
        using (var r = await anonymous.GetAsync("/v1/documents")) await AssertProblem(r, HttpStatusCode.Unauthorized);
        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "rag_not-a-real-key");
        using (var r = await anonymous.PostAsJsonAsync("/v1/search", new { query = "x" })) await AssertProblem(r, HttpStatusCode.Unauthorized);
        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", "dXNlcjpwYXNz");
        using (var r = await anonymous.GetAsync("/v1/documents")) await AssertProblem(r, HttpStatusCode.Unauthorized);

        var c = await factory.NewTenantAsync("revoked");
        var key = (await factory.Store.Tenants.ListApiKeysAsync(c.TenantId)).Single();
        await factory.Store.Tenants.RevokeApiKeyAsync(key.Id);
        using (var r = await c.Http.GetAsync("/v1/documents")) await AssertProblem(r, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Latin1_text_is_accepted_and_decoded()
    {
        var c = await factory.NewTenantAsync("latin1");
        var latin1 = Encoding.Latin1.GetBytes("Le café de la crème brûlée se trouve près de la forêt.");
        var doc = await c.Http.UploadAsync("cafe.txt", latin1, "text/plain");
        Assert.Equal("indexed", (await c.Http.WaitForIngestAsync(doc.Id)).Status);
        var hit = (await c.Http.SearchAsync("crème brûlée forêt")).Results[0];
        Assert.Contains("crème brûlée", hit.Text);
    }

    [Fact]
    public async Task Corrupt_docx_and_pdf_fail_with_their_error_while_other_jobs_go_on()
    {
        var (c, keeper) = await TenantWithOneDocumentAsync();
        var docx = await c.Http.UploadAsync("report.docx", [0x50, 0x4B, 0x03, 0x04, .. Garbage(2000)], "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
        var pdf = await c.Http.UploadAsync("paper.pdf", [.. Encoding.ASCII.GetBytes("%PDF-1.7\n"), .. Garbage(2000)], "application/pdf");
        var fine = await c.Http.UploadAsync("fine.txt", Encoding.UTF8.GetBytes("Glaciers carve U-shaped valleys as they slowly advance."), "text/plain");

        var failedDocx = await c.Http.WaitForIngestAsync(docx.Id);
        var failedPdf = await c.Http.WaitForIngestAsync(pdf.Id);
        Assert.Equal("failed", failedDocx.Status);
        Assert.False(string.IsNullOrWhiteSpace(failedDocx.Error));
        Assert.Equal("failed", failedPdf.Status);
        Assert.False(string.IsNullOrWhiteSpace(failedPdf.Error));
        Assert.Equal("indexed", (await c.Http.WaitForIngestAsync(fine.Id)).Status);
        Assert.Equal(fine.Id, (await c.Http.SearchAsync("glaciers valleys")).Results[0].DocumentId);
        await AssertKeeperStillSearchable(c, keeper);
    }

    static byte[] Garbage(int length)
    {
        var bytes = new byte[length];
        new Random(42).NextBytes(bytes);
        return bytes;
    }
}

/// <summary>A service with a 2 MB upload limit, so the oversized-upload case stays small.</summary>
public sealed class SmallLimitServiceFixture : IDisposable
{
    public RagApiFactory Factory { get; } = new(new Dictionary<string, string?> { ["Rag:Limits:MaxUploadBytes"] = (2 * 1024 * 1024).ToString() });

    public void Dispose() => Factory.Dispose();
}
