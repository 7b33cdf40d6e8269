using CachePatterns.Memcached.Internal;
using CachePatterns.Providers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CachePatterns.Memcached;

/// <summary>
/// The memcached provider: its own meta-protocol client over one pipelined connection per server, keys spread with
/// weighted ketama (compatible with libmemcached), fills fenced with memcached's leases (<c>mg N</c> / <c>ms C</c>).
/// Connects lazily: an application starts while memcached is down, and a dead node's keys answer as unavailable.
/// </summary>
/// <remarks>See docs/providers.md, "Memcached: what is built", for the mapping of the provider contract.</remarks>
public sealed class MemcachedCacheProvider : ICacheProvider
{
    private readonly MemcachedCacheProviderOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly MemcachedClient _client;
    private readonly MemcachedTags _tags;
    private readonly Lock _eventLock = new();
    private Task _events = Task.CompletedTask;

    /// <summary>Initializes a new instance of the <see cref="MemcachedCacheProvider"/> class. Nothing is connected yet.</summary>
    /// <param name="options">The options.</param>
    /// <param name="timeProvider">The clock; <see langword="null"/> for the system clock.</param>
    /// <param name="loggerFactory">The logger factory; <see langword="null"/> for no logs.</param>
    /// <exception cref="ArgumentException">The options are not valid (the message names the bad value).</exception>
    public MemcachedCacheProvider(IOptions<MemcachedCacheProviderOptions> options, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        var errors = MemcachedCacheProviderOptionsValidator.Errors(null, _options);
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors), nameof(options));
        }

        _time = timeProvider ?? TimeProvider.System;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("CachePatterns.Memcached");
        _client = new MemcachedClient(_options, _time, _logger);
        _tags = new MemcachedTags(_client, _time);
        _client.NodeStateChanged += (node, reason) => Raise(new CacheConnectionChangedEventArgs(
            reason is null ? CacheConnectionState.Restored : CacheConnectionState.Lost, reason, node.Name));
    }

    /// <summary>
    /// Raised per node: <see cref="CacheConnectionState.Lost"/> when a node is marked dead (after
    /// <see cref="MemcachedCacheProviderOptions.FailuresBeforeDead"/> consecutive failures, timeouts of a hung node
    /// included), <see cref="CacheConnectionState.Restored"/> when it answers again and is back in use (after being
    /// emptied, see <see cref="MemcachedCacheProviderOptions.ReturningNodes"/>). Raised in order, on a background thread.
    /// </summary>
    public event EventHandler<CacheConnectionChangedEventArgs>? ConnectionChanged;

    /// <inheritdoc/>
    public bool SupportsTags => true;

    /// <inheritdoc/>
    /// <remarks>
    /// Advances the tag clock and raises the tag's version, on the node that owns the provider's tag items (docs/providers.md,
    /// "Tags"). The scope is the memcached servers and <see cref="MemcachedCacheProviderOptions.KeyPrefix"/>: two named
    /// caches sharing both share their tags (an invalidation reaches both: more, never less).
    /// </remarks>
    public async ValueTask InvalidateTagAsync(string tag, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tag);
        await _tags.InvalidateAsync(tag, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public string Name => "memcached";

    /// <inheritdoc/>
    public bool IsInProcess => false;

    /// <inheritdoc/>
    public ICacheStore<TKey, TValue> CreateStore<TKey, TValue>(CacheStoreDescriptor<TKey, TValue> descriptor)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        return new MemcachedCacheStore<TKey, TValue>(descriptor, _client, _options.LeaseTime, _options.WriteTimeout, _time, _tags);
    }

    /// <inheritdoc/>
    public async ValueTask<CacheProviderHealth> CheckHealthAsync(CancellationToken cancellationToken = default)
    {
        var nodes = _client.Nodes;
        var checks = nodes.Select(async node =>
        {
            try
            {
                await node.PingAsync(cancellationToken).ConfigureAwait(false);
                return (node.Name, State: "up");
            }
            catch (MemcachedException ex)
            {
                return (node.Name, State: node.IsDead ? $"dead ({node.LastFailureReason}), probed every {_options.DeadNodeProbeInterval}" : $"failing ({ex.Reason}): {ex.Message}");
            }
        }).ToArray();
        var states = await Task.WhenAll(checks).ConfigureAwait(false);
        var data = states.ToDictionary(s => "node." + s.Name, s => (object)s.State, StringComparer.Ordinal);
        var down = states.Where(s => s.State != "up").Select(s => $"{s.Name} {s.State}").ToArray();
        return down.Length == 0
            ? new CacheProviderHealth(true, $"All {nodes.Count} memcached nodes answer.", data)
            : new CacheProviderHealth(false, $"{down.Length} of {nodes.Count} memcached nodes do not answer: {string.Join(", ", down)}.", data);
    }

    /// <summary>
    /// Gets a value indicating whether <see cref="SweepAsync"/> is supported: when <see cref="MemcachedCacheProviderOptions.ReturningNodes"/>
    /// is <see cref="MemcachedReturningNodePolicy.Flush"/> (the servers are this application's own, so emptying them is allowed).
    /// </summary>
    public bool CanSweep => _options.ReturningNodes == MemcachedReturningNodePolicy.Flush;

    /// <summary>
    /// Invalidates every key of <paramref name="keyPrefix"/> by emptying every node with <c>flush_all</c>: memcached cannot
    /// list the keys of a prefix, and the contract allows a sweep to invalidate more, never less. With CAS on (memcached's
    /// default) the flush is exact: every item stored before it is gone, placeholders and write markers included, so
    /// every lease and write registration is revoked. Returns 0: memcached does not say how many items a flush removed.
    /// </summary>
    /// <param name="keyPrefix">The store's key prefix (every store is swept).</param>
    /// <param name="cancellationToken">Stops waiting; a flush already sent still happens.</param>
    /// <returns>0.</returns>
    /// <exception cref="MemcachedException">A node could not be flushed (the sweep guarantees nothing).</exception>
    /// <exception cref="NotSupportedException"><see cref="CanSweep"/> is <see langword="false"/>.</exception>
    public async ValueTask<long> SweepAsync(string keyPrefix, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyPrefix);
        if (!CanSweep)
        {
            throw new NotSupportedException("The memcached provider sweeps only by emptying its servers, which ReturningNodes = Keep (servers shared with other applications) rules out.");
        }

        await Task.WhenAll(_client.Nodes.Select(n => n.FlushAsync())).WaitAsync(cancellationToken).ConfigureAwait(false);
        return 0;
    }

    /// <inheritdoc/>
    public void Dispose() => _client.Dispose();

    /// <summary>Raises <see cref="ConnectionChanged"/> after the ones before it, never on the thread of a caller that is waiting.</summary>
    private void Raise(CacheConnectionChangedEventArgs change)
    {
        lock (_eventLock)
        {
            _events = _events.ContinueWith(
                static (_, state) =>
                {
                    var (provider, args) = ((MemcachedCacheProvider, CacheConnectionChangedEventArgs))state!;
                    try
                    {
                        provider.ConnectionChanged?.Invoke(provider, args);
                    }
                    catch (Exception ex)
                    {
                        Log.ConnectionChangedHandlerFailed(provider._logger, args.Node ?? provider.Name, ex);
                    }
                },
                (this, change),
                CancellationToken.None,
                TaskContinuationOptions.None,
                TaskScheduler.Default);
        }
    }

    /// <summary>Gets the client (tests inspect nodes and connections).</summary>
    internal MemcachedClient Client => _client;
}
