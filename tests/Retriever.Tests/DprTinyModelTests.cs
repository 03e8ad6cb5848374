using Microsoft.Extensions.AI;
using Rag.Neural;
using Rag.Retriever.Encoders;
using Rag.Retriever.Vectors;
using Rag.Testing;

namespace Rag.Retriever.Tests;

/// <summary>The generator over a real (tiny, random) DPR checkpoint loaded by NeuralModels, as the service will run it.</summary>
public sealed class DprTinyModelTests : IDisposable
{
    readonly TempDir dir = new();

    DprEmbeddingGenerator Load(string kind, int batchSize)
    {
        var path = Path.Combine(dir.Path, kind);
        // Different seeds, as two trained towers have different weights.
        if (!Directory.Exists(path)) TinyModels.WriteBertEncoder(path, kind: kind, seed: kind == "dpr-question" ? 2 : 1);
        return new DprEmbeddingGenerator(NeuralModels.LoadEncoder(path), "tiny-" + kind, batchSize);
    }

    public void Dispose() => dir.Dispose();

    static readonly string[] Texts =
    [
        "the quick brown fox", "jumps over the lazy dog", "hello world", "a b c", "the dog", "fox fox fox",
        "an unknown word: zyxwv",
    ];

    [Fact]
    public async Task Batching_does_not_change_the_vectors()
    {
        using var batched = Load("dpr-context", batchSize: 3);
        using var single = Load("dpr-context", batchSize: 1);
        var a = await batched.GenerateAsync(Texts);
        var b = await single.GenerateAsync(Texts);
        Assert.Equal(Texts.Length, a.Count);
        Assert.Equal(batched.Dimension, batched.GetService<EmbeddingGeneratorMetadata>()!.DefaultModelDimensions);
        for (var i = 0; i < Texts.Length; i++)
        {
            Assert.Equal(batched.Dimension, a[i].Vector.Length);
            var x = a[i].Vector.ToArray();
            var y = b[i].Vector.ToArray();
            for (var j = 0; j < x.Length; j++) Assert.Equal(y[j], x[j], 4);
        }
        Assert.NotEqual(a[0].Vector.ToArray(), a[1].Vector.ToArray());
    }

    [Fact]
    public async Task Context_vectors_in_the_index_find_their_own_text()
    {
        // Random weights carry no meaning, so this checks the mechanics: a text's own vector is its nearest neighbour.
        using var encoder = Load("dpr-context", batchSize: 4);
        await using var index = new EmbeddedVectorIndex(Path.Combine(dir.Path, "index"));
        await index.EnsureReadyAsync(encoder.Dimension);
        var vectors = await encoder.GenerateAsync(Texts);
        await index.UpsertAsync([.. Texts.Select((t, i) => new VectorRecord($"d{i}:0", "t", $"d{i}", vectors[i].Vector.ToArray(), []))]);
        for (var i = 0; i < Texts.Length; i++)
        {
            var query = await encoder.GenerateVectorAsync(Texts[i]);
            var hits = await index.SearchAsync(query.ToArray(), new SearchFilter("t"), 3);
            Assert.Equal($"d{i}:0", hits[0].ChunkId);
            Assert.Equal(1f, hits[0].Score, 3);
        }
    }

    [Fact]
    public async Task Question_and_context_towers_are_separate_models()
    {
        using var question = Load("dpr-question", batchSize: 8);
        using var context = Load("dpr-context", batchSize: 8);
        var q = await question.GenerateVectorAsync("hello world");
        var c = await context.GenerateVectorAsync("hello world");
        Assert.Equal(q.Length, c.Length);
        Assert.NotEqual(q.ToArray(), c.ToArray());
    }
}
