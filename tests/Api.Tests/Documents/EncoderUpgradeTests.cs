using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Rag.Neural.Builtin;
using Rag.Testing;

namespace Rag.Api.Tests.Documents;

/// <summary>
/// The upgrade from BM25-only: a data folder indexed with no encoder, then a start with the built-in one. Every
/// document gains its vectors in the background (visible on /readyz), dense search finds them, and nothing is
/// re-uploaded or lost.
/// </summary>
public sealed class EncoderUpgradeTests
{
    [SkippableFact]
    public async Task Documents_indexed_without_an_encoder_gain_vectors_after_a_start_with_the_builtin_one()
    {
        try { BuiltinEncoders.Locate(BuiltinEncoders.Default); }
        catch (Rag.Neural.Weights.ModelLoadException e) { throw new SkipException($"skipped: {e.Message}"); }
        using var data = new TempDir();
        var texts = new (string Name, string Text)[]
        {
            ("etna.txt", DocumentsEndToEndTests.Volcano),
            ("bees.md", DocumentsEndToEndTests.Bees),
            ("chess.html", DocumentsEndToEndTests.Chess),
        };
        string key;
        var ids = new List<string>();
        using (var before = new RagApiFactory(new Dictionary<string, string?> { ["Rag:Models:QuestionEncoder"] = "none" }, data.Path))
        {
            var c = await before.NewTenantAsync("upgrade");
            key = c.Key;
            foreach (var (name, text) in texts)
                ids.Add((await c.Http.UploadAsync(name, Encoding.UTF8.GetBytes(text), name.EndsWith(".md") ? "text/markdown" : name.EndsWith(".html") ? "text/html" : "text/plain")).Id);
            foreach (var id in ids) Assert.Equal("indexed", (await c.Http.WaitForIngestAsync(id)).Status);
            var bm25Only = await c.Http.SearchAsync("volcano", mode: "dense");
            Assert.Equal("bm25", bm25Only.Mode); // no encoder: every request is answered by BM25 and says so
            Assert.NotNull(bm25Only.Notice);
        }

        using var after = new RagApiFactory(new Dictionary<string, string?> { ["Rag:Models:QuestionEncoder"] = BuiltinEncoders.Default.Spec }, data.Path);
        var http = after.CreateClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using (var ready = await http.GetAsync("/readyz"))
        {
            var body = await ready.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal($"hybrid: {BuiltinEncoders.Default.Name} + BM25", body.GetProperty("retrievalDescription").GetString());
        }
        // Background embedding: the documents go back through the queue; /readyz shows the progress until it is done.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        JsonElement backfill;
        do
        {
            await Task.Delay(200);
            using var ready = await http.GetAsync("/readyz");
            backfill = (await ready.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("embeddingBackfill");
        }
        while ((backfill.ValueKind == JsonValueKind.Null || backfill.GetProperty("remaining").GetInt32() > 0) && DateTime.UtcNow < deadline);
        Assert.Equal(ids.Count, backfill.GetProperty("documents").GetInt32());
        Assert.Equal(0, backfill.GetProperty("remaining").GetInt32());

        foreach (var id in ids) Assert.Equal("indexed", (await http.WaitForIngestAsync(id)).Status);
        var page = await http.GetFromJsonAsync<DocumentPageView>("/v1/documents", Json.Web);
        Assert.Equal(ids.Order(), page!.Items.Select(d => d.Id).Order()); // nothing lost, nothing duplicated
        var dense = await http.SearchAsync("Which volcano is on Sicily?", mode: "dense", k: 3);
        Assert.Equal("dense", dense.Mode);
        Assert.Equal(ids[0], dense.Results[0].DocumentId);
        Assert.Equal(ids[1], (await http.SearchAsync("Which insects build wax combs?", mode: "dense", k: 3)).Results[0].DocumentId);
        Assert.Equal(texts.Length, dense.Results.Select(r => r.DocumentId).Distinct().Count()); // every document has vectors
    }
}
