using CachePatterns.Internal;
using CachePatterns.Providers;

namespace CachePatterns.Strategies;

internal sealed partial class CacheStrategy<TKey, TValue>
{
    public async ValueTask WriteAsync(TKey key, TValue value, CacheEntryOptions? options = null, CancellationToken cancellationToken = default)
    {
        Guard.NotNullKey(key);

        // A key the provider cannot hold fails before the database is written, in both strategies.
        _store.ValidateKey(key);
        var writer = _writer ?? throw NoWriter();
        using var activity = CacheTelemetry.ActivitySource.StartActivity("cachepatterns.write");
        activity?.SetTag(Diagnostics.CacheDiagnostics.CacheNameTag, Name);
        var tags = await TagsToInvalidateAsync(key, hasNewValue: true, value, cancellationToken).ConfigureAwait(false);

        if (_options.Kind == CacheStrategyKind.CacheAside)
        {
            try
            {
                await writer.WriteAsync(key, value, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await InvalidateQuietlyAsync(key).ConfigureAwait(false);
                await InvalidateTagsQuietlyAsync(tags).ConfigureAwait(false);
            }

            return;
        }

        var token = await BeginWriteQuietlyAsync(key).ConfigureAwait(false);
        try
        {
            await writer.WriteAsync(key, value, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await AbortWriteQuietlyAsync(key, token).ConfigureAwait(false);
            await InvalidateTagsQuietlyAsync(tags).ConfigureAwait(false);
            throw;
        }

        try
        {
            // The database has the value: the cache is updated even if the caller cancels now.
            await _store.CompleteWriteAsync(key, token, CacheValue<TValue>.Of(value), ResolveEntryOptions(options, found: true), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is CacheValueTooLargeException or CacheSerializationException)
        {
            Log.ValueNotCached(_instruments.Logger, Name, ex.Message);
        }
        catch (Exception ex)
        {
            _instruments.ProviderError("complete-write", ex);
        }
        finally
        {
            DetachFlight(key);
            await InvalidateTagsQuietlyAsync(tags).ConfigureAwait(false);
        }
    }

    public async ValueTask RemoveAsync(TKey key, CancellationToken cancellationToken = default)
    {
        Guard.NotNullKey(key);

        // A key the provider cannot hold fails before the database is written, in both strategies.
        _store.ValidateKey(key);
        var writer = _writer ?? throw NoWriter();
        using var activity = CacheTelemetry.ActivitySource.StartActivity("cachepatterns.remove");
        activity?.SetTag(Diagnostics.CacheDiagnostics.CacheNameTag, Name);
        var tags = await TagsToInvalidateAsync(key, hasNewValue: false, default, cancellationToken).ConfigureAwait(false);

        if (_options.Kind == CacheStrategyKind.CacheAside)
        {
            try
            {
                await writer.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await InvalidateQuietlyAsync(key).ConfigureAwait(false);
                await InvalidateTagsQuietlyAsync(tags).ConfigureAwait(false);
            }

            return;
        }

        var token = await BeginWriteQuietlyAsync(key).ConfigureAwait(false);
        try
        {
            await writer.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await AbortWriteQuietlyAsync(key, token).ConfigureAwait(false);
            await InvalidateTagsQuietlyAsync(tags).ConfigureAwait(false);
        }
    }

    public async ValueTask InvalidateAsync(TKey key, CancellationToken cancellationToken = default)
    {
        Guard.NotNullKey(key);
        try
        {
            await _store.InvalidateAsync(key, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            DetachFlight(key);
        }
    }

    /// <summary>Stores a value in the cache only (no database), revoking fills in progress. Used by the ad-hoc cache.</summary>
    internal async ValueTask SetAsync(TKey key, TValue value, CacheEntryOptions? options, CancellationToken cancellationToken)
    {
        Guard.NotNullKey(key);
        if (!CanStoreTags(options))
        {
            throw new NotSupportedException($"The cache provider of strategy '{Name}' does not support tags; the entry's tags could never be invalidated.");
        }

        try
        {
            await _store.SetAsync(key, CacheValue<TValue>.Of(value), ResolveEntryOptions(options, found: true), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            DetachFlight(key);
        }
    }

    private async ValueTask<CacheWriteToken> BeginWriteQuietlyAsync(TKey key)
    {
        try
        {
            return await _store.BeginWriteAsync(key, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not ArgumentException)
        {
            _instruments.ProviderError("begin-write", ex);
            return CacheWriteToken.None;
        }
    }

    private async ValueTask AbortWriteQuietlyAsync(TKey key, CacheWriteToken token)
    {
        try
        {
            await _store.AbortWriteAsync(key, token, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _instruments.ProviderError("abort-write", ex);
        }
        finally
        {
            DetachFlight(key);
        }
    }

    private async ValueTask InvalidateQuietlyAsync(TKey key)
    {
        try
        {
            await _store.InvalidateAsync(key, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _instruments.ProviderError("invalidate", ex);
        }
        finally
        {
            DetachFlight(key);
        }
    }
}
