using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Rag.Tokenizers;
using Rag.Tokenizers.Normalization;

// Encodes the 2,067 SQuAD v1.1 dev paragraphs on one thread and prints MB/s (UTF-8 bytes of input per second); then
// times UnicodeNfc.Normalize against a plain copy of the same texts.
// Both wall-clock and this thread's CPU time are printed: on a shared, overloaded machine the wall clock mostly
// measures waiting for a core, while thread CPU time (CLOCK_THREAD_CPUTIME_ID) measures the work.
// Usage: dotnet run -c Release --project bench/Tokenizers.Bench [-- <shared/data folder>]
var data = args.Length > 0 ? args[0] : FindSharedData();
if (data is null)
{
    Console.Error.WriteLine("shared/data not found: pass its folder as the first argument or set RAG_SHARED_DATA.");
    return 2;
}

// Best of many short runs: on a machine shared with other jobs the minimum is the least disturbed run.
const int Runs = 15;

var squadPath = Path.Combine(data, "squad-v1.1", "dev-v1.1.json");
using var squad = JsonDocument.Parse(File.ReadAllBytes(squadPath));
var paragraphs = squad.RootElement.GetProperty("data").EnumerateArray()
    .SelectMany(a => a.GetProperty("paragraphs").EnumerateArray())
    .Select(p => p.GetProperty("context").GetString()!)
    .ToArray();
long bytes = paragraphs.Sum(p => (long)Encoding.UTF8.GetByteCount(p));
Console.WriteLine($"SQuAD v1.1 dev: {paragraphs.Length:N0} paragraphs, {bytes / 1e6:F2} MB of UTF-8");

Measure("BERT WordPiece (bert-base-uncased/vocab.txt)",
    () => WordPieceTokenizer.FromVocabFile(Path.Combine(data, "bert-base-uncased", "vocab.txt")));
Measure("GPT-2 byte-level BPE (encoder.json + vocab.bpe)",
    () => ByteLevelBpeTokenizer.FromVocabAndMerges(Path.Combine(data, "gpt2-bpe", "encoder.json"), Path.Combine(data, "gpt2-bpe", "vocab.bpe")));
Measure("Llama 3 tiktoken BPE (tokenizer.model)",
    () => ByteLevelBpeTokenizer.FromTiktoken(Path.Combine(data, "llama3-tokenizer", "tokenizer.model")));

// NFC (Qwen2's normalizer) against a plain copy of each text, measured in the same run: text already in NFC should
// cost about as little as copying it, since Normalize then only scans it and returns the same string.
MeasureNfc("NFC on the SQuAD paragraphs", paragraphs);
MeasureNfc("NFC on Russian, Greek, Chinese, Korean, Vietnamese (already NFC)",
    Repeat("\u0421\u044A\u0435\u0448\u044C \u0436\u0435 \u0435\u0449\u0451 \u044D\u0442\u0438\u0445 \u043C\u044F\u0433\u043A\u0438\u0445 " +
        "\u0395\u03BB\u03BB\u03B7\u03BD\u03B9\u03BA\u03AC \u4E2D\u6587\u5B57\u7B26 \uD55C\uAD6D\uC5B4 Ti\u1EBFng Vi\u1EC7t. "));
MeasureNfc("NFC on French with decomposed accents (every accent composed)",
    Repeat("Le cafe\u0301 de\u0301ja\u0300 ferme\u0301, l'e\u0301te\u0301 s'ache\u0300ve a\u0300 Orle\u0301ans. "));
return 0;

static string[] Repeat(string sentence) =>
    [.. Enumerable.Range(0, 2000).Select(i => string.Concat(Enumerable.Repeat(sentence, 8)) + i)];

void MeasureNfc(string name, string[] texts)
{
    long chars = texts.Sum(t => (long)t.Length);
    int changed = texts.Count(t => !ReferenceEquals(t, UnicodeNfc.Normalize(t))); // also the warm-up
    long sink = 0;
    double nfc = double.MaxValue, copy = double.MaxValue;
    for (int run = 0; run < Runs * 4; run++)
    {
        double cpu0 = ThreadCpuSeconds();
        foreach (var t in texts) sink += UnicodeNfc.Normalize(t).Length;
        nfc = Math.Min(nfc, ThreadCpuSeconds() - cpu0);
        cpu0 = ThreadCpuSeconds();
        foreach (var t in texts) sink += new string(t.AsSpan()).Length;
        copy = Math.Min(copy, ThreadCpuSeconds() - cpu0);
    }
    Console.WriteLine($"{name}: {texts.Length:N0} texts, {chars / 1e6:F2} M UTF-16 chars, {changed:N0} changed by NFC (checksum {sink % 10})");
    Console.WriteLine($"  best of {Runs * 4} by thread CPU time: Normalize {nfc * 1e9 / chars:F2} ns/char, a plain copy {copy * 1e9 / chars:F2} ns/char: {nfc / copy:F2} x the copy");
}

void Measure(string name, Func<ITokenizer> load)
{
    var sw = Stopwatch.StartNew();
    double cpu0 = ThreadCpuSeconds();
    var tokenizer = load();
    double loadMs = sw.Elapsed.TotalMilliseconds, loadCpuMs = (ThreadCpuSeconds() - cpu0) * 1e3;
    long tokens = 0;
    foreach (var p in paragraphs) tokens += tokenizer.Encode(p).Length; // first pass: warm-up (JIT, BPE cache)
    double bestWall = double.MaxValue, bestCpu = double.MaxValue;
    for (int run = 0; run < Runs; run++)
    {
        sw.Restart();
        cpu0 = ThreadCpuSeconds();
        foreach (var p in paragraphs) tokenizer.Encode(p);
        bestCpu = Math.Min(bestCpu, ThreadCpuSeconds() - cpu0);
        bestWall = Math.Min(bestWall, sw.Elapsed.TotalSeconds);
    }
    Console.WriteLine($"{name}: load {loadMs:F0} ms wall ({loadCpuMs:F0} ms CPU), {tokens:N0} tokens");
    Console.WriteLine($"  best of {Runs}: {bytes / 1e6 / bestCpu:F1} MB/s by thread CPU time ({bestCpu * 1e3:F0} ms), {bytes / 1e6 / bestWall:F1} MB/s by wall clock ({bestWall * 1e3:F0} ms), one thread");
}

static double ThreadCpuSeconds()
{
    if (!OperatingSystem.IsLinux()) return Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;
    clock_gettime(3 /* CLOCK_THREAD_CPUTIME_ID */, out var ts);
    return ts.Seconds + ts.Nanoseconds * 1e-9;
}

[DllImport("libc", EntryPoint = "clock_gettime")]
static extern int clock_gettime(int clock, out Timespec time);

static string? FindSharedData()
{
    var env = Environment.GetEnvironmentVariable("RAG_SHARED_DATA");
    if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        var candidate = Path.Combine(dir.FullName, "shared", "data");
        if (Directory.Exists(candidate)) return candidate;
    }
    for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
    {
        var candidate = Path.Combine(dir.FullName, "shared", "data");
        if (Directory.Exists(candidate)) return candidate;
    }
    return null;
}

[StructLayout(LayoutKind.Sequential)]
struct Timespec
{
    public long Seconds;
    public long Nanoseconds;
}
