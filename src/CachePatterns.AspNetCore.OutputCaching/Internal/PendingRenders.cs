using CachePatterns.Providers;
using Microsoft.AspNetCore.Http;

namespace CachePatterns.AspNetCore.OutputCaching.Internal;

/// <summary>
/// The leases one request's cache misses took, by key, until its responses are stored; kept in the request's
/// <see cref="HttpContext.Items"/> (the store's API carries no request identity, and a lease must be used by the request
/// that missed). Leases still held when the request ends are given back.
/// </summary>
internal sealed class PendingRenders : IAsyncDisposable
{
    private readonly CachePatternsOutputCacheStore _store;
    private readonly Dictionary<string, CacheLease> _leases = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    private PendingRenders(CachePatternsOutputCacheStore store) => _store = store;

    public static PendingRenders For(HttpContext request, CachePatternsOutputCacheStore store)
    {
        if (Find(request, store) is { } existing)
        {
            return existing;
        }

        var created = new PendingRenders(store);
        request.Items[store] = created;
        request.Response.RegisterForDisposeAsync(created);
        return created;
    }

    public static PendingRenders? Find(HttpContext request, CachePatternsOutputCacheStore store) =>
        request.Items.TryGetValue(store, out var found) ? found as PendingRenders : null;

    /// <summary>Remembers the lease of a miss (<see cref="CacheLease.None"/>: another client holds the key's lease).</summary>
    public void Begin(string key, CacheLease lease)
    {
        CacheLease replaced;
        lock (_gate)
        {
            _leases.Remove(key, out replaced);
            _leases[key] = lease;
        }

        if (replaced.IsGranted)
        {
            _ = _store.ReleaseAsync(key, replaced).AsTask();
        }
    }

    /// <summary>Takes the lease of the key's miss, or <see langword="null"/> when this request did not miss it.</summary>
    public CacheLease? End(string key)
    {
        lock (_gate)
        {
            return _leases.Remove(key, out var lease) ? lease : null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        KeyValuePair<string, CacheLease>[] left;
        lock (_gate)
        {
            left = [.. _leases];
            _leases.Clear();
        }

        foreach (var (key, lease) in left)
        {
            if (lease.IsGranted)
            {
                await _store.ReleaseAsync(key, lease).ConfigureAwait(false);
            }
        }
    }
}
