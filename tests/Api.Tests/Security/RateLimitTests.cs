using System.Net;
using System.Net.Http.Json;

namespace Rag.Api.Tests.Security;

public sealed class RateLimitTests
{
    [Fact]
    public async Task A_key_over_its_limit_gets_429_problem_details_and_other_keys_are_unaffected()
    {
        using var factory = new RagApiFactory(new Dictionary<string, string?> { ["Rag:Limits:RequestsPerMinute"] = "3" });
        var busy = await factory.NewTenantAsync("busy");
        var quiet = await factory.NewTenantAsync("quiet");
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.OK, (await busy.Http.GetAsync("/v1/documents")).StatusCode);

        using var refused = await busy.Http.GetAsync("/v1/documents");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Contains("3 requests a minute", (await refused.Content.ReadFromJsonAsync<ProblemView>(Json.Web))!.Detail);

        Assert.Equal(HttpStatusCode.OK, (await quiet.Http.GetAsync("/v1/documents")).StatusCode);
    }
}
