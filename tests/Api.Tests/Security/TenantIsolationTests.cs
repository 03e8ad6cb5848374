using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using OpenAI;
using OpenAI.Chat;

namespace Rag.Api.Tests.Security;

/// <summary>Tenant B never receives tenant A's chunks, through any endpoint.</summary>
public sealed class TenantIsolationTests : IClassFixture<Documents.BareServiceFixture>
{
    readonly RagApiFactory factory;

    public TenantIsolationTests(Documents.BareServiceFixture fixture) => factory = fixture.Factory;

    const string Secret = "The launch code for project bluebird is kept in the granite vault.";

    [Fact]
    public async Task Tenant_b_never_sees_tenant_a_documents_or_chunks()
    {
        var a = await factory.NewTenantAsync("a");
        var b = await factory.NewTenantAsync("b");
        var doc = await a.Http.UploadAsync("secret.txt", Encoding.UTF8.GetBytes(Secret), "text/plain");
        Assert.Equal("indexed", (await a.Http.WaitForIngestAsync(doc.Id)).Status);
        Assert.NotEmpty((await a.Http.SearchAsync("bluebird granite vault")).Results);

        foreach (var mode in new[] { "bm25", "hybrid", "dense" })
            Assert.Empty((await b.Http.SearchAsync("bluebird granite vault", mode)).Results);
        Assert.Empty((await b.Http.SearchAsync("bluebird granite vault", documentIds: [doc.Id])).Results);

        Assert.Equal(0, (await b.Http.GetFromJsonAsync<DocumentPageView>("/v1/documents", Json.Web))!.Total);
        using (var r = await b.Http.GetAsync($"/v1/documents/{doc.Id}")) Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        using (var r = await b.Http.GetAsync($"/v1/documents/{doc.Id}/chunks")) Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        using (var r = await b.Http.DeleteAsync($"/v1/documents/{doc.Id}")) Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);

        using var chat = await b.Http.PostAsJsonAsync("/v1/chat", new { question = "Where is the launch code for project bluebird kept?" });
        var answer = (await chat.Content.ReadFromJsonAsync<ChatView>(Json.Web))!;
        Assert.Empty(answer.Citations);
        Assert.DoesNotContain("granite", answer.Answer);

        // The conversation of tenant A is not reachable with B's key either.
        using var aChat = await a.Http.PostAsJsonAsync("/v1/chat", new { question = "Where is the bluebird launch code?" });
        var aAnswer = (await aChat.Content.ReadFromJsonAsync<ChatView>(Json.Web))!;
        Assert.Contains(aAnswer.Citations, c => c.DocumentId == doc.Id);
        using (var r = await b.Http.PostAsJsonAsync("/v1/chat", new { question = "and then?", conversationId = aAnswer.ConversationId }))
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        using (var r = await b.Http.GetAsync($"/v1/conversations/{aAnswer.ConversationId}")) Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);

        var openAi = await OpenAiClient(b.Key).CompleteChatAsync([new UserChatMessage("Where is the launch code for project bluebird kept?")]);
        Assert.DoesNotContain("granite", openAi.Value.Content[0].Text);
    }

    ChatClient OpenAiClient(string key) => new("rag", new ApiKeyCredential(key), new OpenAIClientOptions
    {
        Endpoint = new Uri(factory.Server.BaseAddress, "/v1"),
        Transport = new System.ClientModel.Primitives.HttpClientPipelineTransport(factory.CreateClient()),
    });
}
