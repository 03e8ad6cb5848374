using System.Net.Http.Headers;
using Rag.Testing;

namespace Rag.Api.Tests.Robustness;

/// <summary>Measures the process's allocations around one upload, so it runs alone (after the parallel collections).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class UploadMemoryCollection
{
    public const string Name = "upload memory";
}

[Collection(UploadMemoryCollection.Name)]
public sealed class UploadStreamingTests
{
    [Fact]
    public async Task A_50_MB_upload_passes_through_the_api_in_bounded_memory()
    {
        // No worker: only the upload path (form reading, validation, hashing, the blob store, the row and the job) is measured.
        using var api = new RagApiFactory(new Dictionary<string, string?> { ["Rag:Worker:Enabled"] = "false" });
        api.UseKestrel(0); // real sockets: the in-memory test server copies a request body through allocations of its own
        api.StartServer();
        var c = await api.NewTenantAsync("stream");
        await c.Http.UploadAsync("warm.txt", "warm up the upload path"u8.ToArray(), "text/plain");

        const long size = 49L * 1024 * 1024; // under the 50 MB default limit with the multipart framing
        var before = GC.GetTotalAllocatedBytes(precise: true);
        using var form = new MultipartFormDataContent();
        var file = new StreamContent(new TextPatternStream(size), 1 << 16);
        file.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        form.Add(file, "file", "big.txt");
        // Without the factory's redirect handler, which buffers a request's content to be able to send it again.
        using var http = api.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = c.Http.BaseAddress! });
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", c.Key);
        using var response = await http.PostAsync("/v1/documents", form);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var doc = System.Text.Json.JsonSerializer.Deserialize<UploadView>(await response.Content.ReadAsStringAsync(), Json.Web)!.Document;
        Assert.Equal(size, doc.SizeBytes);
        await using (var blob = await api.Store.Blobs.OpenAsync(c.TenantId, doc.Id))
            Assert.Equal(size, await CountAsync(blob!));
        // Buffering the body whole anywhere (a byte[] of it, a MemoryStream) would allocate at least its 49 MB.
        Assert.True(allocated < 16L * 1024 * 1024, $"a 49 MB upload allocated {allocated / 1048576.0:0.0} MB");
    }

    static async Task<long> CountAsync(Stream s)
    {
        var buffer = new byte[1 << 16];
        long n = 0;
        int read;
        while ((read = await s.ReadAsync(buffer)) > 0) n += read;
        return n;
    }

    /// <summary>ASCII words and newlines, produced on the fly.</summary>
    sealed class TextPatternStream(long length) : ReadOnlyStream
    {
        static readonly byte[] Pattern = "lorem ipsum dolor sit amet consectetur adipiscing elit\n"u8.ToArray();
        long _position;

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            for (var i = 0; i < n; i++) buffer[offset + i] = Pattern[(_position + i) % Pattern.Length];
            _position += n;
            return n;
        }
    }
}
