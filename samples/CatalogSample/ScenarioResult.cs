namespace CatalogSample;

/// <summary>One column of the report: a workload replay and, for the cached scenarios, what the cache did.</summary>
public sealed record ScenarioResult(
    string Name,
    RunResult Run,
    SqlStatementCounts Statements,
    CacheMetricsSnapshot? Cache = null,
    int? CachedEntries = null,
    ConsistencyResult? Consistency = null);
