using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;

namespace Rag.Api.Tests.Security;

/// <summary>Guessing keys (issue 12, item 6): 700 wrong keys in a row all got 401. Now an address that fails too often is refused.</summary>
public sealed class FailedAuthThrottleTests
{
    static Task<HttpContext> GetDocumentsAsync(RagApiFactory factory, string address, string key) =>
        factory.Server.SendAsync(c =>
        {
            c.Connection.RemoteIpAddress = IPAddress.Parse(address);
            c.Request.Method = "GET";
            c.Request.Path = "/v1/documents";
            c.Request.Headers.Authorization = "Bearer " + key;
        });

    [Fact]
    public async Task An_address_over_its_failed_authentications_gets_429_problems_and_other_addresses_are_unaffected()
    {
        using var factory = new RagApiFactory(new Dictionary<string, string?> { ["Rag:Limits:FailedAuthPerMinute"] = "5" });
        var tenant = await factory.NewTenantAsync("guessed");
        const string guesser = "203.0.113.7", neighbour = "198.51.100.2";

        for (var i = 0; i < 5; i++)
            Assert.Equal(401, (await GetDocumentsAsync(factory, guesser, $"rag_guess-{i}")).Response.StatusCode);

        var refused = await GetDocumentsAsync(factory, guesser, "rag_guess-5");
        Assert.Equal(429, refused.Response.StatusCode);
        Assert.Equal("application/problem+json", refused.Response.ContentType);
        Assert.True(int.Parse(refused.Response.Headers.RetryAfter!) is > 0 and <= 60, refused.Response.Headers.RetryAfter);
        var problem = (await System.Text.Json.JsonSerializer.DeserializeAsync<ProblemView>(refused.Response.Body, Json.Web))!;
        Assert.Contains("failed authentications came from this address", problem.Detail);

        // The guesser's address learns nothing more, even with the right key; the neighbour's requests are served.
        Assert.Equal(429, (await GetDocumentsAsync(factory, guesser, tenant.Key)).Response.StatusCode);
        Assert.Equal(200, (await GetDocumentsAsync(factory, neighbour, tenant.Key)).Response.StatusCode);
        Assert.Equal(401, (await GetDocumentsAsync(factory, neighbour, "rag_guess-6")).Response.StatusCode);
    }

    [Fact]
    public async Task Successful_authentications_spend_nothing()
    {
        using var factory = new RagApiFactory(new Dictionary<string, string?> { ["Rag:Limits:FailedAuthPerMinute"] = "2" });
        var tenant = await factory.NewTenantAsync("busy");
        for (var i = 0; i < 10; i++)
            Assert.Equal(200, (await GetDocumentsAsync(factory, "192.0.2.1", tenant.Key)).Response.StatusCode);
        Assert.Equal(401, (await GetDocumentsAsync(factory, "192.0.2.1", "rag_wrong")).Response.StatusCode);
    }
}
