using CachePatterns.Strategies;
using CachePatterns.Tests.Support;

namespace CachePatterns.Tests.Strategies;

public class ExpirationTests
{
    [Fact]
    public async Task Absolute_expiration_serves_the_entry_before_and_reloads_after()
    {
        using var host = TestCacheHost.CacheAside(o => o.Expiration = TimeSpan.FromMinutes(5));
        host.Database.Seed(1, "v1");
        await host.Strategy.GetAsync(1);
        host.Database.Seed(1, "v2");

        host.Time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromTicks(1));
        Assert.Equal("v1", await host.Strategy.GetAsync(1));
        Assert.Equal(1, host.Database.LoadCount);

        host.Time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal("v2", await host.Strategy.GetAsync(1));
        Assert.Equal(2, host.Database.LoadCount);
    }

    [Fact]
    public async Task Absolute_expiration_is_not_extended_by_reads()
    {
        using var host = TestCacheHost.CacheAside(o => o.Expiration = TimeSpan.FromMinutes(1));
        host.Database.Seed(1, "v1");
        await host.Strategy.GetAsync(1);

        for (var i = 0; i < 5; i++)
        {
            host.Time.Advance(TimeSpan.FromSeconds(10));
            await host.Strategy.GetAsync(1);
        }

        Assert.Equal(1, host.Database.LoadCount);
        host.Time.Advance(TimeSpan.FromSeconds(10));
        await host.Strategy.GetAsync(1);
        Assert.Equal(2, host.Database.LoadCount);
    }

    [Fact]
    public async Task Sliding_expiration_is_renewed_by_reads_and_expires_when_idle()
    {
        using var host = TestCacheHost.CacheAside(o =>
        {
            o.Expiration = TimeSpan.FromHours(1);
            o.SlidingExpiration = TimeSpan.FromMinutes(1);
        });
        host.Database.Seed(1, "v1");
        await host.Strategy.GetAsync(1);

        for (var i = 0; i < 10; i++)
        {
            // Ten minutes of reads, each within the one-minute window of the previous one.
            host.Time.Advance(TimeSpan.FromSeconds(59));
            Assert.Equal("v1", await host.Strategy.GetAsync(1));
        }

        Assert.Equal(1, host.Database.LoadCount);

        host.Time.Advance(TimeSpan.FromMinutes(1));
        await host.Strategy.GetAsync(1);
        Assert.Equal(2, host.Database.LoadCount);
    }

    [Fact]
    public async Task Sliding_expiration_never_outlives_the_absolute_expiration()
    {
        using var host = TestCacheHost.CacheAside(o =>
        {
            o.Expiration = TimeSpan.FromMinutes(2);
            o.SlidingExpiration = TimeSpan.FromMinutes(1);
        });
        host.Database.Seed(1, "v1");
        await host.Strategy.GetAsync(1);

        for (var i = 0; i < 3; i++)
        {
            host.Time.Advance(TimeSpan.FromSeconds(40));
            await host.Strategy.GetAsync(1);
        }

        // 120 s after the fill: the entry was read every 40 s but its absolute expiration has come.
        Assert.Equal(2, host.Database.LoadCount);
    }

    [Fact]
    public void Jitter_spreads_expirations_within_the_configured_fraction()
    {
        using var host = TestCacheHost.CacheAside(o =>
        {
            o.Expiration = TimeSpan.FromSeconds(100);
            o.SlidingExpiration = TimeSpan.FromSeconds(30);
            o.Jitter = 0.2;
        });
        var strategy = (CacheStrategy<int, string>)host.Strategy;

        var resolved = Enumerable.Range(0, 1000).Select(_ => strategy.ResolveEntryOptions(null, found: true)).ToList();
        var absolutes = resolved.Select(r => r.AbsoluteExpiration!.Value).ToList();

        Assert.All(absolutes, a => Assert.InRange(a, TimeSpan.FromSeconds(80), TimeSpan.FromSeconds(120)));
        Assert.True(absolutes.Distinct().Count() > 100, $"only {absolutes.Distinct().Count()} distinct expirations");
        Assert.Contains(absolutes, a => a < TimeSpan.FromSeconds(95));
        Assert.Contains(absolutes, a => a > TimeSpan.FromSeconds(105));
        Assert.All(resolved, r => Assert.Equal(TimeSpan.FromSeconds(30), r.SlidingExpiration));
    }

    [Fact]
    public void Jitter_also_spreads_per_entry_and_negative_expirations()
    {
        using var host = TestCacheHost.CacheAside(o =>
        {
            o.NegativeCacheExpiration = TimeSpan.FromSeconds(10);
            o.Jitter = 0.5;
        });
        var strategy = (CacheStrategy<int, string>)host.Strategy;
        var perEntry = CacheEntryOptions.ExpireAfter(TimeSpan.FromSeconds(40));

        var negative = Enumerable.Range(0, 200).Select(_ => strategy.ResolveEntryOptions(null, found: false).AbsoluteExpiration!.Value).ToList();
        var entry = Enumerable.Range(0, 200).Select(_ => strategy.ResolveEntryOptions(perEntry, found: true).AbsoluteExpiration!.Value).ToList();

        Assert.All(negative, a => Assert.InRange(a, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15)));
        Assert.All(entry, a => Assert.InRange(a, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(60)));
        Assert.True(negative.Distinct().Count() > 1);
        Assert.True(entry.Distinct().Count() > 1);
    }

    [Fact]
    public void Zero_jitter_gives_exact_expirations()
    {
        using var host = TestCacheHost.CacheAside(o =>
        {
            o.Expiration = TimeSpan.FromSeconds(100);
            o.NegativeCacheExpiration = TimeSpan.FromSeconds(7);
            o.FailSafeMaxStaleness = TimeSpan.FromMinutes(3);
        });
        var strategy = (CacheStrategy<int, string>)host.Strategy;

        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(new Providers.StoreEntryOptions(TimeSpan.FromSeconds(100), null, TimeSpan.FromMinutes(3)), strategy.ResolveEntryOptions(null, found: true));
            Assert.Equal(new Providers.StoreEntryOptions(TimeSpan.FromSeconds(7), null, TimeSpan.Zero), strategy.ResolveEntryOptions(null, found: false));
        }
    }

    [Fact]
    public async Task Jittered_entries_stored_together_do_not_all_expire_together()
    {
        using var host = TestCacheHost.CacheAside(o =>
        {
            o.Expiration = TimeSpan.FromSeconds(100);
            o.Jitter = 0.1;
        });
        var keys = Enumerable.Range(0, 50).ToArray();
        foreach (var key in keys)
        {
            host.Database.Seed(key, $"v{key}");
        }

        await host.Strategy.GetManyAsync(keys);

        host.Time.Advance(TimeSpan.FromSeconds(90) - TimeSpan.FromTicks(1));
        await host.Strategy.GetManyAsync(keys);
        Assert.Single(host.Database.BulkLoads);

        host.Time.Advance(TimeSpan.FromSeconds(10));
        await host.Strategy.GetManyAsync(keys);
        var reloaded = host.Database.BulkLoads[1].Length;
        Assert.InRange(reloaded, 1, keys.Length - 1);

        host.Time.Advance(TimeSpan.FromSeconds(10));
        await host.Strategy.GetManyAsync(keys);
        Assert.Equal(keys.Length - reloaded, host.Database.BulkLoads[2].Length);
    }
}
