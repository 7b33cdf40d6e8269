using Microsoft.Extensions.Logging;

namespace CachePatterns.Internal;

/// <summary>The tag ledger's messages (events 70–89).</summary>
internal static partial class Log
{
    [LoggerMessage(70, LogLevel.Warning, "Invalidation of tag '{Tag}' of cache {CacheName} failed ({Cause}); it is remembered and replayed, and the cache is not read by this process until it is. {Suppressed} more tag invalidations were deferred in the {Interval} before; {Pending} tags are waiting.")]
    public static partial void TagInvalidationDeferred(ILogger logger, string tag, string cacheName, string cause, long suppressed, TimeSpan interval, int pending);

    [LoggerMessage(71, LogLevel.Warning, "More than {Max} tag invalidations of cache {CacheName} failed; the tags are forgotten and {Remedy}")]
    public static partial void TagLedgerOverflowed(ILogger logger, int max, string cacheName, string remedy);

    [LoggerMessage(72, LogLevel.Information, "Replayed {Count} tag invalidations of cache {CacheName} that had failed; the cache is read again once none is pending.")]
    public static partial void TagLedgerReplayed(ILogger logger, int count, string cacheName);

    [LoggerMessage(73, LogLevel.Information, "Swept the {Prefixes} key prefixes of cache {CacheName} after lost tag invalidations: {Count} keys invalidated; the cache is read again.")]
    public static partial void TagLedgerSwept(ILogger logger, string cacheName, int prefixes, long count);

    [LoggerMessage(74, LogLevel.Warning, "Sweeping key prefix '{KeyPrefix}' of cache {CacheName} after lost tag invalidations failed; retried in {RetryIn}, the cache is not read until then. {Suppressed} more failed sweeps were not logged in the {Interval} before.")]
    public static partial void TagLedgerSweepFailed(ILogger logger, string cacheName, string keyPrefix, TimeSpan retryIn, long suppressed, TimeSpan interval, Exception exception);

    [LoggerMessage(75, LogLevel.Information, "The lost tag invalidations of cache {CacheName} are accounted for: every tagged entry written before them has expired; the cache is read again.")]
    public static partial void TagLedgerExpiredOut(ILogger logger, string cacheName);
}
