namespace SessionStore.Sessions;

/// <summary>Whose session it is; each kind has its own store (and, in memory, its own bound).</summary>
public enum SessionKind
{
    /// <summary>A visitor's session (a cart, nothing else), created at the first add to cart.</summary>
    Anonymous,

    /// <summary>A signed-in user's session, created at sign-in (a new key: the anonymous one is retired).</summary>
    SignedIn,
}
