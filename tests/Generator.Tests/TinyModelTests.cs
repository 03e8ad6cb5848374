using Microsoft.Extensions.AI;
using Rag.Generator.Local;
using Rag.Neural;
using Rag.Neural.Generation;
using Rag.Testing;

namespace Rag.Generator.Tests;

/// <summary>
/// The local path through a real decoder: tiny random checkpoints in the Hugging Face layout, loaded by
/// NeuralModels.LoadGenerator. Random weights carry no meaning, so these check mechanics: the template's
/// special tokens reach the model as single ids, greedy output is identical run to run, streaming, limits.
/// </summary>
public sealed class TinyModelTests : IDisposable
{
    readonly TempDir dir = new();

    string Write(string architecture, int seed = 1)
    {
        var path = Path.Combine(dir.Path, $"{architecture}-{seed}");
        if (!Directory.Exists(path)) TinyModels.WriteDecoder(path, architecture, seed: seed, maxPositions: 512);
        return path;
    }

    static async Task<(List<string> Pieces, AnswerCompleted Done)> Answer(ITextGeneratorModel model, GeneratorOptions options)
    {
        using var client = new LocalChatClient(model);
        var answerer = new GroundedAnswerer(client, AnswerMode.Generated, options, null);
        var pieces = new List<string>();
        AnswerCompleted? done = null;
        await foreach (var u in answerer.AnswerAsync("When was the Eiffel Tower finished?", Passages.Eiffel, [ChatTurn.User("What is in Paris?"), ChatTurn.Assistant("A tower [1].")]))
        {
            if (u is AnswerToken t) pieces.Add(t.Text);
            else done = (AnswerCompleted)u;
        }
        return (pieces, done!);
    }

    [Theory]
    [InlineData("qwen2")]
    [InlineData("llama")]
    [InlineData("gpt2")]
    public async Task Greedy_grounded_answer_is_identical_run_to_run_and_streams_in_pieces(string architecture)
    {
        var options = new GeneratorOptions { MaxNewTokens = 24 };
        using var first = NeuralModels.LoadGenerator(Write(architecture));
        using var second = NeuralModels.LoadGenerator(Write(architecture));

        var a = await Answer(first, options);
        var b = await Answer(second, options);
        var again = await Answer(first, options);

        Assert.Equal(a.Pieces, b.Pieces);
        Assert.Equal(a.Pieces, again.Pieces);
        Assert.Equal(a.Done.Answer, b.Done.Answer);
        Assert.True(a.Pieces.Count > 1, $"expected a streamed answer, got {a.Pieces.Count} piece(s): '{a.Done.Answer}'");
        Assert.Equal(string.Concat(a.Pieces).Trim(), a.Done.Answer);
        Assert.InRange(a.Done.TokenCount, 1, options.MaxNewTokens);
        Assert.Equal(AnswerMode.Generated, a.Done.Mode);
    }

    [Fact]
    public void ChatMl_markers_reach_qwen2_as_single_special_tokens()
    {
        using var model = (TextGenerator)NeuralModels.LoadGenerator(Write("qwen2"));
        using var client = new LocalChatClient(model);
        ChatMessage[] messages = [new(ChatRole.System, "S"), new(ChatRole.User, "Q")];
        var prompt = client.Template.Render(messages);
        var ids = model.EncodePrompt(prompt);

        var imStart = Assert.Single(model.EncodePrompt("<|im_start|>"));
        var imEnd = Assert.Single(model.EncodePrompt("<|im_end|>"));
        Assert.Equal(3, ids.Count(id => id == imStart));   // system, user, and the open assistant turn
        Assert.Equal(2, ids.Count(id => id == imEnd));
        Assert.Equal(ids.Length, client.CountPromptTokens(prompt));
        Assert.True(client.CountPromptTokens(prompt) < model.Tokenizer.CountTokens(prompt), "spelled-out markers would cost more tokens");
    }

    [Fact]
    public void Llama3_prompt_starts_with_one_begin_of_text_and_headers_are_single_tokens()
    {
        using var model = (TextGenerator)NeuralModels.LoadGenerator(Write("llama"));
        using var client = new LocalChatClient(model);
        var ids = model.EncodePrompt(client.Template.Render([new ChatMessage(ChatRole.User, "Q")]));

        var bos = Assert.Single(model.EncodePrompt("<|begin_of_text|>"));
        var header = Assert.Single(model.EncodePrompt("<|begin_of_text|><|start_header_id|>")[1..]);
        Assert.Equal(bos, ids[0]);
        Assert.Equal(1, ids.Count(id => id == bos));   // the template's own, not doubled by the model's BOS
        Assert.Equal(2, ids.Count(id => id == header)); // user, and the open assistant turn
    }

    [Fact]
    public async Task Seeded_sampling_repeats_and_max_tokens_cuts_the_reply()
    {
        using var model = NeuralModels.LoadGenerator(Write("qwen2", seed: 3));
        using var client = new LocalChatClient(model);
        ChatMessage[] messages = [new(ChatRole.User, "Tell me about towers.")];
        var options = new ChatOptions { Temperature = 0.9f, TopP = 0.95f, Seed = 7, MaxOutputTokens = 12 };

        var one = await client.GetResponseAsync(messages, options);
        var two = await client.GetResponseAsync(messages, options);

        Assert.Equal(one.Text, two.Text);
        Assert.InRange(one.Usage!.OutputTokenCount!.Value, 1, 12);
    }

    [Fact]
    public async Task Cancellation_stops_a_real_generation()
    {
        using var model = NeuralModels.LoadGenerator(Write("qwen2"));
        using var client = new LocalChatClient(model);
        using var cts = new CancellationTokenSource();
        var seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var u in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Go on.")], new ChatOptions { MaxOutputTokens = 200 }, cts.Token))
                if (u.Text.Length > 0 && ++seen == 2) cts.Cancel();
        });
        Assert.Equal(2, seen);
    }

    public void Dispose() => dir.Dispose();
}
