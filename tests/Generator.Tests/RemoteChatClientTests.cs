using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Rag.Generator.Remote;

namespace Rag.Generator.Tests;

/// <summary>The remote client against a fake transport serving canned OpenAI-format responses; no network.</summary>
public class RemoteChatClientTests
{
    sealed class FakeOpenAiHandler(Func<JsonDocument, HttpResponseMessage> respond) : HttpMessageHandler
    {
        public List<(HttpMethod Method, Uri Uri, string? Auth, JsonDocument Body)> Requests { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = JsonDocument.Parse(await request.Content!.ReadAsStringAsync(cancellationToken));
            Requests.Add((request.Method, request.RequestUri!, request.Headers.Authorization?.ToString(), body));
            return respond(body);
        }
    }

    static HttpResponseMessage Json(string json) => new(HttpStatusCode.OK) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    const string Completion = """
        {"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"qwen2.5:7b",
         "choices":[{"index":0,"message":{"role":"assistant","content":"Paris is the capital [1]."},"finish_reason":"stop"}],
         "usage":{"prompt_tokens":42,"completion_tokens":6,"total_tokens":48}}
        """;

    static string Chunk(string? content, string? finish = null) =>
        "data: " + JsonSerializer.Serialize(new
        {
            id = "chatcmpl-2",
            @object = "chat.completion.chunk",
            created = 1700000000,
            model = "qwen2.5:7b",
            choices = new[] { new { index = 0, delta = content is null ? new Dictionary<string, string>() : new() { ["content"] = content }, finish_reason = finish } },
        }) + "\n\n";

    static HttpResponseMessage Stream(params string[] pieces)
    {
        var sse = string.Concat(pieces.Select(p => Chunk(p))) + Chunk(null, "stop") + "data: [DONE]\n\n";
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(sse, Encoding.UTF8, "text/event-stream") };
    }

    [Fact]
    public async Task Sends_an_openai_chat_request_to_the_base_url_with_key_and_model()
    {
        var handler = new FakeOpenAiHandler(_ => Json(Completion));
        using var client = RemoteChatClientFactory.Create("http://llm.local:8000/v1", "sk-test", "qwen2.5:7b", new HttpClient(handler));

        var response = await client.GetResponseAsync(
            [new ChatMessage(ChatRole.System, "Cite."), new ChatMessage(ChatRole.User, "Capital?")],
            new ChatOptions { MaxOutputTokens = 64, Temperature = 0f });

        Assert.Equal("Paris is the capital [1].", response.Text);
        Assert.Equal(6, response.Usage?.OutputTokenCount);
        var (method, uri, auth, body) = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Post, method);
        Assert.Equal("http://llm.local:8000/v1/chat/completions", uri.ToString());
        Assert.Equal("Bearer sk-test", auth);
        Assert.Equal("qwen2.5:7b", body.RootElement.GetProperty("model").GetString());
        var messages = body.RootElement.GetProperty("messages").EnumerateArray().Select(m => (m.GetProperty("role").GetString(), ContentText(m))).ToList();
        Assert.Equal([("system", "Cite."), ("user", "Capital?")], messages);
        Assert.Equal(0, body.RootElement.GetProperty("temperature").GetSingle());
    }

    [Fact]
    public async Task Streams_server_sent_events_piece_by_piece()
    {
        var handler = new FakeOpenAiHandler(_ => Stream("Par", "is", " [1]."));
        using var client = RemoteChatClientFactory.Create(new Uri("http://localhost:11434/v1"), null, "llama3", new HttpClient(handler));

        var pieces = new List<string>();
        await foreach (var u in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Capital?")]))
            if (u.Text.Length > 0) pieces.Add(u.Text);

        Assert.Equal(["Par", "is", " [1]."], pieces);
        var request = Assert.Single(handler.Requests);
        Assert.True(request.Body.RootElement.GetProperty("stream").GetBoolean());
        Assert.Equal("Bearer " + RemoteChatClientFactory.NoKey, request.Auth);
    }

    [Fact]
    public async Task Grounded_answers_go_through_the_remote_client_and_map_citations()
    {
        var handler = new FakeOpenAiHandler(_ => Stream("It opened", " in 1889 [1]", " [4]."));
        using var client = RemoteChatClientFactory.Create("http://llm.local/v1", "k", "m", new HttpClient(handler));
        var answerer = new GroundedAnswerer(client, AnswerMode.Generated, new GeneratorOptions { RemoteBaseUrl = "http://llm.local/v1", RemoteModel = "m" }, null);

        var done = await answerer.AnswerCompleteAsync("When did it open?", Passages.Eiffel, []);

        Assert.Equal("It opened in 1889 [1] [4].", done.Answer);
        Assert.Equal(["eiffel"], done.Citations.Select(c => c.DocumentId));
        Assert.Equal([4], done.DroppedCitations);
        var user = handler.Requests[0].Body.RootElement.GetProperty("messages").EnumerateArray().Last();
        Assert.Contains("[1] Eiffel Tower\nThe Eiffel Tower is", ContentText(user));
    }

    [Theory]
    [InlineData("not a url")]
    [InlineData("ftp://host/v1")]
    public void Rejects_a_base_url_that_is_not_http(string url) =>
        Assert.Throws<ArgumentException>(() => RemoteChatClientFactory.Create(url, null, "m"));

    // The OpenAI library writes content either as a string or as [{"type":"text","text":...}].
    static string? ContentText(JsonElement message)
    {
        var content = message.GetProperty("content");
        return content.ValueKind == JsonValueKind.String
            ? content.GetString()
            : string.Concat(content.EnumerateArray().Select(p => p.GetProperty("text").GetString()));
    }
}
