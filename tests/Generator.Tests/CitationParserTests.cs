using Rag.Generator.Citations;

namespace Rag.Generator.Tests;

public class CitationParserTests
{
    static readonly Passage[] Five = Enumerable.Range(1, 5).Select(n => Passages.Make(n, $"Passage {n} says thing{n}.", $"Title {n}", start: 10 * n)).ToArray();

    static int[] Numbers(string answer, IReadOnlyList<Passage>? passages = null) =>
        CitationParser.Parse(answer, passages ?? Five).Citations.Select(c => c.Number).ToArray();

    [Theory]
    [InlineData("Paris [2].", new[] { 2 })]
    [InlineData("A [1, 3] and B [ 2 ;4 ].", new[] { 1, 3, 2, 4 })]
    [InlineData("Both[3][1].", new[] { 3, 1 })]
    [InlineData("See [2-4].", new[] { 2, 3, 4 })]
    [InlineData("See [1–2].", new[] { 1, 2 })]
    [InlineData("As [Passage 5] and [source 1, 2] say.", new[] { 5, 1, 2 })]
    [InlineData("As [Passage 1; Document 3] say.", new[] { 1, 3 })]
    [InlineData("No markers [a] or [citation needed] here (1), nor [٣].", new int[0])]
    public void Finds_each_marker_form_in_order_of_first_mention(string answer, int[] expected) =>
        Assert.Equal(expected, Numbers(answer));

    [Fact]
    public void Duplicates_are_listed_once_at_their_first_mention()
    {
        Assert.Equal([2, 1], Numbers("X [2]. Y [1][2]. Z [2, 1]."));
    }

    [Fact]
    public void Numbers_that_name_no_passage_are_dropped_and_reported()
    {
        var result = CitationParser.Parse("X [1]. Y [7]. Z [0, 2]. W [7].", Five[..3]);
        Assert.Equal([1, 2], result.Citations.Select(c => c.Number));
        Assert.Equal([7, 0], result.Dropped);
    }

    [Fact]
    public void A_backwards_or_huge_range_counts_its_ends_only()
    {
        Assert.Equal([4, 2], Numbers("[4-2]"));
        var result = CitationParser.Parse("[1-500]", Five);
        Assert.Equal([1], result.Citations.Select(c => c.Number));
        Assert.Equal([500], result.Dropped);
    }

    [Fact]
    public void Citations_carry_document_chunk_offsets_and_the_supporting_sentence()
    {
        var passage = Passages.Make(1, "Rome is old. The Colosseum held fifty thousand people. It is in Italy.", "Rome", "rome-doc", 500) with { Page = 7 };
        var c = Assert.Single(CitationParser.Parse("The Colosseum could hold fifty thousand spectators [1].", [passage]).Citations);
        Assert.Equal(new Citation(1, "rome-doc", "rome-doc:0", "Rome", 500, 500 + passage.Text.Length, 7, "The Colosseum held fifty thousand people."), c);
    }

    [Fact]
    public void A_slide_is_named_as_a_slide_in_the_prompt_and_in_the_citation()
    {
        var slide = Passages.Make(1, "Gold plan costs 40 euros.", "Deck") with { Page = 2, PageLabel = "slide 2" };
        Assert.StartsWith("[1] Deck (slide 2)\n", Prompting.PromptBuilder.FormatPassage(slide));
        Assert.Equal("slide 2", Assert.Single(CitationParser.Parse("It costs 40 euros [1].", [slide]).Citations).PageLabel);
    }

    [Fact]
    public void Streaming_piece_by_piece_gives_the_batch_result_and_reports_each_citation_once_when_closed()
    {
        const string answer = "First [1]. Then [2, 3][Passage 4] and [9]; finally [1-2] again [5].";
        var batch = CitationParser.Parse(answer, Five);

        var parser = new CitationParser(Five);
        var announced = new List<(int Number, int AtChar)>();
        for (var i = 0; i < answer.Length; i++)
            foreach (var c in parser.Append(answer[i].ToString()))
                announced.Add((c.Number, i));
        var streamed = parser.Complete();

        Assert.Equal(batch.Citations, streamed.Citations);
        Assert.Equal(batch.Dropped, streamed.Dropped);
        Assert.Equal([1, 2, 3, 4, 5], announced.Select(a => a.Number));
        // Each is announced at its closing bracket, not before.
        Assert.All(announced, a => Assert.Equal(']', answer[a.AtChar]));
    }

    [Fact]
    public void A_marker_split_across_pieces_is_found()
    {
        var parser = new CitationParser(Five);
        Assert.Empty(parser.Append("It is so [Pass"));
        Assert.Empty(parser.Append("age 2, "));
        Assert.Equal([2, 3], parser.Append("3]. Done").Select(c => c.Number));
        Assert.Equal([2, 3], parser.Complete().Citations.Select(c => c.Number));
    }
}
