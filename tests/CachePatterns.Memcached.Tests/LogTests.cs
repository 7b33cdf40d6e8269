using System.Reflection;
using Microsoft.Extensions.Logging;

namespace CachePatterns.Memcached.Tests;

public sealed class LogTests
{
    [Fact]
    public void Every_memcached_log_event_has_an_id_in_the_providers_range_and_ids_are_unique()
    {
        var ids = typeof(MemcachedCacheProvider).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
            .Select(m => m.GetCustomAttribute<LoggerMessageAttribute>())
            .OfType<LoggerMessageAttribute>()
            .Select(a => a.EventId)
            .ToArray();
        Assert.NotEmpty(ids);
        Assert.All(ids, id => Assert.InRange(id, 200, 299));
        Assert.Equal(ids.Length, ids.Distinct().Count());
    }
}
