namespace Rag.Neural.Tensors;

/// <summary>
/// How many cores the CPU backend's kernels split their work across. RAG_NEURAL_THREADS sets the start value
/// (default: every core); benchmarks set it to compare against peers at equal thread counts.
/// </summary>
public static class CpuParallelism
{
    static int s_threads = Initial();

    public static int Threads
    {
        get => s_threads;
        set => s_threads = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "at least one thread");
    }

    static int Initial()
    {
        var env = Environment.GetEnvironmentVariable("RAG_NEURAL_THREADS");
        return int.TryParse(env, out var n) && n >= 1 ? n : Environment.ProcessorCount;
    }

    /// <summary>body(0..count-1), split across up to <see cref="Threads"/> cores; inline when one thread or one item.</summary>
    public static void For(int count, Action<int> body)
    {
        int threads = s_threads;
        if (threads == 1 || count <= 1)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = threads }, body);
    }
}
