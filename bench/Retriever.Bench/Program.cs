using System.Diagnostics;
using System.Text.Json;
using Rag.Retriever;
using Rag.Retriever.Lexical;
using Rag.Retriever.Vectors;

// Usage: dotnet run --project bench/Retriever.Bench -c Release -- [path/to/dev-v1.1.json] [--postgres CONNECTION]
// Prints recall@5/@20 and queries per second of BM25 for each analyser variant over all 10,570
// SQuAD dev questions, and the exact vector search against a scalar loop on the same data (a ratio).
// With --postgres, also server mode's BM25 (PostgresBm25Index, in a throwaway schema): its recall and
// its median query latency against the embedded index's, measured in the same run.
// With --dense ENCODER (builtin:arctic-embed-xs, builtin:all-MiniLM-L6-v2 or a model folder): dense retrieval and each
// fusion method with that encoder instead (DenseFusion.cs).
string? Option(string name) => Array.IndexOf(args, name) is var at and >= 0 && at + 1 < args.Length ? args[at + 1] : null;
var postgres = Option("--postgres");
var denseEncoder = Option("--dense");
var path = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (i == 0 || !args[i - 1].StartsWith("--", StringComparison.Ordinal))).FirstOrDefault() ?? FindSquad();
if (path is null)
{
    Console.Error.WriteLine("SQuAD dev-v1.1.json not found: pass its path, or set RAG_SHARED_DATA.");
    return 1;
}
var (paragraphs, questions) = LoadSquad(path);
Console.WriteLine($"SQuAD dev: {paragraphs.Count} paragraphs, {questions.Count} questions, {Environment.ProcessorCount} cores");
if (denseEncoder is not null)
{
    await DenseFusion.RunAsync(denseEncoder, paragraphs, questions);
    return 0;
}

var variants = new (string Name, TextAnalyzer Analyzer)[]
{
    ("no stemmer, question stop words", new TextAnalyzer(EnglishStemmer.None)),
    ("S-stemmer, question stop words", new TextAnalyzer(EnglishStemmer.SStemmer)),
    ("Porter, question stop words", new TextAnalyzer(EnglishStemmer.Porter)),
    ("S-stemmer, Lucene stop words", new TextAnalyzer(EnglishStemmer.SStemmer, TextAnalyzer.LuceneStopWords, "lucene")),
    ("Porter, Lucene stop words", new TextAnalyzer(EnglishStemmer.Porter, TextAnalyzer.LuceneStopWords, "lucene")),
};
foreach (var (name, analyzer) in variants)
{
    using var index = Bm25Index.CreateInMemory(new Bm25Options { Analyzer = analyzer });
    var build = Stopwatch.StartNew();
    for (var i = 0; i < paragraphs.Count; i++)
        await index.IndexDocumentAsync("squad", $"p{i}", [], [new LexicalRecord($"p{i}:0", paragraphs[i])]);
    build.Stop();
    int top1 = 0, top5 = 0, top20 = 0;
    var clock = Stopwatch.StartNew();
    Parallel.ForEach(questions, q =>
    {
        var hits = index.Search(q.Question, new SearchFilter("squad"), 20);
        var rank = hits.Select(h => h.DocumentId).ToList().IndexOf($"p{q.Paragraph}");
        if (rank == 0) Interlocked.Increment(ref top1);
        if (rank is >= 0 and < 5) Interlocked.Increment(ref top5);
        if (rank >= 0) Interlocked.Increment(ref top20);
    });
    clock.Stop();
    double n = questions.Count;
    Console.WriteLine($"BM25 {name,-34} recall@1 {top1 / n:F3}  @5 {top5 / n:F3}  @20 {top20 / n:F3}  " +
                      $"index {build.Elapsed.TotalSeconds:F2} s, search {clock.Elapsed.TotalSeconds:F2} s ({n / clock.Elapsed.TotalSeconds:F0} q/s)");
}

if (postgres is not null) await ServerModeBm25.RunAsync(postgres, paragraphs, questions);

// Vector kernel: the index's SIMD scan against a scalar dot-product loop over the same matrix.
const int Dim = 768, Rows = 20_000, Queries = 200;
var rng = new Random(7);
float[] RandomVector() => [.. Enumerable.Range(0, Dim).Select(_ => (float)rng.NextDouble() - 0.5f)];
var vectors = Enumerable.Range(0, Rows).Select(_ => RandomVector()).ToArray();
var queries = Enumerable.Range(0, Queries).Select(_ => RandomVector()).ToArray();
using var vi = new EmbeddedVectorIndex(null, VectorDistance.Dot);
await vi.EnsureReadyAsync(Dim);
await vi.UpsertAsync([.. vectors.Select((v, i) => new VectorRecord($"d{i}:0", "t", $"d{i}", v, []))]);
var simd = Stopwatch.StartNew();
foreach (var q in queries) vi.Search(q, new SearchFilter("t"), 10);
simd.Stop();
var scalar = Stopwatch.StartNew();
foreach (var q in queries)
{
    var best = new PriorityQueue<int, float>();
    for (var r = 0; r < Rows; r++)
    {
        float s = 0;
        var v = vectors[r];
        for (var j = 0; j < Dim; j++) s += v[j] * q[j];
        best.Enqueue(r, s);
        if (best.Count > 10) best.Dequeue();
    }
}
scalar.Stop();
Console.WriteLine($"Vectors {Rows} x {Dim}: embedded index {simd.Elapsed.TotalMilliseconds / Queries:F2} ms/query, " +
                  $"scalar loop {scalar.Elapsed.TotalMilliseconds / Queries:F2} ms/query, ratio {scalar.Elapsed / simd.Elapsed:F1}x");
return 0;

static string? FindSquad()
{
    var roots = new[] { Environment.GetEnvironmentVariable("RAG_SHARED_DATA"), "../shared/data", "../../shared/data", "/work/shared/data" };
    return roots.Where(r => !string.IsNullOrEmpty(r)).Select(r => Path.Combine(r!, "squad-v1.1", "dev-v1.1.json")).FirstOrDefault(File.Exists);
}

static (List<string> Paragraphs, List<(string Question, int Paragraph)> Questions) LoadSquad(string path)
{
    using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
    var paragraphs = new List<string>();
    var questions = new List<(string, int)>();
    foreach (var article in doc.RootElement.GetProperty("data").EnumerateArray())
        foreach (var p in article.GetProperty("paragraphs").EnumerateArray())
        {
            paragraphs.Add(p.GetProperty("context").GetString()!);
            foreach (var qa in p.GetProperty("qas").EnumerateArray())
                questions.Add((qa.GetProperty("question").GetString()!, paragraphs.Count - 1));
        }
    return (paragraphs, questions);
}
