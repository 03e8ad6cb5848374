using Microsoft.Extensions.AI;
using Rag.Generator.Local;

namespace Rag.Generator.Tests;

public class GroundedAnswererTests
{
    static async Task<List<AnswerUpdate>> Collect(IAsyncEnumerable<AnswerUpdate> updates)
    {
        var list = new List<AnswerUpdate>();
        await foreach (var u in updates) list.Add(u);
        return list;
    }

    [Fact]
    public async Task With_zero_passages_says_nothing_relevant_and_never_asks_the_model()
    {
        var model = new ScriptedModel("qwen2", "Invented", " answer.");
        using var client = new LocalChatClient(model);
        var answerer = new GroundedAnswerer(client, AnswerMode.Generated, new GeneratorOptions(), null);

        var updates = await Collect(answerer.AnswerAsync("What is the airspeed of a swallow?", [], []));

        Assert.Empty(model.Prompts);
        var done = Assert.IsType<AnswerCompleted>(updates[^1]);
        Assert.Equal(GroundedAnswerer.NothingRelevantText, done.Answer);
        Assert.Equal(GroundedAnswerer.NothingRelevantText, Assert.IsType<AnswerToken>(updates[0]).Text);
        Assert.Empty(done.Citations);
        Assert.Equal(GroundedAnswerer.NothingRetrievedNotice, done.Notice);
    }

    [Fact]
    public async Task Generated_answer_streams_tokens_then_one_final_update_with_mapped_citations()
    {
        var model = new ScriptedModel("qwen2", "Construction", " finished", " in", " 1889", " [1]", ", in", " Paris", " [2][7].", "<|im_end|>");
        using var client = new LocalChatClient(model);
        var answerer = new GroundedAnswerer(client, AnswerMode.Generated, new GeneratorOptions { MaxNewTokens = 64 }, null);

        var updates = await Collect(answerer.AnswerAsync("When was the Eiffel Tower finished?", Passages.Eiffel, []));

        var tokens = updates.OfType<AnswerToken>().Select(t => t.Text).ToList();
        Assert.Equal(8, tokens.Count);
        var done = Assert.IsType<AnswerCompleted>(Assert.Single(updates, u => u is AnswerCompleted));
        Assert.Same(done, updates[^1]);
        Assert.Equal("Construction finished in 1889 [1], in Paris [2][7].", done.Answer);
        Assert.Equal(string.Concat(tokens), done.Answer);
        Assert.Equal(AnswerMode.Generated, done.Mode);
        Assert.Null(done.Notice);
        Assert.Equal(["eiffel", "paris"], done.Citations.Select(c => c.DocumentId));
        Assert.Equal((100, 100 + Passages.Eiffel[0].Text.Length), (done.Citations[0].StartChar, done.Citations[0].EndChar));
        Assert.Equal("Construction finished in 1889.", done.Citations[0].Snippet);
        Assert.Equal([7], done.DroppedCitations);
        Assert.Equal(8, done.TokenCount);   // one per streamed piece
        Assert.True(done.GenerationTime > TimeSpan.Zero);

        var prompt = Assert.Single(model.Prompts);
        Assert.StartsWith("<|im_start|>system\nYou answer questions using only the numbered passages", prompt);
        Assert.Contains("[3] Statue of Liberty\n", prompt);
        Assert.EndsWith("Question: When was the Eiffel Tower finished?<|im_end|>\n<|im_start|>assistant\n", prompt);
        Assert.Equal(64, model.Options[0].MaxNewTokens);
        Assert.Equal(0f, model.Options[0].Temperature);
    }

    [Fact]
    public async Task Conversation_history_goes_into_the_prompt()
    {
        var client = new CannedChatClient("Yes [1].");
        var answerer = new GroundedAnswerer(client, AnswerMode.Generated, new GeneratorOptions(), new WordTokenizer());
        await answerer.AnswerCompleteAsync("Is it in Paris?", Passages.Eiffel, [ChatTurn.User("What is the Eiffel Tower?"), ChatTurn.Assistant("A tower [1].")]);

        var sent = Assert.Single(client.Requests);
        Assert.Equal([ChatRole.System, ChatRole.User, ChatRole.Assistant, ChatRole.User], sent.Select(m => m.Role));
        Assert.Equal("Question: What is the Eiffel Tower?", sent[1].Text);
        Assert.Equal("A tower.", sent[2].Text);
        Assert.EndsWith("Question: Is it in Paris?", sent[3].Text);
    }

    [Fact]
    public async Task Extractive_mode_quotes_the_best_sentence_labelled_as_extractive()
    {
        var answerer = new GroundedAnswerer(null, AnswerMode.Extractive, new GeneratorOptions { MaxExtractiveSentences = 1 }, null);
        var done = await answerer.AnswerCompleteAsync("When was the Statue of Liberty dedicated?", Passages.Eiffel, []);

        Assert.Equal("It was dedicated in 1886 [3].", done.Answer);
        Assert.Equal(AnswerMode.Extractive, done.Mode);
        Assert.Equal(GroundedAnswerer.ExtractiveNotice, done.Notice);
        var c = Assert.Single(done.Citations);
        Assert.Equal(("liberty", "It was dedicated in 1886."), (c.DocumentId, c.Snippet));
        Assert.Equal(0, done.TokenCount);
    }

    [Fact]
    public async Task Condenses_follow_ups_with_the_model_or_the_heuristic()
    {
        var withModel = new GroundedAnswerer(new CannedChatClient("When was the Eiffel Tower built?"), AnswerMode.Generated, new GeneratorOptions(), null);
        var heuristic = new GroundedAnswerer(null, AnswerMode.Extractive, new GeneratorOptions(), null);
        ChatTurn[] history = [ChatTurn.User("Tell me about the Eiffel Tower"), ChatTurn.Assistant("It is a tower [1].")];

        Assert.Equal("When was the Eiffel Tower built?", await withModel.CondenseQuestionAsync("When was it built?", history));
        Assert.Equal("When was it built? Eiffel Tower", await heuristic.CondenseQuestionAsync("When was it built?", history));
    }

    [Fact]
    public async Task Cancellation_ends_the_answer_stream()
    {
        var model = new ScriptedModel("qwen2", Enumerable.Repeat(" word", 200).ToArray());
        using var client = new LocalChatClient(model);
        var answerer = new GroundedAnswerer(client, AnswerMode.Generated, new GeneratorOptions(), null);
        using var cts = new CancellationTokenSource();
        var seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in answerer.AnswerAsync("Q?", Passages.Eiffel, [], cts.Token))
                if (++seen == 5) cts.Cancel();
        });
        Assert.Equal(5, seen);
    }

    [Fact]
    public async Task Generated_mode_without_a_client_and_misnumbered_passages_are_clear_errors()
    {
        Assert.Throws<ArgumentException>(() => new GroundedAnswerer(null, AnswerMode.Generated, new GeneratorOptions(), null));
        var answerer = new GroundedAnswerer(null, AnswerMode.Extractive, new GeneratorOptions(), null);
        Passage[] twice = [Passages.Make(1, "A."), Passages.Make(1, "B.")];
        await Assert.ThrowsAsync<ArgumentException>(() => answerer.AnswerCompleteAsync("Q?", twice, []));
    }
}
