using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rag.Neural.Tensors;
using Rag.Neural.Tensors.Cuda;
using Rag.Testing;

namespace Rag.Neural.Bench;

/// <summary>
/// The CUDA backend on a GPU machine, driven by bench/cuda.sh: prepare writes two random encoders in the Hugging Face
/// layout (the built-in encoders' shape, 6 x 384, and BERT-base, 12 x 768) and the token ids of each shape;
/// torch_cuda_bench.py runs Hugging Face's BertModel on PyTorch CUDA over the same files; run checks our GPU
/// against our CPU backend and against PyTorch, then prints time ratios (ours / PyTorch's, medians) in fp32 and TF32.
/// </summary>
static class CudaBench
{
    const int WarmUp = 5, Runs = 20;

    sealed record Shape(string Name, string Model, int Batch, int Seq, bool CpuParity);

    static readonly Shape[] Shapes =
    [
        new("builtin-shape 1x16 (question)", "xs", 1, 16, true),
        new("builtin-shape 64x128 (cpu ingest batch)", "xs", 64, 128, true),
        new("builtin-shape 128x256 (gpu ingest batch)", "xs", 128, 256, true),
        new("bert-base 8x128", "base", 8, 128, true),
        new("bert-base 128x256", "base", 128, 256, false), // the CPU reference would take most of the run
    ];

    public static int Prepare(string dir)
    {
        Directory.CreateDirectory(dir);
        TinyModels.WriteBertEncoder(Path.Combine(dir, "xs"), hidden: 384, layers: 6, heads: 12, intermediate: 1536,
            maxPositions: 512, kind: "sentence-transformer", vocabSize: 30522, seed: 21);
        TinyModels.WriteBertEncoder(Path.Combine(dir, "base"), hidden: 768, layers: 12, heads: 12, intermediate: 3072,
            maxPositions: 512, kind: "sentence-transformer", vocabSize: 30522, seed: 22);
        var shapes = new JsonArray();
        foreach (var s in Shapes)
        {
            var (ids, _, mask) = BackendComparison.Inputs(s.Batch, s.Seq, 30522, seed: s.Batch + s.Seq);
            shapes.Add(new JsonObject
            {
                ["name"] = s.Name,
                ["model"] = s.Model,
                ["batch"] = s.Batch,
                ["seq"] = s.Seq,
                ["ids"] = new JsonArray([.. ids.Select(i => (JsonNode)i)]),
                ["mask"] = new JsonArray([.. mask.Select(i => (JsonNode)i)]),
            });
        }
        File.WriteAllText(Path.Combine(dir, "cuda_inputs.json"), new JsonObject { ["warmup"] = WarmUp, ["runs"] = Runs, ["shapes"] = shapes }.ToJsonString());
        Console.WriteLine($"prepared random 6 x 384 and 12 x 768 encoders and {Shapes.Length} shapes in {dir}");
        return 0;
    }

    public static int Run(string dir)
    {
        var fp32 = CudaBackend.Create();
        var tf32 = CudaBackend.Create(tf32: true);
        Console.WriteLine($"ours: {fp32.Description}; {tf32.Description}");
        using var torch = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "torch_cuda.json")));
        var reference = torch.RootElement;
        Console.WriteLine($"reference: {reference.GetProperty("describe").GetString()}");
        if (!reference.GetProperty("cuda").GetBoolean()) { Console.Error.WriteLine("PyTorch ran without CUDA: no ratio printed"); return 1; }

        bool ok = true;
        double worst = 0;
        // The tiny random towers of the CUDA tests, each pooling and head: [CLS], mean + normalise, encode_proj.
        foreach (var (kind, projection) in new[] { ("sentence-transformer", 0), ("dpr-question", 0), ("dpr-context", 16) })
        {
            var tiny = Path.Combine(dir, "tiny-" + kind);
            TinyModels.WriteBertEncoder(tiny, hidden: 64, layers: 2, heads: 4, kind: kind, projectionDim: projection, seed: 5);
            foreach (var fused in new[] { true, false })
            {
                fp32.FusedAttention = fused;
                var parity = BackendComparison.CompareEncoders(tiny, CpuBackend.Instance, fp32, 3, 33);
                Console.WriteLine($"parity vs our CPU backend, tiny {kind}, {AttentionName(fused)}: {parity}");
                ok &= parity.MaxHiddenError < 1e-5 && parity.MaxEmbeddingError < 1e-5;
            }
        }
        fp32.FusedAttention = true;
        foreach (var s in Shapes)
        {
            var folder = Path.Combine(dir, s.Model);
            var (ids, types, mask) = BackendComparison.Inputs(s.Batch, s.Seq, 30522, seed: s.Batch + s.Seq);
            if (s.CpuParity)
            {
                var parity = BackendComparison.CompareEncoders(folder, CpuBackend.Instance, fp32, s.Batch, s.Seq, seed: s.Batch + s.Seq);
                Console.WriteLine($"parity vs our CPU backend, {s.Name}, fp32: {parity}");
                ok &= parity.MaxHiddenError < 1e-4 && parity.MaxEmbeddingError < 1e-4;
            }
            var torchShape = reference.GetProperty("shapes").GetProperty(s.Name);
            foreach (var (backend, precision) in new[] { (fp32, "fp32"), (tf32, "tf32") })
            {
                // One load per backend: the attention path is a switch on the backend, read at every call.
                using var encoder = NeuralModels.LoadBertEncoder(folder, backend);
                var theirs = torchShape.GetProperty(precision);
                var theirEmbeddings = theirs.GetProperty("embeddings").EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetSingle()).ToArray()).ToArray();
                double their = theirs.GetProperty("median_ms").GetDouble();
                foreach (var fused in new[] { true, false })
                {
                    backend.FusedAttention = fused;
                    var times = new List<double>();
                    float[][] embeddings = [];
                    for (int run = 0; run < WarmUp + Runs; run++)
                    {
                        var sw = Stopwatch.StartNew();
                        embeddings = encoder.EncodeIds(s.Batch, s.Seq, ids, types, mask);
                        if (run >= WarmUp) times.Add(sw.Elapsed.TotalMilliseconds);
                    }
                    double minCos = 1;
                    for (int b = 0; b < s.Batch; b++) minCos = Math.Min(minCos, BackendComparison.Cosine(embeddings[b], theirEmbeddings[b]));
                    times.Sort();
                    double ours = OnnxRuntimePeer.Median(times);
                    var label = fused ? precision : $"{precision}, {AttentionName(fused)}";
                    Console.WriteLine($"parity vs pytorch, {s.Name}, {label}: min cosine {minCos:F7}");
                    if (precision == "fp32") ok &= minCos > 0.99999;
                    double ratio = ours / their;
                    if (precision == "fp32" && fused) worst = Math.Max(worst, ratio);
                    Console.WriteLine($"encoder time ratio vs pytorch-cuda {s.Name} {label}: {ratio:F2} " +
                        $"(ours {ours:F2} [{times[0]:F2}..{times[^1]:F2}] ms, {s.Batch / ours * 1000:F0} sequences/s; " +
                        $"pytorch {their:F2} [{theirs.GetProperty("min_ms").GetDouble():F2}..{theirs.GetProperty("max_ms").GetDouble():F2}] ms)");
                }
            }
        }
        Console.WriteLine($"encoder time ratio vs pytorch-cuda (worst, fp32): {worst:F2}");
        fp32.FusedAttention = tf32.FusedAttention = true;
        foreach (var s in Shapes.Where(s => s.Batch >= 64))
            foreach (var backend in new[] { fp32, tf32 })
                Profile(Path.Combine(dir, s.Model), s, backend);
        if (!ok) Console.Error.WriteLine("PARITY FAILED: see the lines above");
        return ok ? 0 : 1;
    }

    static string AttentionName(bool fused) => fused ? "fused attention" : "batched-product attention";

    /// <summary>Milliseconds per forward pass in each op, waiting for the GPU after every op (so the sum exceeds the pipelined time).</summary>
    static void Profile(string folder, Shape s, CudaBackend backend)
    {
        var timing = new TimingBackend(backend, backend.Synchronize);
        using var encoder = NeuralModels.LoadBertEncoder(folder, timing);
        var (ids, types, mask) = BackendComparison.Inputs(s.Batch, s.Seq, 30522, seed: 1);
        encoder.EncodeIds(s.Batch, s.Seq, ids, types, mask);
        timing.Reset();
        const int passes = 5;
        for (int r = 0; r < passes; r++) encoder.EncodeIds(s.Batch, s.Seq, ids, types, mask);
        double total = timing.Totals.Values.Sum(t => t.Ms) / passes;
        Console.WriteLine($"profile {s.Name}, {(backend.Tf32 ? "tf32" : "fp32")}: {total:F2} ms a pass, op by op: " +
            string.Join(", ", timing.Totals.OrderByDescending(t => t.Value.Ms).Select(t => $"{t.Key} {t.Value.Ms / passes:F2} ({100 * t.Value.Ms / passes / total:F0} %)")));
    }
}
