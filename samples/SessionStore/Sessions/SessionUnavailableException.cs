namespace SessionStore.Sessions;

/// <summary>
/// The session store did not answer (a read or a write failed or timed out). Not the same as "no session": the user is
/// answered "try again" (503), never signed out, and nothing in the session is discarded.
/// </summary>
public sealed class SessionUnavailableException : Exception
{
    public SessionUnavailableException()
    {
    }

    public SessionUnavailableException(string message)
        : base(message)
    {
    }

    public SessionUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
