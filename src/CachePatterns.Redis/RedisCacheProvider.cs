using System.Globalization;
using CachePatterns.Providers;
using CachePatterns.Redis.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace CachePatterns.Redis;

/// <summary>
/// Keeps entries in Redis (or a Redis-compatible server) through StackExchange.Redis. Fills, writes and invalidations are
/// fenced on the server with Lua scripts, so every process sharing the server keeps the provider contract, and a miss
/// that another process is already loading answers <see cref="CacheLookupStatus.MissLeaseHeldElsewhere"/>.
/// </summary>
/// <remarks>
/// The connection is made on first use and never fails the constructor: an application starts while Redis is down, and
/// the core's circuit breaker turns the failed calls into misses. Logs name endpoints only, never the configuration
/// string (it may hold a password). See docs/providers.md.
/// </remarks>
public sealed class RedisCacheProvider : ICacheProvider
{
    private readonly RedisCacheProviderOptions _options;
    private readonly RedisConnection _connection;
    private readonly RedisHeartbeat _heartbeat;
    private readonly RedisServerClock _clock;
    private readonly RedisClusterNodes _nodes;
    private readonly RedisTags _tags;
    private readonly RedisInvalidationChannel _invalidations;

    /// <summary>Initializes a new instance of the <see cref="RedisCacheProvider"/> class. Does not connect.</summary>
    /// <param name="options">The options.</param>
    /// <param name="logger">The logger; <see langword="null"/> for none.</param>
    /// <param name="timeProvider">The clock of the heartbeat and the server-clock estimate; <see langword="null"/> for the system clock.</param>
    /// <exception cref="OptionsValidationException">The options are invalid (the message names the setting).</exception>
    public RedisCacheProvider(IOptions<RedisCacheProviderOptions> options, ILogger<RedisCacheProvider>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        RedisCacheProviderOptionsValidator.ThrowIfInvalid(Options.DefaultName, _options);
        var log = (ILogger?)logger ?? NullLogger.Instance;
        var time = timeProvider ?? TimeProvider.System;
        _connection = new RedisConnection(_options, log, time);
        _tags = new RedisTags(_options.InstanceName);
        _clock = new RedisServerClock(time);
        _connection.Restored += _clock.Reset;
        _invalidations = new RedisInvalidationChannel(_connection, _options, _clock, time, log);
        _nodes = new RedisClusterNodes(_connection, _options, time, log);
        _nodes.Changed += OnChanged;
        _heartbeat = new RedisHeartbeat(_connection, _options, time, log, () => _nodes.IsCluster);
        _heartbeat.Changed += OnChanged;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Raised from StackExchange.Redis's connection events and from the provider's heartbeat <c>PING</c>
    /// (<see cref="RedisCacheProviderOptions.HeartbeatInterval"/>), which also catches a server that stops answering with
    /// its connection open. "Restored" is raised only once a <c>PING</c> is answered again.
    /// </remarks>
    public event EventHandler<CacheConnectionChangedEventArgs>? ConnectionChanged;

    /// <inheritdoc/>
    /// <remarks>
    /// A subscription to <c>cachepatterns:invalidations:</c> + <see cref="RedisCacheProviderOptions.InstanceName"/>, on which
    /// every client's scripts publish the keys they change (<see cref="RedisCacheProviderOptions.PublishInvalidations"/>);
    /// this client's own messages are skipped. <see langword="null"/> with
    /// <see cref="RedisCacheProviderOptions.ReadFromReplicas"/>: a replica may answer with a value older than an
    /// invalidation already received, so a near cache falls back to bounded staleness. See docs/providers.md, "Near cache".
    /// </remarks>
    public ICacheInvalidationSource? Invalidations => _options.ReadFromReplicas ? null : _invalidations;

    /// <inheritdoc/>
    public bool CanSweep => true;

    /// <inheritdoc/>
    /// <remarks>
    /// <c>SCAN</c> for <c>{InstanceName + keyPrefix*</c> on every primary, each key invalidated by the same script as one
    /// invalidation. Fails with <see cref="CacheProviderException"/> when a node is not connected (the sweep would not cover it).
    /// </remarks>
    public async ValueTask<long> SweepAsync(string keyPrefix, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyPrefix);
        try
        {
            return await RedisSweeper.SweepAsync(_connection, RedisSweeper.PatternOf(_options.InstanceName, keyPrefix), _invalidations, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisFailures.IsRedisFailure(ex))
        {
            throw RedisFailures.Translate(ex, _connection);
        }
    }

    /// <inheritdoc/>
    public bool SupportsTags => true;

    /// <inheritdoc/>
    /// <remarks>
    /// One script in the tags' slot <c>{InstanceName~tags}</c>: the tag clock advances and the tag's version takes its value
    /// (<see cref="RedisTags"/>). The scope is the <see cref="RedisCacheProviderOptions.InstanceName"/>: two named caches
    /// on one Redis with the same instance name share their tags (an invalidation reaches both: more, never less).
    /// </remarks>
    public async ValueTask InvalidateTagAsync(string tag, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tag);
        try
        {
            var db = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
            await _tags.InvalidateAsync(db, tag, _invalidations, _nodes.IsCluster).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisFailures.IsRedisFailure(ex))
        {
            throw RedisFailures.Translate(ex, _connection);
        }
    }

    /// <inheritdoc/>
    public string Name => "redis";

    /// <inheritdoc/>
    public bool IsInProcess => false;

    /// <inheritdoc/>
    public ICacheStore<TKey, TValue> CreateStore<TKey, TValue>(CacheStoreDescriptor<TKey, TValue> descriptor)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        return new RedisCacheStore<TKey, TValue>(descriptor, _connection, _options, _clock, _nodes, _tags, _invalidations);
    }

    /// <summary>
    /// Pings the server and reads <c>INFO</c>: <c>evicted_keys</c>, <c>used_memory</c>, <c>maxmemory</c> and
    /// <c>maxmemory_policy</c> go to <see cref="CacheProviderHealth.Data"/>; a <c>noeviction</c> policy with a memory
    /// limit is reported in the description (writes fail when memory is full).
    /// </summary>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>The health.</returns>
    public async ValueTask<CacheProviderHealth> CheckHealthAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var db = await _connection.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
            var latency = await db.PingAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
            var data = new Dictionary<string, object>(StringComparer.Ordinal) { ["ping_ms"] = latency.TotalMilliseconds };
            // INFO through a script: StackExchange.Redis refuses INFO outside admin mode, which the provider never turns on.
            var info = (string?)await db.ScriptEvaluateAsync("return redis.call('INFO')").WaitAsync(cancellationToken).ConfigureAwait(false) ?? string.Empty;
            var fields = ParseInfo(info);
            foreach (var name in new[] { "redis_version", "evicted_keys", "used_memory", "maxmemory", "maxmemory_policy" })
            {
                if (fields.TryGetValue(name, out var value))
                {
                    data[name] = long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) ? number : value;
                }
            }

            var description = "Redis answers PING.";
            if (data.TryGetValue("evicted_keys", out var evictedKeys) && evictedKeys is long evicted && evicted > 0)
            {
                description += $" {evicted} keys evicted since the server started ({fields.GetValueOrDefault("maxmemory_policy")}, maxmemory {fields.GetValueOrDefault("maxmemory")} bytes): the cache is smaller than its working set; give Redis more memory if the hit ratio suffers.";
            }

            if (fields.GetValueOrDefault("maxmemory_policy") == "noeviction" && data.GetValueOrDefault("maxmemory") is long max && max > 0)
            {
                if (data.GetValueOrDefault("used_memory") is long used && used >= max)
                {
                    return new CacheProviderHealth(
                        false,
                        $"Redis is full (noeviction): used_memory {used} bytes of maxmemory {max}; values are not cached (the server refuses writes), hits are still served. Give Redis more memory or use allkeys-lru.",
                        data);
                }

                description += " Warning: maxmemory is set with maxmemory-policy noeviction, so cache writes fail once memory is full; use allkeys-lru or volatile-lru for a cache.";
            }

            return new CacheProviderHealth(true, description, data);
        }
        catch (Exception ex) when (RedisFailures.IsRedisFailure(ex))
        {
            var reason = RedisFailures.ReasonOf(ex, _connection.LastFailureReason);
            var cause = reason switch
            {
                CacheProviderFailureReason.Authentication =>
                    "Redis refused to authenticate the connection (authentication failed): check the user name and password, " +
                    "and for TLS that the server certificate chains to a trusted CA and names the host. ",
                CacheProviderFailureReason.ConnectionRefused => "Redis refused the connection (nothing listens at its address). ",
                CacheProviderFailureReason.Timeout => "Redis does not answer in time (timeout: the server hangs or is overloaded). ",
                _ => string.Empty,
            };
            return new CacheProviderHealth(false, $"{cause}Redis does not answer: {ex.GetType().Name}: {Redact(ex.Message)}");
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _invalidations.Dispose();
        _heartbeat.Dispose();
        _nodes.Dispose();
        _connection.Dispose();
    }

    /// <summary>Gets the invalidation channel (tests).</summary>
    internal RedisInvalidationChannel InvalidationChannel => _invalidations;

    /// <summary>Heartbeat and Cluster-node changes: the core hears them, and the invalidation channel stops or resynchronizes.</summary>
    private void OnChanged(CacheConnectionChangedEventArgs change)
    {
        _invalidations.OnConnectionChanged(change);
        ConnectionChanged?.Invoke(this, change);
    }

    /// <summary>Gets the connection (tests).</summary>
    internal RedisConnection Connection => _connection;

    /// <summary>Removes the configured password from a message, should a client library ever echo it.</summary>
    private string Redact(string message)
    {
        var password = _options.ConfigurationOptions is null && RedisConnection.TryParse(_options.Configuration ?? string.Empty, out var parsed, out _)
            ? parsed!.Password
            : null;
        return string.IsNullOrEmpty(password) ? message : message.Replace(password, "***", StringComparison.Ordinal);
    }

    private static Dictionary<string, string> ParseInfo(string info)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in info.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && !line.StartsWith('#'))
            {
                fields[line[..colon]] = line[(colon + 1)..].TrimEnd('\r');
            }
        }

        return fields;
    }
}
