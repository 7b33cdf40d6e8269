namespace CachePatterns.Routing.Tests.Support;

/// <summary>Routers over test clusters, probing fast so the tests do not wait long for what the probes find.</summary>
public static class Routers
{
    public static RoutingOptions Options(IEnumerable<PgNode> nodes, Action<RoutingOptions>? configure = null)
    {
        var options = new RoutingOptions
        {
            ProbeInterval = TimeSpan.FromMilliseconds(200),
            ProbeTimeout = TimeSpan.FromSeconds(3),
            FailuresBeforeEjection = 2,
        };
        foreach (var node in nodes)
        {
            options.Endpoints.Add(new RoutingEndpointOptions { Name = node.Name, ConnectionString = node.ConnectionString });
        }

        configure?.Invoke(options);
        return options;
    }

    public static async Task<RoutingDataSource> StartAsync(IEnumerable<PgNode> nodes, Action<RoutingOptions>? configure = null)
    {
        var router = new RoutingDataSource(Options(nodes, configure));
        await router.RefreshAsync();
        return router;
    }

    /// <summary>Waits until the router's probes have seen <paramref name="condition"/> hold.</summary>
    public static Task UntilStateAsync(this RoutingDataSource router, Func<IReadOnlyList<RoutingEndpointState>, bool> condition, string what, int seconds = 30) =>
        Wait.UntilAsync(() => Task.FromResult(condition(router.GetEndpointStates())), TimeSpan.FromSeconds(seconds), what);

    public static RoutingEndpointState State(this RoutingDataSource router, PgNode node) =>
        router.GetEndpointStates().Single(s => s.Name == node.Name);
}
