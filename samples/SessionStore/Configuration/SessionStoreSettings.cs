using System.Globalization;
using Npgsql;

namespace SessionStore.Configuration;

/// <summary>
/// Everything the app can be told, read once at start-up from appsettings, environment variables
/// (<c>SessionStore__Cache__Redis</c>) or the command line (<c>--redis 127.0.0.1:6379</c>, see <see cref="SwitchMappings"/>).
/// With nothing set, it runs on a fresh machine: in-memory cache, SQLite file beside the app.
/// </summary>
public sealed class SessionStoreSettings
{
    /// <summary>The configuration section the settings are read from.</summary>
    public const string Section = "SessionStore";

    /// <summary>Short command-line switches for the settings people change most.</summary>
    public static readonly IReadOnlyDictionary<string, string> SwitchMappings = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["--redis"] = $"{Section}:Cache:Redis",
        ["--memcached"] = $"{Section}:Cache:Memcached",
        ["--sqlite"] = $"{Section}:Database:Sqlite",
        ["--postgres"] = $"{Section}:Database:Postgres",
        ["--mariadb"] = $"{Section}:Database:MariaDb",
        ["--keys"] = $"{Section}:DataProtection:KeysDirectory",
        ["--idle-timeout"] = $"{Section}:Session:IdleTimeout",
        ["--max-form-bytes"] = $"{Section}:Forms:MaxRequestBytes",
    };

    public CacheSettings Cache { get; set; } = new();

    public DatabaseSettings Database { get; set; } = new();

    public DataProtectionSettings DataProtection { get; set; } = new();

    public SessionSettings Session { get; set; } = new();

    public FormSettings Forms { get; set; } = new();

    public SecuritySettings Security { get; set; } = new();

    /// <summary>Reads and validates the settings; a bad value throws naming the setting and the value.</summary>
    public static SessionStoreSettings Load(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var settings = configuration.GetSection(Section).Get<SessionStoreSettings>() ?? new SessionStoreSettings();
        settings.Validate();
        return settings;
    }

    /// <summary>Throws <see cref="InvalidOperationException"/> naming every bad setting and its value.</summary>
    public void Validate()
    {
        var errors = new List<string>();
        if (!string.IsNullOrWhiteSpace(Cache.Redis) && !string.IsNullOrWhiteSpace(Cache.Memcached))
        {
            errors.Add($"{Section}:Cache:Redis ('{RedactPassword(Cache.Redis)}') and {Section}:Cache:Memcached ('{Cache.Memcached}') are both set; choose one provider.");
        }

        if (Cache.MaxEntries is < 100 or > 10_000_000)
        {
            errors.Add($"{Section}:Cache:MaxEntries must be between 100 and 10,000,000, but was {Cache.MaxEntries.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (!string.IsNullOrWhiteSpace(Database.Sqlite) && Path.GetDirectoryName(Path.GetFullPath(Database.Sqlite)) is { } folder && !Directory.Exists(folder))
        {
            // SQLite would fail later with "unable to open database file" (error 14), naming neither the setting nor the folder.
            errors.Add($"{Section}:Database:Sqlite ('{Database.Sqlite}') is in a folder that does not exist: create '{folder}' first.");
        }

        if (Database.UsesPostgres)
        {
            ValidatePostgres(errors);
        }

        if (Database.UsesMariaDb)
        {
            ValidateMariaDb(errors);
        }

        if (Session.IdleTimeout < TimeSpan.FromSeconds(1) || Session.IdleTimeout > TimeSpan.FromDays(1))
        {
            errors.Add($"{Section}:Session:IdleTimeout must be between 00:00:01 and 1.00:00:00, but was {Session.IdleTimeout}.");
        }

        if (Forms.MaxRequestBytes is < 1024 or > 10 * 1024 * 1024)
        {
            errors.Add($"{Section}:Forms:MaxRequestBytes must be between 1024 and 10485760, but was {Forms.MaxRequestBytes.ToString(CultureInfo.InvariantCulture)}.");
        }

        ValidateSecurity(errors);
        if (Cache.MaxAnonymousSessions is < 100 or > 10_000_000)
        {
            errors.Add($"{Section}:Cache:MaxAnonymousSessions must be between 100 and 10,000,000, but was {Cache.MaxAnonymousSessions.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Invalid SessionStore settings:" + Environment.NewLine + string.Join(Environment.NewLine, errors));
        }
    }

    private void ValidateSecurity(List<string> errors)
    {
        if (Security.AnonymousPostsPerMinute is < 1 or > 1_000_000)
        {
            errors.Add($"{Section}:Security:AnonymousPostsPerMinute must be between 1 and 1,000,000, but was {Security.AnonymousPostsPerMinute.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (Security.SignInFailuresPerAccount is < 1 or > 1000)
        {
            errors.Add($"{Section}:Security:SignInFailuresPerAccount must be between 1 and 1000, but was {Security.SignInFailuresPerAccount.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (Security.SignInFailuresPerClient is < 1 or > 100_000)
        {
            errors.Add($"{Section}:Security:SignInFailuresPerClient must be between 1 and 100,000, but was {Security.SignInFailuresPerClient.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (Security.SignInLockout < TimeSpan.FromSeconds(1) || Security.SignInLockout > TimeSpan.FromDays(1))
        {
            errors.Add($"{Section}:Security:SignInLockout must be between 00:00:01 and 1.00:00:00, but was {Security.SignInLockout}.");
        }
    }

    private void ValidatePostgres(List<string> errors)
    {
        var redacted = RedactConnectionString(Database.Postgres);
        if (!string.IsNullOrWhiteSpace(Database.Sqlite))
        {
            errors.Add($"{Section}:Database:Sqlite ('{Database.Sqlite}') and {Section}:Database:Postgres ('{redacted}') are both set; choose one database.");
        }

        try
        {
            var parsed = new NpgsqlConnectionStringBuilder(Database.Postgres);
            if (string.IsNullOrWhiteSpace(parsed.Host))
            {
                errors.Add($"{Section}:Database:Postgres must list the servers in Host (Host=db1:5432,db2:5432;...), but was '{redacted}'.");
            }
        }
        catch (ArgumentException ex)
        {
            errors.Add($"{Section}:Database:Postgres is not a PostgreSQL connection string ('{redacted}'): {ex.Message}");
        }

        if (Database.MaxReplicaLag < TimeSpan.Zero || Database.MaxReplicaLag > TimeSpan.FromHours(1))
        {
            errors.Add($"{Section}:Database:MaxReplicaLag must be between 00:00:00 and 01:00:00, but was {Database.MaxReplicaLag}.");
        }
    }

    private void ValidateMariaDb(List<string> errors)
    {
        var redacted = RedactConnectionString(Database.MariaDb);
        if (!string.IsNullOrWhiteSpace(Database.Sqlite) || Database.UsesPostgres)
        {
            errors.Add($"{Section}:Database:MariaDb ('{redacted}') is set together with {Section}:Database:{(Database.UsesPostgres ? "Postgres" : "Sqlite")}; choose one database.");
        }

        try
        {
            if (string.IsNullOrWhiteSpace(new MySqlConnector.MySqlConnectionStringBuilder(Database.MariaDb!).Server))
            {
                errors.Add($"{Section}:Database:MariaDb must list the servers in Server (Server=db1:3306,db2:3306;...), but was '{redacted}'.");
            }
        }
        catch (ArgumentException ex)
        {
            errors.Add($"{Section}:Database:MariaDb is not a MariaDB/MySQL connection string ('{redacted}'): {ex.Message}");
        }
    }

    /// <summary>The provider the settings select.</summary>
    public CacheProviderKind Provider =>
        !string.IsNullOrWhiteSpace(Cache.Redis) ? CacheProviderKind.Redis
        : !string.IsNullOrWhiteSpace(Cache.Memcached) ? CacheProviderKind.Memcached
        : CacheProviderKind.Memory;

    /// <summary>A PostgreSQL connection string with any password replaced, fit for logs and pages.</summary>
    public static string RedactConnectionString(string? connectionString) =>
        string.Join(';', (connectionString ?? string.Empty).Split(';').Select(static part =>
            PasswordKeywords.Contains(part.Split('=', 2)[0].Trim()) ? "Password=***" : part));

    /// <summary>Npgsql's spellings of the password keyword.</summary>
    private static readonly HashSet<string> PasswordKeywords = new(["Password", "Pwd", "Psw"], StringComparer.OrdinalIgnoreCase);

    /// <summary>A StackExchange.Redis configuration string with any password replaced, fit for logs and pages.</summary>
    public static string RedactPassword(string? configuration) =>
        string.Join(',', (configuration ?? string.Empty).Split(',').Select(static part =>
            part.TrimStart().StartsWith("password=", StringComparison.OrdinalIgnoreCase) ? "password=***" : part));
}
