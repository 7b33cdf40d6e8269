using CachePatterns.Providers;
using CachePatterns.Redis.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace CachePatterns.Redis.Tests;

/// <summary>
/// A TLS-only redis-server with a certificate from a private CA the test makes with openssl (plus a second, untrusted CA),
/// and a server whose default user is off: only ACL users with passwords get in, as in production.
/// </summary>
public sealed class TlsRedis : IAsyncLifetime
{
    public const string AppSecret = "Pa55-acl-s3cret-value";

    public RedisServer Server { get; private set; } = null!;

    public RedisServer Acl { get; private set; } = null!;

    public TlsFiles Trusted { get; private set; } = null!;

    public TlsFiles Untrusted { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "cachepatterns-tls-" + Guid.NewGuid().ToString("N"));
        Trusted = TlsFiles.Create(directory, "trusted");
        Untrusted = TlsFiles.Create(directory, "untrusted");
        Server = await RedisServer.StartTlsAsync(Trusted);
        Acl = await RedisServer.StartWithRawOptionsAsync(
            ",user=admin,password=admin-pw",
            "--user", "default", "off",
            "--user", "admin", "on", ">admin-pw", "~*", "&*", "+@all",
            "--user", "cp-app", "on", ">" + AppSecret, "~{acl:*", "+@all");
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await Acl.DisposeAsync();
        Directory.Delete(Path.GetDirectoryName(Trusted.CertificateAuthority)!, recursive: true);
    }
}

/// <summary>ACL users, wrong passwords, TLS with a private CA, and secrets kept out of logs and messages.</summary>
public sealed class RedisSecurityTests(TlsRedis tls) : IClassFixture<TlsRedis>
{
    private const string Secret = TlsRedis.AppSecret;
    private static readonly StoreEntryOptions Minute = new(TimeSpan.FromMinutes(1));

    private RedisServer Acl => tls.Acl;

    /// <summary>ACL SETUSER at run time works too: a second user, same rights.</summary>
    private async Task CreateAclUserAsync() =>
        await Acl.Database.ExecuteAsync("ACL", "SETUSER", "cp-app2", "on", ">" + Secret + "2", "~{acl:*", "+@all");

    [Fact]
    public async Task An_ACL_user_with_its_password_uses_its_own_keys_and_the_server_enforces_the_rest()
    {
        await CreateAclUserAsync();
        var configuration = $"{Acl.Configuration},user=cp-app2,password={Secret}2";
        using var provider = new RedisCacheProvider(Options.Create(new RedisCacheProviderOptions { Configuration = configuration, InstanceName = "acl:" }));
        var store = RedisServer.CreateStore(provider);
        await store.SetAsync("k", CacheValue<string>.Of("v"), Minute, default);
        Assert.Equal("v", (await store.GetAsync("k", false, default)).Value.Value);
        var miss = await store.GetAsync("absent", true, default);
        Assert.True(await store.FillAsync("absent", miss.Lease, CacheValue<string>.Of("filled"), Minute, default));
        Assert.True((await provider.CheckHealthAsync()).IsHealthy);

        // Keys outside the user's pattern are refused by the server (the provider does not widen the ACL).
        using var outside = new RedisCacheProvider(Options.Create(new RedisCacheProviderOptions { Configuration = configuration, InstanceName = "other:" }));
        var error = await Assert.ThrowsAsync<CacheProviderException>(async () => await RedisServer.CreateStore(outside).SetAsync("k", CacheValue<string>.Of("v"), Minute, default));
        Assert.IsType<StackExchange.Redis.RedisServerException>(error.InnerException);
        Assert.Equal(CacheProviderFailureReason.Authentication, error.Reason);
        Assert.Contains("NOPERM", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_password_starts_the_app_degrades_health_with_the_reason_and_never_shows_the_secret()
    {
        const string Wrong = "Wr0ng-passw0rd-value";
        var logs = new FakeLogCollector();
        await using var services = new ServiceCollection()
            .AddLogging(b => b.AddProvider(new FakeLoggerProvider(logs)).SetMinimumLevel(LogLevel.Trace))
            .AddCachePatterns()
            .UseRedis(o => o.Configuration = $"{Acl.Configuration},user=cp-app,password={Wrong},connectTimeout=2000")
            .ConfigureResilience(o => o.OperationTimeout = TimeSpan.FromSeconds(5))
            .AddStrategy<int, string>(CacheStrategyKind.CacheAside, _ => new Loader())
            .Services.BuildServiceProvider();
        services.GetRequiredService<IStartupValidator>().Validate();

        // Reads work (from the loader), nothing is thrown at the caller.
        var strategy = services.GetRequiredService<ICacheStrategy<int, string>>();
        Assert.Equal("loaded-1", await strategy.GetAsync(1));

        var provider = services.GetRequiredKeyedService<ICacheProvider>(CachePatternsBuilder.DefaultCacheName);
        var messages = new List<string>();
        await Wait.UntilAsync(
            async () =>
            {
                var health = await provider.CheckHealthAsync();
                Assert.False(health.IsHealthy);
                messages.Add(health.Description ?? string.Empty);
                return health.Description!.Contains("Redis refused to authenticate the connection", StringComparison.Ordinal);
            },
            TimeSpan.FromSeconds(30),
            "the health check names the authentication failure");
        var direct = await Assert.ThrowsAnyAsync<Exception>(async () => await RedisServer.CreateStore(provider).GetAsync("k", false, default));
        messages.Add(direct.ToString());

        messages.AddRange(logs.GetSnapshot().Select(r => r.Message + r.Exception));
        Assert.Contains("NOAUTH", direct.Message, StringComparison.Ordinal);
        Assert.All(messages, m => Assert.DoesNotContain(Wrong, m, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TLS_with_a_private_CA_trusted_through_the_option_works()
    {
        using var provider = new RedisCacheProvider(Options.Create(new RedisCacheProviderOptions
        {
            Configuration = tls.Server.Configuration,
            InstanceName = "tls:",
            TrustedCertificateAuthorityPath = tls.Trusted.CertificateAuthority,
        }));
        var store = RedisServer.CreateStore(provider);
        await store.SetAsync("k", CacheValue<string>.Of("over tls"), Minute, default);
        Assert.Equal("over tls", (await store.GetAsync("k", false, default)).Value.Value);
        Assert.True(await tls.Server.Database.KeyExistsAsync("{tls:P:k}"));
        Assert.True((await provider.CheckHealthAsync()).IsHealthy);
    }

    [Theory]
    [InlineData("another CA")]
    [InlineData("machine store only")]
    public async Task A_server_certificate_that_does_not_chain_to_a_trusted_CA_is_refused(string trust)
    {
        using var provider = new RedisCacheProvider(Options.Create(new RedisCacheProviderOptions
        {
            Configuration = tls.Server.Configuration + ",connectTimeout=2000" + (trust == "machine store only" ? ",ssl=true" : string.Empty),
            InstanceName = "untrusted:",
            TrustedCertificateAuthorityPath = trust == "another CA" ? tls.Untrusted.CertificateAuthority : null,
        }));
        var store = RedisServer.CreateStore(provider);
        var refused = await Assert.ThrowsAsync<CacheProviderException>(async () => await store.SetAsync("k", CacheValue<string>.Of("v"), Minute, default));
        Assert.IsAssignableFrom<StackExchange.Redis.RedisException>(refused.InnerException);
        Assert.False((await provider.CheckHealthAsync()).IsHealthy);
        Assert.False(await tls.Server.Database.KeyExistsAsync("{untrusted:P:k}"));
    }

    [Fact]
    public void A_missing_CA_file_is_refused_at_start_naming_the_setting()
    {
        var error = Assert.Throws<OptionsValidationException>(() => new RedisCacheProvider(Options.Create(new RedisCacheProviderOptions
        {
            Configuration = "127.0.0.1:6379",
            TrustedCertificateAuthorityPath = "/nonexistent/ca.crt",
        })));
        Assert.Contains("TrustedCertificateAuthorityPath '/nonexistent/ca.crt'", error.Message, StringComparison.Ordinal);
    }

    private sealed class Loader : ICacheLoader<int, string>
    {
        public ValueTask<LoadResult<string>> LoadAsync(int key, CancellationToken cancellationToken) => ValueTask.FromResult(LoadResult.Found($"loaded-{key}"));

        public ValueTask<IReadOnlyDictionary<int, LoadResult<string>>> LoadManyAsync(IReadOnlyCollection<int> keys, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }
}
