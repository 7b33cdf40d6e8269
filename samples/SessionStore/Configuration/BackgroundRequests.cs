namespace SessionStore.Configuration;

/// <summary>Requests that machines make on their own (health probes); they run without session and sign-in, and renew neither.</summary>
public static class BackgroundRequests
{
    public const string Health = "/healthz";

    public static bool Matches(PathString path) => path.Equals(Health, StringComparison.OrdinalIgnoreCase);
}
