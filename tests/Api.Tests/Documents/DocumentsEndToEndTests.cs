using System.Net;
using System.Net.Http.Json;
using System.Text;

namespace Rag.Api.Tests.Documents;

/// <summary>Upload, ingest, search and delete through HTTP on embedded stores with no models (BM25 only).</summary>
public sealed class DocumentsEndToEndTests : IClassFixture<BareServiceFixture>
{
    readonly RagApiFactory factory;

    public DocumentsEndToEndTests(BareServiceFixture fixture) => factory = fixture.Factory;

    public static readonly string Volcano = "Mount Etna is an active stratovolcano on the east coast of Sicily. Its eruptions are frequent and its lava flows reach the towns below.";
    public static readonly string Bees = "# Beekeeping\n\n## Hives\n\nHoneybees build hexagonal wax combs. A queen bee lays the eggs while worker bees forage for nectar and pollen.";
    public static readonly string Chess = "<html><head><style>.x{}</style><script>var secret='zebra';</script></head><body><nav>Home | About</nav><h1>Chess openings</h1><p>The Sicilian Defence answers 1.e4 with 1...c5 and leads to sharp, unbalanced positions.</p></body></html>";

    [Fact]
    public async Task Txt_md_and_html_are_indexed_and_bm25_ranks_the_right_document_first()
    {
        var c = await factory.NewTenantAsync("docs");
        var txt = await c.Http.UploadAsync("etna.txt", Encoding.UTF8.GetBytes(Volcano), "text/plain");
        var md = await c.Http.UploadAsync("bees.md", Encoding.UTF8.GetBytes(Bees), "text/markdown");
        var html = await c.Http.UploadAsync("chess.html", Encoding.UTF8.GetBytes(Chess), "text/html");
        Assert.Equal("queued", txt.Status);

        foreach (var doc in new[] { txt, md, html })
            Assert.Equal("indexed", (await c.Http.WaitForIngestAsync(doc.Id)).Status);

        Assert.Equal(txt.Id, (await c.Http.SearchAsync("Which volcano erupts on Sicily?")).Results[0].DocumentId);
        Assert.Equal(md.Id, (await c.Http.SearchAsync("who lays the eggs in a hive")).Results[0].DocumentId);
        var chess = await c.Http.SearchAsync("sharp positions after 1.e4 c5");
        Assert.Equal(html.Id, chess.Results[0].DocumentId);
        Assert.DoesNotContain("zebra", chess.Results[0].Text);   // script dropped
        Assert.DoesNotContain("About", chess.Results[0].Text);   // nav dropped

        var notice = (await c.Http.SearchAsync("bees", mode: "hybrid")).Notice;
        Assert.Contains("BM25", notice);
    }

    [Fact]
    public async Task Same_bytes_twice_is_the_same_document_and_delete_removes_it_from_search()
    {
        var c = await factory.NewTenantAsync("dedupe");
        var bytes = Encoding.UTF8.GetBytes("Photosynthesis turns light, water and carbon dioxide into glucose and oxygen.");
        var first = await c.Http.UploadAsync("photo.txt", bytes, "text/plain");
        using var again = await c.Http.PostAsync("/v1/documents", Api.Multipart("copy.txt", bytes, "text/plain"));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var second = (await again.Content.ReadFromJsonAsync<UploadView>(Json.Web))!;
        Assert.True(second.Duplicate);
        Assert.Equal(first.Id, second.Document.Id);

        var indexed = await c.Http.WaitForIngestAsync(first.Id);
        Assert.Equal("indexed", indexed.Status);
        var list = await c.Http.GetFromJsonAsync<DocumentPageView>("/v1/documents", Json.Web);
        Assert.Single(list!.Items);
        Assert.Single((await c.Http.SearchAsync("glucose oxygen")).Results.Select(r => r.ChunkId).Distinct());

        using var delete = await c.Http.DeleteAsync($"/v1/documents/{first.Id}");
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        Assert.Empty((await c.Http.SearchAsync("glucose oxygen")).Results);
        using var gone = await c.Http.GetAsync($"/v1/documents/{first.Id}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Json_text_upload_and_paging_work()
    {
        var c = await factory.NewTenantAsync("json");
        for (var i = 0; i < 3; i++)
        {
            using var r = await c.Http.PostAsJsonAsync("/v1/documents", new { title = $"Note {i}", text = $"Note number {i} mentions the word quasar{i}." });
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
            Assert.StartsWith("/v1/documents/", r.Headers.Location?.ToString());
        }
        var page = await c.Http.GetFromJsonAsync<DocumentPageView>("/v1/documents?offset=1&limit=1", Json.Web);
        Assert.Equal(3, page!.Total);
        Assert.Single(page.Items);
        var filtered = await c.Http.GetFromJsonAsync<DocumentPageView>("/v1/documents?title=Note%202", Json.Web);
        Assert.Equal("Note 2", Assert.Single(filtered!.Items).Title);
    }
}

/// <summary>One service per test class: no models, embedded stores, its own data folder.</summary>
public class BareServiceFixture : IDisposable
{
    public BareServiceFixture() : this(null) { }

    protected BareServiceFixture(IReadOnlyDictionary<string, string?>? settings) => Factory = new RagApiFactory(settings);

    public RagApiFactory Factory { get; }

    public virtual void Dispose() => Factory.Dispose();
}
