using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Rag.Testing;

namespace Rag.Api.Tests.Chat;

/// <summary>
/// The whole neural path in CI: tiny random DPR encoders and a tiny Qwen2 decoder in the Hugging
/// Face layout. Random weights carry no meaning, so dense retrieval is checked for its mechanics
/// and generation for streaming, citations and the answer mode.
/// </summary>
public sealed class NeuralPathTests : IClassFixture<NeuralServiceFixture>
{
    readonly RagApiFactory factory;

    public NeuralPathTests(NeuralServiceFixture fixture) => factory = fixture.Factory;

    async Task<(TenantClient, List<DocumentView>)> TenantWithDocumentsAsync()
    {
        var c = await factory.NewTenantAsync("neural");
        var docs = new List<DocumentView>
        {
            await c.Http.UploadAsync("etna.txt", Encoding.UTF8.GetBytes(Documents.DocumentsEndToEndTests.Volcano), "text/plain"),
            await c.Http.UploadAsync("bees.md", Encoding.UTF8.GetBytes(Documents.DocumentsEndToEndTests.Bees), "text/markdown"),
            await c.Http.UploadAsync("chess.html", Encoding.UTF8.GetBytes(Documents.DocumentsEndToEndTests.Chess), "text/html"),
        };
        foreach (var d in docs) Assert.Equal("indexed", (await c.Http.WaitForIngestAsync(d.Id)).Status);
        return (c, docs);
    }

    [Fact]
    public async Task Dense_search_returns_k_sorted_results_within_the_filter()
    {
        var (c, docs) = await TenantWithDocumentsAsync();
        var dense = await c.Http.SearchAsync("volcano in Sicily", mode: "dense", k: 2);
        Assert.Equal("dense", dense.Mode);
        Assert.Null(dense.Notice);
        Assert.Equal(2, dense.Results.Count);
        Assert.True(dense.Results[0].Score >= dense.Results[1].Score);

        var filtered = await c.Http.SearchAsync("volcano in Sicily", mode: "dense", k: 5, documentIds: [docs[1].Id]);
        Assert.All(filtered.Results, r => Assert.Equal(docs[1].Id, r.DocumentId));
        Assert.NotEmpty(filtered.Results);

        var hybrid = await c.Http.SearchAsync("Which volcano erupts on Sicily?", mode: "hybrid", k: 3);
        Assert.Equal("hybrid", hybrid.Mode);
        Assert.Equal(docs[0].Id, hybrid.Results[0].DocumentId); // BM25's strong match survives fusion
    }

    [Fact]
    public async Task Chat_streams_generated_tokens_and_ends_with_citations_from_the_passages()
    {
        var (c, docs) = await TenantWithDocumentsAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat")
        {
            Content = JsonContent.Create(new { question = "Which volcano is on the east coast of Sicily?", stream = true, k = 3 }),
        };
        using var response = await c.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var frames = new List<Sse.Frame>();
        await foreach (var frame in Sse.ReadAsync(response)) frames.Add(frame);

        var tokens = frames.Where(f => f.Event == "token").Select(f => JsonDocument.Parse(f.Data).RootElement.GetProperty("text").GetString()).ToList();
        Assert.True(tokens.Count > 1, "a generated answer arrives token by token");
        var done = JsonSerializer.Deserialize<ChatView>(Assert.Single(frames, f => f.Event == "done").Data, Json.Web)!;
        Assert.Equal("generated", done.Mode);
        Assert.Equal("hybrid", done.RetrievalMode);
        Assert.Equal(string.Concat(tokens), done.Answer);
        Assert.True(done.Timings.GeneratedTokens > 0);
        // A random model cites at random: whatever it cites must be one of the retrieved passages.
        Assert.All(done.Citations, cite => Assert.Contains(docs, d => d.Id == cite.DocumentId));
    }

    [Fact]
    public async Task Generation_is_deterministic_at_temperature_zero()
    {
        var (c, _) = await TenantWithDocumentsAsync();
        async Task<string> AskAsync()
        {
            using var r = await c.Http.PostAsJsonAsync("/v1/chat", new { question = "Who lays the eggs?" });
            return (await r.Content.ReadFromJsonAsync<ChatView>(Json.Web))!.Answer;
        }
        Assert.Equal(await AskAsync(), await AskAsync());
    }
}

/// <summary>A service with tiny random question/context encoders and a tiny Qwen2 generator.</summary>
public sealed class NeuralServiceFixture : IDisposable
{
    readonly TempDir models = new();

    public RagApiFactory Factory { get; }

    public NeuralServiceFixture()
    {
        var question = Path.Combine(models.Path, "question");
        var context = Path.Combine(models.Path, "context");
        var generator = Path.Combine(models.Path, "generator");
        TinyModels.WriteBertEncoder(question, seed: 1, kind: "dpr-question");
        TinyModels.WriteBertEncoder(context, seed: 2, kind: "dpr-context");
        TinyModels.WriteDecoder(generator, "qwen2", seed: 3);
        Factory = new RagApiFactory(new Dictionary<string, string?>
        {
            ["Rag:Models:QuestionEncoder"] = question,
            ["Rag:Models:ContextEncoder"] = context,
            ["Rag:Models:Generator"] = generator,
            ["Rag:Models:MaxNewTokens"] = "24",
        });
    }

    public void Dispose()
    {
        Factory.Dispose();
        models.Dispose();
    }
}
