using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rag.Neural;
using Rag.Neural.Bench;
using Rag.Neural.Models;
using Rag.Neural.Tensors;
using Rag.Testing;

// bench/neural.sh drives three commands:
//   prepare DIR   random BERT-base encoder and GPT-2-small decoder checkpoints plus the shared inputs
//   run DIR       our timings (each GEMM provider), compared with DIR/torch.json written by torch_bench.py
//   memory DIR    peak resident memory while loading and running the ~500 MB GPT-2 checkpoint
//   onnx DIR [--builtin-only|--question-only]  our encoder against ONNX Runtime on the same weights (DIR/bert/model.onnx from export_onnx.py)
// bench/train_step.sh drives train-prepare DIR and train-step DIR (one dual-encoder training step against PyTorch).
// bench/cuda.sh drives cuda-prepare DIR and cuda-run DIR (the CUDA backend against our CPU and PyTorch CUDA, on a GPU machine).
return args switch
{
    ["onnx", var dir] => OnnxComparison(dir, bertBase: true),
    ["onnx", var dir, "--builtin-only"] => OnnxComparison(dir, bertBase: false),
    ["onnx", var dir, "--question-only"] => OnnxComparison(dir, bertBase: false, questionOnly: true),
    ["prepare", var dir] => Prepare(dir),
    ["run", var dir] => Run(dir),
    ["memory", var dir] => Memory(dir),
    ["gemm"] => GemmSpeed(),
    ["gemm", "--question-only"] => QuestionShapeGemm(),
    ["profile"] => Profile(null),
    ["profile", var dir] => Profile(dir),
    ["train-prepare", var dir] => TrainingStepBench.Prepare(dir),
    ["train-step", var dir] => TrainingStepBench.Run(dir),
    ["cuda-prepare", var dir] => CudaBench.Prepare(dir),
    ["cuda-run", var dir] => CudaBench.Run(dir),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Neural.Bench prepare|run|memory|onnx DIR [--builtin-only|--question-only] | profile [DIR] (with DIR: BERT-base too) | gemm [--question-only] | train-prepare|train-step DIR | cuda-prepare|cuda-run DIR");
    return 2;
}

static int Prepare(string dir)
{
    Directory.CreateDirectory(dir);
    const int B = 8, T = 128, Prompt = 128, NewTokens = 64;
    var sw = Stopwatch.StartNew();
    // bert-base-uncased's shape with random weights; the tiny WordPiece vocabulary padded to 30522 rows.
    TinyModels.WriteBertEncoder(Path.Combine(dir, "bert"), hidden: 768, layers: 12, heads: 12, intermediate: 3072,
        maxPositions: 512, kind: "sentence-transformer", vocabSize: 30522, seed: 11);
    // gpt2 (124M): 50257 x 768 token table, 1024 positions, 12 layers.
    TinyModels.WriteDecoder(Path.Combine(dir, "gpt2"), "gpt2", seed: 12, hidden: 768, layers: 12, heads: 12,
        maxPositions: 1024, vocabSize: 50257, writeTokenizer: false);
    var r = new Random(13);
    var inputs = new JsonObject
    {
        ["batch"] = B,
        ["seq"] = T,
        ["new_tokens"] = NewTokens,
        ["encoder_ids"] = new JsonArray([.. Enumerable.Range(0, B * T).Select(i => (JsonNode)(i % T == 0 ? 2 : r.Next(5, 30522)))]),
        ["prompt_ids"] = new JsonArray([.. Enumerable.Range(0, Prompt).Select(_ => (JsonNode)r.Next(0, 50257))]),
    };
    File.WriteAllText(Path.Combine(dir, "inputs.json"), inputs.ToJsonString());
    Console.WriteLine($"prepared random BERT-base and GPT-2-small checkpoints in {dir} ({sw.Elapsed.TotalSeconds:F0} s)");
    return 0;
}

static double Median(List<double> xs)
{
    xs.Sort();
    return xs.Count % 2 == 1 ? xs[xs.Count / 2] : (xs[xs.Count / 2 - 1] + xs[xs.Count / 2]) / 2;
}

static int Run(string dir)
{
    using var inputs = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "inputs.json")));
    using var torch = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "torch.json")));
    int b = inputs.RootElement.GetProperty("batch").GetInt32(), t = inputs.RootElement.GetProperty("seq").GetInt32();
    int newTokens = inputs.RootElement.GetProperty("new_tokens").GetInt32();
    var ids = inputs.RootElement.GetProperty("encoder_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
    var prompt = inputs.RootElement.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
    var types = new int[b * t];
    var mask = Enumerable.Repeat(1, b * t).ToArray();
    for (int i = 0; i < b; i++) for (int j = t - 8 * i; j < t; j++) mask[i * t + j] = 0; // row i has 8i padding tokens

    using var encoder = NeuralModels.LoadBertEncoder(Path.Combine(dir, "bert"));
    var decoder = NeuralModels.LoadCausalLm(Path.Combine(dir, "gpt2"));
    var providers = Gemm.OpenBlasAvailable ? new[] { GemmProvider.Managed, GemmProvider.OpenBlas } : [GemmProvider.Managed];
    Console.WriteLine(Gemm.OpenBlasAvailable ? $"reference: {OpenBlasConfig()}" : "reference: no OpenBLAS loaded (install libopenblas0-pthread): managed lines only");
    var encoderMs = new Dictionary<GemmProvider, double>();
    var decoderMs = new Dictionary<GemmProvider, double>();
    float[][] vectors = [];
    List<int> generated = [];
    foreach (var provider in providers)
    {
        Gemm.Provider = provider;
        var times = new List<double>();
        for (int run = 0; run < 4; run++) // first run warms up (JIT, page faults) and is not counted
        {
            var sw = Stopwatch.StartNew();
            vectors = encoder.EncodeIds(b, t, ids, types, mask);
            if (run > 0) times.Add(sw.Elapsed.TotalMilliseconds);
        }
        encoderMs[provider] = Median(times);
        times.Clear();
        var state = decoder.CreateState(prompt.Length + newTokens, chunk: prompt.Length);
        for (int run = 0; run < 4; run++)
        {
            state.Reset();
            var sw = Stopwatch.StartNew();
            generated = Greedy(decoder, state, prompt, newTokens);
            if (run > 0) times.Add(sw.Elapsed.TotalMilliseconds);
        }
        decoderMs[provider] = Median(times);
        Console.WriteLine($"ours ({provider}): encoder {encoderMs[provider]:F0} ms, decoder {decoderMs[provider]:F0} ms");
    }

    var tr = torch.RootElement;
    if (!tr.TryGetProperty("blas", out var blas) || blas.GetString() != "openblas")
    {
        Console.WriteLine($"pytorch ran on {(tr.TryGetProperty("blas_libraries", out var libs) ? libs.ToString() : "an unknown BLAS")}, not OpenBLAS: no ratio against it (install libopenblas0-pthread)");
        return 1;
    }
    double torchEncoder = tr.GetProperty("encoder_ms").EnumerateObject().Min(p => p.Value.GetDouble());
    double torchDecoder = tr.GetProperty("decoder_ms").EnumerateObject().Min(p => p.Value.GetDouble());
    foreach (var p in tr.GetProperty("encoder_ms").EnumerateObject()) Console.WriteLine($"pytorch {p.Name} thread(s): encoder {p.Value.GetDouble():F0} ms, decoder {tr.GetProperty("decoder_ms").GetProperty(p.Name).GetDouble():F0} ms");

    // Same inputs, same answers: the embeddings and the greedy tokens agree with PyTorch's.
    var torchFirst = tr.GetProperty("embedding_row0").EnumerateArray().Select(e => e.GetSingle()).ToArray();
    double maxDiff = torchFirst.Select((v, i) => Math.Abs(v - vectors[0][i])).Max();
    var torchTokens = tr.GetProperty("generated").EnumerateArray().Select(e => e.GetInt32()).ToArray();
    int agree = 0;
    while (agree < Math.Min(torchTokens.Length, generated.Count) && torchTokens[agree] == generated[agree]) agree++;
    Console.WriteLine($"check: encoder embedding max abs diff vs pytorch {maxDiff:E1}; greedy tokens identical for the first {agree} of {newTokens}");

    var best = providers.MinBy(p => encoderMs[p] + decoderMs[p]);
    Console.WriteLine($"best GEMM provider here: {best}");
    Console.WriteLine($"encoder time ratio (ours/pytorch, BERT-base 8x128): {encoderMs.Values.Min() / torchEncoder:F2}  [ours {encoderMs.Values.Min():F0} ms, pytorch {torchEncoder:F0} ms]");
    Console.WriteLine($"decoder time ratio (ours/pytorch, GPT-2 small, 128 prompt + {newTokens} new): {decoderMs.Values.Min() / torchDecoder:F2}  [ours {decoderMs.Values.Min():F0} ms, pytorch {torchDecoder:F0} ms]");
    return 0;
}

// Each shape at 1 and 2 threads, ours (managed GEMM) against ONNX Runtime. The summary is the worst ratio of the shapes
// the service runs: the built-in encoders at ingest (64 x 128 SQuAD paragraphs) and question (1 x 16) sizes.
static int OnnxComparison(string dir, bool bertBase, bool questionOnly = false)
{
    Gemm.Provider = GemmProvider.Managed; // our own kernels, not OpenBLAS's
    Console.WriteLine($"onnxruntime {Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString()}; CPU: {Environment.ProcessorCount} cores, AVX2 {System.Runtime.Intrinsics.X86.Avx2.IsSupported}, FMA {System.Runtime.Intrinsics.X86.Fma.IsSupported}, AVX-512F {System.Runtime.Intrinsics.X86.Avx512F.IsSupported} (512-bit kernels {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated})");
    using var inputs = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "inputs.json")));
    int b = inputs.RootElement.GetProperty("batch").GetInt32(), t = inputs.RootElement.GetProperty("seq").GetInt32();
    var ids = inputs.RootElement.GetProperty("encoder_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
    var mask = Enumerable.Repeat(1, b * t).ToArray();
    for (int i = 0; i < b; i++) for (int j = t - 8 * i; j < t; j++) mask[i * t + j] = 0; // row i has 8i padding tokens
    if (bertBase)
    {
        using var bert = NeuralModels.LoadBertEncoder(Path.Combine(dir, "bert"));
        var peer = new OnnxRuntimePeer(bert, File.ReadAllBytes(Path.Combine(dir, "bert", "model.onnx")), "bert-base");
        var shape = new EncoderShape("bert-base", "random", b, t, ids, new int[b * t], mask);
        foreach (var threads in new[] { 1, 2 }) peer.Compare(shape, threads);
    }

    var squad = SharedData.File("squad-v1.1/dev-v1.1.json");
    if (squad is null)
    {
        Console.WriteLine($"encoder time ratio vs onnxruntime: not measured ({SharedData.MissingReason("squad-v1.1/dev-v1.1.json")}; the service's shapes are SQuAD text)");
        return 1;
    }
    var (paragraphs, questions) = SquadTexts(squad);
    var serviceRatios = new List<(string, double)>();
    foreach (var builtin in Rag.Neural.Builtin.BuiltinEncoders.All)
    {
        using var encoder = NeuralModels.LoadBuiltinEncoder(builtin);
        var (assembly, model, _) = Rag.Neural.Builtin.BuiltinEncoders.Resources(builtin);
        var bytes = new byte[model.Length];
        using (var file = File.OpenRead(assembly)) { file.Position = model.Offset; file.ReadExactly(bytes); }
        var peer = new OnnxRuntimePeer(encoder, bytes, builtin.Name);
        var tokenizer = (Rag.Tokenizers.WordPieceTokenizer)encoder.Tokenizer;
        var ingest = tokenizer.EncodeBatch(paragraphs.Take(64).ToArray(), 128);
        // A question long enough to fill 16 tokens with [CLS] and [SEP].
        var question = questions.Select(q => tokenizer.EncodeBatch([q], 16)).First(e => e.SequenceLength == 16);
        foreach (var (label, e) in new[] { ("ingest", ingest), ("question", question) })
        {
            if (questionOnly && label != "question") continue;
            var shape = new EncoderShape(builtin.Name, label, e.BatchSize, e.SequenceLength, e.InputIds, e.TokenTypeIds, e.AttentionMask);
            foreach (var threads in new[] { 1, 2 }) serviceRatios.Add(($"{builtin.Name} {label} {threads}", peer.Compare(shape, threads)));
        }
    }
    var worst = serviceRatios.MaxBy(r => r.Item2);
    Console.WriteLine($"encoder time ratio vs onnxruntime: {worst.Item2:F2}  (worst of the built-in encoders' ingest and question shapes: {worst.Item1} thread(s))");
    return 0;
}

static int Profile(string? benchDir)
{
    var squad = SharedData.File("squad-v1.1/dev-v1.1.json") ?? throw new FileNotFoundException(SharedData.MissingReason("squad-v1.1/dev-v1.1.json"));
    var (paragraphs, questions) = SquadTexts(squad);
    return OpProfile.Run(paragraphs, questions, benchDir);
}

static (List<string> Paragraphs, List<string> Questions) SquadTexts(string path)
{
    using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
    var paragraphs = new List<string>(); var questions = new List<string>();
    foreach (var article in doc.RootElement.GetProperty("data").EnumerateArray())
        foreach (var p in article.GetProperty("paragraphs").EnumerateArray())
        {
            paragraphs.Add(p.GetProperty("context").GetString()!);
            foreach (var qa in p.GetProperty("qas").EnumerateArray()) questions.Add(qa.GetProperty("question").GetString()!);
        }
    return (paragraphs, questions);
}

static List<int> Greedy(CausalLm model, DecoderState state, int[] prompt, int newTokens)
{
    var output = new List<int>(newTokens);
    model.Forward(state, prompt);
    var next = new int[1];
    for (int i = 0; i < newTokens; i++)
    {
        next[0] = CpuBackend.Instance.Argmax(state.Logits);
        output.Add(next[0]);
        if (i + 1 < newTokens) model.Forward(state, next);
    }
    return output;
}

// GFLOP/s of one BERT-base feed-forward product, (1024 x 768) x (768 x 3072) with the weight stored (out, in).
static unsafe int GemmSpeed()
{
    const int M = 1024, K = 768, N = 3072;
    var a = Tensor.Zeros(M, K); var w = Tensor.Zeros(N, K); var c = Tensor.Zeros(M, N);
    var r = new Random(1);
    foreach (var t in new[] { a, w }) { var s = t.Span; for (int i = 0; i < s.Length; i++) s[i] = (float)r.NextDouble() - 0.5f; }
    var providers = Gemm.OpenBlasAvailable ? new[] { GemmProvider.Managed, GemmProvider.OpenBlas } : [GemmProvider.Managed];
    Console.WriteLine(Gemm.OpenBlasAvailable ? $"reference: {OpenBlasConfig()}" : "reference: no OpenBLAS loaded (install libopenblas0-pthread): managed lines only");
    foreach (var provider in providers)
        foreach (var parallel in new[] { false, true })
        {
            var times = new List<double>();
            for (int run = 0; run < 6; run++)
            {
                var sw = Stopwatch.StartNew();
                Gemm.Sgemm(false, true, M, N, K, a.Pointer, K, w.Pointer, K, c.Pointer, N, 0f, parallel, provider);
                if (run > 0) times.Add(sw.Elapsed.TotalSeconds);
            }
            Console.WriteLine($"gemm {provider} parallel={parallel}: {2.0 * M * N * K / Median(times) / 1e9:F1} GFLOP/s");
        }
    // BERT-base's three products at 8 x 128 tokens: attention's projections, the feed-forward up and down.
    foreach (var (pm, pk, pn) in new[] { (M, 768, 768), (M, 768, 3072), (M, 3072, 768) })
    {
        var pa = Tensor.Zeros(pm, pk); var pw = Tensor.Zeros(pn, pk); var pc = Tensor.Zeros(pm, pn);
        foreach (var t in new[] { pa, pw }) { var s = t.Span; for (int i = 0; i < s.Length; i++) s[i] = (float)r.NextDouble() - 0.5f; }
        var packed = Gemm.Pack(true, pn, pk, pw.Pointer, pk);
        foreach (var threads in new[] { 1, 2 })
        {
            CpuParallelism.Threads = threads;
            var times = new List<double>();
            for (int run = 0; run < 12; run++)
            {
                var sw = Stopwatch.StartNew();
                Gemm.SgemmPacked(pm, pa.Pointer, pk, packed, pc.Pointer, pn, default);
                if (run > 1) times.Add(sw.Elapsed.TotalSeconds);
            }
            Console.WriteLine($"gemm managed, weights packed at load, {pm}x{pk}x{pn}, {threads} thread(s), 512-bit vectors {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}: {2.0 * pm * pn * pk / Median(times) / 1e9:F1} GFLOP/s");
        }
        GC.KeepAlive(pa); GC.KeepAlive(pw); GC.KeepAlive(pc); GC.KeepAlive(packed);
    }
    GC.KeepAlive(a); GC.KeepAlive(w); GC.KeepAlive(c);
    return QuestionShapeGemm();
}

// The question's products (16 tokens through a 384-wide encoder): with one packed weight reused (it stays in L2/L3)
// and cycling through 64 MB of distinct weights (each product then streams its weight from DRAM, as a real pass does,
// whose 6 layers' weights exceed L3). The gap between the two is the memory stall the kernel does not hide.
static unsafe int QuestionShapeGemm()
{
    const int M = 16;
    var r = new Random(2);
    CpuParallelism.Threads = 1;
    foreach (var (pk, pn) in new[] { (384, 384), (384, 1536), (1536, 384) })
    {
        int copies = Math.Max(2, (64 << 20) / (pk * pn * sizeof(float)));
        var pa = Tensor.Zeros(M, pk); var pc = Tensor.Zeros(M, pn); var pw = Tensor.Zeros(pn, pk);
        foreach (var t in new[] { pa, pw }) { var s = t.Span; for (int i = 0; i < s.Length; i++) s[i] = (float)r.NextDouble() - 0.5f; }
        var packed = Enumerable.Range(0, copies).Select(_ => Gemm.Pack(true, pn, pk, pw.Pointer, pk)).ToArray();
        foreach (var cold in new[] { false, true })
        {
            var times = new List<double>();
            for (int run = 0; run < copies + 200; run++)
            {
                var b = packed[cold ? run % copies : 0];
                long start = Stopwatch.GetTimestamp();
                Gemm.SgemmPacked(M, pa.Pointer, pk, b, pc.Pointer, pn, default);
                if (run >= copies) times.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
            }
            double t = Median(times);
            Console.WriteLine($"gemm question shape {M}x{pk}x{pn}, 1 thread, weight {(cold ? "streamed from DRAM" : "reused (cached)")}: " +
                $"{t * 1e6:F1} us, {2.0 * M * pn * pk / t / 1e9:F1} GFLOP/s, {(double)pk * pn * sizeof(float) / t / 1e9:F1} GB/s of weight");
        }
        GC.KeepAlive(pa); GC.KeepAlive(pw); GC.KeepAlive(pc); GC.KeepAlive(packed);
    }
    return 0;
}

// What the OpenBLAS that Gemm loads says of itself: version, kernel (core type) and threads.
static unsafe string OpenBlasConfig()
{
    foreach (var name in new[] { "libopenblas.so.0", "libopenblas.so" })
        if (System.Runtime.InteropServices.NativeLibrary.TryLoad(name, out var lib)
            && System.Runtime.InteropServices.NativeLibrary.TryGetExport(lib, "openblas_get_config", out var config)
            && System.Runtime.InteropServices.NativeLibrary.TryGetExport(lib, "openblas_get_num_threads", out var threads))
            return $"{name}: {System.Runtime.InteropServices.Marshal.PtrToStringAnsi((nint)((delegate* unmanaged<byte*>)config)())}, {((delegate* unmanaged<int>)threads)()} thread(s)";
    return "OpenBLAS without openblas_get_config";
}

static int Memory(string dir)
{
    var path = Path.Combine(dir, "gpt2");
    long fileBytes = new FileInfo(Path.Combine(path, "model.safetensors")).Length;
    long before = Rss("VmRSS");
    var model = NeuralModels.LoadCausalLm(path);
    var state = model.CreateState(64);
    model.Forward(state, [1, 2, 3, 4]); // touches every weight
    long peak = Rss("VmHWM");
    Console.WriteLine($"memory: checkpoint {fileBytes / 1e6:F0} MB, resident before load {before / 1e6:F0} MB, peak resident {peak / 1e6:F0} MB, peak/file = {(double)peak / fileBytes:F2} (target < 1.5)");
    GC.KeepAlive(model);
    return 0;
}

static long Rss(string key)
{
    foreach (var line in File.ReadLines("/proc/self/status"))
        if (line.StartsWith(key + ":", StringComparison.Ordinal))
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    return 0;
}
