using System.Diagnostics;
using CachePatterns.Memcached.Internal;
using CachePatterns.Memcached.Tests.Support;
using CachePatterns.Providers;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CachePatterns.Memcached.Tests;

/// <summary>
/// A lease (placeholder, refresh claim, write registration) granted to a caller that gave up is given back: concurrent
/// callers cancel at random moments, so every await of the lease paths is hit, and afterwards no key is held.
/// </summary>
public sealed class LeaseCancellationTests(ThreeMemcachedFixture fixture) : IClassFixture<ThreeMemcachedFixture>
{
    private const int Callers = 600;

    private MemcachedCacheProvider CreateProvider(TimeProvider? time = null) =>
        new(Options.Create(Clients.Options(fixture.Addresses)), time);

    private static ICacheStore<string, string> Store(MemcachedCacheProvider provider) =>
        provider.CreateStore(new CacheStoreDescriptor<string, string>("Test", "Test:", new Utf8Serializer()));

    [Fact]
    public async Task Cold_reads_cancelled_at_any_moment_leave_no_placeholder_behind()
    {
        fixture.EnsureRunning();
        using var provider = CreateProvider();
        var store = Store(provider);
        var prefix = Guid.NewGuid().ToString("N");
        var keys = Enumerable.Range(0, Callers).Select(i => $"{prefix}:{i}").ToArray();
        await store.GetManyAsync(keys.Take(3).ToArray(), false, default); // connections open

        var (cancelled, returned) = await RunCancelledAsync(keys, (key, token) => store.GetAsync(key, true, token), store);
        Assert.True(cancelled > Callers / 10, $"only {cancelled} of {Callers} reads were cancelled in flight; the test did not exercise cancellation");
        Assert.True(returned > 0, "no read finished before its cancellation; the test did not exercise the other side");

        using var raw = Clients.Create(fixture.Addresses);
        await Poll.UntilAsync(
            async () => (await Held(raw, keys.Select(k => "Test:" + k))) == 0,
            "every cancelled read's placeholder to be given back",
            TimeSpan.FromSeconds(10));

        // And the next reader of any of those keys gets the lease at once (no lease wait, in any process).
        using var other = CreateProvider();
        var lookups = await Store(other).GetManyAsync(keys, true, default);
        Assert.All(lookups, l => Assert.True(l.Lease.IsGranted));
    }

    [Fact]
    public async Task Stale_reads_cancelled_at_any_moment_leave_no_refresh_claim_behind()
    {
        fixture.EnsureRunning();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var provider = CreateProvider(time);
        var store = Store(provider);
        var prefix = Guid.NewGuid().ToString("N");
        var keys = Enumerable.Range(0, Callers).Select(i => $"{prefix}:{i}").ToArray();
        var retained = new StoreEntryOptions(TimeSpan.FromMinutes(1), null, TimeSpan.FromMinutes(10));
        await Task.WhenAll(keys.Select(async k => await store.SetAsync(k, CacheValue<string>.Of("old"), retained, default)));
        time.Advance(TimeSpan.FromMinutes(2));

        var (cancelled, _) = await RunCancelledAsync(keys, (key, token) => store.GetAsync(key, true, token), store);
        Assert.True(cancelled > Callers / 10, $"only {cancelled} of {Callers} stale reads were cancelled in flight");

        using var raw = Clients.Create(fixture.Addresses);
        await Poll.UntilAsync(
            async () =>
            {
                var claims = await Task.WhenAll(keys.Select(k =>
                    raw.ExecuteOnNodeOfAsync("Test:" + k, [new MetaCommand("mg", raw.CompanionKey("Test:" + k, MemcachedCacheStore<string, string>.RefreshRole), "v")], default)));
                return claims.All(c => c[0].Status == MetaStatus.Miss);
            },
            "every cancelled stale read's refresh claim to be given back",
            TimeSpan.FromSeconds(10));
        var lookups = await Task.WhenAll(keys.Select(async k => await store.GetAsync(k, true, default)));
        Assert.All(lookups, l => Assert.Equal((CacheLookupStatus.Stale, true), (l.Status, l.Lease.IsGranted)));
    }

    [Fact]
    public async Task Write_registrations_cancelled_at_any_moment_are_withdrawn()
    {
        fixture.EnsureRunning();
        using var provider = CreateProvider();
        var store = Store(provider);
        var prefix = Guid.NewGuid().ToString("N");
        var keys = Enumerable.Range(0, Callers / 2).Select(i => $"{prefix}:{i}").ToArray();
        var (cancelled, _) = await RunCancelledAsync(
            keys,
            async (key, token) =>
            {
                var write = await store.BeginWriteAsync(key, token);
                await store.AbortWriteAsync(key, write, default); // a caller that was not cancelled ends its write
                return CacheLookup<string>.Miss;
            },
            store);
        Assert.True(cancelled > keys.Length / 10, $"only {cancelled} of {keys.Length} registrations were cancelled in flight");

        using var raw = Clients.Create(fixture.Addresses);
        await Poll.UntilAsync(
            async () => (await Held(raw, keys.Select(k => "Test:" + k))) == 0,
            "every cancelled write registration to be withdrawn",
            TimeSpan.FromSeconds(10));
    }

    /// <summary>
    /// Runs one call per key, all at once, each cancelled after a random spin (0 to a few hundred microseconds); a call
    /// that returns a lease anyway gives it back as a well-behaved caller would.
    /// </summary>
    private static async Task<(int Cancelled, int Returned)> RunCancelledAsync(
        string[] keys, Func<string, CancellationToken, ValueTask<CacheLookup<string>>> call, ICacheStore<string, string> store)
    {
        var cancelled = 0;
        var returned = 0;
        var ticksPerMicrosecond = Stopwatch.Frequency / 1_000_000.0;
        await Task.WhenAll(keys.Select((key, i) => Task.Run(async () =>
        {
            using var cts = new CancellationTokenSource();

            // Most callers give up within 0.4 ms, spinning so every await of the lease path is hit; every tenth gives up after
            // 5–100 ms (a timer, no spinning), so some reads also finish first on a slow machine (with 0.4 ms for
            // all, a loaded run once saw none finish).
            Task canceller;
            if (i % 10 == 0)
            {
                cts.CancelAfter(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 100)));
                canceller = Task.CompletedTask;
            }
            else
            {
                var delay = (long)(Random.Shared.Next(0, 400) * ticksPerMicrosecond);
                canceller = Task.Run(() =>
                {
                    var start = Stopwatch.GetTimestamp();
                    while (Stopwatch.GetTimestamp() - start < delay)
                    {
                        Thread.SpinWait(10);
                    }

                    cts.Cancel();
                });
            }

            try
            {
                var lookup = await call(key, cts.Token);
                Interlocked.Increment(ref returned);
                if (lookup.Lease.IsGranted)
                {
                    await store.ReleaseLeaseAsync(key, lookup.Lease, default);
                }
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref cancelled);
            }

            await canceller;
        })));
        return (cancelled, returned);
    }

    /// <summary>How many keys hold a placeholder or a write marker (anything a lease or write left behind).</summary>
    private static async Task<int> Held(MemcachedClient raw, IEnumerable<string> keys)
    {
        var results = await raw.GetManyAsync(keys.ToArray(), "v", default);
        return results.Count(r => r.Response!.Status == MetaStatus.Value);
    }
}
