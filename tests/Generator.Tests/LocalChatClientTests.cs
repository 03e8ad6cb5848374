using Microsoft.Extensions.AI;
using Rag.Generator.Local;
using Rag.Generator.Prompting;
using Rag.Neural;

namespace Rag.Generator.Tests;

public class LocalChatClientTests
{
    static readonly ChatMessage[] Ask = [new(ChatRole.System, "S"), new(ChatRole.User, "Question: Q?")];

    [Fact]
    public async Task Streams_each_piece_as_it_comes_then_usage_and_finish_reason()
    {
        var model = new ScriptedModel("qwen2", "Paris", " is", " the", " capital [1].", "<|im_end|>", "ignored");
        using var client = new LocalChatClient(model);

        var updates = new List<ChatResponseUpdate>();
        await foreach (var u in client.GetStreamingResponseAsync(Ask)) updates.Add(u);

        Assert.Equal(["Paris", " is", " the", " capital [1]."], updates.Where(u => u.Text.Length > 0).Select(u => u.Text));
        Assert.Equal("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nQuestion: Q?<|im_end|>\n<|im_start|>assistant\n", Assert.Single(model.Prompts));
        var last = updates[^1];
        Assert.Equal(ChatFinishReason.Stop, last.FinishReason);
        var usage = Assert.Single(last.Contents.OfType<UsageContent>()).Details;
        Assert.Equal(model.Tokenizer.CountTokens(model.Prompts[0]), usage.InputTokenCount);
        Assert.Equal(4, usage.OutputTokenCount);   // one per piece
        Assert.All(updates, u => Assert.Equal(ChatRole.Assistant, u.Role));
        Assert.Single(updates.Select(u => u.ResponseId).Distinct());
    }

    [Fact]
    public async Task GetResponse_joins_the_pieces_and_reports_length_when_cut_short()
    {
        var model = new ScriptedModel("gpt2", "a", " b", " c", " d");
        using var client = new LocalChatClient(model);
        var response = await client.GetResponseAsync(Ask, new ChatOptions { MaxOutputTokens = 3 });
        Assert.Equal("a b c", response.Text);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.StartsWith("S\n\nQuestion: Q?\nAnswer:", model.Prompts[0]);
    }

    [Fact]
    public void Maps_chat_options_onto_generation_options()
    {
        using var client = new LocalChatClient(new ScriptedModel("llama"), defaults: new GenerationOptions { MaxNewTokens = 50, RepetitionPenalty = 1.1f });
        var options = new ChatOptions
        {
            MaxOutputTokens = 100,
            Temperature = 0.7f,
            TopP = 0.9f,
            TopK = 40,
            Seed = 42,
            StopSequences = ["\n\n", "<|eot_id|>"],
            AdditionalProperties = new() { ["repetition_penalty"] = 1.3f },
        };
        var g = client.ToGenerationOptions(options, tokensLeft: 80);
        Assert.Equal(80, g.MaxNewTokens);   // clamped to the context left
        Assert.Equal(0.7f, g.Temperature);
        Assert.Equal(0.9f, g.TopP);
        Assert.Equal(40, g.TopK);
        Assert.Equal(42, g.Seed);
        Assert.Equal(1.3f, g.RepetitionPenalty);
        Assert.Equal(["<|eot_id|>", "<|end_of_text|>", "\n\n"], g.StopStrings);

        var d = client.ToGenerationOptions(null, tokensLeft: 1000);
        Assert.Equal((50, 0f, 1f, 0, (int?)null, 1.1f), (d.MaxNewTokens, d.Temperature, d.TopP, d.TopK, d.Seed, d.RepetitionPenalty));
    }

    [Fact]
    public async Task Cancellation_stops_the_stream()
    {
        var model = new ScriptedModel("qwen2", Enumerable.Repeat(" x", 1000).ToArray());
        using var client = new LocalChatClient(model);
        using var cts = new CancellationTokenSource();
        var seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in client.GetStreamingResponseAsync(Ask, null, cts.Token))
                if (++seen == 3) cts.Cancel();
        });
        Assert.Equal(3, seen);
    }

    [Fact]
    public async Task Runs_one_generation_at_a_time()
    {
        var model = new ScriptedModel("qwen2", "a", "b", "c");
        using var client = new LocalChatClient(model);
        var runs = Enumerable.Range(0, 4).Select(_ => Task.Run(() => client.GetResponseAsync(Ask))).ToArray();
        var texts = (await Task.WhenAll(runs)).Select(r => r.Text);
        Assert.All(texts, t => Assert.Equal("abc", t));
        Assert.Equal(1, model.MaxRunning);
    }

    [Fact]
    public async Task A_prompt_that_fills_the_context_is_a_clear_error()
    {
        using var client = new LocalChatClient(new ScriptedModel("qwen2", "x") { ContextLength = 4 });
        var e = await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync(Ask));
        Assert.Contains("context", e.Message);
    }

    [Fact]
    public void Exposes_itself_its_model_and_metadata_as_services()
    {
        var model = new ScriptedModel("qwen2");
        using var client = new LocalChatClient(model, ChatTemplate.Plain, ownsModel: true);
        Assert.Same(client, client.GetService<LocalChatClient>());
        Assert.Same(model, client.GetService<ITextGeneratorModel>());
        Assert.Equal("qwen2", client.GetService<ChatClientMetadata>()!.DefaultModelId);
        Assert.Same(ChatTemplate.Plain, client.Template);
        client.Dispose();
        Assert.True(model.Disposed);
    }
}
