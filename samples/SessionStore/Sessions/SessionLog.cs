namespace SessionStore.Sessions;

internal static partial class SessionLog
{
    [LoggerMessage(1010, LogLevel.Warning, "A {Kind} session could not be read ({Reason}); it was dropped and the user continues with a fresh session.")]
    public static partial void SessionDiscarded(ILogger logger, SessionKind kind, string reason);

    [LoggerMessage(1011, LogLevel.Warning,
        "The session store did not answer; {Count} requests were answered 503 \"try again\" since the last report (sessions are kept, nobody is signed out).")]
    public static partial void SessionStoreUnavailable(ILogger logger, long count, Exception exception);

    [LoggerMessage(1012, LogLevel.Warning, "A session change made after the response had started could not be stored.")]
    public static partial void LateCommitFailed(ILogger logger, Exception exception);
}
