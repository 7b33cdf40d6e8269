// The cluster tests start PostgreSQL servers and measure failover: run them one at a time on a shared 2-core machine.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
