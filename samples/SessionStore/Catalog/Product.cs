namespace SessionStore.Catalog;

/// <summary>One product of the catalogue. Immutable: the in-memory cache hands the same instance to every reader.</summary>
public sealed record Product(int Id, string Name, string Category, decimal Price, int Stock);
