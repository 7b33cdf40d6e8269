using CachePatterns.Routing.Tests.Support;

namespace CachePatterns.Routing.Tests.Engines;

/// <summary>The shared routing behaviours on PostgreSQL (the shared cluster: primary, replica, replica 4 s late).</summary>
[Collection(SharedCluster.Name)]
public sealed class PostgreSqlEngineRoutingTests(ClusterFixture fixture) : EngineRoutingTests(new PgRoutingCluster(fixture));

/// <summary>The shared routing behaviours on MariaDB (primary, GTID replica, GTID replica with MASTER_DELAY 4 s).</summary>
[Collection(SharedMariaDbCluster.Name)]
public sealed class MariaDbEngineRoutingTests(MariaDbClusterFixture fixture) : EngineRoutingTests(fixture);
