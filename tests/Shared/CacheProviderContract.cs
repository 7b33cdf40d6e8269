using System.Buffers;
using System.Text;
using CachePatterns.Providers;
using CachePatterns.Serialization;
using Microsoft.Extensions.Time.Testing;

namespace CachePatterns.Tests.Contract;

/// <summary>
/// The provider contract (docs/architecture.md, "The provider contract"), written once and run against every provider:
/// each provider's test project links this file and derives one class that says how to create its provider. Keys are
/// unique per test, so the classes may share servers with other tests. Provider-specific behaviour (wire formats,
/// limits, failures) stays in each provider's own tests.
/// </summary>
public abstract class CacheProviderContract
{
    private static readonly StoreEntryOptions Hour = new(TimeSpan.FromHours(1));

    /// <summary>Creates a provider (a new client of the same servers, for a remote provider) on <paramref name="time"/>.</summary>
    protected abstract ICacheProvider CreateProvider(TimeProvider time);

    /// <summary>
    /// Gets a value indicating whether the provider hands out one lease per key at a time (the next caller is told
    /// <see cref="CacheLookupStatus.MissLeaseHeldElsewhere"/>, a fill consumes its lease). Remote providers do, for
    /// stampede control across processes; the in-memory provider only fences (the core's single flight already
    /// collapses callers in the process), which the contract allows.
    /// </summary>
    protected virtual bool LeasesAreExclusive => true;

    /// <summary>
    /// Creates a second client of the same cache, as another process would have (a new provider on the same servers);
    /// an in-process provider has no other client and returns <paramref name="first"/> (disposing it twice is allowed).
    /// </summary>
    protected virtual ICacheProvider CreateSecondClient(ICacheProvider first) => CreateProvider(new FakeTimeProvider(DateTimeOffset.UtcNow));

    /// <summary>
    /// Gets a value indicating whether a hit says how long a copy may be served and which tags the entry carries
    /// (<see cref="CacheLookup{TValue}.FreshFor"/>, <see cref="CacheLookup{TValue}.Tags"/>): providers a near cache can sit in
    /// front of do; the in-memory provider (never behind a near cache) does not.
    /// </summary>
    protected virtual bool HitsTellLifeAndTags => true;

    [Fact]
    public async Task A_hit_tells_how_long_a_copy_may_be_served_and_the_entry_s_tags()
    {
        var (provider, store, key) = Create();
        using var _ = provider;
        var red = NewTag();
        await store.SetAsync(key + "abs", CacheValue<string>.Of("abs"), new StoreEntryOptions(TimeSpan.FromSeconds(30)) { Tags = [red] }, default);
        await store.SetAsync(key + "sliding", CacheValue<string>.Of("sliding"), new StoreEntryOptions(null, TimeSpan.FromSeconds(10)), default);
        await store.SetAsync(key + "capped", CacheValue<string>.Of("capped"), new StoreEntryOptions(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(10)), default);

        // Every read path: the plain read, the lease read, a batch.
        var batch = await store.GetManyAsync([key + "abs", key + "sliding", key + "capped"], false, default);
        foreach (var (abs, sliding, capped) in new[]
        {
            (await store.GetAsync(key + "abs", false, default), await store.GetAsync(key + "sliding", false, default), await store.GetAsync(key + "capped", false, default)),
            (await store.GetAsync(key + "abs", true, default), await store.GetAsync(key + "sliding", true, default), await store.GetAsync(key + "capped", true, default)),
            (batch[0], batch[1], batch[2]),
        })
        {
            Assert.All(new[] { abs, sliding, capped }, l => Assert.Equal(CacheLookupStatus.Hit, l.Status));
            if (!HitsTellLifeAndTags)
            {
                Assert.All(new[] { abs, sliding, capped }, l => Assert.Null(l.FreshFor));
                Assert.All(new[] { abs, sliding, capped }, l => Assert.Null(l.Tags));
                continue;
            }

            // The remaining life; half the sliding window (a copy's reads do not renew it); the deadline caps both. Zero is
            // allowed (the provider cannot judge now, e.g. Redis before it has an estimate of the server's clock: no copy).
            Assert.InRange(abs.FreshFor!.Value, TimeSpan.Zero, TimeSpan.FromSeconds(30));
            Assert.InRange(sliding.FreshFor!.Value, TimeSpan.Zero, TimeSpan.FromSeconds(5));
            Assert.InRange(capped.FreshFor!.Value, TimeSpan.Zero, TimeSpan.FromSeconds(3));
            Assert.Equal([red], abs.Tags!);
            Assert.Empty(sliding.Tags!);
        }
    }

    [Fact]
    public async Task Miss_grants_a_lease_its_fill_stores_once_and_the_next_lookup_hits()
    {
        var (provider, store, key) = Create();
        using var _ = provider;
        Assert.Equal((CacheLookupStatus.Miss, false), Describe(await store.GetAsync(key, false, default)));

        var miss = await store.GetAsync(key, true, default);
        Assert.Equal((CacheLookupStatus.Miss, true), Describe(miss));
        Assert.True(await store.FillAsync(key, miss.Lease, CacheValue<string>.Of("one"), Hour, default));
        var hit = await store.GetAsync(key, true, default);
        Assert.Equal((CacheLookupStatus.Hit, false), Describe(hit));
        Assert.Equal("one", hit.Value.Value);

        if (LeasesAreExclusive)
        {
            Assert.False(await store.FillAsync(key, miss.Lease, CacheValue<string>.Of("two"), Hour, default));
            Assert.Equal("one", (await store.GetAsync(key, false, default)).Value.Value);
        }
    }

    [Fact]
    public async Task A_held_lease_is_held_elsewhere_for_the_next_caller_until_released()
    {
        var (provider, store, key) = Create();
        using var _ = provider;
        var first = await store.GetAsync(key, true, default);
        Assert.True(first.Lease.IsGranted);
        Assert.Equal(
            LeasesAreExclusive ? (CacheLookupStatus.MissLeaseHeldElsewhere, false) : (CacheLookupStatus.Miss, true),
            Describe(await store.GetAsync(key, true, default)));

        await store.ReleaseLeaseAsync(key, first.Lease, default);
        Assert.Equal((CacheLookupStatus.Miss, true), Describe(await store.GetAsync(key, true, default)));
    }

    [Fact]
    public async Task Invalidate_set_and_begin_write_each_revoke_an_outstanding_lease()
    {
        var (provider, store, key) = Create();
        using var _ = provider;

        var lease = (await store.GetAsync(key, true, default)).Lease;
        await store.InvalidateAsync(key, default);
        var fresh = (await store.GetAsync(key, true, default)).Lease;
        Assert.False(await store.FillAsync(key, lease, CacheValue<string>.Of("stale"), Hour, default));
        Assert.True(await store.FillAsync(key, fresh, CacheValue<string>.Of("fresh"), Hour, default));
        Assert.Equal("fresh", (await store.GetAsync(key, false, default)).Value.Value);

        await store.InvalidateAsync(key, default);
        lease = (await store.GetAsync(key, true, default)).Lease;
        Assert.True(lease.IsGranted);
        await store.SetAsync(key, CacheValue<string>.Of("set"), Hour, default);
        Assert.False(await store.FillAsync(key, lease, CacheValue<string>.Of("stale"), Hour, default));
        Assert.Equal("set", (await store.GetAsync(key, false, default)).Value.Value);

        await store.InvalidateAsync(key, default);
        lease = (await store.GetAsync(key, true, default)).Lease;
        Assert.True(lease.IsGranted);
        var write = await store.BeginWriteAsync(key, default);
        Assert.False(await store.FillAsync(key, lease, CacheValue<string>.Of("stale"), Hour, default));
        await store.AbortWriteAsync(key, write, default);
    }

    [Fact]
    public async Task A_write_alone_stores_overlapping_writes_remove_and_an_abort_removes()
    {
        var (provider, store, key) = Create();
        using var _ = provider;

        var alone = await store.BeginWriteAsync(key, default);
        Assert.True(await store.CompleteWriteAsync(key, alone, CacheValue<string>.Of("w"), Hour, default));
        Assert.Equal((CacheLookupStatus.Hit, "w"), (await store.GetAsync(key, true, default) is var hit ? hit.Status : default, hit.Value.Value));

        var first = await store.BeginWriteAsync(key, default);
        var second = await store.BeginWriteAsync(key, default);
        Assert.False(await store.CompleteWriteAsync(key, first, CacheValue<string>.Of("w1"), Hour, default));
        Assert.False(await store.CompleteWriteAsync(key, second, CacheValue<string>.Of("w2"), Hour, default));
        Assert.NotEqual(CacheLookupStatus.Hit, (await store.GetAsync(key, false, default)).Status);

        await store.SetAsync(key, CacheValue<string>.Of("before"), Hour, default);
        var aborted = await store.BeginWriteAsync(key, default);
        await store.AbortWriteAsync(key, aborted, default);
        Assert.NotEqual(CacheLookupStatus.Hit, (await store.GetAsync(key, false, default)).Status);
        Assert.Equal((CacheLookupStatus.Miss, true), Describe(await store.GetAsync(key, true, default)));
    }

    [Fact]
    public async Task A_negative_entry_is_a_hit_without_a_value()
    {
        var (provider, store, key) = Create();
        using var _ = provider;
        var miss = await store.GetAsync(key, true, default);
        Assert.True(await store.FillAsync(key, miss.Lease, CacheValue<string>.NotFound, Hour, default));
        var hit = await store.GetAsync(key, true, default);
        Assert.Equal((CacheLookupStatus.Hit, false), (hit.Status, hit.Value.Exists));
    }

    [Fact]
    public async Task Get_many_answers_in_order_with_leases_for_the_misses()
    {
        var (provider, store, key) = Create();
        using var _ = provider;
        await store.SetAsync(key + "b", CacheValue<string>.Of("b"), Hour, default);
        var lookups = await store.GetManyAsync([key + "a", key + "b", key + "c"], true, default);
        Assert.Equal(
            [(CacheLookupStatus.Miss, true, null), (CacheLookupStatus.Hit, false, "b"), (CacheLookupStatus.Miss, true, null)],
            lookups.Select(l => (l.Status, l.Lease.IsGranted, l.Value.Value)).ToArray());
    }

    [Fact]
    public async Task Past_its_expiration_an_entry_kept_for_fail_safe_is_stale_and_one_caller_refreshes_it()
    {
        // The real clock: Redis judges expiry with the server's clock, the others with the provider's TimeProvider.
        var (provider, store, key) = Create(TimeProvider.System);
        using var _ = provider;
        await store.SetAsync(key, CacheValue<string>.Of("old"), new StoreEntryOptions(TimeSpan.FromMilliseconds(300), null, TimeSpan.FromMinutes(10)), default);
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(10);
        CacheLookup<string> refresh;
        while ((refresh = await store.GetAsync(key, true, default)).Status == CacheLookupStatus.Hit && DateTimeOffset.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal((CacheLookupStatus.Stale, true, "old"), (refresh.Status, refresh.Lease.IsGranted, refresh.Value.Value));
        // Known (not null) and not in the future; 0 when the read lands in the very millisecond the entry expired (seen once).
        Assert.True(refresh.ExpiredFor >= TimeSpan.Zero, $"ExpiredFor {refresh.ExpiredFor}");
        var other = await store.GetAsync(key, true, default);
        Assert.Equal(LeasesAreExclusive ? CacheLookupStatus.StaleLeaseHeldElsewhere : CacheLookupStatus.Stale, other.Status);
        Assert.Equal("old", other.Value.Value);

        Assert.True(await store.FillAsync(key, refresh.Lease, CacheValue<string>.Of("new"), Hour, default));
        Assert.Equal((CacheLookupStatus.Hit, "new"), (await store.GetAsync(key, true, default) is var hit ? hit.Status : default, hit.Value.Value));
    }

    [Fact]
    public async Task A_tag_invalidation_makes_every_entry_with_the_tag_a_miss_in_every_store_and_client()
    {
        var (provider, store, key) = Create();
        using var _ = provider;
        using var second = CreateSecondClient(provider);
        var otherStore = second.CreateStore(new CacheStoreDescriptor<string, string>("Other", "ContractOther:", new Utf8StringSerializer()));
        Assert.True(provider.SupportsTags);
        var (red, blue) = (NewTag(), NewTag());

        await store.SetAsync(key + "set", CacheValue<string>.Of("set"), Tagged(red), default);
        var miss = await store.GetAsync(key + "fill", true, default);
        Assert.True(await store.FillAsync(key + "fill", miss.Lease, CacheValue<string>.Of("fill"), Tagged(blue, red), default));
        var write = await store.BeginWriteAsync(key + "write", default);
        Assert.True(await store.CompleteWriteAsync(key + "write", write, CacheValue<string>.Of("write"), Tagged(red), default));
        await store.SetAsync(key + "blue", CacheValue<string>.Of("blue"), Tagged(blue), default);
        await store.SetAsync(key + "none", CacheValue<string>.Of("none"), Hour, default);
        await otherStore.SetAsync(key + "other", CacheValue<string>.Of("other"), Tagged(red), default);
        Assert.Equal(CacheLookupStatus.Hit, (await otherStore.GetAsync(key + "other", false, default)).Status);

        await second.InvalidateTagAsync(red, default);

        foreach (var gone in new[] { "set", "fill", "write" })
        {
            Assert.Equal((CacheLookupStatus.Miss, false), Describe(await store.GetAsync(key + gone, false, default)));
        }

        Assert.Equal((CacheLookupStatus.Miss, false), Describe(await otherStore.GetAsync(key + "other", false, default)));
        Assert.Equal((CacheLookupStatus.Miss, true), Describe(await store.GetAsync(key + "set", true, default)));
        var many = await store.GetManyAsync([key + "fill", key + "blue", key + "none"], false, default);
        Assert.Equal(
            [(CacheLookupStatus.Miss, null), (CacheLookupStatus.Hit, "blue"), (CacheLookupStatus.Hit, "none")],
            many.Select(l => (l.Status, l.Value.Value)).ToArray());
    }

    [Fact]
    public async Task A_fill_whose_lease_was_granted_before_a_tag_invalidation_is_refused_or_born_a_miss()
    {
        var (provider, store, key) = Create();
        using var _ = provider;
        using var second = CreateSecondClient(provider);
        var tag = NewTag();

        var early = await store.GetAsync(key, true, default);
        Assert.True(early.Lease.IsGranted);
        await second.InvalidateTagAsync(tag, default);
        await store.FillAsync(key, early.Lease, CacheValue<string>.Of("loaded before"), Tagged(NewTag(), tag), default);
        Assert.NotEqual(CacheLookupStatus.Hit, (await store.GetAsync(key, false, default)).Status);

        // A load that began after the invalidation is stored and served; an untagged fill is not fenced by any tag.
        var late = await store.GetAsync(key, true, default);
        Assert.True(late.Lease.IsGranted);
        Assert.True(await store.FillAsync(key, late.Lease, CacheValue<string>.Of("loaded after"), Tagged(tag), default));
        Assert.Equal((CacheLookupStatus.Hit, "loaded after"), (await store.GetAsync(key, false, default) is var hit ? hit.Status : default, hit.Value.Value));

        var untagged = await store.GetAsync(key + "u", true, default);
        await second.InvalidateTagAsync(tag, default);
        Assert.True(await store.FillAsync(key + "u", untagged.Lease, CacheValue<string>.Of("u"), Hour, default));
        Assert.Equal(CacheLookupStatus.Hit, (await store.GetAsync(key + "u", false, default)).Status);
    }

    [Fact]
    public async Task A_tagged_entry_set_after_its_tag_was_invalidated_is_served_until_the_next_invalidation()
    {
        var (provider, store, key) = Create();
        using var _ = provider;
        var tag = NewTag();
        await provider.InvalidateTagAsync(tag, default);
        await store.SetAsync(key, CacheValue<string>.Of("v1"), Tagged(tag), default);
        Assert.Equal((CacheLookupStatus.Hit, "v1"), (await store.GetAsync(key, false, default) is var hit ? hit.Status : default, hit.Value.Value));

        // The stale copy of an entry invalidated by tag is not kept for fail-safe: a tag invalidation removes, like a key's.
        await store.SetAsync(key, CacheValue<string>.Of("v2"), Tagged(tag) with { StaleRetention = TimeSpan.FromHours(1) }, default);
        await provider.InvalidateTagAsync(tag, default);
        Assert.Equal(CacheLookupStatus.Miss, (await store.GetAsync(key, true, default)).Status);
    }

    [Theory]
    [InlineData("category:5")]
    [InlineData("with space and {braces} and }")]
    [InlineData("ünïcødé ✓ 価格")]
    [InlineData("long")]
    public async Task Tags_with_any_allowed_characters_and_the_longest_length_work(string shape)
    {
        var (provider, store, key) = Create();
        using var _ = provider;
        var tag = shape == "long" ? (NewTag() + new string('x', CacheTags.MaxLength))[..CacheTags.MaxLength] : shape + " " + NewTag();
        Assert.True(tag.Length <= CacheTags.MaxLength);
        CacheTags.Validate(tag);
        await store.SetAsync(key, CacheValue<string>.Of("v"), Tagged(tag), default);
        Assert.Equal(CacheLookupStatus.Hit, (await store.GetAsync(key, false, default)).Status);
        await provider.InvalidateTagAsync(tag, default);
        Assert.Equal(CacheLookupStatus.Miss, (await store.GetAsync(key, false, default)).Status);
    }

    private static StoreEntryOptions Tagged(params string[] tags) => Hour with { Tags = tags };

    private static string NewTag() => "tag-" + Guid.NewGuid().ToString("N");

    private (ICacheProvider Provider, ICacheStore<string, string> Store, string Key) Create(TimeProvider? time = null)
    {
        var provider = CreateProvider(time ?? new FakeTimeProvider(DateTimeOffset.UtcNow));
        var store = provider.CreateStore(new CacheStoreDescriptor<string, string>("Contract", "Contract:", new Utf8StringSerializer()));
        return (provider, store, Guid.NewGuid().ToString("N"));
    }

    private static (CacheLookupStatus, bool) Describe(CacheLookup<string> lookup) => (lookup.Status, lookup.Lease.IsGranted);

    private sealed class Utf8StringSerializer : ICacheSerializer<string>
    {
        public void Serialize(string value, IBufferWriter<byte> destination) => destination.Write(Encoding.UTF8.GetBytes(value));

        public string Deserialize(ReadOnlySequence<byte> source) => Encoding.UTF8.GetString(source);
    }
}
