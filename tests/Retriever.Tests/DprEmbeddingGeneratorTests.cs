using Microsoft.Extensions.AI;
using Rag.Neural;
using Rag.Retriever.Encoders;
using Rag.Testing;

namespace Rag.Retriever.Tests;

public class DprEmbeddingGeneratorTests
{
    [Fact]
    public async Task Embeds_every_text_in_order_in_batches()
    {
        var model = new HashingEncoder(16);
        using var generator = new DprEmbeddingGenerator(model, "test-encoder", batchSize: 4);
        var texts = Enumerable.Range(0, 10).Select(i => $"text number {i}").ToList();
        var embeddings = await generator.GenerateAsync(texts);
        Assert.Equal(10, embeddings.Count);
        Assert.Equal([4, 4, 2], model.BatchSizes);
        for (var i = 0; i < texts.Count; i++)
        {
            Assert.Equal(model.Embed(texts[i]), embeddings[i].Vector.ToArray());
            Assert.Equal("test-encoder", embeddings[i].ModelId);
        }
    }

    [Fact]
    public async Task Reports_its_dimension_and_model_through_GetService()
    {
        var model = new HashingEncoder(32);
        using var generator = new DprEmbeddingGenerator(model, "dpr-q");
        var metadata = generator.GetService<EmbeddingGeneratorMetadata>();
        Assert.NotNull(metadata);
        Assert.Equal(32, metadata.DefaultModelDimensions);
        Assert.Equal("dpr-q", metadata.DefaultModelId);
        Assert.Same(model, generator.GetService<ITextEncoderModel>());
        Assert.Null(generator.GetService(typeof(string)));
        Assert.Equal(32, (await generator.GenerateVectorAsync("hello")).Length);
    }

    [Fact]
    public async Task Cancellation_stops_between_batches()
    {
        using var cts = new CancellationTokenSource();
        var model = new HashingEncoder(8) { BeforeBatch = n => { if (n == 2) cts.Cancel(); } };
        using var generator = new DprEmbeddingGenerator(model, "m", batchSize: 2);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => generator.GenerateAsync(Enumerable.Repeat("x", 10), cancellationToken: cts.Token));
        Assert.Equal(2, model.BatchSizes.Count);
    }

    [Fact]
    public async Task A_different_requested_dimension_is_refused()
    {
        using var generator = new DprEmbeddingGenerator(new HashingEncoder(8), "m");
        await Assert.ThrowsAsync<NotSupportedException>(() => generator.GenerateAsync(["x"], new EmbeddingGenerationOptions { Dimensions = 16 }));
    }

    [Fact]
    public void Disposes_the_model_only_when_it_owns_it()
    {
        var owned = new HashingEncoder();
        new DprEmbeddingGenerator(owned, "m").Dispose();
        Assert.True(owned.Disposed);
        var shared = new HashingEncoder();
        new DprEmbeddingGenerator(shared, "m", ownsModel: false).Dispose();
        Assert.False(shared.Disposed);
    }

    [Fact]
    public async Task Queries_and_documents_get_their_prompts_and_batches_hold_similar_lengths()
    {
        var model = new HashingEncoder(16) { Prompts = new Rag.Neural.EncoderPrompts("query: ", "passage: ") };
        using var questions = new DprEmbeddingGenerator(model, "m", batchSize: 2, ownsModel: false, input: EmbeddingInput.Query);
        using var passages = new DprEmbeddingGenerator(model, "m", batchSize: 2, ownsModel: false);
        var texts = new[] { "a much longer text than the others", "short", "medium text", "tiny" };
        var q = await questions.GenerateAsync(texts);
        Assert.Equal(["query: tiny", "query: short", "query: medium text", "query: a much longer text than the others"], model.Seen);
        model.Seen.Clear();
        var p = await passages.GenerateAsync(texts);
        Assert.All(model.Seen, t => Assert.StartsWith("passage: ", t));
        // Results come back in the order asked, whatever order the batches ran in.
        for (var i = 0; i < texts.Length; i++)
            Assert.Equal(model.Encode(["query: " + texts[i]])[0], q[i].Vector.ToArray());
        Assert.Equal(model.Encode(["passage: short"])[0], p[1].Vector.ToArray());
    }
}
