using System.Net.Http.Json;
using Rag.Testing;

namespace Rag.Api.Tests.Robustness;

/// <summary>
/// Stop the host in the middle of an ingest batch and start it again on the same data folder: the
/// interrupted jobs resume, every document ends indexed exactly once, with no duplicate chunks and
/// nothing committed lost.
/// </summary>
public sealed class CrashSafetyTests
{
    static readonly Dictionary<string, string?> FastLeases = new()
    {
        ["Rag:Worker:LeaseSeconds"] = "2",
        ["Rag:Worker:Concurrency"] = "2",
    };

    [Fact]
    public async Task Interrupted_ingest_resumes_after_restart_without_duplicates()
    {
        using var data = new TempDir();
        const int count = 40;
        string tenantId, key;
        var ids = new List<string>();

        using (var first = new RagApiFactory(FastLeases, data.Path))
        {
            var c = await first.NewTenantAsync("crash");
            (tenantId, key) = (c.TenantId, c.Key);
            for (var i = 0; i < count; i++)
            {
                // Long enough for several chunks each, with one word unique to the document.
                var text = string.Join(" ", Enumerable.Repeat($"Paragraph about topic uniqueword{i} and its many details.", 120));
                using var r = await c.Http.PostAsJsonAsync("/v1/documents", new { title = $"Doc {i}", text });
                ids.Add((await r.Content.ReadFromJsonAsync<UploadView>(Json.Web))!.Document.Id);
            }
            // Stop as soon as some, not all, are indexed: the host dies mid-batch.
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (DateTime.UtcNow < deadline)
            {
                var indexed = (await Task.WhenAll(ids.Select(id => c.Http.GetFromJsonAsync<DocumentView>($"/v1/documents/{id}", Json.Web))))
                    .Count(d => d!.Status == "indexed");
                if (indexed > 0) break;
                await Task.Delay(20);
            }
        }

        using var second = new RagApiFactory(FastLeases, data.Path);
        var client = second.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        var done = new List<DocumentView>();
        foreach (var id in ids) done.Add(await client.WaitForIngestAsync(id, TimeSpan.FromMinutes(3)));
        Assert.All(done, d => Assert.Equal("indexed", d.Status));

        long expectedChunks = 0;
        for (var i = 0; i < count; i++)
        {
            var chunks = await second.Store.Chunks.GetChunksAsync(tenantId, ids[i]);
            Assert.Equal(done[i].ChunkCount, chunks.Count);
            Assert.Equal(Enumerable.Range(0, chunks.Count), chunks.Select(ch => ch.Ordinal).Order());
            expectedChunks += chunks.Count;

            var hits = (await client.SearchAsync($"uniqueword{i}", k: 100)).Results;
            Assert.All(hits, h => Assert.Equal(ids[i], h.DocumentId));
            Assert.Equal(chunks.Count, hits.Count);
            Assert.Equal(hits.Count, hits.Select(h => h.ChunkId).Distinct().Count());
        }
        Assert.Equal(expectedChunks, await second.Store.Chunks.CountChunksAsync(tenantId));
    }
}
