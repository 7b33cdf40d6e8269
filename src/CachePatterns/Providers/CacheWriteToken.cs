namespace CachePatterns.Providers;

/// <summary>
/// Marks a database write of one key in progress, from <see cref="ICacheStore{TKey, TValue}.BeginWriteAsync"/>
/// to <see cref="ICacheStore{TKey, TValue}.CompleteWriteAsync"/> or <see cref="ICacheStore{TKey, TValue}.AbortWriteAsync"/>.
/// </summary>
/// <param name="Token">The provider's fencing token for the write.</param>
/// <param name="State">Provider state that travels with the write.</param>
public readonly record struct CacheWriteToken(long Token, object? State)
{
    /// <summary>Gets a value indicating whether the provider registered the write.</summary>
    public bool IsRegistered => Token != 0 || State is not null;

    /// <summary>Gets the token of a write the provider could not register (completion then only invalidates).</summary>
    public static CacheWriteToken None => default;
}
