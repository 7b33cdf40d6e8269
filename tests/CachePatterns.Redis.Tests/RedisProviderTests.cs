using CachePatterns.Redis.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace CachePatterns.Redis.Tests;

/// <summary>Options, DI registration, lazy connection and the health check.</summary>
[Collection(RedisServerGroup.Name)]
public sealed class RedisProviderTests(RedisServer redis)
{
    [Fact]
    public void Provider_is_out_of_process_and_named_redis()
    {
        using var provider = redis.CreateProvider();
        Assert.False(provider.IsInProcess);
        Assert.Equal("redis", provider.Name);
    }

    [Theory]
    [InlineData(null, "set exactly one of Configuration")]
    [InlineData("127.0.0.1:6379,password=hunter2,connectTimeout=soon", "Configuration is not a valid StackExchange.Redis configuration string")]
    [InlineData("password=hunter2", "names no endpoint")]
    public void Bad_configuration_is_refused_with_a_message_naming_the_setting_but_not_the_password(string? configuration, string expected)
    {
        var ex = Assert.Throws<OptionsValidationException>(() => new RedisCacheProvider(Options.Create(new RedisCacheProviderOptions { Configuration = configuration })));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Both_a_string_and_a_factory_are_refused()
    {
        var ex = Assert.Throws<OptionsValidationException>(() => new RedisCacheProvider(Options.Create(new RedisCacheProviderOptions
        {
            Configuration = redis.Configuration,
            ConfigurationOptions = () => StackExchange.Redis.ConfigurationOptions.Parse(redis.Configuration),
        })));
        Assert.Contains("exactly one", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_are_validated_when_the_host_starts_naming_the_cache_and_every_bad_setting()
    {
        using var services = new ServiceCollection()
            .AddCachePatterns()
            .UseRedis(o =>
            {
                o.Configuration = redis.Configuration;
                o.LeaseTimeout = TimeSpan.Zero;
                o.MaxValueBytes = 0;
                o.Database = -2;
            })
            .Services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("RedisCacheProviderOptions 'default': LeaseTimeout", ex.Message, StringComparison.Ordinal);
        Assert.Contains("MaxValueBytes", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Database", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Configuration_options_factory_is_used_and_a_database_number_respected()
    {
        var instance = redis.NewInstanceName();
        using var provider = new RedisCacheProvider(Options.Create(new RedisCacheProviderOptions
        {
            ConfigurationOptions = () => StackExchange.Redis.ConfigurationOptions.Parse(redis.Configuration),
            Database = 3,
            InstanceName = instance,
        }));
        var store = RedisServer.CreateStore(provider);
        await store.SetAsync("k", Providers.CacheValue<string>.Of("v"), new Providers.StoreEntryOptions(TimeSpan.FromMinutes(1)), default);
        Assert.True(await redis.Raw.GetDatabase(3).KeyExistsAsync($"{{{instance}P:k}}"));
        Assert.False(await redis.Database.KeyExistsAsync($"{{{instance}P:k}}"));
    }

    [Fact]
    public async Task App_starts_while_redis_is_down_reads_go_to_the_loader_and_health_is_unhealthy_without_the_password()
    {
        // A port nothing listens on.
        int closedPort;
        using (var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            closedPort = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }

        var logs = new FakeLogCollector();
        var services = new ServiceCollection()
            .AddLogging(b => b.AddProvider(new FakeLoggerProvider(logs)).SetMinimumLevel(LogLevel.Debug))
            .AddCachePatterns()
            .UseRedis(o => o.Configuration = $"127.0.0.1:{closedPort},password=hunter2,connectTimeout=300,connectRetry=1")
            .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(2))
            .AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => new ConstantLoader())
            .Services.BuildServiceProvider();
        await using (services)
        {
            services.GetRequiredService<IStartupValidator>().Validate();
            var strategy = services.GetRequiredService<ICacheStrategy<int, string>>();
            Assert.Equal("loaded-7", await strategy.GetAsync(7));

            var provider = services.GetRequiredKeyedService<Providers.ICacheProvider>(CachePatternsBuilder.DefaultCacheName);
            var health = await provider.CheckHealthAsync();
            Assert.False(health.IsHealthy);
            Assert.DoesNotContain("hunter2", health.Description, StringComparison.Ordinal);
            Assert.All(logs.GetSnapshot(), r => Assert.DoesNotContain("hunter2", r.Message, StringComparison.Ordinal));
            Assert.Contains(logs.GetSnapshot(), r => r.Message.Contains($"127.0.0.1:{closedPort}", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Health_check_pings_and_reports_memory_policy_and_evictions_warning_on_noeviction_with_a_limit()
    {
        using var provider = redis.CreateProvider();
        var server = redis.Raw.GetServer(redis.Raw.GetEndPoints()[0]);
        var health = await provider.CheckHealthAsync();
        Assert.True(health.IsHealthy, health.Description);
        Assert.Equal(0L, health.Data!["evicted_keys"]);
        Assert.Equal("noeviction", health.Data["maxmemory_policy"]);
        Assert.DoesNotContain("Warning", health.Description, StringComparison.Ordinal);

        await server.ConfigSetAsync("maxmemory", "512mb");
        try
        {
            health = await provider.CheckHealthAsync();
            Assert.True(health.IsHealthy);
            Assert.Contains("noeviction", health.Description, StringComparison.Ordinal);
            Assert.Equal(512L * 1024 * 1024, health.Data!["maxmemory"]);
        }
        finally
        {
            await server.ConfigSetAsync("maxmemory", "0");
        }
    }

    [Fact]
    public async Task A_hit_after_the_server_forgot_its_scripts_loads_them_again_and_still_hits()
    {
        using var provider = redis.CreateProvider();
        var store = RedisServer.CreateStore(provider);
        await store.SetAsync("k", Providers.CacheValue<string>.Of("v"), new Providers.StoreEntryOptions(TimeSpan.FromMinutes(1)), default);
        Assert.Equal("v", (await store.GetAsync("k", false, default)).Value.Value);

        await redis.Raw.GetServer(redis.Raw.GetEndPoints()[0]).ScriptFlushAsync();
        var lookup = await store.GetAsync("k", false, default);
        Assert.Equal(Providers.CacheLookupStatus.Hit, lookup.Status);
        Assert.Equal("v", lookup.Value.Value);
        Assert.Equal("v", (await store.GetAsync("k", false, default)).Value.Value);
    }

    private sealed class ConstantLoader : ICacheLoader<int, string>
    {
        public ValueTask<LoadResult<string>> LoadAsync(int key, CancellationToken cancellationToken) =>
            ValueTask.FromResult(LoadResult.Found($"loaded-{key}"));

        public ValueTask<IReadOnlyDictionary<int, LoadResult<string>>> LoadManyAsync(IReadOnlyCollection<int> keys, CancellationToken cancellationToken) =>
            ValueTask.FromResult<IReadOnlyDictionary<int, LoadResult<string>>>(keys.ToDictionary(k => k, k => LoadResult.Found($"loaded-{k}")));
    }
}
