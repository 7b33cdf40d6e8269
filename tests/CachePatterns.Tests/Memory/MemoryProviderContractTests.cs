using CachePatterns.Memory;
using CachePatterns.Providers;
using CachePatterns.Tests.Contract;
using Microsoft.Extensions.Options;

namespace CachePatterns.Tests.Memory;

/// <summary>The shared provider contract (tests/Shared/CacheProviderContract.cs) on the in-memory provider.</summary>
public sealed class MemoryProviderContractTests : CacheProviderContract
{
    protected override bool LeasesAreExclusive => false;

    protected override bool HitsTellLifeAndTags => false;

    protected override ICacheProvider CreateSecondClient(ICacheProvider first) => first;

    protected override ICacheProvider CreateProvider(TimeProvider time) => new MemoryCacheProvider(Options.Create(new MemoryCacheProviderOptions()), time);
}
