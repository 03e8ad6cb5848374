using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Rag.Api.Hosting;
using Rag.Testing;

namespace Rag.Api.Tests.Documents;

/// <summary>The README's encoder-change recipe on one data folder, with tiny random encoders of two widths.</summary>
public sealed class EncoderChangeTests
{
    static Dictionary<string, string?> Encoder(string dir) => new() { ["Rag:Models:QuestionEncoder"] = dir };

    [Fact]
    public async Task A_new_encoder_width_stops_the_start_naming_the_recipe_which_then_re_embeds_every_document()
    {
        using var models = new TempDir();
        using var data = new TempDir();
        var narrow = Path.Combine(models.Path, "narrow");
        var wide = Path.Combine(models.Path, "wide");
        TinyModels.WriteBertEncoder(narrow, hidden: 32, seed: 1);
        TinyModels.WriteBertEncoder(wide, hidden: 48, seed: 2);

        string key, id;
        using (var before = new RagApiFactory(Encoder(narrow), data.Path))
        {
            var c = await before.NewTenantAsync("encoder");
            key = c.Key;
            id = (await c.Http.UploadAsync("etna.txt", Encoding.UTF8.GetBytes(DocumentsEndToEndTests.Volcano), "text/plain")).Id;
            Assert.Equal("indexed", (await c.Http.WaitForIngestAsync(id)).Status);
            Assert.Equal(id, Assert.Single((await c.Http.SearchAsync("volcano", mode: "dense")).Results).DocumentId);
        }

        // Step 0: the new encoder against the old index refuses to start, and says what to do.
        var vectors = Path.Combine(data.Path, "vectors");
        await using (var refused = RagServiceExtensions.BuildRagServer(
            ["--urls", "http://127.0.0.1:0", $"--Rag:DataDirectory={data.Path}", $"--Rag:Models:QuestionEncoder={wide}", "--Logging:LogLevel:Default=None"]))
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => refused.StartAsync());
            Assert.Contains("holds vectors of dimension 32, but the encoder produces 48", error.Message);
            Assert.Contains($"delete the folder '{vectors}'", error.Message);
            Assert.Contains("rag docs reingest --all", error.Message);
        }

        // The recipe: delete the vectors, start with the new encoder, re-ingest everything.
        Directory.Delete(vectors, recursive: true);
        using var after = new RagApiFactory(Encoder(wide), data.Path);
        var http = after.CreateClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        Assert.Equal(id, (await http.SearchAsync("stratovolcano Sicily")).Results[0].DocumentId); // BM25 and the documents are untouched

        using var response = await http.PostAsync("/v1/documents/reingest", null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(1, (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("queued").GetInt32());
        Assert.Equal("indexed", (await http.WaitForIngestAsync(id)).Status);
        Assert.Equal(id, Assert.Single((await http.SearchAsync("volcano", mode: "dense")).Results).DocumentId);
    }
}
