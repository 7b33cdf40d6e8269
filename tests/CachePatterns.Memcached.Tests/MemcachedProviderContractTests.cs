using CachePatterns.Memcached.Tests.Support;
using CachePatterns.Providers;
using CachePatterns.Tests.Contract;
using Microsoft.Extensions.Options;

namespace CachePatterns.Memcached.Tests;

/// <summary>The shared provider contract (tests/Shared/CacheProviderContract.cs) on three real memcached processes.</summary>
public sealed class MemcachedProviderContractTests(ThreeMemcachedFixture fixture) : CacheProviderContract, IClassFixture<ThreeMemcachedFixture>
{
    protected override ICacheProvider CreateProvider(TimeProvider time) => new MemcachedCacheProvider(Options.Create(Clients.Options(fixture.Addresses)), time);
}
