using System.Text;
using Rag.Api.Tests.Documents;
using Rag.Client;

namespace Rag.Api.Tests.Ecosystem;

/// <summary>Rag.Client against the real service in-process: every call goes through the HTTP API.</summary>
public sealed class RagClientTests(BareServiceFixture fixture) : IClassFixture<BareServiceFixture>
{
    readonly RagApiFactory factory = fixture.Factory;

    async Task<RagClient> NewClientAsync()
    {
        var tenant = await factory.NewTenantAsync("client");
        return new RagClient(factory.CreateClient(), tenant.Key);
    }

    [Fact]
    public async Task Upload_wait_search_and_ask_through_the_client()
    {
        var client = await NewClientAsync();
        var etna = await client.UploadTextAsync("Etna", DocumentsEndToEndTests.Volcano, tags: ["geo"]);
        await using (var bees = new MemoryStream(Encoding.UTF8.GetBytes(DocumentsEndToEndTests.Bees)))
            await client.UploadAsync(bees, "bees.md", "text/markdown");
        Assert.False(etna.Duplicate);
        var indexed = await client.WaitForIndexedAsync(etna.Document.Id, TimeSpan.FromMinutes(2));
        Assert.True(indexed.ChunkCount > 0);
        Assert.Equal(["geo"], indexed.Tags);

        var search = await client.SearchAsync("volcano Sicily", new RagQueryOptions { K = 3, Mode = RagRetrievalMode.Bm25 });
        Assert.Equal("bm25", search.Mode);
        Assert.Equal(etna.Document.Id, search.Results[0].DocumentId);

        var answer = await client.AskAsync("Which volcano is on the east coast of Sicily?");
        Assert.Contains("Etna", answer.Answer);
        var citation = Assert.Single(answer.Citations, c => c.DocumentId == etna.Document.Id);
        Assert.Contains($"[{citation.Number}]", answer.Answer);

        var page = await client.ListDocumentsAsync();
        Assert.Equal(2, page.Total);
    }

    [Fact]
    public async Task Streaming_yields_tokens_then_one_completion_whose_answer_they_spell()
    {
        var client = await NewClientAsync();
        var etna = await client.UploadTextAsync("Etna", DocumentsEndToEndTests.Volcano);
        await client.WaitForIndexedAsync(etna.Document.Id, TimeSpan.FromMinutes(2));

        var events = new List<RagChatEvent>();
        await foreach (var e in client.StreamAsync("Which volcano is on the east coast of Sicily?")) events.Add(e);
        var completed = Assert.IsType<RagChatCompleted>(events[^1]);
        var tokens = events[..^1].Select(e => Assert.IsType<RagChatToken>(e).Text).ToList();
        Assert.NotEmpty(tokens);
        Assert.Equal(completed.Answer.Answer, string.Concat(tokens));
        Assert.Contains(completed.Answer.Citations, c => c.DocumentId == etna.Document.Id);
    }

    [Fact]
    public async Task Reingest_and_delete_through_the_client()
    {
        var client = await NewClientAsync();
        var doc = await client.UploadTextAsync("Bees", DocumentsEndToEndTests.Bees);
        await client.WaitForIndexedAsync(doc.Document.Id, TimeSpan.FromMinutes(2));
        var job = await client.ReingestAsync(doc.Document.Id);
        Assert.Equal(doc.Document.Id, job.DocumentId);
        Assert.True((await client.WaitForIndexedAsync(doc.Document.Id, TimeSpan.FromMinutes(2))).IsIndexed);
        Assert.Equal(1, await client.ReingestAllAsync());
        await client.WaitForIndexedAsync(doc.Document.Id, TimeSpan.FromMinutes(2));

        await client.DeleteDocumentAsync(doc.Document.Id);
        var gone = await Assert.ThrowsAsync<RagApiException>(() => client.GetDocumentAsync(doc.Document.Id));
        Assert.Equal(404, gone.Status);
        Assert.Contains(doc.Document.Id, gone.Detail);
    }

    [Fact]
    public async Task Problem_details_become_exceptions_with_status_and_detail()
    {
        var client = await NewClientAsync();
        var empty = await Assert.ThrowsAsync<RagApiException>(() => client.UploadTextAsync("Empty", "  "));
        Assert.Equal(400, empty.Status);
        Assert.Contains("text", empty.Detail);
        var badStatus = await Assert.ThrowsAsync<RagApiException>(() => client.ReingestAllAsync("finished"));
        Assert.Equal(400, badStatus.Status);
        Assert.Contains("allowed", badStatus.Detail);
    }

    [Fact]
    public async Task A_wrong_key_is_a_401_exception_naming_the_problem()
    {
        using var client = new RagClient(factory.CreateClient(), "rag_not-a-real-key");
        var e = await Assert.ThrowsAsync<RagApiException>(() => client.SearchAsync("anything"));
        Assert.Equal(401, e.Status);
        Assert.False(string.IsNullOrWhiteSpace(e.Detail));
        Assert.StartsWith("Rag API 401", e.Message);
        await Assert.ThrowsAsync<RagApiException>(async () => { await foreach (var _ in client.StreamAsync("anything")) { } });
    }
}
