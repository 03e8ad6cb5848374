using Rag.Generator.Extractive;

namespace Rag.Generator.Tests;

public class TextAnalysisTests
{
    [Fact]
    public void Content_words_are_lower_cased_porter_stems_without_stop_words()
    {
        const string text = "Who founded the Universities of Paris? She did, and they opened in the 1990s.";
        Assert.Equal(["found", "univers", "pari", "open", "1990s"], TextAnalysis.ContentWords(text));
        Assert.Equal(["founded", "Universities", "Paris", "opened", "1990s"], TextAnalysis.ContentWordsAsWritten(text));
    }

    [Fact]
    public void Fold_drops_the_possessive_before_stemming() => Assert.Equal("eiffel", TextAnalysis.Fold("Eiffel's"));

    [Theory]
    [InlineData("Dr. Smith arrived. He left at 5 p.m. on Monday! Did he? Yes.", new[] { "Dr. Smith arrived.", "He left at 5 p.m. on Monday!", "Did he?", "Yes." })]
    [InlineData("Heading\n\nBody text without a stop", new[] { "Heading", "Body text without a stop" })]
    [InlineData("It cost 3.5 million (\"a lot.\") Then it fell.", new[] { "It cost 3.5 million (\"a lot.\")", "Then it fell." })]
    public void Splits_sentences_at_stops_and_blank_lines_but_not_abbreviations(string text, string[] expected) =>
        Assert.Equal(expected, TextAnalysis.SplitSentences(text).Select(s => text.Substring(s.Start, s.Length)));
}
