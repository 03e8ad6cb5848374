using Rag.Neural.Generation;
using Rag.Testing;

namespace Rag.Neural.Tests;

/// <summary>Tiny random models written by TinyModels, loaded through NeuralModels with their tokenizers.</summary>
public class EndToEndTests
{
    [Theory]
    [InlineData("dpr-question", 0, false)]
    [InlineData("dpr-context", 8, false)]
    [InlineData("sentence-transformer", 0, true)]
    public void EncoderEmbedsTextsIndependentlyOfBatching(string kind, int projection, bool normalized)
    {
        using var dir = new TempDir();
        TinyModels.WriteBertEncoder(dir.Path, kind: kind, projectionDim: projection);
        using var encoder = NeuralModels.LoadEncoder(dir.Path);
        string[] texts = ["the capital of france is paris", "hello world", "what is the largest city in the world?"];
        var batch = encoder.Encode(texts);
        Assert.Equal(3, batch.Length);
        Assert.All(batch, v => Assert.Equal(encoder.Dimension, v.Length));
        Assert.Equal(projection > 0 ? projection : 32, encoder.Dimension);
        // Padding inside a batch must not change a text's vector.
        for (int i = 0; i < texts.Length; i++)
            Fixture.AssertClose(encoder.Encode([texts[i]])[0], batch[i], 1e-5f, $"text {i} alone vs in batch");
        if (normalized) Assert.All(batch, v => Assert.Equal(1f, MathF.Sqrt(v.Sum(x => x * x)), 4));
        Assert.NotEqual(batch[0], batch[1]);
    }

    [Fact]
    public void EncoderTruncatesLongInputsToMaxTokens()
    {
        using var dir = new TempDir();
        TinyModels.WriteBertEncoder(dir.Path, maxPositions: 16);
        using var encoder = NeuralModels.LoadEncoder(dir.Path);
        Assert.Equal(16, encoder.MaxTokens);
        var v = encoder.Encode([string.Join(' ', Enumerable.Repeat("the quick brown fox", 50))]);
        Assert.Equal(encoder.Dimension, v[0].Length);
        Assert.All(v[0], x => Assert.True(float.IsFinite(x)));
    }

    [Fact]
    public void EncoderHonoursCancellation()
    {
        using var dir = new TempDir();
        TinyModels.WriteBertEncoder(dir.Path);
        using var encoder = NeuralModels.LoadEncoder(dir.Path);
        Assert.Throws<OperationCanceledException>(() => encoder.Encode(["a", "b"], new CancellationToken(true)));
    }

    static async Task<string> Collect(ITextGeneratorModel g, string prompt, GenerationOptions o, CancellationToken ct = default)
    {
        var sb = new System.Text.StringBuilder();
        await foreach (var piece in g.GenerateAsync(prompt, o, ct)) sb.Append(piece);
        return sb.ToString();
    }

    [Theory]
    [InlineData("qwen2")]
    [InlineData("llama")]
    [InlineData("gpt2")]
    public async Task GreedyGenerationIsIdenticalRunAfterRun(string architecture)
    {
        using var dir = new TempDir();
        TinyModels.WriteDecoder(dir.Path, architecture);
        using var g = NeuralModels.LoadGenerator(dir.Path);
        Assert.Equal(architecture, g.Architecture);
        var options = new GenerationOptions { MaxNewTokens = 24 };
        string prompt = architecture == "qwen2" ? "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n" : "The capital of France is";
        var first = await Collect(g, prompt, options);
        var second = await Collect(g, prompt, options);
        Assert.Equal(first, second);
        // Greedy equals the argmax chain computed directly on the network.
        var gen = (TextGenerator)g;
        var ids = gen.EncodePrompt(prompt);
        var state = gen.Model.CreateState(ids.Length + 24);
        gen.Model.Forward(state, ids);
        var expected = new List<int>();
        for (int i = 0; i < 24; i++)
        {
            int next = Tensors.CpuBackend.Instance.Argmax(state.Logits);
            if (gen.EosIds.Contains(next)) break;
            expected.Add(next);
            gen.Model.Forward(state, [next]);
        }
        // The stream leaves special tokens out, as chat front ends do.
        Assert.Equal(((Rag.Tokenizers.ByteLevelBpeTokenizer)gen.Tokenizer).Decode(expected.ToArray(), skipSpecialTokens: true), first);
    }

    [Fact]
    public async Task SeededSamplingIsReproducibleAndSeedsDiffer()
    {
        using var dir = new TempDir();
        TinyModels.WriteDecoder(dir.Path, "llama");
        using var g = NeuralModels.LoadGenerator(dir.Path);
        var o = new GenerationOptions { MaxNewTokens = 32, Temperature = 1.5f, TopK = 50, TopP = 0.95f, RepetitionPenalty = 1.1f, Seed = 7 };
        var a = await Collect(g, "Hello", o);
        var b = await Collect(g, "Hello", o);
        Assert.Equal(a, b);
        var outputs = new HashSet<string>();
        for (int seed = 0; seed < 4; seed++) outputs.Add(await Collect(g, "Hello", o with { Seed = seed }));
        Assert.True(outputs.Count > 1, "different seeds should give different samples");
    }

    [Fact]
    public async Task MaxNewTokensAndStopStringsEndGeneration()
    {
        using var dir = new TempDir();
        TinyModels.WriteDecoder(dir.Path, "gpt2");
        using var g = NeuralModels.LoadGenerator(dir.Path);
        int pieces = 0;
        await foreach (var _ in g.GenerateAsync("The", new GenerationOptions { MaxNewTokens = 5, Temperature = 1f, Seed = 1 })) pieces++;
        Assert.InRange(pieces, 0, 5);
        var full = await Collect(g, "The", new GenerationOptions { MaxNewTokens = 40, Temperature = 1f, Seed = 3 });
        Assert.True(full.Length > 4, $"expected some text, got \"{full}\"");
        var stop = full.Substring(full.Length / 2, 2);
        var stopped = await Collect(g, "The", new GenerationOptions { MaxNewTokens = 40, Temperature = 1f, Seed = 3, StopStrings = [stop] });
        Assert.Equal(full[..full.IndexOf(stop, StringComparison.Ordinal)], stopped);
    }

    [Fact]
    public async Task GenerationHonoursCancellation()
    {
        using var dir = new TempDir();
        TinyModels.WriteDecoder(dir.Path, "qwen2");
        using var g = NeuralModels.LoadGenerator(dir.Path);
        using var cts = new CancellationTokenSource();
        int seen = 0;
        var options = new GenerationOptions { MaxNewTokens = 200, Temperature = 1f, Seed = 1 };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in g.GenerateAsync("Hello", options, cts.Token))
            {
                if (++seen == 2) cts.Cancel();
            }
        });
        Assert.Equal(2, seen);
    }
}
