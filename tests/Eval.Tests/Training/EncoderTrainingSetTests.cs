using Rag.Eval.Training;

namespace Rag.Eval.Tests.Training;

public class EncoderTrainingSetTests
{
    static EvalDataset Dataset()
    {
        var corpus = new List<CorpusDocument>
        {
            new("0-0", "Paris", "The Eiffel Tower stands in Paris on the Champ de Mars."),
            new("0-1", "Paris", "The Louvre in Paris is the world's most visited museum."),
            new("1-0", "Rome", "The Colosseum in Rome held gladiator fights."),
            new("1-1", "Rome", "The Pantheon in Rome has a famous concrete dome."),
            new("2-0", "Oslo", "Oslo's opera house slopes down into the fjord."),
        };
        var questions = new List<EvalQuestion>
        {
            new("q1", "Where does the Eiffel Tower stand in Paris?", ["Champ de Mars"], ["0-0"]),
            new("q2", "Which Paris museum is the most visited?", ["The Louvre"], ["0-1"]),
            new("q3", "What did the Colosseum in Rome hold?", ["gladiator fights"], ["1-0"]),
            new("q4", "What does the opera house in Oslo slope into?", ["the fjord"], ["2-0"]),
            new("q5", "A question whose gold passage is missing", [], ["9-9"]),
        };
        return new EvalDataset("tiny", corpus, questions, []);
    }

    [Fact]
    public async Task TheLastArticlesAreHeldOutAndHardNegativesAreNeverGold()
    {
        var set = await EncoderTrainingSet.BuildAsync(Dataset(), holdoutArticles: 1, hardNegatives: true);
        Assert.Equal(2, set.TrainArticles);
        Assert.Equal(1, set.HeldOutArticles);
        Assert.Equal(["q4"], set.HeldOut.Select(q => q.Id));
        Assert.Equal(3, set.Pairs.Count); // q5 has no gold passage in the corpus: neither trained on nor scored
        var eiffel = set.Pairs.Single(p => p.Question.Contains("Eiffel"));
        Assert.Equal("The Eiffel Tower stands in Paris on the Champ de Mars.", eiffel.Positive);
        Assert.NotNull(eiffel.HardNegative);
        Assert.Contains("Paris", eiffel.HardNegative); // BM25's best non-gold passage shares the question's words
        Assert.All(set.Pairs, p => Assert.NotEqual(p.Positive, p.HardNegative));
    }

    [Fact]
    public async Task WithoutHardNegativesPairsHaveNone()
    {
        var set = await EncoderTrainingSet.BuildAsync(Dataset(), holdoutArticles: 0, hardNegatives: false);
        Assert.Equal(4, set.Pairs.Count);
        Assert.Empty(set.HeldOut);
        Assert.All(set.Pairs, p => Assert.Null(p.HardNegative));
    }

    [Fact]
    public async Task HoldingOutEveryArticleIsRefusedWithTheCount()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => EncoderTrainingSet.BuildAsync(Dataset(), holdoutArticles: 3, hardNegatives: false));
        Assert.Contains("3 articles", e.Message);
    }
}
