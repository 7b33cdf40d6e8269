using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Moq;

namespace CachePatterns.Tests.Validation;

/// <summary>Bad keys, bad entry options and missing loader/writer are refused with exceptions that say why.</summary>
public class ArgumentValidationTests
{
    public static TheoryData<string> StrategyOperations => ["get", "get-or-load", "get-many", "write", "remove", "invalidate"];

    [Theory]
    [MemberData(nameof(StrategyOperations))]
    public async Task Null_key_throws_ArgumentNullException_without_touching_the_database(string operation)
    {
        var (host, loader, writer) = StringKeyedHost();
        using var _ = host;
        var strategy = host.Services.GetRequiredService<ICacheStrategy<string, string>>();

        var ex = await Assert.ThrowsAsync<ArgumentNullException>(async () => await Invoke(strategy, operation, null!));

        Assert.Contains("must not be null", ex.Message, StringComparison.Ordinal);
        loader.VerifyNoOtherCalls();
        writer.VerifyNoOtherCalls();
    }

    [Theory]
    [MemberData(nameof(StrategyOperations))]
    public async Task Empty_key_throws_ArgumentException_without_touching_the_database(string operation)
    {
        var (host, loader, writer) = StringKeyedHost();
        using var _ = host;
        var strategy = host.Services.GetRequiredService<ICacheStrategy<string, string>>();

        var ex = await Assert.ThrowsAsync<ArgumentException>(async () => await Invoke(strategy, operation, string.Empty));

        Assert.Contains("must not be empty", ex.Message, StringComparison.Ordinal);
        loader.VerifyNoOtherCalls();
        writer.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task Ad_hoc_cache_refuses_null_and_empty_keys()
    {
        using var host = TestCacheHost.Create(_ => { });
        var cache = host.Services.GetRequiredService<ICache>();
        var loads = 0;

        await Assert.ThrowsAsync<ArgumentNullException>(async () => await cache.GetOrLoadAsync(null!, _ => ValueTask.FromResult(++loads)));
        await Assert.ThrowsAsync<ArgumentException>(async () => await cache.GetOrLoadAsync(string.Empty, _ => ValueTask.FromResult(++loads)));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await cache.SetAsync(null!, 1));
        await Assert.ThrowsAsync<ArgumentException>(async () => await cache.SetAsync(string.Empty, 1));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await cache.TryGetAsync<int>(null!));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await cache.RemoveAsync(null!));
        await Assert.ThrowsAsync<ArgumentException>(async () => await cache.RemoveAsync(string.Empty));
        Assert.Equal(0, loads);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void Non_positive_Expiration_throws_ArgumentOutOfRangeException_naming_the_property(int seconds)
    {
        var value = TimeSpan.FromSeconds(seconds);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new CacheEntryOptions { Expiration = value });
        var factory = Assert.Throws<ArgumentOutOfRangeException>(() => CacheEntryOptions.ExpireAfter(value));

        Assert.Equal("Expiration", ex.ParamName);
        Assert.Equal(value, ex.ActualValue);
        Assert.Contains(value.ToString(), ex.Message, StringComparison.Ordinal);
        Assert.Equal("Expiration", factory.ParamName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void Non_positive_SlidingExpiration_throws_ArgumentOutOfRangeException_naming_the_property(int seconds)
    {
        var value = TimeSpan.FromSeconds(seconds);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new CacheEntryOptions { SlidingExpiration = value });
        var factory = Assert.Throws<ArgumentOutOfRangeException>(() => CacheEntryOptions.ExpireAfterIdle(value));

        Assert.Equal("SlidingExpiration", ex.ParamName);
        Assert.Equal(value, ex.ActualValue);
        Assert.Equal("SlidingExpiration", factory.ParamName);
    }

    [Fact]
    public void Positive_and_null_entry_expirations_are_kept()
    {
        var options = new CacheEntryOptions { Expiration = TimeSpan.FromTicks(1), SlidingExpiration = null };

        Assert.Equal(TimeSpan.FromTicks(1), options.Expiration);
        Assert.Null(options.SlidingExpiration);
        Assert.Equal(TimeSpan.FromMinutes(2), CacheEntryOptions.ExpireAfterIdle(TimeSpan.FromMinutes(2)).SlidingExpiration);
    }

    [Fact]
    public async Task Write_and_remove_without_a_writer_throw_InvalidOperationException_with_a_clear_message()
    {
        using var host = TestCacheHost.Create(b => b.AddStrategy<int, string>(CacheStrategyKind.WriteThrough, sp => sp.GetRequiredService<TestDatabase>()));
        host.Database.Seed(1, "one");
        await host.Strategy.GetAsync(1);

        var write = await Assert.ThrowsAsync<InvalidOperationException>(async () => await host.Strategy.WriteAsync(1, "new"));
        var remove = await Assert.ThrowsAsync<InvalidOperationException>(async () => await host.Strategy.RemoveAsync(1));

        Assert.Contains("'String' has no writer", write.Message, StringComparison.Ordinal);
        Assert.Contains("ICacheWriter<Int32, String>", write.Message, StringComparison.Ordinal);
        Assert.Equal(write.Message, remove.Message);

        // Nothing was touched: the cached value is still served.
        Assert.Equal("one", await host.Strategy.GetAsync(1));
        Assert.Equal(1, host.Database.LoadCount);
    }

    [Fact]
    public async Task Cache_aside_over_a_loader_that_is_not_a_writer_has_no_writer()
    {
        var loader = new Mock<ICacheLoader<int, string>>();
        using var host = TestCacheHost.Create(
            b => b.AddCacheAside<int, string, ICacheLoader<int, string>>(),
            s => s.AddSingleton(loader.Object));

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () => await host.Strategy.WriteAsync(1, "new"));

        Assert.Contains("no writer", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_without_a_loader_throws_InvalidOperationException_but_a_factory_works()
    {
        using var host = TestCacheHost.Create(b => b.AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => null));

        var get = await Assert.ThrowsAsync<InvalidOperationException>(async () => await host.Strategy.GetAsync(1));
        var many = await Assert.ThrowsAsync<InvalidOperationException>(async () => await host.Strategy.GetManyAsync([1]));
        var loaded = await host.Strategy.GetOrLoadAsync(1, (k, _) => ValueTask.FromResult(LoadResult.Found("from factory")));

        Assert.Contains("has no loader", get.Message, StringComparison.Ordinal);
        Assert.Equal(get.Message, many.Message);
        Assert.Equal("from factory", loaded);
    }

    private static (TestCacheHost Host, Mock<ICacheLoader<string, string>> Loader, Mock<ICacheWriter<string, string>> Writer) StringKeyedHost()
    {
        var loader = new Mock<ICacheLoader<string, string>>(MockBehavior.Strict);
        var writer = new Mock<ICacheWriter<string, string>>(MockBehavior.Strict);
        var host = TestCacheHost.Create(b => b.AddStrategy<string, string>(CacheStrategyKind.WriteThrough, _ => loader.Object, _ => writer.Object));
        return (host, loader, writer);
    }

    private static async Task Invoke(ICacheStrategy<string, string> strategy, string operation, string key)
    {
        switch (operation)
        {
            case "get":
                await strategy.GetAsync(key);
                break;
            case "get-or-load":
                await strategy.GetOrLoadAsync(key, (_, _) => ValueTask.FromResult(LoadResult.Found("x")));
                break;
            case "get-many":
                await strategy.GetManyAsync(["fine", key]);
                break;
            case "write":
                await strategy.WriteAsync(key, "x");
                break;
            case "remove":
                await strategy.RemoveAsync(key);
                break;
            case "invalidate":
                await strategy.InvalidateAsync(key);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(operation), operation, null);
        }
    }
}
