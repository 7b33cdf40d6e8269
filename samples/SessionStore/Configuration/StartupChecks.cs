using Microsoft.AspNetCore.DataProtection;

namespace SessionStore.Configuration;

/// <summary>Things done once before the first request.</summary>
public static class StartupChecks
{
    /// <summary>
    /// Creates the Data Protection key now rather than on the first request, so an instance started after this one,
    /// on the same key directory, finds it instead of making a second key.
    /// </summary>
    public static void EnsureKeyRing(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.GetRequiredService<IDataProtectionProvider>().CreateProtector("SessionStore.Startup").Protect([1]);
    }

    public static void WarnWhenNotShareable(SessionStoreSettings settings, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Provider != CacheProviderKind.Memory && string.IsNullOrWhiteSpace(settings.DataProtection.KeysDirectory))
        {
            Log.KeyRingNotShared(logger, settings.Provider);
        }
    }
}
