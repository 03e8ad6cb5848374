using System.Diagnostics;
using Rag.Neural;
using Rag.Retriever;
using Rag.Retriever.Encoders;
using Rag.Retriever.Hybrid;
using Rag.Retriever.Lexical;
using Rag.Retriever.Vectors;

/// <summary>
/// Dense and hybrid retrieval on SQuAD dev with a real encoder (--dense builtin:NAME or a model folder): every paragraph
/// and question embedded by our engine (prompts as the service applies them), exact kNN, BM25 (Porter), and each
/// fusion method over the same candidate lists (max(4k, 50) = 80 per side for k = 20, as HybridRetriever asks).
/// Prints Recall@1/5/20 and MRR@10 per method; the vectors are cached under bench/out so a re-run only fuses.
/// </summary>
static class DenseFusion
{
    public static async Task RunAsync(string encoderSpec, List<string> paragraphs, List<(string Question, int Paragraph)> questions)
    {
        var load = Stopwatch.StartNew();
        using var model = NeuralModels.LoadEncoder(encoderSpec);
        Console.WriteLine($"encoder {encoderSpec}: {model.Dimension} dims, loaded in {load.Elapsed.TotalSeconds:F1} s");
        using var contexts = new DprEmbeddingGenerator(model, encoderSpec, batchSize: 64, ownsModel: false, input: EmbeddingInput.Document);
        using var queries = new DprEmbeddingGenerator(model, encoderSpec, batchSize: 64, ownsModel: false, input: EmbeddingInput.Query);
        var cache = Path.Combine("bench", "out", "vectors-" + string.Concat(encoderSpec.Select(c => char.IsLetterOrDigit(c) ? c : '_')));
        var (pv, pSeconds) = await EmbedCachedAsync(contexts, paragraphs, cache + "-paragraphs.bin");
        var (qv, qSeconds) = await EmbedCachedAsync(queries, [.. questions.Select(q => q.Question)], cache + "-questions.bin");
        if (pSeconds > 0) Console.WriteLine($"embedded {paragraphs.Count} paragraphs in {pSeconds:F1} s ({paragraphs.Count / pSeconds:F1} passages/s)");
        if (qSeconds > 0) Console.WriteLine($"embedded {questions.Count} questions in {qSeconds:F1} s ({questions.Count / qSeconds:F1} questions/s)");

        using var vectors = new EmbeddedVectorIndex(null, VectorDistance.Dot);
        await vectors.EnsureReadyAsync(model.Dimension);
        await vectors.UpsertAsync([.. pv.Select((v, i) => new VectorRecord($"p{i}:0", "squad", $"p{i}", v, []))]);
        using var bm25 = Bm25Index.CreateInMemory();
        for (var i = 0; i < paragraphs.Count; i++)
            await bm25.IndexDocumentAsync("squad", $"p{i}", [], [new LexicalRecord($"p{i}:0", paragraphs[i])]);

        const int K = 20;
        int candidates = HybridRetriever.CandidatesFor(K);
        var methods = new (string Name, Func<IReadOnlyList<ScoredChunk>, IReadOnlyList<ScoredChunk>, IReadOnlyList<string>> Rank)[]
        {
            ("bm25", (d, l) => [.. l.Select(c => c.DocumentId)]),
            ("dense", (d, l) => [.. d.Select(c => c.DocumentId)]),
            ("hybrid rrf k=60", (d, l) => [.. ReciprocalRankFusion.Fuse(d, l).Select(f => f.DocumentId)]),
            ("hybrid min-max w=0.5", (d, l) => [.. ScoreFusion.MinMax(d, l, 0.5f).Select(f => f.DocumentId)]),
            ("hybrid min-max w=0.3", (d, l) => [.. ScoreFusion.MinMax(d, l, 0.3f).Select(f => f.DocumentId)]),
            ("hybrid min-max w=0.7", (d, l) => [.. ScoreFusion.MinMax(d, l, 0.7f).Select(f => f.DocumentId)]),
        };
        var stats = methods.Select(_ => new double[4]).ToArray(); // recall@1, @5, @20, MRR@10
        var filter = new SearchFilter("squad");
        for (int qi = 0; qi < questions.Count; qi++)
        {
            var dense = vectors.Search(qv[qi], filter, candidates);
            var lexical = bm25.Search(questions[qi].Question, filter, candidates);
            var gold = $"p{questions[qi].Paragraph}";
            for (int m = 0; m < methods.Length; m++)
            {
                var rank = methods[m].Rank(dense, lexical).Take(K).ToList().IndexOf(gold);
                if (rank == 0) stats[m][0]++;
                if (rank is >= 0 and < 5) stats[m][1]++;
                if (rank >= 0) stats[m][2]++;
                if (rank is >= 0 and < 10) stats[m][3] += 1.0 / (rank + 1);
            }
        }
        double n = questions.Count;
        foreach (var (m, i) in methods.Select((m, i) => (m, i)))
            Console.WriteLine($"{encoderSpec} {m.Name,-22} recall@1 {stats[i][0] / n:F3}  @5 {stats[i][1] / n:F3}  @20 {stats[i][2] / n:F3}  MRR@10 {stats[i][3] / n:F3}");
    }

    static async Task<(float[][] Vectors, double Seconds)> EmbedCachedAsync(DprEmbeddingGenerator generator, List<string> texts, string path)
    {
        if (File.Exists(path))
        {
            using var r = new BinaryReader(File.OpenRead(path));
            int count = r.ReadInt32(), dim = r.ReadInt32();
            if (count == texts.Count && dim == generator.Dimension)
                return ([.. Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, dim).Select(_ => r.ReadSingle()).ToArray())], 0);
        }
        var clock = Stopwatch.StartNew();
        var embeddings = await generator.GenerateAsync(texts);
        var result = embeddings.Select(e => e.Vector.ToArray()).ToArray();
        var seconds = clock.Elapsed.TotalSeconds;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using (var w = new BinaryWriter(File.Create(path)))
        {
            w.Write(result.Length);
            w.Write(generator.Dimension);
            foreach (var v in result) foreach (var x in v) w.Write(x);
        }
        return (result, seconds);
    }
}
