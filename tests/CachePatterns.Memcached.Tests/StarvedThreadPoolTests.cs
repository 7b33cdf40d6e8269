using System.Diagnostics;
using System.Text;
using CachePatterns.Memcached.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace CachePatterns.Memcached.Tests;

/// <summary>Runs alone: it blocks the process's thread pool on purpose, which would slow every test running beside it.</summary>
[CollectionDefinition(nameof(StarvedThreadPool), DisableParallelization = true)]
public sealed class StarvedThreadPool;

/// <summary>
/// Issue 14: 0-2 of 12 reads stalled and returned null while the item was on the server, and the client logged a
/// timeout for a request memcached never received. Cause: a request waited for a thread-pool thread to be written
/// (the send loop) while the timeout check blamed the server for it. Blocking callers (<c>IDistributedCache.Get</c>)
/// and a busy machine starve the pool. Now the caller writes its request itself, a thread of the connection reads the
/// replies, and a timeout is the server's only when it is.
/// </summary>
[Collection(nameof(StarvedThreadPool))]
public sealed class StarvedThreadPoolTests(MemcachedFixture fixture) : IClassFixture<MemcachedFixture>
{
#pragma warning disable xUnit1031 // Blocking is the point: this test is the blocking caller that starves the pool.
    [Fact]
    public void Request_made_while_the_thread_pool_is_starved_is_sent_and_answered_and_the_connection_is_not_blamed()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var client = Clients.Create([fixture.Server.Address], o => o.OperationTimeout = TimeSpan.FromMilliseconds(250), time);
        var key = "starved:" + Guid.NewGuid().ToString("N");
        client.SetAsync(key, "on the server"u8.ToArray(), null, string.Empty, default).GetAwaiter().GetResult();
        var connection = client.Nodes[0].CurrentConnection!;

        using var gate = new ManualResetEventSlim();
        var blockers = Enumerable.Range(0, ThreadPool.ThreadCount + 64).Select(_ => Task.Factory.StartNew(gate.Wait, CancellationToken.None, TaskCreationOptions.None, TaskScheduler.Default)).ToArray();
        try
        {
            // Every pool thread is blocked (more blockers than threads): nothing queued to the pool runs now.
            var read = client.GetAsync(key, "v", default);

            // The reply is read without the pool; then a whole timeout passes (the check runs on this thread).
            var answered = SpinWait.SpinUntil(() => connection.InFlight == 0, TimeSpan.FromSeconds(3));
            time.Advance(TimeSpan.FromMilliseconds(300));
            Assert.True(answered, "the request was not answered while the thread pool was starved (it was never written)");
            Assert.False(connection.IsBroken, $"the connection was closed: {connection.Failure?.Message}");

            gate.Set();
            Assert.True(read.Wait(TimeSpan.FromSeconds(30)), "the read did not complete after the pool recovered");
            Assert.Equal("on the server", Encoding.UTF8.GetString(read.Result.Value!));
            Assert.Same(connection, client.Nodes[0].CurrentConnection);
        }
        finally
        {
            gate.Set();
            Task.WaitAll(blockers, TimeSpan.FromSeconds(30));
        }
    }

#pragma warning restore xUnit1031

    [Fact]
    public async Task Server_that_stops_answering_is_still_cut_off_after_its_timeout()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var server = new MemcachedProcess();
        using var client = Clients.Create([server.Address], o => o.OperationTimeout = TimeSpan.FromMilliseconds(250), time);
        await client.SetAsync("k", "v"u8.ToArray(), null, string.Empty, default);
        var connection = client.Nodes[0].CurrentConnection!;
        server.Signal("STOP");
        try
        {
            var read = client.GetAsync("k", "v", default);
            var stopwatch = Stopwatch.StartNew();
            while (!connection.IsBroken && stopwatch.Elapsed < TimeSpan.FromSeconds(10))
            {
                time.Advance(TimeSpan.FromMilliseconds(100));
                await Task.Delay(5);
            }

            Assert.True(connection.IsBroken);
            var error = await Assert.ThrowsAsync<MemcachedException>(() => read);
            Assert.Equal(CachePatterns.Providers.CacheProviderFailureReason.Timeout, error.Reason);
        }
        finally
        {
            server.Signal("CONT");
        }
    }
}
