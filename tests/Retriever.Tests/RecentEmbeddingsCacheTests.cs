using Microsoft.Extensions.AI;
using Rag.Retriever.Encoders;
using Rag.Testing;

namespace Rag.Retriever.Tests;

public class RecentEmbeddingsCacheTests
{
    [Fact]
    public async Task A_question_asked_again_is_not_encoded_again()
    {
        var model = new HashingEncoder(16);
        using var cache = new RecentEmbeddingsCache(new DprEmbeddingGenerator(model, "q", ownsModel: false));
        var first = await cache.GenerateVectorAsync("who wrote the manual");
        var second = await cache.GenerateVectorAsync("who wrote the manual");
        Assert.Equal(["who wrote the manual"], model.Seen);
        Assert.Equal(first.ToArray(), second.ToArray());
        Assert.Equal(model.Embed("who wrote the manual"), second.ToArray());
    }

    [Fact]
    public async Task Only_the_unseen_texts_of_a_batch_reach_the_model_and_the_order_is_kept()
    {
        var model = new HashingEncoder(16);
        using var cache = new RecentEmbeddingsCache(new DprEmbeddingGenerator(model, "q", ownsModel: false));
        await cache.GenerateAsync(["alpha", "beta"]);
        model.Seen.Clear();
        var mixed = await cache.GenerateAsync(["gamma", "alpha", "gamma", "delta", "beta"]);
        Assert.Equal(["delta", "gamma"], model.Seen.Order());
        string[] asked = ["gamma", "alpha", "gamma", "delta", "beta"];
        Assert.Equal(asked.Select(model.Embed), mixed.Select(e => e.Vector.ToArray()));
    }

    [Fact]
    public async Task The_least_recently_used_text_is_forgotten_first()
    {
        var model = new HashingEncoder(8);
        using var cache = new RecentEmbeddingsCache(new DprEmbeddingGenerator(model, "q", ownsModel: false), capacity: 2);
        await cache.GenerateVectorAsync("a");
        await cache.GenerateVectorAsync("b");
        await cache.GenerateVectorAsync("a"); // a is now the most recent
        await cache.GenerateVectorAsync("c"); // b goes
        Assert.Equal(2, cache.Count);
        model.Seen.Clear();
        await cache.GenerateVectorAsync("a");
        await cache.GenerateVectorAsync("b");
        Assert.Equal(["b"], model.Seen);
    }

    [Fact]
    public async Task Calls_with_options_pass_through_and_a_refusal_still_surfaces()
    {
        var model = new HashingEncoder(8);
        using var cache = new RecentEmbeddingsCache(new DprEmbeddingGenerator(model, "q", ownsModel: false));
        await Assert.ThrowsAsync<NotSupportedException>(() => cache.GenerateAsync(["x"], new EmbeddingGenerationOptions { Dimensions = 4 }));
        Assert.Equal(0, cache.Count);
        Assert.NotNull(cache.GetService<EmbeddingGeneratorMetadata>());
    }
}
