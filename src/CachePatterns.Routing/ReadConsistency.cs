namespace CachePatterns.Routing;

/// <summary>What a read must see, chosen per consistency scope or per call.</summary>
public enum ReadConsistency
{
    /// <summary>Any healthy replica within the configured lag bound (the default outside a scope).</summary>
    Eventual,

    /// <summary>
    /// A replica that has replayed every write made through the router in the current <see cref="RoutingConsistencyScope"/>,
    /// or the writer when none has.
    /// </summary>
    ReadYourWrites,

    /// <summary>Always the writer (the current primary).</summary>
    Strong,
}
