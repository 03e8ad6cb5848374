using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Rag.Eval;
using Rag.Ingest;
using Rag.Retriever;
using Rag.Retriever.Hybrid;
using Rag.Retriever.Lexical;
using Rag.Retriever.Vectors;
using Rag.Storage;
using Rag.Storage.Sqlite;

// Usage: dotnet run -c Release --project bench/Eval.Bench -- [--squad PATH] [--limit N] [--concurrency N] [--k 1,5,20,100] [--data DIR]
// Runs the eval harness exactly as `rag eval run --mode bm25` does (SQLite store, ingest pipeline, BM25 index,
// the chat's retriever), over all SQuAD v1.1 dev questions by default, and prints questions per second.
// With --data DIR the store and index are kept there, so a second run measures questions only (corpus reused,
// a new results folder each time so no answer is reused).
var squad = Arg("--squad") ?? FindSquad();
if (squad is null)
{
    Console.Error.WriteLine("SQuAD dev-v1.1.json not found: pass --squad PATH, or set RAG_SHARED_DATA.");
    return 1;
}
var limit = Arg("--limit") is { } l ? int.Parse(l, CultureInfo.InvariantCulture) : (int?)null;
var concurrency = Arg("--concurrency") is { } c ? int.Parse(c, CultureInfo.InvariantCulture) : Environment.ProcessorCount;
int[] ks = Arg("--k") is { } k ? [.. k.Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture))] : [1, 5, 20, 100];
var keep = Arg("--data");
var dataDir = keep ?? Path.Combine(Path.GetTempPath(), "rag-eval-bench-" + Guid.NewGuid().ToString("N"));
var evalDir = Path.Combine(Path.GetTempPath(), "rag-eval-bench-runs-" + Guid.NewGuid().ToString("N"));

var store = await SqliteRagStore.OpenAsync(dataDir);
var lexical = await Bm25Index.OpenAsync(Path.Combine(dataDir, "bm25"));
var vectors = new EmbeddedVectorIndex(null);
await using var services = new ServiceCollection()
    .AddSingleton<IRagStore>(store)
    .AddSingleton<ILexicalIndex>(lexical)
    .AddSingleton<IVectorIndex>(vectors)
    .AddSingleton<IRetriever>(new HybridRetriever(null, vectors, lexical, store.Chunks, store.Documents))
    .AddRagIngest(o => o.RunWorker = false)
    .AddRagEval(o => o.OutputDirectory = evalDir)
    .BuildServiceProvider();

Console.WriteLine($"SQuAD dev {squad}; {Environment.ProcessorCount} cores, concurrency {concurrency}, k {string.Join(",", ks)}");
var lastPhase = (EvalPhase?)null;
var lastTenth = -1;
var progress = new ConsoleProgress(p =>
{
    var tenth = (int)(p.Fraction * 10);
    if (p.Phase == lastPhase && tenth == lastTenth) return;
    (lastPhase, lastTenth) = (p.Phase, tenth);
    Console.WriteLine($"  {p.Message}");
});
var clock = Stopwatch.StartNew();
var result = await services.GetRequiredService<EvalRunner>().RunAsync(new EvalRunOptions
{
    DatasetSpec = "squad:" + squad,
    Limit = limit,
    Ks = ks,
    Mode = RetrievalMode.Bm25,
    Concurrency = concurrency,
    OutputDirectory = evalDir,
}, progress);
var total = clock.Elapsed.TotalSeconds;

Console.WriteLine();
Console.Write(EvalText.Summary(result));
Console.WriteLine();
Console.WriteLine($"corpus: {result.CorpusSize} documents, ingest {result.IngestSeconds:F1} s");
Console.WriteLine($"questions: {result.Questions.Count} in {result.QuestionSeconds:F1} s = {result.Questions.Count / result.QuestionSeconds:F0} questions per second");
Console.WriteLine($"total: {total:F1} s (load, ingest, questions, reports)");

// References in the same process, same questions, concurrency and k: the retriever alone (BM25, then chunk
// texts and titles from the store) and the BM25 index alone. The ratios say where the harness's time goes.
var questions = (await DatasetLoader.LoadAsync("squad:" + squad)).Take(limit).Questions;
var retriever = services.GetRequiredService<IRetriever>();
var filter = new SearchFilter(result.TenantId);
var parallel = new ParallelOptions { MaxDegreeOfParallelism = concurrency };
var retrieverClock = Stopwatch.StartNew();
await Parallel.ForEachAsync(questions, parallel, async (q, ct) =>
    await retriever.RetrieveAsync(new RetrievalRequest(q.Question, filter, ks.Max(), RetrievalMode.Bm25), ct));
var retrieverSeconds = retrieverClock.Elapsed.TotalSeconds;
var indexClock = Stopwatch.StartNew();
Parallel.ForEach(questions, parallel, q => lexical.Search(q.Question, filter, HybridRetriever.CandidatesFor(ks.Max())));
var indexSeconds = indexClock.Elapsed.TotalSeconds;
Console.WriteLine($"retriever alone: {questions.Count / retrieverSeconds:F0} questions per second; BM25 index alone: {questions.Count / indexSeconds:F0} per second");
Console.WriteLine($"harness / retriever time: {result.QuestionSeconds / retrieverSeconds:F2}x; retriever / index time: {retrieverSeconds / indexSeconds:F1}x");

await lexical.DisposeAsync();
await vectors.DisposeAsync();
await store.DisposeAsync();
Directory.Delete(evalDir, recursive: true);
if (keep is null) Directory.Delete(dataDir, recursive: true);
return 0;

string? Arg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

static string? FindSquad()
{
    var roots = new[] { Environment.GetEnvironmentVariable("RAG_SHARED_DATA"), "../shared/data", "../../shared/data", "/work/shared/data" };
    return roots.Where(r => !string.IsNullOrEmpty(r)).Select(r => Path.Combine(r!, "squad-v1.1", "dev-v1.1.json")).FirstOrDefault(File.Exists);
}

/// <summary>Prints on the reporting thread, in order.</summary>
sealed class ConsoleProgress(Action<EvalProgress> print) : IProgress<EvalProgress>
{
    readonly object _gate = new();
    public void Report(EvalProgress value) { lock (_gate) print(value); }
}
