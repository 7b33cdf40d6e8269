using CachePatterns.Memcached.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Memcached.Tests;

/// <summary>
/// A key longer than memcached's 250 bytes (with <c>HashInvalidKeys</c> off) fails a write before the database is written, in both strategies (the
/// cache-aside write used to write the row, then swallow the refusal of its invalidation).
/// </summary>
public sealed class KeyValidationOrderTests(ThreeMemcachedFixture fixture) : IClassFixture<ThreeMemcachedFixture>
{
    [Theory]
    [InlineData(CacheStrategyKind.CacheAside)]
    [InlineData(CacheStrategyKind.WriteThrough)]
    public async Task A_key_too_long_for_memcached_fails_the_write_before_the_database_has_it(CacheStrategyKind kind)
    {
        fixture.EnsureRunning();
        var writes = 0;
        var writer = new Writer(() => Interlocked.Increment(ref writes));
        await using var services = new ServiceCollection()
            .AddCachePatterns()
            .UseMemcached(o =>
            {
                foreach (var address in fixture.Addresses)
                {
                    o.Servers.Add(address);
                }

                // The default hashes such keys; refusing them is where the order of the steps matters.
                o.HashInvalidKeys = false;
            })
            .AddStrategy<string, string>(kind, _ => writer, _ => writer)
            .Services.BuildServiceProvider();
        var strategy = services.GetRequiredService<ICacheStrategy<string, string>>();
        var key = new string('k', 300);

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => strategy.WriteAsync(key, "value").AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => strategy.RemoveAsync(key).AsTask());

        Assert.Contains("memcached key", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, Volatile.Read(ref writes));
    }

    private sealed class Writer(Action wrote) : ICacheLoader<string, string>, ICacheWriter<string, string>
    {
        public ValueTask<LoadResult<string>> LoadAsync(string key, CancellationToken cancellationToken) => ValueTask.FromResult(LoadResult.NotFound<string>());

        public ValueTask WriteAsync(string key, string value, CancellationToken cancellationToken)
        {
            wrote();
            return ValueTask.CompletedTask;
        }

        public ValueTask DeleteAsync(string key, CancellationToken cancellationToken)
        {
            wrote();
            return ValueTask.CompletedTask;
        }
    }
}
