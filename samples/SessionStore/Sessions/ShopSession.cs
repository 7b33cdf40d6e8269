using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using CachePatterns;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Caching.Distributed;

namespace SessionStore.Sessions;

/// <summary>
/// The session of one request, stored through the library's <see cref="IDistributedCache"/> (ASP.NET Core's
/// <see cref="ISession"/>, so TempData and anything else that uses sessions works unchanged). Unlike the stock
/// <c>DistributedSession</c> it:
/// <list type="bullet">
/// <item>creates a session (key, cookie, entry) only when something is first stored, so browsing makes none;</item>
/// <item>changes its key at sign-in and ends it at sign-out (<see cref="Rotate"/>, <see cref="Revoke"/>): a planted or
/// copied cookie never carries a sign-in;</item>
/// <item>reports a store that does not answer (the library's <see cref="CacheUnavailableException"/>: its
/// <c>IDistributedCache</c> has store semantics, retried and then reported, never a miss) as
/// <see cref="SessionUnavailableException"/>, so the app answers "try again" instead of "no session" (which signed people out);</item>
/// <item>drops a session it cannot read (another version's format) once, with one log line, and starts a fresh one.</item>
/// </list>
/// </summary>
public sealed class ShopSession : ISession
{
    private readonly HttpContext _context;
    private readonly SessionCaches _caches;
    private readonly IDataProtector _protector;
    private readonly SessionCookieOptions _options;
    private readonly ILogger _logger;
    private readonly List<(SessionKind Kind, string Key)> _retired = [];
    private Dictionary<string, byte[]> _values = new(StringComparer.Ordinal);
    private string? _key;
    private SessionKind _kind;
    private bool _loaded;
    private bool _modified;

    internal ShopSession(HttpContext context, SessionCaches caches, IDataProtector protector, SessionCookieOptions options, ILogger logger, string? key)
    {
        _context = context;
        _caches = caches;
        _protector = protector;
        _options = options;
        _logger = logger;
        _key = key;
        _kind = key is not null && key.StartsWith(SignedInPrefix, StringComparison.Ordinal) ? SessionKind.SignedIn : SessionKind.Anonymous;
    }

    private const string SignedInPrefix = "u";
    private const string AnonymousPrefix = "a";

    public bool IsAvailable => _loaded;

    public string Id => _key ?? string.Empty;

    public IEnumerable<string> Keys => _values.Keys;

    /// <summary>Gets the kind of the current session.</summary>
    public SessionKind Kind => _kind;

    /// <summary>Gets a value indicating whether this request dropped an unreadable session (<see cref="Discard"/>).</summary>
    public bool Discarded { get; private set; }

    /// <summary>Gets a value indicating whether this request has changes not yet stored.</summary>
    public bool HasPendingChanges => _modified || _retired.Count > 0;

    public async Task LoadAsync(CancellationToken cancellationToken = default)
    {
        if (_loaded)
        {
            return;
        }

        if (_key is null)
        {
            _loaded = true;
            return;
        }

        byte[]? data;
        try
        {
            data = await _caches.For(_kind).GetAsync(_key, cancellationToken);
        }
        catch (CacheUnavailableException ex)
        {
            throw new SessionUnavailableException("The session store did not answer a read.", ex);
        }

        _loaded = true;
        if (data is null)
        {
            // Expired or removed: never revive a key the browser offers for a session that is gone.
            _key = null;
            _kind = SessionKind.Anonymous;
            return;
        }

        if (!SessionFormat.TryRead(data, out var values))
        {
            Discard("its format is not one this version reads");
            return;
        }

        _values = values;
    }

    /// <summary>
    /// Drops a session whose content cannot be read (for example a cart written by another version during a rolling
    /// deploy): logged once, its entry removed on commit, and the user continues with a fresh, empty session.
    /// </summary>
    public void Discard(string reason)
    {
        SessionLog.SessionDiscarded(_logger, _kind, reason);
        Discarded = true;
        Retire();
        _values.Clear();
        _modified = false;
        _kind = SessionKind.Anonymous;
        DeleteCookie();
    }

    /// <summary>
    /// Moves the session's content to a new key of <paramref name="kind"/> (sign-in): the old entry is removed on commit,
    /// so whoever else holds the old cookie (a planted one) sees an empty session.
    /// </summary>
    public void Rotate(SessionKind kind)
    {
        EnsureLoaded();
        Retire();
        _kind = kind;
        Establish();
        _modified = true;
    }

    /// <summary>Ends the session (sign-out): its entry is removed on commit and its cookie deleted; the next request starts afresh.</summary>
    public void Revoke()
    {
        EnsureLoaded();
        Retire();
        _values.Clear();
        _modified = false;
        _kind = SessionKind.Anonymous;
        DeleteCookie();
    }

    /// <summary>Stores changes (and removes retired entries); throws <see cref="SessionUnavailableException"/> when the store does not take them.</summary>
    public async Task CommitAsync(CancellationToken cancellationToken = default)
    {
        if (_modified && _key is not null)
        {
            var bytes = SessionFormat.Write(_values);
            try
            {
                await _caches.For(_kind).SetAsync(
                    _key, bytes, new DistributedCacheEntryOptions { SlidingExpiration = _options.IdleTimeout }, cancellationToken);
            }
            catch (CacheUnavailableException ex)
            {
                throw new SessionUnavailableException("The session store did not take the session.", ex);
            }

            _modified = false;
        }

        while (_retired.Count > 0)
        {
            var (kind, key) = _retired[^1];
            try
            {
                await _caches.For(kind).RemoveAsync(key, cancellationToken);
            }
            catch (CacheUnavailableException ex)
            {
                throw new SessionUnavailableException("The session store did not remove a retired session.", ex);
            }

            _retired.RemoveAt(_retired.Count - 1);
        }
    }

    public void Clear()
    {
        EnsureLoaded();
        _modified |= _values.Count > 0;
        _values.Clear();
    }

    public void Remove(string key)
    {
        EnsureLoaded();
        _modified |= _values.Remove(key);
    }

    public void Set(string key, byte[] value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        EnsureLoaded();
        if (_key is null)
        {
            Establish();
        }

        _values[key] = value.ToArray();
        _modified = true;
    }

    public bool TryGetValue(string key, [NotNullWhen(true)] out byte[]? value)
    {
        EnsureLoaded();
        return _values.TryGetValue(key, out value);
    }

    private void EnsureLoaded()
    {
        if (!_loaded)
        {
            throw new InvalidOperationException("The session is used before LoadAsync: load it first (the session middleware does for every page).");
        }
    }

    private void Retire()
    {
        if (_key is not null)
        {
            _retired.Add((_kind, _key));
            _key = null;
        }
    }

    private void Establish()
    {
        if (_context.Response.HasStarted)
        {
            throw new InvalidOperationException("The session cannot be established after the response has started.");
        }

        _key = (_kind == SessionKind.SignedIn ? SignedInPrefix : AnonymousPrefix) + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        _context.Response.Cookies.Append(_options.CookieName, _protector.Protect(_key), CookieOptions());
    }

    private void DeleteCookie()
    {
        if (!_context.Response.HasStarted)
        {
            _context.Response.Cookies.Delete(_options.CookieName, CookieOptions());
        }
    }

    private CookieOptions CookieOptions() => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Lax,
        Secure = _context.Request.IsHttps,
        Path = "/",
        IsEssential = true,
    };
}
