using System.Runtime.InteropServices;

namespace CachePatterns.Benchmarks;

/// <summary>
/// The process's CPU time, all threads, in nanoseconds (<c>clock_gettime(CLOCK_PROCESS_CPUTIME_ID)</c>): unlike
/// <see cref="System.Diagnostics.Process.TotalProcessorTime"/>, which Linux reports in 10 ms ticks, it resolves one call.
/// </summary>
public static partial class ProcessCpuTime
{
    private const int ClockProcessCpuTimeId = 2;
    private const int ClockThreadCpuTimeId = 3;

    /// <summary>Gets the process's CPU time so far, in nanoseconds.</summary>
    /// <returns>The CPU time; throws where the clock is missing (not Linux).</returns>
    public static long Nanoseconds() =>
        ClockGetTime(ClockProcessCpuTimeId, out var time) == 0
            ? (time.Seconds * 1_000_000_000) + time.Nanoseconds
            : throw new InvalidOperationException("clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed.");

    /// <summary>
    /// Gets the calling thread's CPU time so far, in nanoseconds (<c>CLOCK_THREAD_CPUTIME_ID</c>): time the thread ran, so
    /// a batch of synchronous calls is priced without the time other processes on a loaded machine held the core.
    /// </summary>
    /// <returns>The CPU time; throws where the clock is missing (not Linux).</returns>
    public static long ThreadNanoseconds() =>
        ClockGetTime(ClockThreadCpuTimeId, out var time) == 0
            ? (time.Seconds * 1_000_000_000) + time.Nanoseconds
            : throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed.");

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int ClockGetTime(int clockId, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
