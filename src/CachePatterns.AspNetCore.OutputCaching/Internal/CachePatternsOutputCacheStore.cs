using System.Buffers;
using System.IO.Pipelines;
using CachePatterns.Internal;
using CachePatterns.Providers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OutputCaching;

namespace CachePatterns.AspNetCore.OutputCaching.Internal;

/// <summary>
/// <see cref="IOutputCacheStore"/> and its buffer form <see cref="IOutputCacheBufferStore"/> over a CachePatterns named
/// cache (its provider and resilience pipeline); both forms read and write the same entries with the same fencing.
/// Tag eviction is the cache's tag invalidation (nothing is enumerated). A response is fenced like a fill: the cache miss
/// that lets the middleware render it takes the provider's lease, kept in the request's <see cref="HttpContext.Items"/>,
/// and the response is stored with that lease — refused if its key or one of its tags was evicted after the miss, so a
/// page rendered before an eviction is never stored after it. See docs/outputcaching.md.
/// </summary>
internal sealed class CachePatternsOutputCacheStore : IOutputCacheBufferStore
{
    private readonly CacheInstance _instance;
    private readonly ICacheStore<string, byte[]> _store;
    private readonly StrategyInstruments _instruments;
    private readonly IHttpContextAccessor? _requests;

    public CachePatternsOutputCacheStore(CacheInstance instance, ICacheStore<string, byte[]> store, StrategyInstruments instruments, IHttpContextAccessor? requests)
    {
        _instance = instance;
        _store = store;
        _instruments = instruments;
        _requests = requests;
    }

    public async ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var request = _requests?.HttpContext;
        CacheLookup<byte[]> lookup;
        try
        {
            lookup = await _store.GetAsync(key, acquireLease: request is not null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not ArgumentException && !cancellationToken.IsCancellationRequested)
        {
            _instruments.ProviderError("get", ex);
            return null;
        }

        switch (lookup.Status)
        {
            case CacheLookupStatus.Hit when lookup.Value.Exists:
                _instruments.Hit();
                return lookup.Value.Value;
            case CacheLookupStatus.Miss or CacheLookupStatus.Stale when lookup.Lease.IsGranted && request is not null:
                PendingRenders.For(request, this).Begin(key, lookup.Lease);
                break;
            case CacheLookupStatus.MissLeaseHeldElsewhere or CacheLookupStatus.StaleLeaseHeldElsewhere when request is not null:
                PendingRenders.For(request, this).Begin(key, CacheLease.None);
                break;
        }

        _instruments.Miss();
        return null;
    }

    public async ValueTask SetAsync(string key, byte[] value, string[]? tags, TimeSpan validFor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        var render = _requests?.HttpContext is { } request ? PendingRenders.Find(request, this)?.End(key) : null;
        StoreEntryOptions options;
        try
        {
            options = new StoreEntryOptions(Guard.Positive(validFor)) { Tags = CacheTags.Normalize(tags, nameof(tags)) };
        }
        catch (ArgumentException ex)
        {
            Log.ResponseNotStored(_instruments.Logger, _instance.Name, ex.Message);
            if (render is { IsGranted: true } refused)
            {
                await ReleaseAsync(key, refused).ConfigureAwait(false);
            }

            return;
        }

        if (render is { } lease)
        {
            if (lease.IsGranted)
            {
                await FillAsync(key, lease, value, options).ConfigureAwait(false);
            }

            // Not granted: another client took the lease when this request missed, and renders the key itself with the
            // fence; storing this response without one could put a page rendered before an eviction back after it.
            return;
        }

        // No miss of this request took a lease (no request context, or the lookup was skipped by the policy): stored
        // unconditionally, like ASP.NET Core's own stores (docs/outputcaching.md).
        try
        {
            await _store.SetAsync(key, CacheValue<byte[]>.Of(value), options, cancellationToken).ConfigureAwait(false);
        }
        catch (CacheValueTooLargeException ex)
        {
            Log.ResponseNotStored(_instruments.Logger, _instance.Name, ex.Message);
        }
    }

    /// <summary>
    /// The lookup of <see cref="GetAsync"/> (a miss takes the render's lease the same way), the page written to
    /// <paramref name="destination"/> and flushed.
    /// </summary>
    public async ValueTask<bool> TryGetAsync(string key, PipeWriter destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (await GetAsync(key, cancellationToken).ConfigureAwait(false) is not { } page)
        {
            return false;
        }

        await destination.WriteAsync(page, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// <see cref="SetAsync(string, byte[], string[], TimeSpan, CancellationToken)"/> for the middleware's buffers (it calls
    /// this form when the store implements it). The page is copied once, into an array the cache owns: the sequence is
    /// only valid during the call, and a provider may serialize it after an await (a timed-out call can still be running
    /// when this one returns), so it is never handed on borrowed. <paramref name="tags"/> may be a slice of a pooled array:
    /// only the slice is read.
    /// </summary>
    public ValueTask SetAsync(string key, ReadOnlySequence<byte> value, ReadOnlyMemory<string> tags, TimeSpan validFor, CancellationToken cancellationToken) =>
        SetAsync(key, value.ToArray(), tags.IsEmpty ? null : tags.ToArray(), validFor, cancellationToken);

    public ValueTask EvictByTagAsync(string tag, CancellationToken cancellationToken) =>
        _instance.InvalidateTagAsync(tag, cancellationToken);

    /// <summary>Gives back a lease whose response was never stored (not cacheable, failed): called when the request ends.</summary>
    internal async ValueTask ReleaseAsync(string key, CacheLease lease)
    {
        try
        {
            await _store.ReleaseLeaseAsync(key, lease, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _instruments.ProviderError("release", ex);
        }
    }

    private async ValueTask FillAsync(string key, CacheLease lease, byte[] value, StoreEntryOptions options)
    {
        try
        {
            if (!await _store.FillAsync(key, lease, CacheValue<byte[]>.Of(value), options, CancellationToken.None).ConfigureAwait(false))
            {
                _instruments.FillFenced();
                Log.ResponseFenced(_instruments.Logger, _instance.Name);
            }
        }
        catch (CacheValueTooLargeException ex)
        {
            Log.ResponseNotStored(_instruments.Logger, _instance.Name, ex.Message);
        }
        catch (Exception ex)
        {
            _instruments.ProviderError("fill", ex);
        }
    }
}
