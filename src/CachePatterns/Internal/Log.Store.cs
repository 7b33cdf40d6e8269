using Microsoft.Extensions.Logging;

namespace CachePatterns.Internal;

/// <summary>Log messages of the store semantics (<c>IDistributedCache</c> as the only copy); event ids 40–49.</summary>
internal static partial class Log
{
    [LoggerMessage(40, LogLevel.Debug, "Store call {Operation} of {StoreName} failed on attempt {Attempt}; it is retried with the same write id.")]
    public static partial void StoreAttemptFailed(ILogger logger, string storeName, string operation, int attempt, Exception exception);

    [LoggerMessage(41, LogLevel.Warning, "Store call {Operation} of {StoreName} failed after {Attempts} attempt(s); the caller is told the provider is unavailable (nothing is deleted in its place).")]
    public static partial void StoreCallFailed(ILogger logger, string storeName, string operation, int attempts, Exception exception);
}
