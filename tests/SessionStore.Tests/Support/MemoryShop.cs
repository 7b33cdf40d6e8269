namespace SessionStore.Tests.Support;

/// <summary>
/// One SessionStore instance on the embedded default (in-memory provider, SQLite) with extra switches, for tests that
/// need their own limits: a flood or a lockout here cannot disturb the other tests.
/// </summary>
public abstract class MemoryShop(string name, params string[] switches) : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"sessionstore-{name}-" + Guid.NewGuid().ToString("N"));

    public AppInstance App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        App = await AppInstance.StartAsync(name, ["--sqlite", Path.Combine(_directory, "store.db"), "--keys", Path.Combine(_directory, "keys"), .. switches]);
    }

    public async Task DisposeAsync()
    {
        if (App is not null)
        {
            await App.DisposeAsync();
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

/// <summary>Small limits: 3 failed sign-ins lock an account, 8 block a client address, 30 anonymous POSTs a minute.</summary>
public sealed class GuardedShop() : MemoryShop(
    "guarded",
    "--SessionStore:Security:SignInFailuresPerAccount", "3",
    "--SessionStore:Security:SignInFailuresPerClient", "8",
    "--SessionStore:Security:AnonymousPostsPerMinute", "30");

/// <summary>Small session bounds (100 signed-in, 100 anonymous) and no POST rate limit to speak of: what a flood does to the stores.</summary>
public sealed class FloodedShop() : MemoryShop(
    "flooded",
    "--SessionStore:Cache:MaxEntries", "100",
    "--SessionStore:Cache:MaxAnonymousSessions", "100",
    "--SessionStore:Security:AnonymousPostsPerMinute", "1000000");
