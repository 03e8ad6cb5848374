using Rag.Tokenizers.Analysis;

namespace Rag.Tokenizers.Tests.Analysis;

public class EnglishStopWordsTests
{
    [Fact]
    public void Lucene_set_is_lucenes_33_words()
    {
        Assert.Equal(33, EnglishStopWords.Lucene.Count);
        Assert.Contains("the", EnglishStopWords.Lucene);
        Assert.DoesNotContain("what", EnglishStopWords.Lucene);
    }

    [Fact]
    public void Question_set_adds_question_words_auxiliaries_and_clitics_to_lucenes()
    {
        Assert.True(EnglishStopWords.Question.IsSupersetOf(EnglishStopWords.Lucene));
        Assert.Equal(59, EnglishStopWords.Question.Count);
        foreach (var word in new[] { "what", "who", "did", "has", "s", "ll" }) Assert.Contains(word, EnglishStopWords.Question);
        Assert.DoesNotContain("founded", EnglishStopWords.Question);
    }
}
