namespace SessionStore.Security;

/// <summary>The shop's roles and the authorization policy names built on them.</summary>
public static class Roles
{
    /// <summary>Edits the catalogue and sees the statistics.</summary>
    public const string Administrator = "administrator";

    /// <summary>The policy that requires <see cref="Administrator"/>.</summary>
    public const string AdministratorPolicy = "administrator";
}
