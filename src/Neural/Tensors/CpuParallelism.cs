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

    /// <summary>
    /// Below about this many multiply-adds (a fraction of a millisecond on one core) waking another core costs more
    /// than it saves: on a loaded machine the woken thread waits for a time slice (measured: a 16-token question took
    /// 4x longer on 2 threads than on 1). A question's products run on the calling thread; a batch's are split.
    /// </summary>
    public const long MinParallelWork = 1L << 24;

    /// <summary>As <see cref="For(int, Action{int})"/>, inline when the whole job is under <see cref="MinParallelWork"/>.</summary>
    public static void For(int count, long work, Action<int> body)
    {
        if (work < MinParallelWork) for (int i = 0; i < count; i++) body(i);
        else For(count, body);
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
