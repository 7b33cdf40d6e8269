using System.Diagnostics;

namespace SessionStore.Tests.Support;

/// <summary>Bounded waits on a condition (no Thread.Sleep, no open-ended loops).</summary>
public static class Wait
{
    public static async Task<bool> UntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > timeout)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return true;
    }
}
