using System.ComponentModel;

namespace CachePatterns.Benchmarks;

/// <summary>
/// The cached value of every benchmark: a small immutable record.
/// </summary>
/// <remarks>
/// <see cref="ImmutableObjectAttribute"/> lets HybridCache hand out the cached instance instead of
/// a deserialized copy per hit (its documented fast path); the other caches ignore the attribute.
/// </remarks>
[ImmutableObject(true)]
public sealed record Product(int Id, string Name, decimal Price)
{
    /// <summary>Gets the one instance the hit benchmarks store and return.</summary>
    public static Product Sample { get; } = new(42, "Espresso machine", 199.90m);
}
