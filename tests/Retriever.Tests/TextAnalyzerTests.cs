using Rag.Retriever.Lexical;

namespace Rag.Retriever.Tests;

public class TextAnalyzerTests
{
    static List<string> Plain(string text) => new TextAnalyzer(EnglishStemmer.None).Analyze(text);

    [Fact]
    public void Lower_cases_and_splits_on_punctuation()
    {
        Assert.Equal(["hello", "world", "2024", "rocks"], Plain("Hello, WORLD! (2024) -- rocks..."));
    }

    [Fact]
    public void Folds_latin_accents_so_both_spellings_match()
    {
        Assert.Equal(["beyonce", "cafe", "naive", "strasse", "lodz"], Plain("Beyoncé Café naïve Straße Łódź"));
        Assert.Equal(["cafe"], Plain("cafe\u0301")); // decomposed: e + combining acute
    }

    [Fact]
    public void Keeps_marks_of_non_latin_scripts()
    {
        // Devanagari vowel signs are part of the word, not accents to strip.
        Assert.Equal(["हिन्दी"], Plain("हिन्दी"));
    }

    [Fact]
    public void Nfkc_maps_compatibility_forms()
    {
        // Full-width Latin and the "ﬁ" ligature normalise to plain letters.
        Assert.Equal(["abc", "file"], Plain("ＡＢＣ ﬁle"));
    }

    [Fact]
    public void Cjk_characters_are_single_tokens()
    {
        Assert.Equal(["東", "京", "tower", "タ", "ワ", "ー"], Plain("東京tower タワー"));
    }

    [Fact]
    public void Drops_stop_words_and_clitics()
    {
        Assert.Equal(["name", "beyonce", "first", "album"], Plain("What is the name of Beyoncé's first album?"));
    }

    [Theory]
    [InlineData("queries", "query")]
    [InlineData("horses", "horse")]
    [InlineData("cats", "cat")]
    [InlineData("glass", "glass")]
    [InlineData("virus", "virus")]
    [InlineData("goes", "goe")]
    [InlineData("is", "is")]
    public void S_stemmer_follows_harman(string word, string stem)
    {
        Assert.Equal(stem, TextAnalyzer.SStem(word));
    }

    [Fact]
    public void Default_analyzer_is_porter_with_question_stop_words()
    {
        // Bm25Index files record this name; the stems below are what indexes built under it hold.
        Assert.Equal("v1-Porter-q", TextAnalyzer.Default.Name);
        Assert.Equal(["found", "univers", "pari", "technologi", "1990s"],
            TextAnalyzer.Default.Analyze("Who founded the Universities of Paris? Technology in the 1990s"));
    }
}
