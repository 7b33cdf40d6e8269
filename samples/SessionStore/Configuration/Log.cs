namespace SessionStore.Configuration;

internal static partial class Log
{
    [LoggerMessage(1000, LogLevel.Warning,
        "Sessions are stored in {Provider}, but SessionStore:DataProtection:KeysDirectory (--keys) is not set: other instances cannot read this one's cookies. Give every instance the same key directory.")]
    public static partial void KeyRingNotShared(ILogger logger, CacheProviderKind provider);

    [LoggerMessage(1001, LogLevel.Warning,
        "{Database} could not be initialized (schema and seed); the app runs without it and retries every {RetryInterval}.")]
    public static partial void DatabaseNotReady(ILogger logger, string database, TimeSpan retryInterval, Exception exception);
}
