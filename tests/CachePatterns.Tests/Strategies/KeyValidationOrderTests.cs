using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Tests.Strategies;

/// <summary>
/// A key the provider cannot hold fails a write before the database is written, in both strategies: the cache-aside
/// write used to write the row and then swallow the provider's refusal of the key.
/// </summary>
public sealed class KeyValidationOrderTests
{
    [Theory]
    [InlineData(CacheStrategyKind.CacheAside)]
    [InlineData(CacheStrategyKind.WriteThrough)]
    public async Task A_key_too_long_for_the_provider_fails_the_write_before_the_database_has_it(CacheStrategyKind kind)
    {
        var database = new Rows();
        await using var services = new ServiceCollection()
            .AddCachePatterns()
            .UseMemoryProvider(o => o.MaxKeyLength = 16)
            .AddStrategy<string, string>(kind, _ => database, _ => database)
            .Services.BuildServiceProvider();
        var strategy = services.GetRequiredService<ICacheStrategy<string, string>>();
        var key = new string('k', 17);

        var write = await Assert.ThrowsAsync<ArgumentException>(() => strategy.WriteAsync(key, "value").AsTask());
        var remove = await Assert.ThrowsAsync<ArgumentException>(() => strategy.RemoveAsync(key).AsTask());

        Assert.Contains("17 characters", write.Message, StringComparison.Ordinal);
        Assert.Contains("17 characters", remove.Message, StringComparison.Ordinal);
        Assert.Equal(0, database.Writes);
    }

    private sealed class Rows : ICacheLoader<string, string>, ICacheWriter<string, string>
    {
        private int _writes;

        public int Writes => Volatile.Read(ref _writes);

        public ValueTask<LoadResult<string>> LoadAsync(string key, CancellationToken cancellationToken) => ValueTask.FromResult(LoadResult.NotFound<string>());

        public ValueTask WriteAsync(string key, string value, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _writes);
            return ValueTask.CompletedTask;
        }

        public ValueTask DeleteAsync(string key, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _writes);
            return ValueTask.CompletedTask;
        }
    }
}
