using System.Runtime.InteropServices;

namespace Rag.Neural.Tensors;

/// <summary>
/// Which core a thread is on, and moving the current thread off one, on Linux (elsewhere: unknown, a no-op).
/// The worker pool needs it because the kernel often wakes a worker on the core of the thread that woke it: the
/// two then share one core while the other idles, until the load balancer notices (milliseconds on a VM). On a
/// 16-token question that doubled the latency at 2 threads (measured: 9.6 ms against 4.9 ms with the move).
/// </summary>
static partial class LinuxCpuAffinity
{
    const int MaskWords = 16; // 1,024 CPUs, glibc's CPU_SETSIZE

    // The cores this process may use, read once: each move starts from them, so that moving off one core, then off
    // another, does not shrink a worker's set to nothing. Null where the calls are not available.
    static readonly ulong[]? s_allowed = OperatingSystem.IsLinux() ? AllowedCpus() : null;

    /// <summary>The core the calling thread runs on now (vDSO, some nanoseconds), or -1 where unknown.</summary>
    public static int CurrentCpu() => s_allowed is null ? -1 : sched_getcpu();

    /// <summary>Moves the calling thread off <paramref name="cpu"/> if it runs there now (see <see cref="MoveCurrentThreadOff"/>).</summary>
    public static void LeaveIfOn(int cpu)
    {
        if (cpu >= 0 && CurrentCpu() == cpu) MoveCurrentThreadOff(cpu);
    }

    /// <summary>
    /// Restricts the calling thread to the process's cores less <paramref name="cpu"/>; the kernel moves it at once.
    /// False (and nothing changed) where that would leave no core or the call is not available.
    /// </summary>
    public static unsafe bool MoveCurrentThreadOff(int cpu)
    {
        if (s_allowed is null || cpu < 0 || cpu >= MaskWords * 64) return false;
        Span<ulong> mask = stackalloc ulong[MaskWords];
        s_allowed.CopyTo(mask);
        mask[cpu / 64] &= ~(1UL << (cpu % 64));
        if (!mask.ContainsAnyExcept(0UL)) return false;
        fixed (ulong* m = mask) return sched_setaffinity(0, MaskWords * sizeof(ulong), m) == 0;
    }

    static unsafe ulong[]? AllowedCpus()
    {
        try
        {
            var allowed = new ulong[MaskWords];
            fixed (ulong* mask = allowed)
                return sched_getcpu() >= 0 && sched_getaffinity(0, MaskWords * sizeof(ulong), mask) == 0 ? allowed : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return null; }
    }

    [LibraryImport("libc")] private static partial int sched_getcpu();
    [LibraryImport("libc")] private static unsafe partial int sched_getaffinity(int pid, nint size, ulong* mask);
    [LibraryImport("libc")] private static unsafe partial int sched_setaffinity(int pid, nint size, ulong* mask);
}
