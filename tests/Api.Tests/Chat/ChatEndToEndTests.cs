using System.ClientModel;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;

namespace Rag.Api.Tests.Chat;

/// <summary>Chat on embedded defaults with no generator configured: extractive answers, streamed, with citations.</summary>
public sealed class ChatEndToEndTests : IClassFixture<Documents.BareServiceFixture>
{
    readonly RagApiFactory factory;

    public ChatEndToEndTests(Documents.BareServiceFixture fixture) => factory = fixture.Factory;

    async Task<(TenantClient, DocumentView)> TenantWithVolcanoAsync()
    {
        var c = await factory.NewTenantAsync("chat");
        var doc = await c.Http.UploadAsync("etna.txt", Encoding.UTF8.GetBytes(Documents.DocumentsEndToEndTests.Volcano), "text/plain");
        await c.Http.UploadAsync("bees.md", Encoding.UTF8.GetBytes(Documents.DocumentsEndToEndTests.Bees), "text/markdown");
        Assert.Equal("indexed", (await c.Http.WaitForIngestAsync(doc.Id)).Status);
        return (c, doc);
    }

    [Fact]
    public async Task Chat_answers_with_citations_to_the_right_document()
    {
        var (c, doc) = await TenantWithVolcanoAsync();
        using var response = await c.Http.PostAsJsonAsync("/v1/chat", new { question = "Which volcano is on the east coast of Sicily?" });
        var chat = (await response.Content.ReadFromJsonAsync<ChatView>(Json.Web))!;
        Assert.Contains("Etna", chat.Answer);
        var citation = Assert.Single(chat.Citations, x => x.DocumentId == doc.Id);
        Assert.Contains($"[{citation.Number}]", chat.Answer);
        Assert.Equal("extractive", chat.Mode);
        Assert.Equal("bm25", chat.RetrievalMode);
        Assert.NotEmpty(chat.Notices);
        Assert.NotNull(chat.ConversationId);
    }

    [Fact]
    public async Task Streaming_chat_sends_tokens_then_one_done_event_with_citations()
    {
        var (c, doc) = await TenantWithVolcanoAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat")
        {
            Content = JsonContent.Create(new { question = "Which volcano is on the east coast of Sicily?", stream = true }),
        };
        using var response = await c.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);

        var tokens = new StringBuilder();
        var frames = new List<Sse.Frame>();
        await foreach (var frame in Sse.ReadAsync(response)) frames.Add(frame);
        foreach (var f in frames.Where(f => f.Event == "token"))
            tokens.Append(JsonDocument.Parse(f.Data).RootElement.GetProperty("text").GetString());

        Assert.Contains(frames, f => f.Event == "token");
        var done = Assert.Single(frames, f => f.Event == "done");
        Assert.Equal("done", frames[^1].Event);
        var result = JsonSerializer.Deserialize<ChatView>(done.Data, Json.Web)!;
        Assert.Equal(result.Answer, tokens.ToString());
        Assert.Contains(result.Citations, x => x.DocumentId == doc.Id);
    }

    [Fact]
    public async Task A_follow_up_question_is_made_standalone_and_the_history_is_kept()
    {
        var (c, _) = await TenantWithVolcanoAsync();
        using var first = await c.Http.PostAsJsonAsync("/v1/chat", new { question = "Tell me about Mount Etna." });
        var conversation = (await first.Content.ReadFromJsonAsync<ChatView>(Json.Web))!.ConversationId;
        using var second = await c.Http.PostAsJsonAsync("/v1/chat", new { question = "How often does it erupt?", conversationId = conversation });
        var followUp = (await second.Content.ReadFromJsonAsync<ChatView>(Json.Web))!;
        Assert.Equal(conversation, followUp.ConversationId);
        Assert.Contains("Etna", followUp.StandaloneQuestion);

        var messages = await c.Http.GetFromJsonAsync<List<JsonElement>>($"/v1/conversations/{conversation}", Json.Web);
        Assert.Equal(4, messages!.Count);
    }

    [Fact]
    public async Task The_openai_compatible_endpoint_works_with_the_openai_client()
    {
        var (c, doc) = await TenantWithVolcanoAsync();
        var client = new ChatClient("rag", new ApiKeyCredential(c.Key), new OpenAIClientOptions
        {
            Endpoint = new Uri(factory.Server.BaseAddress, "/v1"),
            Transport = new System.ClientModel.Primitives.HttpClientPipelineTransport(factory.CreateClient()),
        });

        var completion = await client.CompleteChatAsync([new UserChatMessage("Which volcano is on the east coast of Sicily?")]);
        Assert.Contains("Etna", completion.Value.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.Value.FinishReason);

        var streamed = new StringBuilder();
        var updates = 0;
        await foreach (var update in client.CompleteChatStreamingAsync([
            new UserChatMessage("Tell me about Sicily."),
            new AssistantChatMessage("Sicily is an island."),
            new UserChatMessage("Which volcano is on its east coast?")]))
        {
            foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
            updates++;
        }
        Assert.True(updates > 2);
        Assert.Contains("Etna", streamed.ToString());
    }
}
