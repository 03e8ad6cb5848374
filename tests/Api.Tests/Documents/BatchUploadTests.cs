using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;

namespace Rag.Api.Tests.Documents;

/// <summary>Several files in one multipart upload: one result per file, each accepted or refused on its own.</summary>
public sealed class BatchUploadTests : IClassFixture<BareServiceFixture>
{
    readonly RagApiFactory factory;

    public BatchUploadTests(BareServiceFixture fixture) => factory = fixture.Factory;

    sealed record ItemView(string FileName, int Status, DocumentView? Document, bool Duplicate, string? Title, string? Detail);
    sealed record BatchView(List<ItemView> Results, int Accepted, int Refused);

    static MultipartFormDataContent Form(params (string Name, byte[] Content)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, content) in files)
        {
            var part = new ByteArrayContent(content);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "files", name);
        }
        return form;
    }

    [Fact]
    public async Task Each_file_is_accepted_or_refused_on_its_own_and_the_accepted_ones_are_indexed()
    {
        var c = await factory.NewTenantAsync("batch");
        using var response = await c.Http.PostAsync("/v1/documents", Form(
            ("etna.txt", Encoding.UTF8.GetBytes(DocumentsEndToEndTests.Volcano)),
            ("blank.txt", "   "u8.ToArray()),
            ("clip.mp4", [0x00, 0x00, 0x00, 0x18, 0x66, 0x74, 0x79, 0x70]),
            ("bees.md", Encoding.UTF8.GetBytes(DocumentsEndToEndTests.Bees))));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var batch = (await response.Content.ReadFromJsonAsync<BatchView>(Json.Web))!;
        Assert.Equal(["etna.txt", "blank.txt", "clip.mp4", "bees.md"], batch.Results.Select(r => r.FileName));
        Assert.Equal([201, 400, 415, 201], batch.Results.Select(r => r.Status));
        Assert.Equal((2, 2), (batch.Accepted, batch.Refused));
        Assert.All(batch.Results.Where(r => r.Document is null), r => Assert.False(string.IsNullOrWhiteSpace(r.Detail)));

        foreach (var accepted in batch.Results.Where(r => r.Document is not null))
            Assert.Equal("indexed", (await c.Http.WaitForIngestAsync(accepted.Document!.Id)).Status);
        Assert.Equal(2, (await c.Http.GetFromJsonAsync<DocumentPageView>("/v1/documents", Json.Web))!.Total);

        // The same files again: duplicates, nothing new stored.
        using var again = await c.Http.PostAsync("/v1/documents", Form(
            ("etna.txt", Encoding.UTF8.GetBytes(DocumentsEndToEndTests.Volcano)), ("bees.md", Encoding.UTF8.GetBytes(DocumentsEndToEndTests.Bees))));
        var repeated = (await again.Content.ReadFromJsonAsync<BatchView>(Json.Web))!;
        Assert.All(repeated.Results, r => Assert.True(r.Duplicate && r.Status == 200));
        Assert.Equal(2, (await c.Http.GetFromJsonAsync<DocumentPageView>("/v1/documents", Json.Web))!.Total);
    }

    [Fact]
    public async Task A_title_with_several_files_is_refused_with_a_reason_and_nothing_is_stored()
    {
        var c = await factory.NewTenantAsync("batch-title");
        var form = Form(("a.txt", "alpha text"u8.ToArray()), ("b.txt", "beta text"u8.ToArray()));
        form.Add(new StringContent("One title"), "title");
        using var response = await c.Http.PostAsync("/v1/documents", form);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.False(string.IsNullOrWhiteSpace((await response.Content.ReadFromJsonAsync<ProblemView>(Json.Web))!.Detail));
        Assert.Equal(0, (await c.Http.GetFromJsonAsync<DocumentPageView>("/v1/documents", Json.Web))!.Total);
    }
}
