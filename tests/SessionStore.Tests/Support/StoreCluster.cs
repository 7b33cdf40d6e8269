namespace SessionStore.Tests.Support;

/// <summary>
/// Two SessionStore instances (A and B, separate processes) sharing one real Redis, one Data Protection key directory
/// and one SQLite file: what a load balancer in front of two app servers would see. B starts after A is healthy, so
/// both use the key A created.
/// </summary>
public sealed class StoreCluster : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "sessionstore-tests-" + Guid.NewGuid().ToString("N"));

    public RedisServer Redis { get; private set; } = null!;

    public AppInstance A { get; private set; } = null!;

    public AppInstance B { get; private set; } = null!;

    public string KeysDirectory => Path.Combine(_directory, "keys");

    public string DatabaseFile => Path.Combine(_directory, "store.db");

    /// <summary>The session idle timeout the instances run with.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(10);

    /// <summary>The form size limit the instances run with.</summary>
    public const int MaxFormBytes = 16 * 1024;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        Redis = await RedisServer.StartAsync(Path.Combine(_directory, "redis"));
        A = await AppInstance.StartAsync("A", Switches());
        B = await AppInstance.StartAsync("B", Switches());
    }

    public string[] Switches() =>
    [
        "--redis", Redis.Configuration,
        "--keys", KeysDirectory,
        "--sqlite", DatabaseFile,
        "--max-form-bytes", MaxFormBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--idle-timeout", IdleTimeout.ToString(),
        // These tests sign in and post many times from 127.0.0.1; the limits have their own tests (ShopSecurityTests).
        "--SessionStore:Security:AnonymousPostsPerMinute", "1000000",
        "--SessionStore:Security:SignInFailuresPerClient", "100000",
    ];

    public async Task DisposeAsync()
    {
        if (A is not null)
        {
            await A.DisposeAsync();
        }

        if (B is not null)
        {
            await B.DisposeAsync();
        }

        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

[CollectionDefinition(Name)]
public sealed class StoreClusterGroup : ICollectionFixture<StoreCluster>
{
    public const string Name = "two instances on one Redis";
}
