using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Rag.Neural.Models;
using Rag.Neural.Tensors;

namespace Rag.Neural.Bench;

/// <summary>One encoder shape: token ids (B, T) row-major, run through our engine and ONNX Runtime on the same weights.</summary>
public sealed record EncoderShape(string Name, string Kind, int Batch, int SeqLen, int[] Ids, int[] TypeIds, int[] Mask);

/// <summary>
/// ONNX Runtime (CPU execution provider, all graph optimisations, inter-op 1) side by side with our engine at equal
/// thread counts. Outputs are checked equal before anything is timed; the two are timed run by run, interleaved.
/// </summary>
public sealed class OnnxRuntimePeer(BertTextEncoder ours, byte[] onnxModel, string modelName)
{

    public static SessionOptions Options(int threads) => new()
    {
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        IntraOpNumThreads = threads,
        InterOpNumThreads = 1,
    };

    /// <summary>The ratio ours / ONNX Runtime (medians) at this thread count; prints the per-shape line.</summary>
    public double Compare(EncoderShape shape, int threads)
    {
        using var session = new InferenceSession(onnxModel, Options(threads));
        int runs = shape.Batch * shape.SeqLen >= 1024 ? 7 : 41; // short inputs: more runs for a steady median
        CpuParallelism.Threads = threads;
        var theirsRun = Binder(session, shape);
        var mine = ours.EncodeIds(shape.Batch, shape.SeqLen, shape.Ids, shape.TypeIds, shape.Mask);
        var theirs = theirsRun();
        double maxDiff = 0;
        for (int b = 0; b < shape.Batch; b++)
            for (int i = 0; i < mine[b].Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(mine[b][i] - theirs[b][i]));
        if (maxDiff > 1e-4)
            throw new InvalidOperationException($"{shape.Name}: our embeddings differ from ONNX Runtime's by {maxDiff:E1} (> 1e-4); not timing different computations");

        // Interleaved, so that the host's drift (a shared VM's neighbours: +-15% over a minute) falls on both sides alike:
        // run by run, the order swapped every round (ABBA), with a pause after each run until the process is idle.
        // Both engines keep their worker threads spinning for a while after a run; back to back on 2 cores that gave
        // the next run a core short (spreads of 3 to 40 ms on the 16-token question).
        var (oursMs, theirsMs) = TimeInterleaved(() => ours.EncodeIds(shape.Batch, shape.SeqLen, shape.Ids, shape.TypeIds, shape.Mask), () => theirsRun(), runs);
        double ratio = Median(oursMs) / Median(theirsMs);
        Console.WriteLine($"  {shape.Name} {shape.Batch}x{shape.SeqLen}, {threads} thread(s): ours {Spread(oursMs)}, onnxruntime {Spread(theirsMs)}; embeddings max abs diff {maxDiff:E1}");
        Console.WriteLine($"encoder time ratio vs onnxruntime {shape.Name}-{shape.Batch}x{shape.SeqLen} {threads}: {ratio:F2}");
        return ratio;
    }

    static (List<double> First, List<double> Second) TimeInterleaved(Action first, Action second, int runs)
    {
        first(); second(); // warm-up, not counted
        var a = new List<double>(runs); var b = new List<double>(runs);
        for (int i = 0; i < runs; i++)
        {
            if (i % 2 == 0) { a.Add(TimeOnce(first)); b.Add(TimeOnce(second)); }
            else { b.Add(TimeOnce(second)); a.Add(TimeOnce(first)); }
        }
        return (a, b);
    }

    static double TimeOnce(Action run)
    {
        long start = Stopwatch.GetTimestamp();
        run();
        double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        WaitUntilQuiet();
        return ms;
    }

    /// <summary>
    /// Sleeps until this process uses (almost) no CPU: both engines' workers spin after a run, and the next run must
    /// start as a question reaching an idle service does. A fixed 20 ms pause was not enough: ONNX Runtime's
    /// intra-op workers spin some 50 ms after each run (measured: 44-54 ms of CPU during a 100 ms sleep, 0.1-2 ms
    /// with its spinning off), and our worker then shared its core with them.
    /// </summary>
    static void WaitUntilQuiet()
    {
        using var self = Process.GetCurrentProcess();
        var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency; // 1 s at most
        Thread.Sleep(20);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            self.Refresh();
            var before = self.TotalProcessorTime;
            Thread.Sleep(5);
            self.Refresh();
            if ((self.TotalProcessorTime - before).TotalMilliseconds < 0.5) return;
        }
    }

    static string Spread(List<double> ms)
    {
        var s = ms.Order().ToList();
        return $"median {Median(s):F1} ms [{s[0]:F1}..{s[^1]:F1}]";
    }

    public static double Median(List<double> xs)
    {
        var s = xs.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }

    /// <summary>A closure that runs the session on the shape's ids and pools the hidden states as our encoder does.</summary>
    Func<float[][]> Binder(InferenceSession session, EncoderShape shape)
    {
        long[] dims = [shape.Batch, shape.SeqLen];
        var feeds = new Dictionary<string, long[]>
        {
            ["input_ids"] = [.. shape.Ids.Select(i => (long)i)],
            ["attention_mask"] = [.. shape.Mask.Select(i => (long)i)],
            ["token_type_ids"] = [.. shape.TypeIds.Select(i => (long)i)],
        };
        var names = session.InputMetadata.Keys.ToArray();
        foreach (var n in names)
            if (!feeds.ContainsKey(n)) throw new InvalidOperationException($"{modelName}: unexpected input \"{n}\"");
        var values = names.Select(n => OrtValue.CreateTensorValueFromMemory(feeds[n], dims)).ToArray();
        // The token-level output: rank 3 (B, T, C).
        var output = session.OutputMetadata.First(o => o.Value.Dimensions.Length == 3).Key;
        var runOptions = new RunOptions();
        int c = ours.Model.Config.Hidden;
        return () =>
        {
            using var results = session.Run(runOptions, names, values, [output]);
            var hidden = results[0].GetTensorDataAsSpan<float>();
            var vectors = new float[shape.Batch][];
            for (int b = 0; b < shape.Batch; b++)
            {
                var v = vectors[b] = new float[c];
                if (ours.Pooling == EncoderPooling.Cls) hidden.Slice(b * shape.SeqLen * c, c).CopyTo(v);
                else
                {
                    int count = 0;
                    for (int t = 0; t < shape.SeqLen; t++)
                    {
                        if (shape.Mask[b * shape.SeqLen + t] == 0) continue;
                        System.Numerics.Tensors.TensorPrimitives.Add(v, hidden.Slice((b * shape.SeqLen + t) * c, c), v);
                        count++;
                    }
                    System.Numerics.Tensors.TensorPrimitives.Divide(v, Math.Max(count, 1e-9f), v);
                }
                if (ours.Normalize) System.Numerics.Tensors.TensorPrimitives.Divide(v, Math.Max(System.Numerics.Tensors.TensorPrimitives.Norm(v), 1e-12f), v);
            }
            return vectors;
        };
    }
}
