using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CachePatterns.Tests.Resilience;

/// <summary>
/// A tag invalidation that fails is never lost (docs/architecture.md, "The tag ledger"): it is remembered for the named
/// cache, no read of this process serves an entry from before it and no fill stores one while it is pending, and it is
/// replayed when the provider answers again. Rows are <c>"category|name"</c>, the product strategy derives
/// <c>category:N</c>, and the category query is an ad-hoc entry tagged with it. On a fake clock.
/// </summary>
public sealed class TagLedgerTests : IAsyncDisposable
{
    private readonly LedgerTestHost _host = LedgerTestHost.Create(b => b
        .DeriveTags<int, string>(row => ["category:" + row.Split('|')[0]])
        .AddDistributedCache(o => o.Semantics = global::CachePatterns.Distributed.DistributedCacheSemantics.Cache));
    private readonly ICacheStrategy<int, string> _products;
    private readonly ICache _queries;
    private int _queryLoads;

    public TagLedgerTests()
    {
        _products = _host.Strategy;
        _queries = _host.Services.GetRequiredService<ICache>();
        _host.Database.Seed(1, "5|old");
    }

    [Fact]
    public async Task A_write_whose_tag_invalidation_failed_never_lets_the_category_query_return_the_old_row_and_is_replayed_when_the_provider_answers()
    {
        Assert.Equal("5|old", await QueryAsync());
        Assert.Equal("5|old", await QueryAsync());
        Assert.Equal(1, _queryLoads);

        _host.Provider.Mode = ProviderMode.Down;
        await _products.WriteAsync(1, "5|new");
        Assert.Contains(_host.Logs.GetSnapshot(), r => r.Id.Id == 70 && r.Level == LogLevel.Warning && r.Message.Contains("'category:5'", StringComparison.Ordinal));

        // The provider answers again; nobody reads: the timer replays it, and the provider's copy is invalidated.
        _host.Provider.Mode = ProviderMode.Up;
        await _host.AdvanceUntilAsync(() => _host.Provider.TagInvalidations == 1 && _host.Logs.GetSnapshot().Any(r => r.Id.Id == 72));
        Assert.Equal("5|new", await QueryAsync());
        Assert.Equal("5|new", await QueryAsync());
        Assert.Equal(2, _queryLoads);

        // Lost again; a read before any replay is loaded (never the cached row) and starts the replay itself.
        _host.Provider.FailTagInvalidations = true;
        await _products.WriteAsync(1, "5|newer");
        _host.Provider.FailTagInvalidations = false;
        Assert.Equal("5|newer", await QueryAsync());
        Assert.Equal(3, _queryLoads);
        Assert.Equal(2, _host.Provider.TagInvalidations);
        Assert.Equal("5|newer", await QueryAsync());
        Assert.Equal("5|newer", await QueryAsync());
        Assert.Equal(4, _queryLoads);
    }

    [Fact]
    public async Task An_ad_hoc_tag_invalidation_that_fails_is_not_thrown_but_remembered_and_replayed_when_the_provider_reports_it_is_back()
    {
        Assert.Equal("5|old", await QueryAsync());
        _host.Database.Seed(1, "5|new");
        _host.Provider.FailTagInvalidations = true;

        // Like RemoveAsync for a key: the caller is not told "done" falsely, the invalidation is pending, not lost.
        await _queries.InvalidateTagAsync("category:5");
        Assert.Equal("5|new", await QueryAsync());
        Assert.Equal(2, _queryLoads);

        _host.Provider.FailTagInvalidations = false;
        _host.Provider.Signal(Providers.CacheConnectionState.Restored);
        await _host.AdvanceUntilAsync(() => _host.Logs.GetSnapshot().Any(r => r.Id.Id == 72));
        Assert.Equal(1, _host.Provider.TagInvalidations);
        Assert.Equal("5|new", await QueryAsync());
        Assert.Equal("5|new", await QueryAsync());
        Assert.Equal(3, _queryLoads);
    }

    [Fact]
    public async Task A_pending_tag_does_not_keep_IDistributedCache_off_the_provider_its_entries_carry_no_tags()
    {
        var sessions = _host.Services.GetRequiredService<Microsoft.Extensions.Caching.Distributed.IDistributedCache>();
        await sessions.SetAsync("s1", [1, 2, 3], new Microsoft.Extensions.Caching.Distributed.DistributedCacheEntryOptions());
        Assert.Equal("5|old", await QueryAsync());
        _host.Provider.FailTagInvalidations = true;
        await _queries.InvalidateTagAsync("category:5");
        Assert.Equal("5|old", await QueryAsync());
        Assert.Equal(2, _queryLoads);
        Assert.Equal([1, 2, 3], await sessions.GetAsync("s1"));
    }

    [Fact]
    public async Task A_cancelled_tag_invalidation_is_thrown_to_the_caller_and_still_remembered()
    {
        Assert.Equal("5|old", await QueryAsync());
        _host.Database.Seed(1, "5|new");
        _host.Provider.Mode = ProviderMode.Hanging;
        using var cancel = new CancellationTokenSource();
        var invalidation = _queries.InvalidateTagAsync("category:5", cancel.Token).AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => invalidation);

        // It may have reached the provider or not: this process treats it as pending.
        _host.Provider.Mode = ProviderMode.Up;
        Assert.Equal("5|new", await QueryAsync());
        Assert.Equal(2, _queryLoads);
        await _host.AdvanceUntilAsync(() => _host.Provider.TagInvalidations == 1);

        // Nothing sent at all (already cancelled): thrown, nothing pending.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await _queries.InvalidateTagAsync("category:7", new CancellationToken(canceled: true)));
        Assert.Equal(1, _host.Provider.TagInvalidations);
    }

    [Fact]
    public async Task A_fill_whose_load_began_before_a_write_with_a_lost_tag_invalidation_is_not_stored()
    {
        // The query's load reads the old row, then the write commits and its tag invalidation fails, then the load ends.
        var loading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slow = _queries.GetOrLoadAsync(
            "page:5",
            async ct =>
            {
                var row = _host.Database.Rows[1];
                loading.TrySetResult();
                await release.Task.WaitAsync(ct);
                Interlocked.Increment(ref _queryLoads);
                return row;
            },
            new CacheEntryOptions { Tags = ["category:5"] }).AsTask();
        await loading.Task;
        _host.Provider.FailTagInvalidations = true;
        await _products.WriteAsync(1, "5|new");
        release.SetResult();
        await slow;

        // Whatever that reader got (it began before the write), nothing later returns the old row, before or after the replay.
        Assert.Equal("5|new", await QueryAsync());
        _host.Provider.FailTagInvalidations = false;
        await _host.AdvanceUntilAsync(() => _host.Provider.TagInvalidations == 1);
        Assert.Equal("5|new", await QueryAsync());
        Assert.Equal("5|new", await QueryAsync());
    }

    [Fact]
    public async Task Overflow_is_logged_once_bypasses_the_cache_and_sweeps_every_prefix_once_the_provider_answers()
    {
        Assert.Equal("5|old", await QueryAsync());
        Assert.Equal("5|old", await _products.GetAsync(1));
        _host.Provider.Mode = ProviderMode.Down;
        foreach (var tag in new[] { "a", "b", "c", "d" })
        {
            await _queries.InvalidateTagAsync(tag);
        }

        Assert.Single(_host.Logs.GetSnapshot(), r => r.Id.Id == 71);
        // Nothing swept yet: the read is loaded (and starts the replay, which sweeps).
        _host.Provider.Mode = ProviderMode.Up;
        Assert.Empty(_host.Provider.Swept);
        var loads = _queryLoads;
        Assert.Equal("5|old", await QueryAsync());
        Assert.Equal(loads + 1, _queryLoads);

        await _host.AdvanceUntilAsync(() => _host.Logs.GetSnapshot().Any(r => r.Id.Id == 73));
        // Every prefix of the named cache (a sweep that started in the same tick as the last loss does not count: swept again).
        Assert.Equal(["String:", "~default:"], _host.Provider.Swept.Distinct().Order(StringComparer.Ordinal));
        Assert.Equal("5|old", await QueryAsync());
        loads = _queryLoads;
        Assert.Equal("5|old", await QueryAsync());
        Assert.Equal(loads, _queryLoads);
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task A_tag_invalidation_applied_before_a_failed_one_but_answered_after_it_does_not_settle_it()
    {
        Assert.Equal("5|old", await QueryAsync());

        // B: an invalidation of the tag the server applies now, whose reply comes late.
        var reply = _host.Provider.HoldNextTagInvalidationReply();
        var b = _queries.InvalidateTagAsync("category:5").AsTask();

        // A: a product write (after B was applied) whose tag invalidation fails: remembered.
        _host.Provider.FailTagInvalidations = true;
        await _products.WriteAsync(1, "5|new");

        // B's reply arrives: it was applied before A's database write, so it proves nothing about A.
        reply.SetResult();
        await b.WaitAsync(TimeSpan.FromSeconds(30));

        // A is still pending: the query is loaded, never filled and read back from the cache.
        var loads = _queryLoads;
        Assert.Equal("5|new", await QueryAsync());
        Assert.Equal("5|new", await QueryAsync());
        Assert.Equal(loads + 2, _queryLoads);
    }

    private async Task<string> QueryAsync() =>
        await _queries.GetOrLoadAsync(
            "page:5",
            _ =>
            {
                Interlocked.Increment(ref _queryLoads);
                return ValueTask.FromResult(_host.Database.Rows[1]);
            },
            new CacheEntryOptions { Tags = ["category:5"] });
}
