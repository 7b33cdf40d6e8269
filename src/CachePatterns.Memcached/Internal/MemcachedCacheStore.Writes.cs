using System.Globalization;
using CachePatterns.Providers;

namespace CachePatterns.Memcached.Internal;

/// <summary>Write-through on memcached: the write marker that takes the entry's place while writes are in flight.</summary>
internal sealed partial class MemcachedCacheStore<TKey, TValue>
{
    /// <summary>
    /// Registers a write. The registration runs to its end whoever waits: when the caller gave up (cancelled, timed out)
    /// it is withdrawn at once (as <see cref="AbortWriteAsync"/>), so it does not keep fills of the key out until
    /// <see cref="MemcachedCacheProviderOptions.WriteTimeout"/>.
    /// </summary>
    public async ValueTask<CacheWriteToken> BeginWriteAsync(TKey key, CancellationToken cancellationToken)
    {
        var k = KeyOf(key);
        cancellationToken.ThrowIfCancellationRequested();
        var registration = RegisterWriteAsync(k);
        try
        {
            return await registration.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _ = WithdrawAsync(k, registration);
            throw;
        }
    }

    private async Task WithdrawAsync(string key, Task<CacheWriteToken> registration)
    {
        try
        {
            await EndWriteAsync(key, await registration.ConfigureAwait(false), null, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MemcachedException or ArgumentException)
        {
            // Not registered, or the node cannot answer: the marker then expires after WriteTimeout.
        }
    }

    private async Task<CacheWriteToken> RegisterWriteAsync(string k)
    {
        var cancellationToken = CancellationToken.None;
        var token = Random.Shared.NextInt64(1, long.MaxValue);
        for (var attempt = 0; attempt < MaxCasAttempts; attempt++)
        {
            var current = await _client.GetAsync(k, "v c", cancellationToken).ConfigureAwait(false);
            MetaCommand register;
            if (current.Status != MetaStatus.Value)
            {
                register = _client.StoreCommand(k, Envelope.WriteMarker(1, token), _writeTimeout, "ME");
            }
            else
            {
                // Replacing a value, a lease placeholder or a stale entry changes the CAS: every outstanding lease fails.
                var writers = Envelope.TryReadMarker(current.Value, out var inFlight, out _) ? inFlight + 1 : 1;
                register = _client.StoreCommand(k, Envelope.WriteMarker(writers, token), _writeTimeout, Cas(current.Cas));
            }

            if ((await _client.ExecuteAsync(register, cancellationToken).ConfigureAwait(false)).Status == MetaStatus.Stored)
            {
                return new CacheWriteToken(token, null);
            }
        }

        await _client.DeleteAsync(k, string.Empty, cancellationToken).ConfigureAwait(false);
        return new CacheWriteToken(token, UnregisteredWrite);
    }

    public async ValueTask<bool> CompleteWriteAsync(TKey key, CacheWriteToken token, CacheValue<TValue> value, StoreEntryOptions options, CancellationToken cancellationToken)
    {
        var k = KeyOf(key);
        MetaCommand? store;
        long stamp;
        try
        {
            stamp = await StampForStoreAsync(options, cancellationToken).ConfigureAwait(false);
            var bytes = Encode(k, value, options, stamp);
            store = _client.StoreCommand(k, bytes, PhysicalTtl(options), string.Create(CultureInfo.InvariantCulture, $"F{Flags(value)}"));
        }
        catch (Exception ex) when (ex is CacheValueTooLargeException or ArgumentException or MemcachedException)
        {
            await EndWriteAsync(k, token, null, cancellationToken).ConfigureAwait(false);
            throw;
        }

        return await EndWriteAsync(k, token, store, cancellationToken).ConfigureAwait(false)
            && await TagsStayValidAsync(stamp, options, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask AbortWriteAsync(TKey key, CacheWriteToken token, CancellationToken cancellationToken) =>
        await EndWriteAsync(KeyOf(key), token, null, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Ends a write: stores <paramref name="store"/> (with the marker's CAS) when the marker shows this write alone and
    /// latest; otherwise leaves the marker to the writers still in flight (with no latest token, so none of them stores),
    /// or removes the key when this was the last one. Never enables another write to store.
    /// </summary>
    private async ValueTask<bool> EndWriteAsync(string key, CacheWriteToken token, MetaCommand? store, CancellationToken cancellationToken)
    {
        if (token.State != UnregisteredWrite)
        {
            for (var attempt = 0; attempt < MaxCasAttempts; attempt++)
            {
                var current = await _client.GetAsync(key, "v c", cancellationToken).ConfigureAwait(false);
                if (current.Status != MetaStatus.Value)
                {
                    return false; // the marker expired or was invalidated, and nothing was stored since
                }

                MetaCommand next;
                var storing = false;
                if (Envelope.TryReadMarker(current.Value, out var writers, out var latest) && writers > 1)
                {
                    next = _client.StoreCommand(key, Envelope.WriteMarker(writers - 1, 0), _writeTimeout, Cas(current.Cas));
                }
                else if (writers == 1 && latest == token.Token && store is { } command)
                {
                    next = command with { Flags = command.Flags + " " + Cas(current.Cas) };
                    storing = true;
                }
                else
                {
                    // The last write, but not alone or not the latest; or a value or placeholder stored after this write's
                    // registration was dropped (expired, invalidated, overwritten by a set): remove it.
                    next = _client.Command("md", key, Cas(current.Cas));
                }

                var reply = await _client.ExecuteAsync(next, cancellationToken).ConfigureAwait(false);
                if (reply.Status is not (MetaStatus.Exists or MetaStatus.NotStored))
                {
                    return storing && reply.Status == MetaStatus.Stored;
                }
            }
        }

        await _client.DeleteAsync(key, string.Empty, cancellationToken).ConfigureAwait(false);
        return false;
    }

    private static string Cas(ulong cas) => string.Create(CultureInfo.InvariantCulture, $"C{cas}");
}
