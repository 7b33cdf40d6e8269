using CachePatterns.Routing.Internal;
using CachePatterns.Routing.Tests.Support;

namespace CachePatterns.Routing.Tests.Unit;

public sealed class ReaderSelectionTests
{
    [Fact]
    public void Round_robin_gives_each_replica_reads_in_proportion_to_its_weight()
    {
        var (light, heavy) = (Endpoint("light", 1), Endpoint("heavy", 3));
        var selector = new ReaderSelector(ReaderSelection.RoundRobin);

        var picks = Enumerable.Range(0, 400).Select(_ => selector.Pick([light, heavy], 4)!.Name).ToList();

        Assert.Equal(100, picks.Count(p => p == "light"));
        Assert.Equal(300, picks.Count(p => p == "heavy"));
        Assert.Equal(["light", "heavy", "heavy", "heavy"], picks.Take(4));
    }

    [Fact]
    public void Random_picks_every_replica_and_the_heavier_one_more_often()
    {
        var (light, heavy) = (Endpoint("light", 1), Endpoint("heavy", 9));
        var selector = new ReaderSelector(ReaderSelection.Random);

        var picks = Enumerable.Range(0, 2000).Select(_ => selector.Pick([light, heavy], 10)!.Name).ToList();

        Assert.Contains("light", picks);
        Assert.True(picks.Count(p => p == "heavy") > 3 * picks.Count(p => p == "light"), $"heavy {picks.Count(p => p == "heavy")}, light {picks.Count(p => p == "light")}");
    }

    [Fact]
    public void Least_outstanding_picks_the_replica_with_the_fewest_open_connections_per_weight()
    {
        var (busy, idle, heavy) = (Endpoint("busy", 1), Endpoint("idle", 1), Endpoint("heavy", 4));
        var selector = new ReaderSelector(ReaderSelection.LeastOutstanding);
        Open(busy, 3);
        Open(idle, 1);
        Open(heavy, 3); // 3 per 4 units of weight is less than 1 per 1.

        Assert.Equal("heavy", selector.Pick([busy, idle, heavy], 6)!.Name);
        Open(heavy, 2); // 5/4 > 1/1
        Assert.Equal("idle", selector.Pick([busy, idle, heavy], 6)!.Name);
    }

    [Fact]
    public void Least_outstanding_shares_reads_between_equally_loaded_replicas()
    {
        var (a, b) = (Endpoint("a", 1), Endpoint("b", 1));
        var selector = new ReaderSelector(ReaderSelection.LeastOutstanding);

        var picks = Enumerable.Range(0, 10).Select(_ => selector.Pick([a, b], 2)!.Name).ToList();

        Assert.Equal(5, picks.Count(p => p == "a"));
    }

    [Fact]
    public void No_candidate_gives_no_replica()
    {
        Assert.Null(new ReaderSelector(ReaderSelection.RoundRobin).Pick([], 0));
    }

    private static Endpoint Endpoint(string name, int weight) =>
        new(new RoutingEndpointOptions { Name = name, Weight = weight }, o => new EndpointDataSources(new FakeDataSource(o.Name!), ReadOnly: null, Probes: null), RoutingEngine.PostgreSql);

    private static void Open(Endpoint endpoint, int count)
    {
        for (var i = 0; i < count; i++)
        {
            endpoint.ConnectionOpened();
        }
    }
}
