using Rag.Generator.Extractive;
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
/// With <c>inverseCloze</c>, every corpus passage also gives one pair without a question (<see cref="InverseClozePairs"/>),
/// held-out articles' passages included: the corpus is the user's, only the held-out questions are unseen.
/// </summary>
public sealed record EncoderTrainingSet(
    IReadOnlyList<TrainingPair> Pairs,
    IReadOnlyList<EvalQuestion> HeldOut,
    IReadOnlyList<CorpusDocument> Corpus,
    int TrainArticles,
    int HeldOutArticles,
    int InverseCloze = 0)
{
    /// <summary>How many ranked passages are looked through for a hard negative.</summary>
    const int NegativeCandidates = 20;
    /// <summary>ORQA keeps the sentence in its passage this often, so the encoder still learns that word overlap counts.</summary>
    const double KeepSentence = 0.1;
    /// <summary>A shorter sentence ("See below.") says too little to stand for a question.</summary>
    const int MinSentenceWords = 4;

    /// <param name="miner">The base encoders, needed for <see cref="HardNegativeSource.Encoder"/>.</param>
    /// <param name="inverseCloze">Adds one inverse-cloze pair per corpus passage that has a sentence to spare.</param>
    public static async Task<EncoderTrainingSet> BuildAsync(EvalDataset dataset, int holdoutArticles, HardNegativeSource negatives,
        (ITextEncoderModel Question, ITextEncoderModel Context)? miner = null, bool inverseCloze = false, int seed = 13, CancellationToken ct = default)
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
        var cloze = inverseCloze ? InverseClozePairs(dataset.Corpus, seed) : [];
        pairs.AddRange(cloze);
        return new EncoderTrainingSet(pairs, heldOut, dataset.Corpus, articles.Count - holdoutArticles, holdoutArticles, cloze.Count);
    }

    /// <summary>
    /// The inverse cloze task (Lee et al. 2019, ORQA): for each passage of two or more sentences, one sentence drawn at
    /// random stands for a question and the passage without it is the positive (with it, one time in ten). It needs no
    /// questions, so the passage tower learns every passage of the corpus, not only those that have questions.
    /// </summary>
    public static List<TrainingPair> InverseClozePairs(IReadOnlyList<CorpusDocument> corpus, int seed)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        var random = new Random(seed);
        var pairs = new List<TrainingPair>();
        foreach (var d in corpus)
        {
            var sentences = TextAnalysis.SplitSentences(d.Text);
            if (sentences.Count < 2) continue; // the rest would be empty
            var candidates = sentences.Where(s => WordCount(d.Text.AsSpan(s.Start, s.Length)) >= MinSentenceWords).ToList();
            if (candidates.Count == 0) continue;
            var pick = candidates[random.Next(candidates.Count)];
            bool keep = random.NextDouble() < KeepSentence;
            var positive = keep ? d.Text : string.Concat(d.Text.AsSpan(0, pick.Start).TrimEnd(), " ", d.Text.AsSpan(pick.End).TrimStart()).Trim();
            pairs.Add(new TrainingPair(d.Text.Substring(pick.Start, pick.Length), positive, Source: d.Text));
        }
        return pairs;
    }

    static int WordCount(ReadOnlySpan<char> text)
    {
        int words = 0;
        bool inWord = false;
        foreach (var c in text)
        {
            bool letter = !char.IsWhiteSpace(c);
            if (letter && !inWord) words++;
            inWord = letter;
        }
        return words;
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
