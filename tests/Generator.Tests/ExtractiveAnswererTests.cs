using Rag.Generator.Extractive;

namespace Rag.Generator.Tests;

public class ExtractiveAnswererTests
{
    [Fact]
    public async Task Picks_the_sentence_containing_the_answer_and_cites_it()
    {
        var answer = await new ExtractiveAnswerer(maxSentences: 1).AnswerAsync("When was the construction of the Eiffel Tower finished?", Passages.Eiffel);
        Assert.True(answer.Found);
        Assert.Equal("Construction finished in 1889 [1].", answer.Text);
        var s = Assert.Single(answer.Sentences);
        Assert.Equal(1, s.PassageNumber);
        Assert.Equal("Construction finished in 1889.", Passages.Eiffel[0].Text.Substring(s.Start, s.Length));
    }

    [Fact]
    public async Task Finds_the_answer_in_a_later_passage_when_only_it_matches()
    {
        var answer = await new ExtractiveAnswerer().AnswerAsync("When was the Statue of Liberty dedicated?", Passages.Eiffel);
        Assert.StartsWith("It was dedicated in 1886 [3].", answer.Text);
    }

    [Fact]
    public async Task Adds_another_sentence_only_when_it_covers_another_question_word()
    {
        var passages = new[]
        {
            Passages.Make(1, "The bridge opened in 1932. Its architect was John Bradfield."),
            Passages.Make(2, "The bridge opened to traffic in March. Nobody remembers the weather."),
        };
        var answer = await new ExtractiveAnswerer(maxSentences: 3).AnswerAsync("When did the bridge open, and who was its architect?", passages);
        // Passage 2's first sentence scores well but adds no question word; "Its architect" matches through its pronoun.
        Assert.Equal("The bridge opened in 1932 [1]. Its architect was John Bradfield [1].", answer.Text);
    }

    [Fact]
    public async Task Prefers_the_earlier_passage_on_equal_evidence_and_is_deterministic()
    {
        var passages = new[] { Passages.Make(1, "Copper conducts heat well."), Passages.Make(2, "Copper conducts heat well.") };
        var answerer = new ExtractiveAnswerer(maxSentences: 1);
        var first = await answerer.AnswerAsync("Does copper conduct heat?", passages);
        Assert.Equal("Copper conducts heat well [1].", first.Text);
        Assert.Equal(first, await answerer.AnswerAsync("Does copper conduct heat?", passages), new AnswerComparer());
    }

    [Fact]
    public async Task Says_it_cannot_answer_when_no_sentence_shares_a_content_word()
    {
        var answer = await new ExtractiveAnswerer().AnswerAsync("Who painted the Mona Lisa?", Passages.Eiffel);
        Assert.False(answer.Found);
        Assert.Equal(ExtractiveAnswerer.NotFoundText, answer.Text);
    }

    sealed class AnswerComparer : IEqualityComparer<ExtractiveAnswer>
    {
        public bool Equals(ExtractiveAnswer? x, ExtractiveAnswer? y) => x!.Text == y!.Text && x.Sentences.SequenceEqual(y.Sentences);
        public int GetHashCode(ExtractiveAnswer obj) => obj.Text.GetHashCode();
    }
}
