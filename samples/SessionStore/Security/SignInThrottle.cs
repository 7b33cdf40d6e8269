using System.Collections.Concurrent;
using SessionStore.Configuration;

namespace SessionStore.Security;

/// <summary>
/// Counts failed sign-ins per account and per client address. An account with
/// <see cref="SecuritySettings.SignInFailuresPerAccount"/> failures in a row, or an address with
/// <see cref="SecuritySettings.SignInFailuresPerClient"/> failures within the lockout window, is refused — even with the
/// right password, and without hashing it (guessing costs the server nothing more) — until the window has passed.
/// A successful sign-in clears the account's count. In memory, per instance; entries older than the window are pruned.
/// </summary>
public sealed class SignInThrottle(SessionStoreSettings settings, TimeProvider time)
{
    private const int PruneAbove = 10_000;
    private readonly ConcurrentDictionary<string, Failures> _accounts = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, Failures> _clients = new(StringComparer.Ordinal);
    private readonly SecuritySettings _settings = settings.Security;

    /// <summary>Why a sign-in is refused before the password is checked, or null when it may proceed.</summary>
    public SignInRefusal? Check(string account, string client)
    {
        var now = time.GetUtcNow();
        if (LockedUntil(_clients, client, _settings.SignInFailuresPerClient, now) is { } clientUntil)
        {
            return new SignInRefusal(SignInRefusalReason.Client, clientUntil - now);
        }

        return LockedUntil(_accounts, account, _settings.SignInFailuresPerAccount, now) is { } accountUntil
            ? new SignInRefusal(SignInRefusalReason.Account, accountUntil - now)
            : null;
    }

    public void Failed(string account, string client)
    {
        var now = time.GetUtcNow();
        Count(_accounts, account, now);
        Count(_clients, client, now);
    }

    public void Succeeded(string account) => _accounts.TryRemove(account, out _);

    private DateTimeOffset? LockedUntil(ConcurrentDictionary<string, Failures> table, string key, int limit, DateTimeOffset now)
    {
        if (!table.TryGetValue(key, out var failures))
        {
            return null;
        }

        lock (failures)
        {
            var until = failures.Last + _settings.SignInLockout;
            if (until <= now)
            {
                table.TryRemove(key, out _);
                return null;
            }

            return failures.Count >= limit ? until : null;
        }
    }

    private void Count(ConcurrentDictionary<string, Failures> table, string key, DateTimeOffset now)
    {
        if (table.Count > PruneAbove)
        {
            foreach (var (stale, _) in table.Where(e => e.Value.Last + _settings.SignInLockout <= now))
            {
                table.TryRemove(stale, out _);
            }
        }

        var failures = table.GetOrAdd(key, static _ => new Failures());
        lock (failures)
        {
            if (failures.Last + _settings.SignInLockout <= now)
            {
                failures.Count = 0;
            }

            failures.Count++;
            failures.Last = now;
        }
    }

    private sealed class Failures
    {
        public int Count;
        public DateTimeOffset Last = DateTimeOffset.MinValue;
    }
}

/// <summary>Whose failures refused a sign-in.</summary>
public enum SignInRefusalReason
{
    /// <summary>Too many failures for this account.</summary>
    Account,

    /// <summary>Too many failures from this client address.</summary>
    Client,
}

/// <summary>A refused sign-in: why, and how long until the next attempt is allowed.</summary>
public sealed record SignInRefusal(SignInRefusalReason Reason, TimeSpan RetryAfter)
{
    /// <summary>What the sign-in page says.</summary>
    public string Message
    {
        get
        {
            var minutes = Math.Max(1, (int)Math.Ceiling(RetryAfter.TotalMinutes));
            var wait = minutes == 1 ? "1 minute" : $"{minutes} minutes";
            return Reason == SignInRefusalReason.Account
                ? $"Too many failed sign-ins for this account. It is locked for now: try again in {wait}."
                : $"Too many failed sign-ins from your network. Try again in {wait}.";
        }
    }
}
