namespace CachePatterns.Tests.Support;

/// <summary>
/// Tag invalidation across OS processes, the same on every remote provider: <c>cache</c> is this process's
/// ad-hoc cache, <c>other</c> a <c>CachePatterns.ConsistencyHost</c> child on the same servers and namespace.
/// </summary>
public static class CrossProcessTagScenario
{
    /// <summary>
    /// An invalidation in either process makes the entry a miss in the other, and a load this process began before the
    /// other process invalidated its tag is not stored: the fill is fenced and the flight loads again.
    /// </summary>
    public static async Task RunAsync(ICache cache, ConsistencyHostRun.TagHost other)
    {
        await cache.SetAsync("p1", "v1", new CacheEntryOptions { Tags = ["t1"] });
        Assert.Equal("v1", await other.PeekAsync("p1"));
        await other.InvalidateTagAsync("t1");
        Assert.False((await cache.TryGetAsync<string>("p1")).Found);

        await other.SetTaggedAsync("p2", "v2", "t2");
        Assert.Equal((true, "v2"), await cache.TryGetAsync<string>("p2"));
        await cache.InvalidateTagAsync("t2");
        Assert.Null(await other.PeekAsync("p2"));

        var loads = 0;
        var loading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var read = cache.GetOrLoadAsync<int, string>(
            "p3",
            0,
            async (_, _) =>
            {
                var n = Interlocked.Increment(ref loads);
                if (n == 1)
                {
                    loading.SetResult();
                    await release.Task;
                }

                return $"load{n}";
            },
            new CacheEntryOptions { Tags = ["t3"] }).AsTask();
        await loading.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await other.InvalidateTagAsync("t3");
        release.SetResult();
        Assert.Equal("load2", await read.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(2, loads);
        Assert.Equal("load2", await other.PeekAsync("p3"));
    }
}
