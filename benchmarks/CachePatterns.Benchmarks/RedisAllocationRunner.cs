using System.Globalization;
using CachePatterns.Providers;
using CachePatterns.Redis;
using CachePatterns.Serialization;
using Microsoft.Extensions.Options;

namespace CachePatterns.Benchmarks;

/// <summary>
/// The <c>redisalloc</c> mode: bytes allocated per sequential hit (all threads, <c>GC.GetTotalAllocatedBytes</c>) for
/// raw StackExchange.Redis, the Redis provider's store alone, and the strategy (store + the core's resilience
/// pipeline + strategy), to tell where the hit path's allocations come from; and the thread-pool work items per hit
/// (an extra hop between StackExchange.Redis's completion and the caller would show as one more).
/// </summary>
public static class RedisAllocationRunner
{
    private const int Calls = 20_000;

    public static async Task<int> RunAsync(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        await using var fixture = await RedisHitFixture.CreateAsync();
        using var provider = fixture.CreateProvider();
        var store = await RedisHitFixture.CreateWarmStoreAsync(provider);
        using var cancellable = new CancellationTokenSource();
        var rows = new (string Name, Func<ValueTask> Call)[]
        {
            ("raw SE.Redis StringGetAsync + STJ", async () => RedisHitFixture.Deserialize(await fixture.RawDatabase.StringGetAsync(RedisHitFixture.RawKey))),
            ("Redis provider store GetAsync alone", async () => await store.GetAsync(RedisHitFixture.Key, false, default)),
            ("Redis provider store GetAsync alone, cancellable token", async () => await store.GetAsync(RedisHitFixture.Key, false, cancellable.Token)),
            ("CachePatterns ICacheStrategy.GetAsync (store + resilience + strategy)", async () => await fixture.Strategy.GetAsync(RedisHitFixture.Key)),
        };
        output.WriteLine("| path | bytes allocated per hit | thread-pool work items per hit |");
        output.WriteLine("|---|---:|---:|");
        foreach (var (name, call) in rows)
        {
            for (var i = 0; i < 2_000; i++)
            {
                await call();
            }

            var items = ThreadPool.CompletedWorkItemCount;
            var before = GC.GetTotalAllocatedBytes(precise: true);
            for (var i = 0; i < Calls; i++)
            {
                await call();
            }

            var perCall = (GC.GetTotalAllocatedBytes(precise: true) - before) / (double)Calls;
            var itemsPerCall = (ThreadPool.CompletedWorkItemCount - items) / (double)Calls;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {perCall:N0} | {itemsPerCall:N2} |"));
        }

        return 0;
    }
}
