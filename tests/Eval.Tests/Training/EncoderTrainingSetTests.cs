using Rag.Eval.Training;
using Rag.Testing;

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
        var set = await EncoderTrainingSet.BuildAsync(Dataset(), holdoutArticles: 1, HardNegativeSource.Bm25);
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
        var set = await EncoderTrainingSet.BuildAsync(Dataset(), holdoutArticles: 0, HardNegativeSource.None);
        Assert.Equal(4, set.Pairs.Count);
        Assert.Empty(set.HeldOut);
        Assert.All(set.Pairs, p => Assert.Null(p.HardNegative));
    }

    [Fact]
    public void AnInverseClozePairTakesOneSentenceAsTheQuestionAndMostlyCutsItFromThePassage()
    {
        var corpus = Enumerable.Range(0, 300).Select(i => new CorpusDocument($"d{i}", "t",
            $"Passage {i} opens with this sentence. Its second sentence says something else. A third one ends passage {i}.")).ToList();
        corpus.Add(new CorpusDocument("single", "t", "One sentence alone has nothing left to be its passage."));
        corpus.Add(new CorpusDocument("short", "t", "Yes. No. Maybe so."));
        var pairs = EncoderTrainingSet.InverseClozePairs(corpus, seed: 3);

        Assert.Equal(300, pairs.Count); // the one-sentence passage and the one of too-short sentences give none
        int kept = 0;
        foreach (var p in pairs)
        {
            Assert.NotNull(p.Source);
            Assert.Contains(p.Question, p.Source);
            Assert.EndsWith(".", p.Question);
            if (p.Positive == p.Source) { kept++; continue; }
            Assert.DoesNotContain(p.Question, p.Positive);
            Assert.Equal(p.Source.Length - p.Question.Length - 1, p.Positive.Length); // the sentence and one space gone
        }
        Assert.InRange(kept, 10, 60); // one in ten keeps its sentence
        var drawn = pairs.CountBy(p => p.Question.StartsWith("Passage") ? 1 : p.Question.StartsWith("Its") ? 2 : 3).ToDictionary();
        Assert.All(new[] { 1, 2, 3 }, n => Assert.InRange(drawn.GetValueOrDefault(n), 60, 140)); // the sentence is drawn, not always the first
        Assert.Equal(pairs.Select(p => p.Question), EncoderTrainingSet.InverseClozePairs(corpus, seed: 3).Select(p => p.Question)); // seeded
    }

    [Fact]
    public async Task InverseClozePairsComeFromTheWholeCorpusHeldOutArticlesIncluded()
    {
        var dataset = Dataset() with
        {
            Corpus = [.. Dataset().Corpus, new CorpusDocument("2-1", "Oslo", "Oslo is the capital of Norway. It lies at the head of the Oslofjord.")],
        };
        var set = await EncoderTrainingSet.BuildAsync(dataset, holdoutArticles: 1, HardNegativeSource.None, inverseCloze: true);
        Assert.Equal(1, set.InverseCloze); // the only passage of two sentences, in the held-out article
        Assert.Equal(4, set.Pairs.Count);
        var cloze = set.Pairs.Single(p => p.Source is not null);
        Assert.Equal("Oslo is the capital of Norway. It lies at the head of the Oslofjord.", cloze.Passage);
        Assert.Equal(["q4"], set.HeldOut.Select(q => q.Id)); // its questions stay held out
    }

    [Fact]
    public async Task HoldingOutEveryArticleIsRefusedWithTheCount()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => EncoderTrainingSet.BuildAsync(Dataset(), holdoutArticles: 3, HardNegativeSource.None));
        Assert.Contains("3 articles", e.Message);
    }

    /// <summary>The question's words are in every Paris passage; one of them names the answer and one does not.</summary>
    static EvalDataset AnswerBearingNeighbour() => new("neighbour",
        [
            new("0-0", "Paris", "Paris museum most visited: the Louvre, with nine million visitors a year."),
            new("0-1", "Paris", "Which Paris museum is most visited? Visitors say the Louvre."),
            new("0-2", "Paris", "Which Paris museum is the most visited by schools? The Orsay museum, for its trains."),
            new("1-0", "Rome", "The Colosseum in Rome held gladiator fights."),
        ],
        [new("q1", "Which Paris museum is the most visited?", ["the Louvre"], ["0-0"])],
        []);

    [Theory]
    [InlineData(HardNegativeSource.Bm25)]
    [InlineData(HardNegativeSource.Encoder)]
    public async Task AHardNegativeIsTheBestRankedPassageThatIsNotGoldAndHoldsNoAnswer(HardNegativeSource source)
    {
        using var encoder = new HashingEncoder(256);
        var set = await EncoderTrainingSet.BuildAsync(AnswerBearingNeighbour(), holdoutArticles: 0, source, (encoder, encoder));
        var pair = Assert.Single(set.Pairs);
        // 0-1 shares the most words with the question but says "the Louvre": it answers it, so it is no negative
        Assert.Equal("Which Paris museum is the most visited by schools? The Orsay museum, for its trains.", pair.HardNegative);
    }

    [Fact]
    public async Task TheEncodersRankingIsTheOneHeldOutScoringUses()
    {
        using var encoder = new HashingEncoder(256);
        var data = AnswerBearingNeighbour();
        await using var index = await DenseCorpusIndex.BuildAsync(encoder, data.Corpus);
        var ranked = index.Search(encoder, ["Which Paris museum is the most visited?"], 2);
        Assert.Equal(["0-1", "0-2"], ranked[0]);
        var scores = await DenseRetrievalEvaluation.EvaluateAsync(encoder, encoder, data.Corpus, data.Questions);
        Assert.Equal(1.0, scores.RecallAt20);
        Assert.Equal(1.0 / 3, scores.MrrAt10, 6); // gold 0-0 ranks third behind 0-1 and 0-2
    }

    [Fact]
    public async Task MiningWithTheEncoderNeedsOne()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => EncoderTrainingSet.BuildAsync(Dataset(), 0, HardNegativeSource.Encoder));
        Assert.Contains("base encoder", e.Message);
    }
}
