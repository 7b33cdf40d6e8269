using CachePatterns.Internal;
using CachePatterns.Providers;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace CachePatterns.Redis.Internal;

/// <summary>
/// The provider's one <see cref="ConnectionMultiplexer"/>, created on first use (never in a constructor), with
/// <c>abortConnect=false</c> so that it keeps reconnecting in the background while the server is down.
/// </summary>
internal sealed class RedisConnection : IDisposable
{
    private readonly Func<ConfigurationOptions> _configure;
    private readonly int? _database;
    private readonly string? _trustedCertificateAuthority;
    private volatile string? _lastFailure;
    private CacheProviderFailureReason? _lastFailureReason;
    private readonly ILogger _logger;

    /// <summary>
    /// StackExchange.Redis reports every failed reconnect attempt of every connection (interactive and subscription, per
    /// server): during an outage one line per interval, with the count of those held back.
    /// </summary>
    private readonly LogRateLimiter _failureLog;
    private readonly Lock _lock = new();
    private Task<ConnectionMultiplexer>? _connecting;
    private ConnectionMultiplexer? _multiplexer;
    private bool _disposed;

    public RedisConnection(RedisCacheProviderOptions options, ILogger logger, TimeProvider time)
    {
        _database = options.Database;
        _trustedCertificateAuthority = options.TrustedCertificateAuthorityPath;
        _logger = logger;
        _failureLog = new LogRateLimiter(time, LogRateLimiter.DefaultInterval);
        if (options.ConfigurationOptions is { } factory)
        {
            _configure = factory;
        }
        else
        {
            if (!TryParse(options.Configuration ?? string.Empty, out var parsed, out var error))
            {
                throw new ArgumentException($"RedisCacheProviderOptions.Configuration is not a valid StackExchange.Redis configuration string: {error}", nameof(options));
            }

            _configure = () => parsed!.Clone();
        }
    }

    /// <summary>Raised when StackExchange.Redis reports a connection to a server restored (the heartbeat then checks it answers).</summary>
    public event Action? Restored;

    /// <summary>Raised when StackExchange.Redis reports a connection to a server failed, with the reason.</summary>
    public event Action<CacheProviderFailureReason>? Failed;

    /// <summary>Gets the multiplexer if a connection was started (health checks, tests).</summary>
    public ConnectionMultiplexer? Multiplexer => Volatile.Read(ref _multiplexer);

    /// <summary>Parses a configuration string without echoing it (it may hold a password).</summary>
    public static bool TryParse(string configuration, out ConfigurationOptions? options, out string? error)
    {
        try
        {
            options = StackExchange.Redis.ConfigurationOptions.Parse(configuration);
            if (options.EndPoints.Count == 0)
            {
                error = "it names no endpoint (host:port).";
                options = null;
                return false;
            }

            error = null;
            return true;
        }
        catch (ArgumentException ex)
        {
            options = null;
            error = ex.Message;
            return false;
        }
    }

    /// <summary>Gets the database, connecting first if no connection was started; a cancelled caller leaves the connect running.</summary>
    public ValueTask<IDatabase> GetDatabaseAsync(CancellationToken cancellationToken = default)
    {
        var multiplexer = Volatile.Read(ref _multiplexer);
        return multiplexer is not null
            ? new ValueTask<IDatabase>(multiplexer.GetDatabase(_database ?? -1))
            : WaitForConnectionAsync(cancellationToken);
    }

    private async ValueTask<IDatabase> WaitForConnectionAsync(CancellationToken cancellationToken)
    {
        Task<ConnectionMultiplexer> connecting;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            connecting = _connecting ??= ConnectAsync();
        }

        var multiplexer = await connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
        return multiplexer.GetDatabase(_database ?? -1);
    }

    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        try
        {
            var configuration = _configure();
            configuration.AbortOnConnectFail = false;

            // A cache must not queue commands while the server is away: fail at once, the core serves from the loader.
            configuration.BacklogPolicy = BacklogPolicy.FailFast;
            if (_trustedCertificateAuthority is not null)
            {
                configuration.Ssl = true;
                configuration.TrustIssuer(_trustedCertificateAuthority);
            }

            var endpoints = string.Join(", ", configuration.EndPoints.Select(e => e.ToString()));
            Log.Connecting(_logger, endpoints);
            var multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
            multiplexer.ConnectionFailed += OnConnectionFailed;

            multiplexer.ConnectionRestored += OnConnectionRestored;
            if (!multiplexer.IsConnected)
            {
                Log.NotConnectedYet(_logger, endpoints);
            }

            lock (_lock)
            {
                if (_disposed)
                {
                    multiplexer.Dispose();
                    throw new ObjectDisposedException(nameof(RedisConnection));
                }

                Volatile.Write(ref _multiplexer, multiplexer);
            }

            return multiplexer;
        }
        catch
        {
            lock (_lock)
            {
                _connecting = null;
            }

            throw;
        }
    }

    /// <summary>Gets the kind of the last connection failure (for example <c>AuthenticationFailure</c>), or null.</summary>
    public string? LastFailure => _lastFailure;

    /// <summary>Gets the reason of the last connection failure while it lasts (it names the cause of "no connection" errors).</summary>
    public CacheProviderFailureReason? LastFailureReason => _lastFailure is null ? null : _lastFailureReason;

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        var reason = RedisFailures.ReasonOf(e.FailureType, e.Exception);
        _lastFailureReason = reason;
        _lastFailure = e.FailureType.ToString();
        if (_failureLog.TryAcquire(out var suppressed))
        {
            Log.ConnectionFailed(_logger, e.EndPoint?.ToString() ?? "?", e.FailureType.ToString(), suppressed, _failureLog.Interval, e.Exception);
        }

        Failed?.Invoke(reason);
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        _lastFailure = null;
        Log.ConnectionRestored(_logger, e.EndPoint?.ToString() ?? "?");
        Restored?.Invoke();
    }

    public void Dispose()
    {
        ConnectionMultiplexer? multiplexer;
        lock (_lock)
        {
            _disposed = true;
            multiplexer = _multiplexer;
            _multiplexer = null;
        }

        multiplexer?.Dispose();
    }
}
