using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rag.Neural.Tensors;
using Rag.Neural.Training;

namespace Rag.Neural.Bench;

/// <summary>
/// One dual-encoder training step (issue 16's speed check) against PyTorch on the same weights and token ids:
/// the built-in arctic-embed-xs as a shared tower, 32 questions and 32 passages of 256 tokens, dropout 0.1, in-batch
/// cosine loss at temperature 0.05, backward, gradient clipping and one AdamW update. bench/train_step.sh drives it:
/// prepare writes the weights (a model folder) and the ids, torch_train_step.py times PyTorch, run times ours.
/// </summary>
static class TrainingStepBench
{
    const int Batch = 32, Tokens = 256, Runs = 5, Threads = 2;
    const float Temperature = 0.05f;

    public static int Prepare(string dir)
    {
        var tower = TrainableEncoders.Load("builtin:arctic-embed-xs");
        EncoderFolder.Write(tower, Path.Combine(dir, "arctic-train"));
        var r = new Random(17);
        int vocab = tower.Tower.Config.VocabSize;
        // [CLS] w w ... w [SEP], full length: the step's cost is the attention and products over every token.
        JsonArray Ids() => new([.. Enumerable.Range(0, Batch * Tokens).Select(i =>
            (JsonNode)(i % Tokens == 0 ? 101 : i % Tokens == Tokens - 1 ? 102 : r.Next(1000, vocab)))]);
        var inputs = new JsonObject
        {
            ["batch"] = Batch,
            ["tokens"] = Tokens,
            ["temperature"] = Temperature,
            ["threads"] = Threads,
            ["runs"] = Runs,
            ["question_ids"] = Ids(),
            ["passage_ids"] = Ids(),
        };
        File.WriteAllText(Path.Combine(dir, "train_inputs.json"), inputs.ToJsonString());
        Console.WriteLine($"prepared arctic-embed-xs as a model folder and {Batch} + {Batch} x {Tokens} token ids in {dir}");
        return 0;
    }

    public static int Run(string dir)
    {
        using var inputs = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "train_inputs.json")));
        using var torch = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "torch_train.json")));
        var root = inputs.RootElement;
        var qIds = root.GetProperty("question_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var pIds = root.GetProperty("passage_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var types = new int[Batch * Tokens];
        var mask = Enumerable.Repeat(1, Batch * Tokens).ToArray();

        CpuParallelism.Threads = Threads;
        var loaded = TrainableEncoders.Load(Path.Combine(dir, "arctic-train"));
        var tower = loaded.Tower;
        var qa = tower.CreateActivations();
        var pa = tower.CreateActivations();
        var loss = new InBatchLoss();
        var ops = CpuBackend.Instance;
        var dq = ops.Allocate(Batch, tower.Dimension);
        var dp = ops.Allocate(Batch, tower.Dimension);
        var optimizer = new AdamWOptimizer(tower.Parameters.ToList(), new AdamWOptions { LearningRate = 2e-5f, TotalSteps = 1000 });

        // The same check as PyTorch's: the loss without dropout, before any update, on the same weights and ids.
        float evalLoss = loss.ForwardBackward(
            tower.Forward(qa, Batch, Tokens, qIds, types, mask, training: false),
            tower.Forward(pa, Batch, Tokens, pIds, types, mask, training: false), 1f / Temperature, dq, dp);

        var times = new List<double>();
        float lastLoss = 0;
        for (int run = 0; run <= Runs; run++) // run 0 warms up (JIT, first-touch of the activation buffers)
        {
            var sw = Stopwatch.StartNew();
            tower.ZeroGrad();
            var q = tower.Forward(qa, Batch, Tokens, qIds, types, mask, training: true, seed: (ulong)run * 2 + 1);
            var p = tower.Forward(pa, Batch, Tokens, pIds, types, mask, training: true, seed: (ulong)run * 2 + 2);
            lastLoss = loss.ForwardBackward(q, p, 1f / Temperature, dq, dp);
            tower.Backward(qa, dq);
            tower.Backward(pa, dp);
            optimizer.Update();
            if (run > 0) times.Add(sw.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        double ours = times[times.Count / 2];
        Console.WriteLine($"ours: training step {ours:F0} ms median of {Runs} (min {times[0]:F0}, max {times[^1]:F0}), {Threads} threads, GEMM {Gemm.Provider}{(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? ", AVX-512" : ", AVX2")}; loss without dropout {evalLoss:F5}, last step's loss {lastLoss:F4}");

        var tr = torch.RootElement;
        Console.WriteLine($"pytorch {tr.GetProperty("version").GetString()}: training step {tr.GetProperty("step_ms").GetDouble():F0} ms median of {Runs} (min {tr.GetProperty("step_ms_min").GetDouble():F0}, max {tr.GetProperty("step_ms_max").GetDouble():F0}); loss without dropout {tr.GetProperty("eval_loss").GetDouble():F5}");
        if (tr.GetProperty("blas").GetString() != "openblas")
        {
            Console.WriteLine($"pytorch ran on {tr.GetProperty("blas_libraries")}, not OpenBLAS: no ratio against it (install libopenblas0-pthread)");
            return 1;
        }
        double lossDiff = Math.Abs(evalLoss - tr.GetProperty("eval_loss").GetDouble());
        if (lossDiff > 1e-3)
        {
            Console.WriteLine($"the losses differ by {lossDiff:E1}: the two sides did not run the same model on the same ids; no ratio");
            return 1;
        }
        Console.WriteLine($"training step time ratio vs pytorch (arctic-embed-xs, {Batch}+{Batch} x {Tokens}, {Threads} threads): {ours / tr.GetProperty("step_ms").GetDouble():F2}");
        return 0;
    }
}
