namespace SessionStore.Configuration;

/// <summary>Requests that machines and scripts make on their own; they run without session and sign-in.</summary>
public static class BackgroundRequests
{
    public const string Health = "/healthz";

    public const string StatisticsData = "/stats/data";

    public static bool Matches(PathString path) =>
        path.Equals(Health, StringComparison.OrdinalIgnoreCase) || path.Equals(StatisticsData, StringComparison.OrdinalIgnoreCase);
}
