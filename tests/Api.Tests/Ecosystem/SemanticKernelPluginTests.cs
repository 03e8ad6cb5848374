using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.Data;
using Rag.Api.Tests.Documents;
using Rag.Client;
using Rag.SemanticKernel;

namespace Rag.Api.Tests.Ecosystem;

/// <summary>The Semantic Kernel plugin and text search over the real service in-process, through a Kernel.</summary>
public sealed class SemanticKernelPluginTests(BareServiceFixture fixture) : IClassFixture<BareServiceFixture>
{
    readonly RagApiFactory factory = fixture.Factory;

    async Task<(RagClient Client, string Etna, string Bees)> TenantWithDocumentsAsync()
    {
        var tenant = await factory.NewTenantAsync("sk");
        var client = new RagClient(factory.CreateClient(), tenant.Key);
        var etna = (await client.UploadTextAsync("Etna", DocumentsEndToEndTests.Volcano)).Document.Id;
        var bees = (await client.UploadTextAsync("Bees", DocumentsEndToEndTests.Bees)).Document.Id;
        await client.WaitForIndexedAsync(etna, TimeSpan.FromMinutes(2));
        await client.WaitForIndexedAsync(bees, TimeSpan.FromMinutes(2));
        return (client, etna, bees);
    }

    static Kernel KernelWith(RagClient client)
    {
        var kernel = Kernel.CreateBuilder().Build();
        kernel.Plugins.Add(RagDocumentsPlugin.Create(client));
        return kernel;
    }

    [Fact]
    public async Task Ask_documents_answers_with_citations_pointing_at_the_uploaded_document()
    {
        var (client, etna, _) = await TenantWithDocumentsAsync();
        var kernel = KernelWith(client);
        var result = await kernel.InvokeAsync("rag", "ask_documents", new KernelArguments { ["question"] = "Which volcano is on the east coast of Sicily?" });
        var answer = result.GetValue<DocumentAnswer>()!;
        Assert.Contains("Etna", answer.Answer);
        Assert.NotEmpty(answer.Citations);
        Assert.All(answer.Citations, c => Assert.Equal(etna, c.DocumentId));
        Assert.Contains($"[{answer.Citations[0].Number}]", answer.Answer);
    }

    [Fact]
    public async Task Search_documents_returns_passages_with_their_documents()
    {
        var (client, _, bees) = await TenantWithDocumentsAsync();
        var kernel = KernelWith(client);
        var function = kernel.Plugins["rag"]["search_documents"];
        Assert.Contains("documents", function.Description);
        var result = await kernel.InvokeAsync(function, new KernelArguments { ["query"] = "honeybees wax combs", ["count"] = 2 });
        var passages = result.GetValue<IReadOnlyList<DocumentPassage>>()!;
        Assert.Equal(bees, passages[0].DocumentId);
        Assert.Equal("Bees", passages[0].DocumentTitle);
        Assert.Contains("hexagonal", passages[0].Text);
    }

    [Fact]
    public async Task A_wrong_key_surfaces_through_the_kernel_as_a_clear_exception()
    {
        var kernel = KernelWith(new RagClient(factory.CreateClient(), "rag_wrong-key"));
        var e = await Assert.ThrowsAsync<RagApiException>(() =>
            kernel.InvokeAsync("rag", "ask_documents", new KernelArguments { ["question"] = "Anything?" }));
        Assert.Equal(401, e.Status);
        Assert.False(string.IsNullOrWhiteSpace(e.Detail));
    }

    [Fact]
    public async Task Text_search_names_and_links_results_and_honours_a_document_filter()
    {
        var (client, etna, bees) = await TenantWithDocumentsAsync();
        var search = new RagTextSearch(client, RagRetrievalMode.Bm25);
        var all = await ToListAsync((await search.GetTextSearchResultsAsync("stratovolcano bees", new() { Top = 5 })).Results);
        var seen = string.Join(" | ", all.Select(r => $"{r.Name} {r.Link}"));
        Assert.True(all.Any(r => r.Name == "Etna" && r.Link == "v1/documents/" + etna), seen);
        Assert.True(all.Any(r => r.Name == "Bees"), seen);

        var onlyBees = await ToListAsync((await search.GetSearchResultsAsync("stratovolcano bees", new() { Top = 5, Filter = h => h.DocumentId == bees })).Results);
        Assert.NotEmpty(onlyBees);
        Assert.All(onlyBees, h => Assert.Equal(bees, h.DocumentId));

        var texts = await ToListAsync((await search.SearchAsync("Sicily", new() { Top = 1 })).Results);
        Assert.Contains("Sicily", Assert.Single(texts));
    }

    [Fact]
    public void Document_conditions_of_a_filter_narrow_the_server_search()
    {
        string[] ids = ["a", "b"];
        Assert.Null(RagTextSearch.DocumentIds(null));
        Assert.Equal(["x"], RagTextSearch.DocumentIds(h => h.DocumentId == "x"));
        Assert.Equal(["x", "y"], RagTextSearch.DocumentIds(h => h.DocumentId == "x" || "y" == h.DocumentId));
        Assert.Equal(["a", "b"], RagTextSearch.DocumentIds(h => ids.Contains(h.DocumentId)));
        Assert.Equal(["b"], RagTextSearch.DocumentIds(h => ids.Contains(h.DocumentId) && h.DocumentId == "b"));
        Assert.Equal(["x"], RagTextSearch.DocumentIds(h => h.DocumentId == "x" && h.Score > 0.5f));
        Assert.Null(RagTextSearch.DocumentIds(h => h.DocumentId == "x" || h.Score > 0.5f)); // the || side on Score does not restrict
        Assert.Null(RagTextSearch.DocumentIds(h => h.Score > 0.5f));
    }

    static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items) list.Add(item);
        return list;
    }
}
