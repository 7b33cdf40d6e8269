using Dapper;
using SessionStore.Security;

namespace SessionStore.Data;

/// <summary>The <c>users</c> and <c>user_roles</c> tables: looked up at sign-in, never cached (a password change must take effect at once).</summary>
public sealed class UserRepository(IDbConnectionFactory connections)
{
    public async Task<(StoreUser User, string PasswordHash)?> FindAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenReadAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<UserRow>(new CommandDefinition(
            "SELECT name AS Name, display_name AS DisplayName, password_hash AS PasswordHash FROM users WHERE name = @name",
            new { name },
            cancellationToken: cancellationToken));
        if (row is null)
        {
            return null;
        }

        var roles = await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT role FROM user_roles WHERE name = @name ORDER BY role", new { name }, cancellationToken: cancellationToken));
        return (new StoreUser(row.Name, row.DisplayName) { Roles = [.. roles] }, row.PasswordHash);
    }

    public async Task UpdatePasswordHashAsync(string name, string passwordHash, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenWriteAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE users SET password_hash = @passwordHash WHERE name = @name", new { name, passwordHash }, cancellationToken: cancellationToken));
    }

    private sealed record UserRow(string Name, string DisplayName, string PasswordHash);
}
