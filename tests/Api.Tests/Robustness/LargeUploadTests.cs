using System.Net.Http.Json;
using System.Text;

namespace Rag.Api.Tests.Robustness;

public sealed class LargeUploadTests : IClassFixture<Documents.BareServiceFixture>
{
    readonly RagApiFactory factory;

    public LargeUploadTests(Documents.BareServiceFixture fixture) => factory = fixture.Factory;

    [Fact]
    public async Task A_20_MB_single_line_text_is_chunked_and_indexed()
    {
        var c = await factory.NewTenantAsync("large");
        var words = new[] { "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet" };
        var text = new StringBuilder(20 * 1024 * 1024 + 64);
        var random = new Random(7);
        while (text.Length < 20 * 1024 * 1024) text.Append(words[random.Next(words.Length)]).Append(' ');
        text.Append("needleword");
        var doc = await c.Http.UploadAsync("one-line.txt", Encoding.ASCII.GetBytes(text.ToString()), "text/plain");

        var indexed = await c.Http.WaitForIngestAsync(doc.Id, TimeSpan.FromMinutes(5));
        Assert.Equal("indexed", indexed.Status);
        // About six characters a word and a 256-token budget: thousands of chunks, none huge.
        Assert.InRange(indexed.ChunkCount, 5_000, 40_000);
        var chunks = await factory.Store.Chunks.GetChunksAsync(c.TenantId, doc.Id);
        Assert.All(chunks, ch => Assert.InRange(ch.Text.Length, 1, 4_000));
        Assert.Equal(doc.Id, (await c.Http.SearchAsync("needleword")).Results[0].DocumentId);
    }
}
