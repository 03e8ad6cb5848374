using System.Diagnostics;

namespace Rag.Neural.Tensors;

/// <summary>
/// How many cores the CPU backend's kernels split their work across, and the worker threads that do it.
/// RAG_NEURAL_THREADS sets the start value (default: every core); benchmarks set it to compare against peers at
/// equal thread counts.
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
    /// Below about this many multiply-adds (some ten microseconds on one core) splitting costs more than it saves,
    /// even with the spinning workers below. A 16-token question's products are above it, so a question uses both cores.
    /// </summary>
    public const long MinParallelWork = 1L << 19;

    /// <summary>As <see cref="For(int, Action{int})"/>, inline when the whole job is under <see cref="MinParallelWork"/>.</summary>
    public static void For(int count, long work, Action<int> body)
    {
        if (work < MinParallelWork) for (int i = 0; i < count; i++) body(i);
        else For(count, body);
    }

    /// <summary>
    /// body(0..count-1), split across up to <see cref="Threads"/> cores: the calling thread and Threads - 1 spinning
    /// workers claim items one at a time. Inline when one thread or one item, and inside another region.
    /// </summary>
    public static void For(int count, Action<int> body)
    {
        int threads = s_threads;
        if (threads == 1 || count <= 1 || t_inRegion)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        if (!WorkerPool.TryRun(count, Math.Min(threads, count) - 1, body))
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = threads }, body); // another caller holds the pool
    }

    /// <summary>
    /// body(r) for rows 0..rows-1 of the given width, handed to the cores in blocks of at least 16K values: one
    /// 384-wide LayerNorm row takes about as long as the other core's claim of it, so row-at-a-time made LayerNorm
    /// slower on 2 threads than on 1 (50 ms against 33 a pass).
    /// </summary>
    public static void ForRows(int rows, int width, Action<int> body)
    {
        int perBlock = Math.Max(1, (1 << 14) / Math.Max(1, width)), blocks = (rows + perBlock - 1) / perBlock;
        For(blocks, 8L * rows * width, block =>
        {
            for (int r = block * perBlock, end = Math.Min(rows, r + perBlock); r < end; r++) body(r);
        });
    }

    /// <summary>body(start, count) over 0..length-1 in chunks of 16K values (elementwise ops).</summary>
    public static void ForChunks(int length, Action<int, int> body)
    {
        const int Chunk = 1 << 14;
        if (length <= Chunk) { body(0, length); return; }
        For((length + Chunk - 1) / Chunk, 16L * length, i => body(i * Chunk, Math.Min(Chunk, length - i * Chunk)));
    }

    [ThreadStatic] static bool t_inRegion;

    /// <summary>
    /// Dedicated threads that spin for a short while after each job before they sleep, as ONNX Runtime's and OpenMP's
    /// pools do. A forward pass runs some fifty parallel products back to back; waking a sleeping thread-pool thread for
    /// each cost more than a 16-token question's products take (measured: no gain from a second core). The caller works
    /// on the job too and claims items as they come, so a worker that has no core right now delays nothing but its item.
    /// </summary>
    static class WorkerPool
    {
        sealed class Job(int count, Action<int> body, int workers)
        {
            public readonly int Count = count, Workers = workers;
            public readonly int CallerCpu = LinuxCpuAffinity.CurrentCpu();
            public readonly Action<int> Body = body;
            public int Next = -1, Done;
            public Exception? Error;

            public void Work()
            {
                int i;
                while ((i = Interlocked.Increment(ref Next)) < Count)
                {
                    try { Body(i); }
                    catch (Exception e) { Interlocked.CompareExchange(ref Error, e, null); }
                    Interlocked.Increment(ref Done);
                }
            }
        }

        sealed class Worker
        {
            public readonly ManualResetEventSlim Wake = new(false, spinCount: 0);
            public int Sleeping;
        }

        static readonly long s_spinTicks = Stopwatch.Frequency / 5000; // 200 microseconds
        static readonly List<Worker> s_workers = [];
        static int s_busy;
        static long s_sequence;
        static Job? s_job;

        public static bool TryRun(int count, int workers, Action<int> body)
        {
            if (Interlocked.CompareExchange(ref s_busy, 1, 0) != 0) return false;
            try
            {
                while (s_workers.Count < workers) Start(s_workers.Count);
                var job = new Job(count, body, workers);
                Volatile.Write(ref s_job, job);
                Interlocked.Increment(ref s_sequence);                         // full fence: publishes the job
                for (int w = 0; w < workers; w++)
                    if (Volatile.Read(ref s_workers[w].Sleeping) == 1) s_workers[w].Wake.Set();
                t_inRegion = true;
                try { job.Work(); }
                finally { t_inRegion = false; }
                var spin = new SpinWait();
                while (Volatile.Read(ref job.Done) < count) spin.SpinOnce(sleep1Threshold: -1);
                if (job.Error is { } error) throw new AggregateException("a parallel kernel item failed", error);
                return true;
            }
            finally { Volatile.Write(ref s_busy, 0); }
        }

        static void Start(int index)
        {
            var worker = new Worker();
            s_workers.Add(worker);
            new Thread(() => Loop(index, worker)) { IsBackground = true, Name = $"rag-neural-{index + 1}" }.Start();
        }

        static void Loop(int index, Worker self)
        {
            t_inRegion = true;                                                   // nested regions run inline
            long seen = 0;
            while (true)
            {
                long started = Stopwatch.GetTimestamp();
                long sequence;
                while ((sequence = Volatile.Read(ref s_sequence)) == seen && Stopwatch.GetTimestamp() - started < s_spinTicks)
                    Thread.SpinWait(20);
                if (sequence == seen)
                {
                    self.Wake.Reset();
                    Interlocked.Exchange(ref self.Sleeping, 1);                  // full fence, then look once more
                    if (Volatile.Read(ref s_sequence) == seen) self.Wake.Wait();
                    Volatile.Write(ref self.Sleeping, 0);
                    continue;
                }
                seen = sequence;
                if (Volatile.Read(ref s_job) is { } job && index < job.Workers)
                {
                    // Woken onto the caller's core: leave it, or the two share it while another core idles.
                    LinuxCpuAffinity.LeaveIfOn(job.CallerCpu);
                    job.Work();
                }
            }
        }
    }
}
