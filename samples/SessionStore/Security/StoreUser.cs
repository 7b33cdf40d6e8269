namespace SessionStore.Security;

/// <summary>A user of the shop (the type <c>PasswordHasher&lt;T&gt;</c> hashes passwords for) and their roles.</summary>
public sealed record StoreUser(string Name, string DisplayName)
{
    public IReadOnlyList<string> Roles { get; init; } = [];
}
