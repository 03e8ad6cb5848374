using Rag.Tokenizers.Analysis;

namespace Rag.Tokenizers.Tests.Analysis;

public class PorterStemmerTests
{
    // Porter (1980)'s examples, each through all five steps (the paper shows each rule alone: "relational" -> "relate"
    // in step 2, which step 4 then cuts to "relat").
    [Theory]
    [InlineData("caresses", "caress")]   // 1a
    [InlineData("ponies", "poni")]
    [InlineData("ties", "ti")]
    [InlineData("caress", "caress")]
    [InlineData("cats", "cat")]
    [InlineData("feed", "feed")]         // 1b
    [InlineData("agreed", "agre")]
    [InlineData("plastered", "plaster")]
    [InlineData("bled", "bled")]
    [InlineData("motoring", "motor")]
    [InlineData("sing", "sing")]
    [InlineData("conflated", "conflat")]
    [InlineData("troubled", "troubl")]
    [InlineData("sized", "size")]
    [InlineData("hopping", "hop")]
    [InlineData("tanned", "tan")]
    [InlineData("falling", "fall")]
    [InlineData("hissing", "hiss")]
    [InlineData("fizzed", "fizz")]
    [InlineData("failing", "fail")]
    [InlineData("filing", "file")]
    [InlineData("happy", "happi")]       // 1c
    [InlineData("sky", "sky")]
    [InlineData("relational", "relat")]  // 2
    [InlineData("conditional", "condit")]
    [InlineData("rational", "ration")]
    [InlineData("digitizer", "digit")]
    [InlineData("conformabli", "conform")]
    [InlineData("vietnamization", "vietnam")]
    [InlineData("hopefulness", "hope")]
    [InlineData("sensibiliti", "sensibl")]
    [InlineData("triplicate", "triplic")] // 3
    [InlineData("formative", "form")]
    [InlineData("electrical", "electr")]
    [InlineData("goodness", "good")]
    [InlineData("revival", "reviv")]     // 4
    [InlineData("allowance", "allow")]
    [InlineData("airliner", "airlin")]
    [InlineData("adjustable", "adjust")]
    [InlineData("replacement", "replac")]
    [InlineData("adoption", "adopt")]
    [InlineData("communism", "commun")]
    [InlineData("bowdlerize", "bowdler")]
    [InlineData("probate", "probat")]    // 5a
    [InlineData("rate", "rate")]
    [InlineData("cease", "ceas")]
    [InlineData("controlling", "control")] // 5b
    [InlineData("roll", "roll")]
    [InlineData("generalizations", "gener")]
    [InlineData("oscillators", "oscil")]
    [InlineData("opened", "open")]
    [InlineData("dedicated", "dedic")]
    [InlineData("dedicate", "dedic")]
    public void Stems_the_papers_examples(string word, string stem) => Assert.Equal(stem, PorterStemmer.Stem(word));

    // Porter's C version replaced "abli" -> "able" by "bli" -> "ble" and added "logi" -> "log"; the paper has neither.
    [Theory]
    [InlineData("possibly", "possibli")]
    [InlineData("incredibly", "incredibli")]
    [InlineData("technology", "technologi")]
    [InlineData("archaeology", "archaeologi")]
    public void Keeps_the_published_rules_not_the_later_c_departures(string word, string stem) =>
        Assert.Equal(stem, PorterStemmer.Stem(word));

    [Theory]
    [InlineData("is")]
    [InlineData("as")]
    [InlineData("café")]
    [InlineData("1990s")]
    [InlineData("don't")]
    [InlineData("Running")]
    public void Keeps_short_words_and_words_beyond_a_to_z(string word) => Assert.Equal(word, PorterStemmer.Stem(word));

    [Fact]
    public void Matches_the_reference_implementation_on_thousands_of_words()
    {
        // Fixtures/porter-1980.tsv: NLTK's PorterStemmer (ORIGINAL_ALGORITHM) on BERT vocabulary words and suffixed
        // forms of them; made by make_porter_reference.py.
        var path = Path.Combine(AppContext.BaseDirectory, "Analysis", "Fixtures", "porter-1980.tsv");
        var rows = File.ReadLines(path).Where(l => !l.StartsWith('#')).Select(l => l.Split('\t')).ToList();
        Assert.True(rows.Count > 4000, $"only {rows.Count} rows in {path}");
        var wrong = rows.Where(r => PorterStemmer.Stem(r[0]) != r[1]).Select(r => $"{r[0]}: {PorterStemmer.Stem(r[0])}, expected {r[1]}").ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {rows.Count} differ: " + string.Join("; ", wrong.Take(10)));
    }
}
