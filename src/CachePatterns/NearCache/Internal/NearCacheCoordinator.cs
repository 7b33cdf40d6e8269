using CachePatterns.Diagnostics;
using CachePatterns.Internal;
using CachePatterns.Providers;
using Microsoft.Extensions.Logging;

namespace CachePatterns.NearCache.Internal;

/// <summary>
/// The near cache of one named cache: decides whether its strategies' copies may be served (<see cref="Serving"/>),
/// routes invalidations received from other processes to the strategy owning the key, and drops every copy when the
/// invalidation channel may have missed something. See docs/architecture.md, "Near cache".
/// </summary>
/// <remarks>
/// <para>Push mode (the provider has <see cref="ICacheProvider.Invalidations"/>): nothing is served until the source
/// confirms its subscription live (<see cref="OnConnected"/>); <see cref="OnDisconnected"/> stops serving at once and drops
/// every copy, and the next <see cref="OnConnected"/> drops them again (anything filled meanwhile) before serving. The
/// source reports every loss its provider reports (a broken or frozen connection, a restart), so the core does not also
/// listen to <see cref="ICacheProvider.ConnectionChanged"/> here: a "restored" must not resume serving before the source has
/// re-subscribed.</para>
/// <para>Bounded-staleness mode (no source, memcached): copies live at most <see cref="NearCacheOptions.MaxStaleness"/>;
/// the provider's "lost" and "restored" drop them (a node that comes back may hold entries this process missed).</para>
/// </remarks>
internal sealed class NearCacheCoordinator : ICacheInvalidationObserver, IDisposable
{
    private readonly string _cacheName;
    private readonly ICacheProvider _provider;
    private readonly CacheTelemetry _telemetry;
    private readonly ILogger _logger;
    private readonly LogRateLimiter _disconnectLog;
    private readonly KeyValuePair<string, object?> _cacheTag;
    private readonly Lock _lock = new();
    private readonly IDisposable? _subscription;
    private INearCacheTarget[] _targets = [];
    private volatile bool _serving;

    public NearCacheCoordinator(string cacheName, ICacheProvider provider, NearCacheOptions options, CacheTelemetry telemetry, ILogger logger, TimeProvider time)
    {
        _cacheName = cacheName;
        _provider = provider;
        Options = options;
        _telemetry = telemetry;
        _logger = logger;
        _disconnectLog = new LogRateLimiter(time, LogRateLimiter.DefaultInterval);
        _cacheTag = new KeyValuePair<string, object?>(CacheDiagnostics.CacheTag, cacheName);
        if (provider.Invalidations is { } source)
        {
            HasPush = true;
            _subscription = source.Subscribe(this);
        }
        else
        {
            _serving = true;
            provider.ConnectionChanged += OnConnectionChanged;
            Log.NearCacheBoundedStaleness(logger, cacheName, provider.Name, options.MaxStaleness);
        }
    }

    public NearCacheOptions Options { get; }

    /// <summary>Gets a value indicating whether the provider pushes invalidations (else copies live at most <see cref="NearCacheOptions.MaxStaleness"/>).</summary>
    public bool HasPush { get; }

    /// <summary>Gets a value indicating whether copies may be served and filled now.</summary>
    public bool Serving => _serving;

    /// <summary>The longest a copy may live in this cache's near caches, before the entry's own bounds.</summary>
    public TimeSpan MaxLifetime => HasPush ? Options.MaxLifetime : Options.MaxStaleness;

    public void Register(INearCacheTarget target)
    {
        lock (_lock)
        {
            _targets = [.. _targets, target];
        }
    }

    public void Unregister(INearCacheTarget target)
    {
        lock (_lock)
        {
            _targets = [.. _targets.Where(t => !ReferenceEquals(t, target))];
        }
    }

    /// <summary>
    /// This process changed a key through <paramref name="origin"/>: other near caches of the same key prefix (the ad-hoc
    /// cache's typed stores) drop their copies too, since the provider does not echo this process's changes back to it.
    /// </summary>
    public void OnLocalChange(INearCacheTarget origin, Func<string> storeKey)
    {
        string? key = null;
        foreach (var target in Volatile.Read(ref _targets))
        {
            if (!ReferenceEquals(target, origin) && string.Equals(target.KeyPrefix, origin.KeyPrefix, StringComparison.Ordinal))
            {
                target.Invalidate(key ??= storeKey());
            }
        }
    }

    /// <summary>
    /// This process invalidated <paramref name="tag"/> (after the provider did, whatever the outcome): the copies carrying
    /// it go, and fills in flight whose entry carries it are refused. The provider does not echo the change back.
    /// </summary>
    /// <param name="tag">The tag invalidated.</param>
    public void OnLocalTagInvalidated(string tag) => InvalidateTag(tag);

    public void OnInvalidated(CacheInvalidation invalidation)
    {
        var kind = invalidation.Kind switch
        {
            CacheInvalidationKind.Key => "key",
            CacheInvalidationKind.Tag => "tag",
            _ => "all",
        };
        _telemetry.NearInvalidations.Add(1, _cacheTag, new KeyValuePair<string, object?>("kind", kind));
        if (invalidation.Delay is { } delay)
        {
            _telemetry.NearInvalidationDelay.Record(Math.Max(0, delay.TotalSeconds), _cacheTag);
        }

        switch (invalidation.Kind)
        {
            case CacheInvalidationKind.Key:
                foreach (var target in Volatile.Read(ref _targets))
                {
                    if (invalidation.Value.StartsWith(target.KeyPrefix, StringComparison.Ordinal))
                    {
                        target.Invalidate(invalidation.Value);
                    }
                }

                break;

            case CacheInvalidationKind.Tag:
                InvalidateTag(invalidation.Value);
                break;

            default:
                FlushAll("invalidate_all");
                Log.NearCacheFlushed(_logger, _cacheName, "another process invalidated everything");
                break;
        }
    }

    public void OnDisconnected(string reason)
    {
        lock (_lock)
        {
            _serving = false;
            FlushAll("disconnected");
        }

        if (_disconnectLog.TryAcquire(out var suppressed))
        {
            Log.NearCacheDisconnected(_logger, _cacheName, reason, suppressed, _disconnectLog.Interval);
        }
    }

    public void OnConnected()
    {
        lock (_lock)
        {
            // Whatever was copied before is dropped (a fill still in flight has its lease revoked), then serving resumes.
            FlushAll("resynchronized");
            _serving = true;
        }

        Log.NearCacheResynchronized(_logger, _cacheName);
    }

    public void Dispose()
    {
        _subscription?.Dispose();
        if (!HasPush)
        {
            _provider.ConnectionChanged -= OnConnectionChanged;
        }
    }

    private void OnConnectionChanged(object? sender, CacheConnectionChangedEventArgs change)
    {
        // Bounded staleness: a copy is at most MaxStaleness old anyway; a node that was away may come back with entries this
        // process could not invalidate, so start from nothing.
        FlushAll(change.State == CacheConnectionState.Lost ? "connection_lost" : "connection_restored");
        Log.NearCacheFlushed(_logger, _cacheName, change.State == CacheConnectionState.Lost ? "the provider lost its connection" : "the provider's connection was restored");
    }

    private void InvalidateTag(string tag)
    {
        foreach (var target in Volatile.Read(ref _targets))
        {
            if (!target.InvalidateTag(tag))
            {
                CountFlush(target, "invalidate_tag");
            }
        }
    }

    /// <summary>Counts a flush of one target (<c>cachepatterns.near_cache.flushes</c>, by <paramref name="reason"/>).</summary>
    public void CountFlush(INearCacheTarget target, string reason) =>
        _telemetry.NearFlushes.Add(
            1,
            new KeyValuePair<string, object?>(CacheDiagnostics.CacheNameTag, target.Name),
            _cacheTag,
            new KeyValuePair<string, object?>("reason", reason));

    private void FlushAll(string reason)
    {
        foreach (var target in Volatile.Read(ref _targets))
        {
            target.Flush();
            CountFlush(target, reason);
        }
    }
}
