using System.Globalization;

namespace CatalogSample;

/// <summary>Turns the scenario results into the comparison table printed at the end.</summary>
public static class ResultsReport
{
    private const string None = "-";
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static TextTable Build(IReadOnlyList<ScenarioResult> scenarios)
    {
        ArgumentNullException.ThrowIfNull(scenarios);
        var table = new TextTable([.. scenarios.Select(s => s.Name)]);
        var baseline = scenarios[0];

        table.AddSection("Workload");
        Row("operations", s => Count(s.Run.Operations));
        Row("wall time", s => Seconds(s.Run.Elapsed));
        Row("throughput (ops/s)", s => Count((long)s.Run.Throughput));
        Row("speed-up vs " + baseline.Name, s => s == baseline ? None : Ratio(s.Run.Throughput / baseline.Run.Throughput));

        table.AddSection("Cache (MeterListener on the \"CachePatterns\" meter)");
        CacheRow("key lookups (hits + misses)", c => Count(c.Lookups));
        CacheRow("hits", c => Count(c.Hits));
        CacheRow("misses", c => Count(c.Misses));
        CacheRow("hit ratio", c => Percent(c.HitRatio));
        CacheRow("loads (loader calls)", c => Count(c.Loads));
        CacheRow("mean load time", c => Latency(c.MeanLoadTime));
        Row("entries held at the end", s => s.CachedEntries is { } n ? Count(n) : None);
        var reasons = new[] { "capacity", "removed", "expired" }
            .Concat(scenarios.SelectMany(s => s.Cache?.EvictionsByReason.Keys ?? []).Order(StringComparer.Ordinal))
            .Distinct(StringComparer.Ordinal);
        foreach (var reason in reasons)
        {
            CacheRow($"evictions: {reason}", c => Count(c.Evictions(reason)));
        }

        CacheRow("fills fenced (stale fill refused)", c => Count(c.FillsFenced));
        OptionalCacheRow("failed loads", c => c.FailedLoads);
        OptionalCacheRow("stale values served", c => c.StaleServed);
        OptionalCacheRow("provider errors", c => c.ProviderErrors);

        table.AddSection("Database (SQL statements run by the workload)");
        Row("SELECT one row", s => Count(s.Statements.SingleSelects));
        Row("SELECT ... WHERE id IN (...)", s => Count(s.Statements.BatchSelects));
        Row("UPSERT", s => Count(s.Statements.Writes));
        Row("total", s => Count(s.Statements.Total));

        table.AddSection("Latency");
        LatencyRows("read", s => s.Run.Reads);
        LatencyRows("batch read", s => s.Run.BatchReads);
        LatencyRows("update (read + save)", s => s.Run.Updates);

        table.AddSection("Correctness");
        Row("products not found", s => Count(s.Run.ProductsNotFound));
        Row("cache matches database", s => s.Consistency is { } c ? $"{c.Matching}/{c.Checked}" : None);
        return table;

        void Row(string label, Func<ScenarioResult, string> cell) =>
            table.AddRow(label, [.. scenarios.Select(cell)]);

        void CacheRow(string label, Func<CacheMetricsSnapshot, string> cell) =>
            Row(label, s => s.Cache is { } c ? cell(c) : None);

        void OptionalCacheRow(string label, Func<CacheMetricsSnapshot, long> value)
        {
            if (scenarios.Any(s => s.Cache is { } c && value(c) != 0))
            {
                CacheRow(label, c => Count(value(c)));
            }
        }

        void LatencyRows(string label, Func<ScenarioResult, LatencySummary> summary)
        {
            Row($"{label} p50", s => Latency(summary(s).P50));
            Row($"{label} p95", s => Latency(summary(s).P95));
            Row($"{label} p99", s => Latency(summary(s).P99));
        }
    }

    public static string Count(long value) => value.ToString("N0", Invariant);

    public static string Percent(double ratio) => (ratio * 100).ToString("0.0", Invariant) + " %";

    public static string Ratio(double ratio) => ratio.ToString("0.0", Invariant) + "x";

    public static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.00", Invariant) + " s";

    public static string Latency(TimeSpan time) => time.TotalMilliseconds switch
    {
        < 1 => time.TotalMicroseconds.ToString("0.0", Invariant) + " µs",
        < 1000 => time.TotalMilliseconds.ToString("0.00", Invariant) + " ms",
        _ => Seconds(time),
    };
}
