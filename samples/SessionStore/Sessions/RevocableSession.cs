using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Caching.Distributed;

namespace SessionStore.Sessions;

/// <summary>
/// A session that can be ended for good: after <see cref="Revoke"/>, it reads as empty, refuses new values, and its
/// commit removes the entry from the cache instead of writing it back, so no instance can load it again.
/// </summary>
public sealed class RevocableSession(ISession inner, IDistributedCache cache, string sessionKey) : ISession
{
    private bool _revoked;

    public bool IsAvailable => inner.IsAvailable;

    public string Id => inner.Id;

    public IEnumerable<string> Keys => _revoked ? [] : inner.Keys;

    /// <summary>Empties the session and removes it from the cache when the request commits it.</summary>
    public void Revoke() => _revoked = true;

    public async Task CommitAsync(CancellationToken cancellationToken = default)
    {
        if (_revoked)
        {
            await cache.RemoveAsync(sessionKey, cancellationToken);
            return;
        }

        await inner.CommitAsync(cancellationToken);
    }

    public Task LoadAsync(CancellationToken cancellationToken = default) => inner.LoadAsync(cancellationToken);

    public void Clear()
    {
        if (!_revoked)
        {
            inner.Clear();
        }
    }

    public void Remove(string key)
    {
        if (!_revoked)
        {
            inner.Remove(key);
        }
    }

    public void Set(string key, byte[] value)
    {
        if (_revoked)
        {
            throw new InvalidOperationException("The session was revoked (signed out); it cannot take new values in this request.");
        }

        inner.Set(key, value);
    }

    public bool TryGetValue(string key, [NotNullWhen(true)] out byte[]? value)
    {
        if (_revoked)
        {
            value = null;
            return false;
        }

        return inner.TryGetValue(key, out value);
    }
}
