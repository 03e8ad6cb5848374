using Rag.Neural;
using Rag.Neural.Training;
using Rag.Retriever;
using Rag.Retriever.Lexical;

namespace Rag.Eval.Training;

/// <summary>
/// An eval dataset cut for fine-tuning a dual encoder: questions of the first articles become training pairs
/// (question, gold passage, and optionally the best BM25 passage that is not gold as a hard negative, as DPR does);
/// questions of the last <c>holdoutArticles</c> articles are kept apart to measure retrieval before and after against the
/// whole corpus. An article is a corpus title (SQuAD's article; each document its own for untitled sets).
/// </summary>
public sealed record EncoderTrainingSet(
    IReadOnlyList<TrainingPair> Pairs,
    IReadOnlyList<EvalQuestion> HeldOut,
    IReadOnlyList<CorpusDocument> Corpus,
    int TrainArticles,
    int HeldOutArticles)
{
    public static async Task<EncoderTrainingSet> BuildAsync(EvalDataset dataset, int holdoutArticles, bool hardNegatives, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (holdoutArticles < 0) throw new ArgumentException("--holdout-articles cannot be negative");
        var byId = dataset.Corpus.ToDictionary(d => d.Id, StringComparer.Ordinal);
        var articles = dataset.Corpus.Select(ArticleOf).Distinct(StringComparer.Ordinal).ToList();
        if (holdoutArticles >= articles.Count)
            throw new ArgumentException($"--holdout-articles {holdoutArticles} leaves nothing to train on: the dataset has {articles.Count} articles");
        var heldOutArticles = new HashSet<string>(articles.Skip(articles.Count - holdoutArticles), StringComparer.Ordinal);

        Bm25Index? bm25 = null;
        const string Tenant = "training";
        if (hardNegatives)
        {
            bm25 = Bm25Index.CreateInMemory();
            foreach (var d in dataset.Corpus)
            {
                ct.ThrowIfCancellationRequested();
                await bm25.IndexDocumentAsync(Tenant, d.Id, [], [new LexicalRecord(d.Id, d.Text)], ct);
            }
        }
        try
        {
            var pairs = new List<TrainingPair>();
            var heldOut = new List<EvalQuestion>();
            foreach (var q in dataset.Questions)
            {
                ct.ThrowIfCancellationRequested();
                var gold = q.GoldDocumentIds.Where(byId.ContainsKey).ToList();
                if (gold.Count == 0) continue; // nothing to train towards or to score against
                if (heldOutArticles.Contains(ArticleOf(byId[gold[0]]))) { heldOut.Add(q); continue; }
                string? negative = null;
                if (bm25 is not null)
                {
                    var hit = bm25.Search(q.Question, new SearchFilter(Tenant), 10).FirstOrDefault(h => !gold.Contains(h.DocumentId));
                    negative = hit is null ? null : byId[hit.DocumentId].Text;
                }
                pairs.Add(new TrainingPair(q.Question, byId[gold[0]].Text, negative));
            }
            return new EncoderTrainingSet(pairs, heldOut, dataset.Corpus, articles.Count - holdoutArticles, holdoutArticles);
        }
        finally { if (bm25 is not null) await bm25.DisposeAsync(); }
    }

    static string ArticleOf(CorpusDocument d) => string.IsNullOrEmpty(d.Title) ? d.Id : d.Title;
}

/// <summary>Dense retrieval quality of one question/context encoder pair.</summary>
public sealed record DenseRetrievalScores(int Questions, double RecallAt5, double RecallAt20, double MrrAt10);

/// <summary>Brute-force dense retrieval over a corpus (every passage scored), with the encoders' prompts, as the service embeds.</summary>
public static class DenseRetrievalEvaluation
{
    public static DenseRetrievalScores Evaluate(ITextEncoderModel question, ITextEncoderModel context, IReadOnlyList<CorpusDocument> corpus,
        IReadOnlyList<EvalQuestion> questions, IProgress<(int Done, int Total)>? progress = null, CancellationToken ct = default)
    {
        if (questions.Count == 0) throw new ArgumentException("no held-out questions to evaluate on (use --holdout-articles)");
        int total = corpus.Count + questions.Count, done = 0;
        var passages = new List<float[]>(corpus.Count);
        foreach (var chunk in corpus.Chunk(64))
        {
            passages.AddRange(context.Encode(chunk.Select(d => context.Prompts.Document + d.Text).ToList(), ct));
            progress?.Report((done += chunk.Length, total));
        }
        double r5 = 0, r20 = 0, mrr = 0;
        foreach (var chunk in questions.Chunk(64))
        {
            var vectors = question.Encode(chunk.Select(q => question.Prompts.Query + q.Question).ToList(), ct);
            for (int i = 0; i < chunk.Length; i++)
            {
                var v = vectors[i];
                var ranked = Enumerable.Range(0, corpus.Count)
                    .Select(j => (Id: corpus[j].Id, Score: System.Numerics.Tensors.TensorPrimitives.Dot(v, passages[j])))
                    .OrderByDescending(x => x.Score).Take(20).Select(x => x.Id).ToList();
                var gold = chunk[i].GoldDocumentIds;
                r5 += RetrievalMetrics.RecallAt(ranked, gold.ToList(), 5);
                r20 += RetrievalMetrics.RecallAt(ranked, gold.ToList(), 20);
                mrr += RetrievalMetrics.ReciprocalRank(ranked, gold.ToList(), 10);
            }
            progress?.Report((done += chunk.Length, total));
        }
        int n = questions.Count;
        return new DenseRetrievalScores(n, r5 / n, r20 / n, mrr / n);
    }
}
