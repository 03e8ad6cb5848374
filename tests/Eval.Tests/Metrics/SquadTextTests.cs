namespace Rag.Eval.Tests.Metrics;

public class SquadTextTests
{
    [Theory]
    [InlineData("The  Denver Broncos!", "denver broncos")]
    [InlineData("an apple a day", "apple day")]
    [InlineData("Theory of Anthems", "theory of anthems")] // "the" only as a whole word
    [InlineData("U.S.A.", "usa")]
    [InlineData("\u201CDenver\u201D \u2014 Broncos\u2026", "denver broncos")] // curly quotes, em dash, ellipsis
    [InlineData("\u00ABLe Monde\u00BB", "le monde")]
    [InlineData("  \t\n ", "")]
    public void Normalize_follows_squad(string input, string expected) => Assert.Equal(expected, SquadText.Normalize(input));

    [Fact]
    public void Exact_match_ignores_case_articles_and_punctuation()
    {
        Assert.Equal(1, SquadText.ExactMatch("the Broncos.", "Broncos"));
        Assert.Equal(0, SquadText.ExactMatch("Denver Broncos", "Broncos"));
    }

    [Fact]
    public void F1_is_token_overlap()
    {
        // pred {denver, broncos, won}, gold {broncos}: P = 1/3, R = 1, F1 = 2PR/(P+R) = 0.5
        Assert.Equal(0.5, SquadText.F1("Denver Broncos won", "Broncos"), 12);
        // counts are clipped: pred {x, y, y}, gold {y, y, z}: 2 shared, P = R = 2/3
        Assert.Equal(2.0 / 3, SquadText.F1("x y y", "y y z"), 12);
        Assert.Equal(0, SquadText.F1("Carolina", "Broncos"));
    }

    [Fact]
    public void F1_of_empty_answers_is_one_only_when_both_are_empty()
    {
        Assert.Equal(1, SquadText.F1("", "the"));
        Assert.Equal(0, SquadText.F1("", "Broncos"));
        Assert.Equal(0, SquadText.F1("Broncos", "!!"));
    }

    [Fact]
    public void Best_over_multiple_gold_answers()
    {
        string[] golds = ["Broncos", "Denver Broncos", "the Denver Broncos"];
        // vs "Denver Broncos": P = 2/3, R = 1, F1 = 0.8; vs "Broncos": 0.5
        Assert.Equal(0.8, SquadText.MaxF1("Denver Broncos won", golds), 12);
        Assert.Equal(1, SquadText.MaxExactMatch("Denver Broncos", golds));
        Assert.Equal(0, SquadText.MaxExactMatch("Denver", golds));
        Assert.Equal(0, SquadText.MaxF1("anything", []));
    }

    [Fact]
    public void Contains_answer_matches_whole_tokens_after_normalisation()
    {
        Assert.True(SquadText.ContainsAnswer("Founded in 21,500 BC.", ["21,500"]));
        Assert.False(SquadText.ContainsAnswer("Founded in 21,500 BC.", ["1,500"]));
        Assert.True(SquadText.ContainsAnswer("the \u201CGolden Gate\u201D bridge", ["golden gate"]));
        Assert.True(SquadText.ContainsAnswer("Won by the Denver Broncos", ["Carolina", "Denver Broncos"]));
        Assert.False(SquadText.ContainsAnswer("Nothing relevant", ["the"])); // normalises to nothing
        Assert.False(SquadText.ContainsAnswer("", ["x"]));
    }
}
