using Microsoft.Extensions.AI;
using Rag.Generator.Prompting;

namespace Rag.Generator.Tests;

public class PromptBuilderTests
{
    [Fact]
    public void Lays_out_instructions_numbered_passages_with_titles_and_the_question()
    {
        var passages = new[]
        {
            Passages.Make(1, "Alpha text.", "First") with { Page = 3 },
            Passages.Make(2, "Beta text.", "Second") with { HeadingPath = "Intro > Scope" },
        };
        var prompt = new PromptBuilder().Build("What is alpha?", passages, [], 1000);

        Assert.Equal(2, prompt.Messages.Count);
        Assert.Equal(ChatRole.System, prompt.Messages[0].Role);
        Assert.Equal(PromptBuilder.Instructions, prompt.Messages[0].Text);
        Assert.Contains("[1], [2]", PromptBuilder.Instructions);
        Assert.Contains("don't know", PromptBuilder.Instructions);
        Assert.Equal(
            "Passages:\n\n[1] First (page 3)\nAlpha text.\n\n[2] Second — Intro > Scope\nBeta text.\n\nQuestion: What is alpha?",
            prompt.Messages[1].Text);
        Assert.Equal(passages, prompt.Passages);
    }

    [Fact]
    public void Renders_to_exact_chatml_through_the_template()
    {
        var prompt = new PromptBuilder().Build("Q?", [Passages.Make(1, "T.", "A")], [ChatTurn.User("Earlier?"), ChatTurn.Assistant("Yes [1].")], 1000);
        Assert.Equal(
            "<|im_start|>system\n" + PromptBuilder.Instructions + "<|im_end|>\n" +
            "<|im_start|>user\nQuestion: Earlier?<|im_end|>\n" +
            "<|im_start|>assistant\nYes.<|im_end|>\n" +
            "<|im_start|>user\nPassages:\n\n[1] A\nT.\n\nQuestion: Q?<|im_end|>\n" +
            "<|im_start|>assistant\n",
            ChatTemplate.ChatMl.Render(prompt.Messages));
    }

    [Fact]
    public void Trims_passages_in_rank_order_to_the_token_budget_cutting_the_last_at_a_word()
    {
        var tokenizer = new WordTokenizer();
        var words = string.Join(' ', Enumerable.Range(0, 100).Select(i => "w" + i));
        var passages = Enumerable.Range(1, 4).Select(n => Passages.Make(n, words, "T" + n)).ToArray();
        var builder = new PromptBuilder(tokenizer);

        var budget = 300;
        var prompt = builder.Build("Which word?", passages, [], budget);

        // Each passage is ~102 words: two fit whole, the third is cut, the fourth is left out.
        Assert.Equal([1, 2, 3], prompt.Passages.Select(p => p.Number));
        var user = prompt.Messages[^1].Text!;
        Assert.Contains("[3] T3\nw0 w1", user);
        Assert.Contains(" …\n\nQuestion: Which word?", user);
        Assert.DoesNotContain("[4]", user);
        var total = prompt.Messages.Sum(m => tokenizer.CountTokens(m.Text!));
        Assert.InRange(total, budget - 40, budget);
        Assert.True(prompt.EstimatedTokens <= budget);
    }

    [Fact]
    public void Keeps_the_most_recent_history_within_its_share_and_starts_on_a_user_turn()
    {
        var history = Enumerable.Range(0, 10)
            .Select(i => i % 2 == 0 ? ChatTurn.User($"question {i}") : ChatTurn.Assistant($"answer {i} [2]"))
            .ToList();
        var prompt = new PromptBuilder(new WordTokenizer(), maxHistoryMessages: 3).Build("Next?", [Passages.Make(1, "Text.")], history, 1000);

        // Three newest are answer 9, question 8, answer 7; answer 7 has no question before it, so it goes.
        var turns = prompt.Messages.Skip(1).SkipLast(1).Select(m => (m.Role, m.Text)).ToList();
        Assert.Equal([(ChatRole.User, "Question: question 8"), (ChatRole.Assistant, "answer 9")], turns);
    }

    [Fact]
    public void Without_a_tokenizer_estimates_four_characters_a_token()
    {
        var builder = new PromptBuilder();
        Assert.Equal(3, builder.CountTokens("abcdefghij"));
    }

    [Fact]
    public void A_question_longer_than_the_budget_is_a_clear_error()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            new PromptBuilder(new WordTokenizer()).Build(string.Join(' ', Enumerable.Repeat("why", 500)), [], [], 200));
        Assert.Contains("too long", e.Message);
    }
}
