using System.Diagnostics;

namespace CachePatterns.Redis.Tests.Support;

/// <summary>Bounded waits on a condition (no Thread.Sleep, no open-ended loops).</summary>
public static class Wait
{
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > timeout)
            {
                Assert.Fail($"Timed out after {timeout.TotalSeconds:0.#} s waiting until {what}.");
            }

            await Task.Delay(20);
        }
    }
}

/// <summary>Records what a store reports.</summary>
public sealed class RecordingObserver : CachePatterns.Providers.ICacheStoreObserver
{
    public List<(string Key, Exception Exception)> Corrupt { get; } = [];

    public List<(CachePatterns.Providers.CacheEvictionReason Reason, int Count)> Evicted { get; } = [];

    public void OnCorruptEntry(string key, Exception exception)
    {
        lock (Corrupt)
        {
            Corrupt.Add((key, exception));
        }
    }

    public void OnEvicted(CachePatterns.Providers.CacheEvictionReason reason, int count)
    {
        lock (Evicted)
        {
            Evicted.Add((reason, count));
        }
    }
}
