using CachePatterns.Diagnostics;
using CachePatterns.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CachePatterns.Tests;

/// <summary>The ad-hoc <see cref="ICache"/>: get-or-load with a factory, set, try-get and remove.</summary>
public sealed class AdHocCacheTests : IDisposable
{
    private readonly TestCacheHost _host = TestCacheHost.Create(b => b.ConfigureDefaults(o => o.Jitter = 0));

    private ICache Cache => _host.Services.GetRequiredService<ICache>();

    public void Dispose() => _host.Dispose();

    [Fact]
    public async Task GetOrLoad_loads_once_then_hits()
    {
        using var hits = _host.Counter(CacheDiagnostics.Hits);
        var loads = 0;

        var first = await Cache.GetOrLoadAsync("answer", _ => ValueTask.FromResult(40 + ++loads));
        var second = await Cache.GetOrLoadAsync("answer", _ => ValueTask.FromResult(40 + ++loads));

        Assert.Equal(41, first);
        Assert.Equal(41, second);
        Assert.Equal(1, loads);
        Assert.Equal(1, hits.Total());
    }

    [Fact]
    public async Task GetOrLoad_passes_the_state_to_the_factory()
    {
        var repository = new Dictionary<string, string> { ["user:7"] = "Ada" };
        string? seenKey = null;

        var name = await Cache.GetOrLoadAsync(
            "user:7",
            (Repository: repository, Id: "user:7"),
            (state, _) =>
            {
                seenKey = state.Id;
                return ValueTask.FromResult(state.Repository[state.Id]);
            });

        Assert.Equal("Ada", name);
        Assert.Equal("user:7", seenKey);
        Assert.Equal((true, "Ada"), await Cache.TryGetAsync<string>("user:7"));
    }

    [Fact]
    public async Task GetOrLoad_honours_the_entry_options()
    {
        var loads = 0;
        var options = CacheEntryOptions.ExpireAfter(TimeSpan.FromSeconds(5));

        await Cache.GetOrLoadAsync("k", _ => ValueTask.FromResult(++loads), options);
        _host.Time.Advance(TimeSpan.FromSeconds(5));
        var reloaded = await Cache.GetOrLoadAsync("k", _ => ValueTask.FromResult(++loads), options);

        Assert.Equal(2, reloaded);
    }

    [Fact]
    public async Task Factory_exception_reaches_the_caller_and_nothing_is_cached()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await Cache.GetOrLoadAsync<int>("k", _ => throw new InvalidOperationException("boom")));

        Assert.False((await Cache.TryGetAsync<int>("k")).Found);
        Assert.Equal(5, await Cache.GetOrLoadAsync("k", _ => ValueTask.FromResult(5)));
    }

    [Fact]
    public async Task Set_then_TryGet_finds_the_value()
    {
        await Cache.SetAsync("greeting", "hello");

        Assert.Equal((true, "hello"), await Cache.TryGetAsync<string>("greeting"));
    }

    [Fact]
    public async Task TryGet_of_a_missing_key_finds_nothing()
    {
        var (found, value) = await Cache.TryGetAsync<string>("missing");

        Assert.False(found);
        Assert.Null(value);
    }

    [Fact]
    public async Task Set_replaces_the_value_and_GetOrLoad_then_hits_it()
    {
        var loads = 0;
        await Cache.GetOrLoadAsync("k", _ => ValueTask.FromResult(++loads));

        await Cache.SetAsync("k", 100);

        Assert.Equal(100, await Cache.GetOrLoadAsync("k", _ => ValueTask.FromResult(++loads)));
        Assert.Equal(1, loads);
    }

    [Fact]
    public async Task Set_during_a_load_wins_over_the_loaded_value()
    {
        var returned = await Cache.GetOrLoadAsync("k", async ct =>
        {
            await Cache.SetAsync("k", "set meanwhile", cancellationToken: ct);
            return "loaded";
        });

        // The fill is fenced; the flight looks again and finds the value set meanwhile.
        Assert.Equal("set meanwhile", returned);
        Assert.Equal((true, "set meanwhile"), await Cache.TryGetAsync<string>("k"));
    }

    [Fact]
    public async Task Set_with_entry_options_expires_accordingly()
    {
        await Cache.SetAsync("k", "v", CacheEntryOptions.ExpireAfter(TimeSpan.FromSeconds(30)));

        _host.Time.Advance(TimeSpan.FromSeconds(29));
        Assert.True((await Cache.TryGetAsync<string>("k")).Found);
        _host.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.False((await Cache.TryGetAsync<string>("k")).Found);
    }

    [Fact]
    public async Task Remove_removes_the_key_for_every_value_type_used()
    {
        await Cache.SetAsync("k", 1);
        await Cache.SetAsync("k", "one");
        await Cache.SetAsync("k", new DateOnly(2024, 1, 1));
        await Cache.SetAsync("other", 2);

        await Cache.RemoveAsync("k");

        Assert.False((await Cache.TryGetAsync<int>("k")).Found);
        Assert.False((await Cache.TryGetAsync<string>("k")).Found);
        Assert.False((await Cache.TryGetAsync<DateOnly>("k")).Found);
        Assert.Equal((true, 2), await Cache.TryGetAsync<int>("other"));
    }

    [Fact]
    public async Task Remove_makes_the_next_GetOrLoad_load_again()
    {
        var loads = 0;
        await Cache.GetOrLoadAsync("k", _ => ValueTask.FromResult(++loads));

        await Cache.RemoveAsync("k");

        Assert.Equal(2, await Cache.GetOrLoadAsync("k", _ => ValueTask.FromResult(++loads)));
    }

    [Fact]
    public async Task Different_value_types_under_the_same_key_do_not_collide()
    {
        await Cache.SetAsync("k", 42);
        await Cache.SetAsync("k", "forty-two");
        var loaded = await Cache.GetOrLoadAsync("k", _ => ValueTask.FromResult(42.5));

        Assert.Equal((true, 42), await Cache.TryGetAsync<int>("k"));
        Assert.Equal((true, "forty-two"), await Cache.TryGetAsync<string>("k"));
        Assert.Equal(42.5, loaded);
        Assert.Equal((true, 42.5), await Cache.TryGetAsync<double>("k"));
        Assert.False((await Cache.TryGetAsync<long>("k")).Found);
    }
}
