using Rag.Neural;
using Rag.Neural.Training;
using Rag.Retriever;
using Rag.Retriever.Lexical;

namespace Rag.Eval.Training;

/// <summary>Where each training question's hard negative comes from.</summary>
public enum HardNegativeSource
{
    /// <summary>In-batch negatives only.</summary>
    None,
    /// <summary>The best BM25 passage that is not gold (DPR's choice).</summary>
    Bm25,
    /// <summary>The base encoder's own best passage that is not gold (ANCE's idea, mined once before training): the passages the encoder confuses today.</summary>
    Encoder,
}

/// <summary>
/// An eval dataset cut for fine-tuning a dual encoder: questions of the first articles become training pairs
/// (question, gold passage, and optionally a hard negative); questions of the last <c>holdoutArticles</c> articles are
/// kept apart to measure retrieval before and after against the whole corpus. An article is a corpus title (SQuAD's
/// article; each document its own for untitled sets). A hard negative is the best-ranked passage that is neither
/// gold nor contains one of the question's answers, as DPR filters them: a passage that holds the answer is a
/// false negative that would teach the encoder to push away a right passage.
/// </summary>
public sealed record EncoderTrainingSet(
    IReadOnlyList<TrainingPair> Pairs,
    IReadOnlyList<EvalQuestion> HeldOut,
    IReadOnlyList<CorpusDocument> Corpus,
    int TrainArticles,
    int HeldOutArticles)
{
    /// <summary>How many ranked passages are looked through for a hard negative.</summary>
    const int NegativeCandidates = 20;

    /// <param name="miner">The base encoders, needed for <see cref="HardNegativeSource.Encoder"/>.</param>
    public static async Task<EncoderTrainingSet> BuildAsync(EvalDataset dataset, int holdoutArticles, HardNegativeSource negatives,
        (ITextEncoderModel Question, ITextEncoderModel Context)? miner = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (holdoutArticles < 0) throw new ArgumentException("--holdout-articles cannot be negative");
        if (negatives == HardNegativeSource.Encoder && miner is null) throw new ArgumentException("mining hard negatives with the encoder needs the base encoder");
        var byId = dataset.Corpus.ToDictionary(d => d.Id, StringComparer.Ordinal);
        var articles = dataset.Corpus.Select(ArticleOf).Distinct(StringComparer.Ordinal).ToList();
        if (holdoutArticles >= articles.Count)
            throw new ArgumentException($"--holdout-articles {holdoutArticles} leaves nothing to train on: the dataset has {articles.Count} articles");
        var heldOutArticles = new HashSet<string>(articles.Skip(articles.Count - holdoutArticles), StringComparer.Ordinal);

        var training = new List<(EvalQuestion Question, List<string> Gold)>();
        var heldOut = new List<EvalQuestion>();
        foreach (var q in dataset.Questions)
        {
            var gold = q.GoldDocumentIds.Where(byId.ContainsKey).ToList();
            if (gold.Count == 0) continue; // nothing to train towards or to score against
            if (heldOutArticles.Contains(ArticleOf(byId[gold[0]]))) heldOut.Add(q);
            else training.Add((q, gold));
        }

        var questions = training.Select(t => t.Question.Question).ToList();
        var ranked = negatives switch
        {
            HardNegativeSource.None => null,
            HardNegativeSource.Bm25 => await RankByBm25Async(dataset.Corpus, questions, ct),
            HardNegativeSource.Encoder => await RankByEncoderAsync(miner!.Value, dataset.Corpus, questions, ct),
            _ => throw new ArgumentOutOfRangeException(nameof(negatives)),
        };
        var pairs = new List<TrainingPair>(training.Count);
        for (int i = 0; i < training.Count; i++)
        {
            var (q, gold) = training[i];
            var negative = ranked?[i].FirstOrDefault(id => !gold.Contains(id) && !ContainsAnswer(byId[id].Text, q.Answers));
            pairs.Add(new TrainingPair(q.Question, byId[gold[0]].Text, negative is null ? null : byId[negative].Text));
        }
        return new EncoderTrainingSet(pairs, heldOut, dataset.Corpus, articles.Count - holdoutArticles, holdoutArticles);
    }

    static bool ContainsAnswer(string passage, IReadOnlyList<string> answers) =>
        answers.Any(a => !string.IsNullOrWhiteSpace(a) && passage.Contains(a.Trim(), StringComparison.OrdinalIgnoreCase));

    static async Task<IReadOnlyList<IReadOnlyList<string>>> RankByBm25Async(IReadOnlyList<CorpusDocument> corpus, IReadOnlyList<string> questions, CancellationToken ct)
    {
        const string Tenant = "training";
        await using var bm25 = Bm25Index.CreateInMemory();
        foreach (var d in corpus)
        {
            ct.ThrowIfCancellationRequested();
            await bm25.IndexDocumentAsync(Tenant, d.Id, [], [new LexicalRecord(d.Id, d.Text)], ct);
        }
        return questions.Select(q => (IReadOnlyList<string>)bm25.Search(q, new SearchFilter(Tenant), NegativeCandidates).Select(h => h.DocumentId).ToList()).ToList();
    }

    static async Task<IReadOnlyList<IReadOnlyList<string>>> RankByEncoderAsync((ITextEncoderModel Question, ITextEncoderModel Context) encoders,
        IReadOnlyList<CorpusDocument> corpus, IReadOnlyList<string> questions, CancellationToken ct)
    {
        await using var index = await DenseCorpusIndex.BuildAsync(encoders.Context, corpus, ct);
        return index.Search(encoders.Question, questions, NegativeCandidates, ct);
    }

    static string ArticleOf(CorpusDocument d) => string.IsNullOrEmpty(d.Title) ? d.Id : d.Title;
}

/// <summary>Dense retrieval quality of one question/context encoder pair.</summary>
public sealed record DenseRetrievalScores(int Questions, double RecallAt5, double RecallAt20, double MrrAt10);

/// <summary>Brute-force dense retrieval of held-out questions over the whole corpus.</summary>
public static class DenseRetrievalEvaluation
{
    public static async Task<DenseRetrievalScores> EvaluateAsync(ITextEncoderModel question, ITextEncoderModel context, IReadOnlyList<CorpusDocument> corpus,
        IReadOnlyList<EvalQuestion> questions, CancellationToken ct = default)
    {
        if (questions.Count == 0) throw new ArgumentException("no held-out questions to evaluate on (use --holdout-articles)");
        await using var index = await DenseCorpusIndex.BuildAsync(context, corpus, ct);
        var ranked = index.Search(question, questions.Select(q => q.Question).ToList(), 20, ct);
        double r5 = 0, r20 = 0, mrr = 0;
        for (int i = 0; i < questions.Count; i++)
        {
            var gold = questions[i].GoldDocumentIds;
            r5 += RetrievalMetrics.RecallAt(ranked[i], gold, 5);
            r20 += RetrievalMetrics.RecallAt(ranked[i], gold, 20);
            mrr += RetrievalMetrics.ReciprocalRank(ranked[i], gold, 10);
        }
        int n = questions.Count;
        return new DenseRetrievalScores(n, r5 / n, r20 / n, mrr / n);
    }
}
