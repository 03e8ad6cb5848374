using Rag.Neural.Tensors;

namespace Rag.Neural.Tests;

/// <summary>The worker pool's move off the caller's core: the kernel must honour it at once.</summary>
public class CpuAffinityTests
{
    [SkippableFact]
    public void A_thread_moved_off_its_core_runs_elsewhere_and_never_on_no_core()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "sched_setaffinity is Linux's; elsewhere the pool does not move workers");
        Skip.If(Environment.ProcessorCount < 2, "one core: there is nowhere to move to");
        int from = -1, after = -1;
        bool moved = false, movedFromEverything = true;
        var thread = new Thread(() =>
        {
            from = LinuxCpuAffinity.CurrentCpu();
            moved = LinuxCpuAffinity.MoveCurrentThreadOff(from);
            after = LinuxCpuAffinity.CurrentCpu();
            // Off another core as well: the set starts from the process's cores, so this never leaves it none.
            movedFromEverything = LinuxCpuAffinity.MoveCurrentThreadOff(after);
        });
        thread.Start();
        thread.Join();
        Assert.True(from >= 0);
        Assert.True(moved);
        Assert.NotEqual(from, after);
        Assert.True(movedFromEverything);
        Assert.False(LinuxCpuAffinity.MoveCurrentThreadOff(-1));
    }
}
