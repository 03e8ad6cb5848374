using Microsoft.Extensions.AI;
using Rag.Generator.Conversation;

namespace Rag.Generator.Tests;

public class QuestionCondenserTests
{
    static readonly ChatTurn[] History =
    [
        ChatTurn.User("Tell me about the Eiffel Tower in Paris"),
        ChatTurn.Assistant("It is a wrought-iron tower [1]."),
    ];

    [Fact]
    public async Task Without_history_the_question_is_unchanged()
    {
        var condenser = new QuestionCondenser(new CannedChatClient("should not be asked"));
        Assert.Equal("When was it built?", await condenser.CondenseAsync("When was it built?", []));
    }

    [Fact]
    public void Heuristic_appends_the_previous_question_content_words_to_a_follow_up_with_a_pronoun()
    {
        Assert.Equal("When was it built? Eiffel Tower Paris", QuestionCondenser.Heuristic("When was it built?", History));
    }

    [Fact]
    public void Heuristic_treats_a_short_question_as_a_follow_up_and_skips_words_it_already_has()
    {
        Assert.Equal("And the tower height? Eiffel Paris", QuestionCondenser.Heuristic("And the tower height?", History));
    }

    [Fact]
    public void Heuristic_leaves_a_self_contained_question_alone()
    {
        const string q = "Who designed the Statue of Liberty in New York?";
        Assert.Equal(q, QuestionCondenser.Heuristic(q, History));
    }

    [Fact]
    public void Heuristic_reaches_back_past_a_follow_up_to_its_topic()
    {
        ChatTurn[] history = [.. History, ChatTurn.User("How tall is it?"), ChatTurn.Assistant("330 metres [1].")];
        Assert.Equal("Who painted it? tall Eiffel Tower Paris", QuestionCondenser.Heuristic("Who painted it?", history));
    }

    [Fact]
    public async Task With_a_chat_client_uses_its_rewrite_and_sends_the_conversation()
    {
        var client = new CannedChatClient("Standalone question: \"When was the Eiffel ", "Tower built?\"\nextra line");
        var condensed = await new QuestionCondenser(client).CondenseAsync("When was it built?", History);

        Assert.Equal("When was the Eiffel Tower built?", condensed);
        var request = Assert.Single(client.Requests);
        Assert.Equal(QuestionCondenser.Instructions, request[0].Text);
        Assert.Contains("User: Tell me about the Eiffel Tower in Paris\nAssistant: It is a wrought-iron tower [1].", request[1].Text);
        Assert.EndsWith("Last question: When was it built?\n\nStandalone question:", request[1].Text);
    }

    [Fact]
    public async Task A_rewrite_unrelated_to_the_conversation_falls_back_to_the_heuristic()
    {
        var client = new CannedChatClient("zebra quantum marmalade");
        Assert.Equal("When was it built? Eiffel Tower Paris", await new QuestionCondenser(client).CondenseAsync("When was it built?", History));
    }
}
