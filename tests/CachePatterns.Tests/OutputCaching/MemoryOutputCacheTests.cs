using CachePatterns.Tests.Support;

namespace CachePatterns.Tests.OutputCaching;

/// <summary>Output caching over the in-memory provider (one app instance each: nothing is shared between them).</summary>
public sealed class MemoryOutputCacheTests : OutputCacheConformance
{
    protected override bool AppsShareTheCache => false;

    protected override void UseProvider(CachePatternsBuilder builder) => builder.UseMemoryProvider();
}
