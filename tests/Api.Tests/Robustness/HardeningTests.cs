using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;

namespace Rag.Api.Tests.Robustness;

/// <summary>The requests a hostile user sent (issue 12): each gets a problem with a useful detail, and stored documents stay intact.</summary>
public sealed class HardeningTests : IClassFixture<SmallLimitServiceFixture>
{
    readonly RagApiFactory factory;

    public HardeningTests(SmallLimitServiceFixture fixture) => factory = fixture.Factory;

    async Task<(TenantClient Client, DocumentView Keeper)> TenantWithOneDocumentAsync(string name)
    {
        var c = await factory.NewTenantAsync(name);
        var keeper = await c.Http.UploadAsync("keeper.txt", Encoding.UTF8.GetBytes("The lighthouse keeper polished the great Fresnel lens every morning."), "text/plain");
        Assert.Equal("indexed", (await c.Http.WaitForIngestAsync(keeper.Id)).Status);
        return (c, keeper);
    }

    static async Task AssertIntact(TenantClient c, DocumentView keeper)
    {
        Assert.Equal(keeper.Id, (await c.Http.SearchAsync("Fresnel lens lighthouse")).Results[0].DocumentId);
        Assert.Equal(1, (await c.Http.GetFromJsonAsync<DocumentPageView>("/v1/documents", Json.Web))!.Total);
    }

    static async Task<ProblemView> AssertProblem(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = System.Text.Json.JsonSerializer.Deserialize<ProblemView>(body, Json.Web)!;
        Assert.False(string.IsNullOrWhiteSpace(problem.Detail), body);
        return problem;
    }

    static StringContent JsonBody(string json) => new(json, Encoding.UTF8, "application/json");

    public static TheoryData<string, string, HttpStatusCode> BindingFailures => new()
    {
        { "/v1/search", """{"query":""", HttpStatusCode.BadRequest },
        { "/v1/search", """{"query":"lens","k":"abc"}""", HttpStatusCode.BadRequest },
        { "/v1/search", """{"query":"lens","mode":"bogus"}""", HttpStatusCode.BadRequest },
        { "/v1/search", """{"query":"lens","k":1e20}""", HttpStatusCode.BadRequest },
        { "/v1/search", new string('[', 10_000) + new string(']', 10_000), HttpStatusCode.BadRequest },
        { "/v1/chat", """{"question": "lens" """, HttpStatusCode.BadRequest },
        { "/v1/chat/completions", """{"model":"rag","messages":[{"role":"user","content":["a","b"]}]}""", HttpStatusCode.BadRequest },
    };

    [Theory]
    [MemberData(nameof(BindingFailures))]
    public async Task Every_binding_failure_is_a_problem_with_a_detail(string path, string json, HttpStatusCode status)
    {
        var (c, keeper) = await TenantWithOneDocumentAsync("binding");
        using (var r = await c.Http.PostAsync(path, JsonBody(json))) await AssertProblem(r, status);
        await AssertIntact(c, keeper);
    }

    [Fact]
    public async Task A_bad_query_value_and_a_missing_content_type_are_problems_with_a_detail()
    {
        var (c, keeper) = await TenantWithOneDocumentAsync("query");
        using (var r = await c.Http.GetAsync("/v1/documents?offset=abc")) await AssertProblem(r, HttpStatusCode.BadRequest);
        var bare = new ByteArrayContent("""{"query":"lens"}"""u8.ToArray()); // no Content-Type header at all
        using (var r = await c.Http.PostAsync("/v1/search", bare)) await AssertProblem(r, HttpStatusCode.UnsupportedMediaType);
        await AssertIntact(c, keeper);
    }

    [Fact]
    public async Task A_multipart_upload_over_the_limit_is_413_like_json()
    {
        var (c, keeper) = await TenantWithOneDocumentAsync("big");
        var big = new byte[3 * 1024 * 1024];
        Array.Fill(big, (byte)'a');
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/documents") { Content = Api.Multipart("big.txt", big, "text/plain") };
        request.Headers.ExpectContinue = false;
        using (var r = await c.Http.SendAsync(request)) await AssertProblem(r, HttpStatusCode.RequestEntityTooLarge);
        using (var r = await c.Http.PostAsync("/v1/documents", Form(("a.txt", big), ("b.txt", big))))
            await AssertProblem(r, HttpStatusCode.RequestEntityTooLarge);
        await AssertIntact(c, keeper);
    }

    [Fact]
    public async Task Control_characters_are_stripped_from_file_names_and_titles()
    {
        var c = await factory.NewTenantAsync("control");
        // HttpClient refuses control characters in a header, so the multipart body is written by hand, as curl would send it.
        var raw = new ByteArrayContent(Encoding.UTF8.GetBytes(
            "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"evil\u0000name\u001b[31m.txt\"\r\nContent-Type: text/plain\r\n\r\n" +
            "Harmless words about tides and the moon.\r\n--b--\r\n"));
        raw.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=b");
        using var uploaded = await c.Http.PostAsync("/v1/documents", raw);
        var body = await uploaded.Content.ReadAsStringAsync();
        Assert.True(uploaded.IsSuccessStatusCode, body);
        var doc = System.Text.Json.JsonSerializer.Deserialize<UploadView>(body, Json.Web)!.Document;
        Assert.Equal("evilname[31m.txt", doc.FileName);
        Assert.Equal("evilname[31m", doc.Title);
        using var titled = await c.Http.PostAsJsonAsync("/v1/documents", new { title = "Line\r\nbreak\u0007", text = "Words about bells." });
        Assert.Equal("Linebreak", (await titled.Content.ReadFromJsonAsync<UploadView>(Json.Web))!.Document.Title);
    }

    static MultipartFormDataContent Form(params (string Name, byte[] Content)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, content) in files)
        {
            var part = new ByteArrayContent(content);
            part.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
            form.Add(part, "files", name);
        }
        return form;
    }

    async Task<HttpClient> AdminAsync(string name)
    {
        var tenant = await factory.Store.Tenants.CreateTenantAsync(name + "-" + Guid.NewGuid().ToString("N")[..6]);
        var key = await factory.Store.Tenants.CreateApiKeyAsync(tenant.Id, "admin", isAdmin: true);
        var http = factory.CreateClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Plaintext);
        return http;
    }

    async Task<string> DatasetAsync(string name)
    {
        var dir = Path.Combine(factory.DataDirectory, "datasets", name);
        Directory.CreateDirectory(dir);
        await File.WriteAllLinesAsync(Path.Combine(dir, "corpus.jsonl"),
            ["""{"id": "d1", "title": "Paris", "text": "Paris is the capital of France."}""", """{"id": "d2", "title": "Rome", "text": "Rome is the capital of Italy."}"""]);
        var questions = Path.Combine(dir, "questions.jsonl");
        await File.WriteAllLinesAsync(questions, ["""{"id": "q1", "question": "What is the capital of France?", "answers": ["Paris"], "gold_document_ids": ["d1"]}"""]);
        return questions;
    }

    sealed record RunView(string Id, string Status);

    [Fact]
    public async Task Two_tenants_running_the_same_eval_each_get_their_own_run()
    {
        var questions = await DatasetAsync("same");
        var (a, b) = (await AdminAsync("eval-a"), await AdminAsync("eval-b"));
        var body = new { dataset = "jsonl:" + questions, mode = "bm25", k = new[] { 1, 5 } };
        using var startA = await a.PostAsJsonAsync("/v1/evals", body);
        Assert.Equal(HttpStatusCode.Accepted, startA.StatusCode);
        using var startB = await b.PostAsJsonAsync("/v1/evals", body);
        Assert.True(startB.StatusCode == HttpStatusCode.Accepted, await startB.Content.ReadAsStringAsync());
        var (runA, runB) = ((await startA.Content.ReadFromJsonAsync<RunView>(Json.Web))!, (await startB.Content.ReadFromJsonAsync<RunView>(Json.Web))!);
        Assert.NotEqual(runA.Id, runB.Id);
        using (var r = await b.GetAsync($"/v1/evals/{runA.Id}")) await AssertProblem(r, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Eval_datasets_outside_the_allowed_folders_are_refused_and_errors_never_quote_the_file()
    {
        var admin = await AdminAsync("eval-paths");
        using (var r = await admin.PostAsJsonAsync("/v1/evals", new { dataset = "squad:/etc/passwd" }))
            Assert.DoesNotContain("root", (await AssertProblem(r, HttpStatusCode.Forbidden)).Detail);
        var inside = await DatasetAsync("escape");
        using (var r = await admin.PostAsJsonAsync("/v1/evals", new { dataset = "squad:" + Path.Combine(Path.GetDirectoryName(inside)!, "..", "..", "..", "etc", "passwd") }))
            await AssertProblem(r, HttpStatusCode.Forbidden);

        var notJson = Path.Combine(Path.GetDirectoryName(inside)!, "secret.json");
        await File.WriteAllTextAsync(notJson, "root:x:0:0:secret");
        using (var r = await admin.PostAsJsonAsync("/v1/evals", new { dataset = "squad:" + notJson }))
        {
            var problem = await AssertProblem(r, HttpStatusCode.BadRequest);
            Assert.DoesNotContain("'r'", problem.Detail);
            Assert.DoesNotContain("secret", problem.Detail);
        }
    }
}
