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
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ConnectionMultiplexer? _multiplexer;
    private bool _disposed;

    public RedisConnection(RedisCacheProviderOptions options, ILogger logger)
    {
        _database = options.Database;
        _logger = logger;
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

    public ValueTask<IDatabase> GetDatabaseAsync()
    {
        var multiplexer = Volatile.Read(ref _multiplexer);
        return multiplexer is not null
            ? new ValueTask<IDatabase>(multiplexer.GetDatabase(_database ?? -1))
            : ConnectAsync();
    }

    public async ValueTask<ConnectionMultiplexer> GetMultiplexerAsync()
    {
        await GetDatabaseAsync().ConfigureAwait(false);
        return _multiplexer!;
    }

    private async ValueTask<IDatabase> ConnectAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_multiplexer is null)
            {
                var configuration = _configure();
                configuration.AbortOnConnectFail = false;
                var endpoints = string.Join(", ", configuration.EndPoints.Select(e => e.ToString()));
                Log.Connecting(_logger, endpoints);
                var multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
                multiplexer.ConnectionFailed += OnConnectionFailed;
                multiplexer.ConnectionRestored += OnConnectionRestored;
                if (!multiplexer.IsConnected)
                {
                    Log.NotConnectedYet(_logger, endpoints);
                }

                Volatile.Write(ref _multiplexer, multiplexer);
            }

            return _multiplexer.GetDatabase(_database ?? -1);
        }
        finally
        {
            _gate.Release();
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e) =>
        Log.ConnectionFailed(_logger, e.EndPoint?.ToString() ?? "?", e.FailureType.ToString(), e.Exception);

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e) =>
        Log.ConnectionRestored(_logger, e.EndPoint?.ToString() ?? "?");

    public void Dispose()
    {
        _gate.Wait();
        try
        {
            _disposed = true;
            _multiplexer?.Dispose();
            _multiplexer = null;
        }
        finally
        {
            _gate.Release();
        }
    }
}
