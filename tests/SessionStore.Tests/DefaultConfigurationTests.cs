using System.Net;
using System.Text.Json;
using SessionStore.Tests.Support;

namespace SessionStore.Tests;

/// <summary>The embedded default (no cache server, SQLite), and settings that must stop start-up.</summary>
public sealed class DefaultConfigurationTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "sessionstore-default-" + Guid.NewGuid().ToString("N"));
    private AppInstance _app = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);

        // Only where to put files: no provider, no server.
        _app = await AppInstance.StartAsync("default", "--sqlite", Path.Combine(_directory, "store.db"), "--keys", Path.Combine(_directory, "keys"));
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task With_no_settings_the_shop_runs_on_the_memory_provider_and_SQLite()
    {
        using var shop = new ShopClient();
        Assert.Equal(HttpStatusCode.Redirect, (await shop.SignInAsync(_app, "bob", "can-we-fix-it")).Status);
        Assert.Equal(HttpStatusCode.Redirect, (await shop.AddToCartAsync(_app, 40, 2)).Status);
        Assert.Equal("bob", await shop.SignedInUserAsync(_app));
        Assert.Equal(new Dictionary<int, int> { [40] = 2 }, await shop.CartAsync(_app));

        // The statistics are for administrators.
        Assert.Equal(HttpStatusCode.Forbidden, (await shop.GetAsync(_app, "/stats/data")).Status);
        using var admin = new ShopClient();
        Assert.Equal(HttpStatusCode.Redirect, (await admin.SignInAsync(_app, "ada", "analytical-engine")).Status);
        var stats = await admin.GetAsync(_app, "/stats/data");
        using var json = JsonDocument.Parse(stats.Html);
        Assert.Equal("Memory", json.RootElement.GetProperty("provider").GetString());
        Assert.Equal("Healthy", json.RootElement.GetProperty("health").GetProperty("status").GetString());
        var product = json.RootElement.GetProperty("caches").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "Product");
        Assert.True(product.GetProperty("hits").GetInt64() > 0, stats.Html);
        Assert.True(product.GetProperty("loads").GetInt64() > 0, stats.Html);
    }

    [Fact]
    public async Task The_database_check_fails_when_the_shop_tables_do_not_answer_even_though_the_file_opens()
    {
        using var shop = new ShopClient();
        Assert.Equal(HttpStatusCode.OK, (await shop.GetAsync(_app, "/healthz")).Status);

        // Another process breaks the database under the running app: SELECT 1 still answers, the users table does not.
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_directory, "store.db")};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var rename = connection.CreateCommand();
            rename.CommandText = "ALTER TABLE users RENAME TO users_lost";
            await rename.ExecuteNonQueryAsync();
        }

        var health = await shop.GetAsync(_app, "/healthz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.Status);
        Assert.Equal("Unhealthy", health.Html);
    }

    [Fact]
    public async Task Contradictory_or_bad_settings_stop_start_up_with_a_message_naming_them()
    {
        var (exitCode, output) = await AppInstance.RunUntilExitAsync(
            "--redis", "127.0.0.1:1,password=hunter2", "--memcached", "127.0.0.1:2", "--idle-timeout", "00:00:00", "--sqlite", Path.Combine(_directory, "missing-folder", "bad.db"));

        Assert.NotEqual(0, exitCode);
        Assert.Contains("SessionStore:Cache:Redis", output, StringComparison.Ordinal);
        Assert.Contains("SessionStore:Cache:Memcached ('127.0.0.1:2')", output, StringComparison.Ordinal);
        Assert.Contains("SessionStore:Session:IdleTimeout must be between", output, StringComparison.Ordinal);
        Assert.Contains($"is in a folder that does not exist: create '{Path.Combine(_directory, "missing-folder")}' first", output, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostgreSQL_with_SQLite_or_without_servers_stops_start_up_without_showing_the_password()
    {
        var (exitCode, output) = await AppInstance.RunUntilExitAsync(
            "--postgres", "Host=;Username=shop;Password=hunter2", "--sqlite", Path.Combine(_directory, "other.db"),
            "--SessionStore:Database:MaxReplicaLag", "-00:00:01");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("SessionStore:Database:Sqlite", output, StringComparison.Ordinal);
        Assert.Contains("are both set; choose one database", output, StringComparison.Ordinal);
        Assert.Contains("SessionStore:Database:Postgres must list the servers in Host", output, StringComparison.Ordinal);
        Assert.Contains("SessionStore:Database:MaxReplicaLag must be between", output, StringComparison.Ordinal);
        Assert.Contains("Password=***", output, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", output, StringComparison.Ordinal);
    }
}
