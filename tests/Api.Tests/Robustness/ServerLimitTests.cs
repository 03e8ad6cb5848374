using System.Net;
using System.Net.Http.Json;
using System.Text;
using Rag.Api.Tests.Cli;
using Rag.Testing;

namespace Rag.Api.Tests.Robustness;

/// <summary>
/// Rejections Kestrel made itself, before any middleware, with an empty body (issue 12, item 4): a 10 KB id in the
/// path, a 1 MB ?title=, 64 KB of headers. Over a real socket, since the in-process test server has no Kestrel.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public sealed class ServerLimitTests
{
    [Fact]
    public async Task Over_long_targets_and_headers_are_problems_with_a_detail_and_stored_documents_stay()
    {
        using var data = new TempDir();
        await using var service = await ServiceProcess.StartAsync(data.Path);
        var (created, key, err) = await CliTests.RunAsync("keys", "create", "--tenant", "me", "--data", data.Path);
        Assert.True(created == 0, err + service.Output);
        using var http = service.Client(key.TrimEnd().Split('\n')[^1].Trim());
        var keeper = await http.UploadAsync("keeper.txt", Encoding.UTF8.GetBytes("The lighthouse keeper polished the great Fresnel lens."), "text/plain");
        Assert.Equal("indexed", (await http.WaitForIngestAsync(keeper.Id)).Status);

        using (var r = await http.GetAsync("/v1/documents/" + new string('a', 10_000)))
            Assert.Contains("request target is", await AssertProblemAsync(r, HttpStatusCode.RequestUriTooLong));
        using (var r = await http.PostAsJsonAsync("/v1/documents?title=" + new string('t', 1_000_000), new { text = "a title too long" }))
            Assert.Contains("in the request body instead", await AssertProblemAsync(r, HttpStatusCode.RequestUriTooLong));
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/v1/documents"))
        {
            request.Headers.Add("X-Padding", new string('p', 64 * 1024));
            using var r = await http.SendAsync(request);
            Assert.Contains("request headers total", await AssertProblemAsync(r, HttpStatusCode.RequestHeaderFieldsTooLarge));
        }

        var listed = (await http.GetFromJsonAsync<DocumentPageView>("/v1/documents", Json.Web))!;
        Assert.Equal(keeper.Id, Assert.Single(listed.Items).Id);
        Assert.Equal(keeper.Id, (await http.SearchAsync("Fresnel lens")).Results[0].DocumentId);
    }

    static async Task<string> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var detail = System.Text.Json.JsonSerializer.Deserialize<ProblemView>(body, Json.Web)!.Detail;
        Assert.False(string.IsNullOrWhiteSpace(detail), body);
        return detail!;
    }
}
