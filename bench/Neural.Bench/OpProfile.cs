using System.Diagnostics;
using Rag.Neural.Models;
using Rag.Neural.Tensors;

namespace Rag.Neural.Bench;

/// <summary>
/// Where an encoder's time goes, op by op: a backend that forwards every call to the CPU backend and adds its wall
/// time to the op's total. `Neural.Bench profile` prints the split for the built-in encoders' shapes; it is how the
/// engine's next optimisation is chosen, not a figure to quote (the per-call timing adds a little to every op).
/// </summary>
/// <param name="synchronize">For a GPU backend: waits for the op's queued work, so the time is the op's own.</param>
public sealed class TimingBackend(IBackend inner, Action? synchronize = null) : IBackend
{
    readonly Dictionary<string, (double Ms, int Calls)> _totals = [];

    public IReadOnlyDictionary<string, (double Ms, int Calls)> Totals => _totals;
    public void Reset() => _totals.Clear();

    void Time(string op, Action body)
    {
        long start = Stopwatch.GetTimestamp();
        body();
        synchronize?.Invoke();
        double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        _totals[op] = _totals.TryGetValue(op, out var t) ? (t.Ms + ms, t.Calls + 1) : (ms, 1);
    }

    public Device Device => inner.Device;
    public Tensor Allocate(params int[] shape) => inner.Allocate(shape);
    public LinearWeights Prepare(LinearWeights w) => inner.Prepare(w);
    public Tensor Resident(Tensor weight) => inner.Resident(weight);
    public void CopyToHost(Tensor source, Span<float> destination) => inner.CopyToHost(source, destination);
    public void Embedding(Tensor table, ReadOnlySpan<int> ids, Tensor output) { var a = ids.ToArray(); Time("Embedding", () => inner.Embedding(table, a, output)); }
    public void EmbeddingAddInPlace(Tensor table, ReadOnlySpan<int> ids, Tensor x) { var a = ids.ToArray(); Time("Embedding", () => inner.EmbeddingAddInPlace(table, a, x)); }
    public void MatMul(Tensor a, Tensor b, Tensor output, bool transposeA = false, bool transposeB = false) => Time("MatMul", () => inner.MatMul(a, b, output, transposeA, transposeB));
    public void Linear(Tensor x, LinearWeights w, Tensor output) => Time($"Linear {w.InFeatures}->{w.OutFeatures}", () => inner.Linear(x, w, output));
    public void LinearAdd(Tensor x, LinearWeights w, Tensor residual, Tensor output) => Time($"LinearAdd {w.InFeatures}->{w.OutFeatures}", () => inner.LinearAdd(x, w, residual, output));
    public void LinearGelu(Tensor x, LinearWeights w, Tensor output, bool tanhForm = false) => Time($"LinearGelu {w.InFeatures}->{w.OutFeatures}", () => inner.LinearGelu(x, w, output, tanhForm));
    public void Add(Tensor a, Tensor b, Tensor output) => Time("Add", () => inner.Add(a, b, output));
    public void AddInPlace(Tensor x, Tensor y) => Time("Add", () => inner.AddInPlace(x, y));
    public void Mul(Tensor a, Tensor b, Tensor output) => Time("Mul", () => inner.Mul(a, b, output));
    public void LayerNorm(Tensor x, Tensor gamma, Tensor? beta, float eps, Tensor output) => Time("LayerNorm", () => inner.LayerNorm(x, gamma, beta, eps, output));
    public void RmsNorm(Tensor x, Tensor gamma, float eps, Tensor output) => Time("RmsNorm", () => inner.RmsNorm(x, gamma, eps, output));
    public void Gelu(Tensor x, Tensor output) => Time("Gelu", () => inner.Gelu(x, output));
    public void GeluTanh(Tensor x, Tensor output) => Time("Gelu", () => inner.GeluTanh(x, output));
    public void Silu(Tensor x, Tensor output) => Time("Silu", () => inner.Silu(x, output));
    public void Tanh(Tensor x, Tensor output) => Time("Tanh", () => inner.Tanh(x, output));
    public void SwiGlu(Tensor gate, Tensor up, Tensor output) => Time("SwiGlu", () => inner.SwiGlu(gate, up, output));
    public void Softmax(Tensor x, Tensor output) => Time("Softmax", () => inner.Softmax(x, output));
    public void Rope(Tensor x, RopeTable table, int startPosition, Tensor output) => Time("Rope", () => inner.Rope(x, table, startPosition, output));
    public void Attention(Tensor q, Tensor k, Tensor v, Tensor output, AttentionMask mask) => Time("Attention", () => inner.Attention(q, k, v, output, mask));
    public void ClsPool(Tensor x, Tensor output) => Time("Pool", () => inner.ClsPool(x, output));
    public void MeanPool(Tensor x, ReadOnlySpan<int> mask, Tensor output) { var m = mask.ToArray(); Time("Pool", () => inner.MeanPool(x, m, output)); }
    public void L2Normalize(Tensor x, Tensor output) => Time("L2Normalize", () => inner.L2Normalize(x, output));
    public void WriteCacheInPlace(Tensor cache, Tensor x, int startPosition) => Time("WriteCache", () => inner.WriteCacheInPlace(cache, x, startPosition));
    public void Copy(Tensor source, Tensor destination) => Time("Copy", () => inner.Copy(source, destination));
    public void Split(Tensor x, params Tensor[] outputs) => Time("Split", () => inner.Split(x, outputs));
    public int Argmax(Tensor x) => inner.Argmax(x);
}

public static class OpProfile
{
    /// <summary>Per-op milliseconds per forward pass for each built-in encoder at the service's shapes, 1 and 2 threads.</summary>
    public static int Run(List<string> paragraphs, List<string> questions, string? benchDir = null)
    {
        Gemm.Provider = GemmProvider.Managed;
        foreach (var builtin in Rag.Neural.Builtin.BuiltinEncoders.All)
        {
            var timing = new TimingBackend(CpuBackend.Instance);
            using var encoder = NeuralModels.LoadBuiltinEncoder(builtin, timing);
            var tokenizer = (Rag.Tokenizers.WordPieceTokenizer)encoder.Tokenizer;
            var ingest = tokenizer.EncodeBatch(paragraphs.Take(64).ToArray(), 128);
            var question = questions.Select(q => tokenizer.EncodeBatch([q], 16)).First(e => e.SequenceLength == 16);
            Print(builtin.Name, encoder, timing, [("64x128", ingest, 5), ("1x16", question, 101)]);
        }
        // BERT-base from `prepare DIR` (random weights) at the benchmark's 8 x 128.
        if (benchDir is not null)
        {
            var timing = new TimingBackend(CpuBackend.Instance);
            using var encoder = NeuralModels.LoadBertEncoder(Path.Combine(benchDir, "bert"), timing);
            var batch = ((Rag.Tokenizers.WordPieceTokenizer)encoder.Tokenizer).EncodeBatch(paragraphs.Take(8).ToArray(), 128, padToMaxLength: true);
            Print("bert-base", encoder, timing, [("8x128", batch, 5)]);
        }
        return 0;
    }

    static void Print(string name, BertTextEncoder encoder, TimingBackend timing, (string Label, Rag.Tokenizers.EncodedBatch Batch, int Runs)[] shapes)
    {
        foreach (var (label, e, runs) in shapes)
            foreach (var threads in new[] { 1, 2 })
            {
                CpuParallelism.Threads = threads;
                encoder.EncodeIds(e.BatchSize, e.SequenceLength, e.InputIds, e.TokenTypeIds, e.AttentionMask); // warm-up
                timing.Reset();
                var sw = Stopwatch.StartNew();
                for (int r = 0; r < runs; r++) encoder.EncodeIds(e.BatchSize, e.SequenceLength, e.InputIds, e.TokenTypeIds, e.AttentionMask);
                double total = sw.Elapsed.TotalMilliseconds / runs;
                double inOps = timing.Totals.Values.Sum(v => v.Ms) / runs;
                Console.WriteLine($"{name} {label}, {threads} thread(s): {total:F2} ms per pass, {inOps:F2} in ops");
                foreach (var (op, (ms, calls)) in timing.Totals.OrderByDescending(kv => kv.Value.Ms))
                    Console.WriteLine($"  {op,-24} {ms / runs,9:F3} ms  {100 * ms / runs / total,5:F1} %  ({calls / runs} calls)");
            }
    }
}
