using CachePatterns.Memcached.Internal;
using Microsoft.Extensions.Logging.Abstractions;

namespace CachePatterns.Memcached.Tests.Support;

internal static class Clients
{
    public static MemcachedCacheProviderOptions Options(IEnumerable<string> servers, Action<MemcachedCacheProviderOptions>? configure = null)
    {
        var options = new MemcachedCacheProviderOptions { OperationTimeout = TimeSpan.FromSeconds(3), ConnectTimeout = TimeSpan.FromSeconds(3) };
        foreach (var server in servers)
        {
            options.Servers.Add(server);
        }

        configure?.Invoke(options);
        return options;
    }

    public static MemcachedClient Create(IEnumerable<string> servers, Action<MemcachedCacheProviderOptions>? configure = null, TimeProvider? time = null) =>
        new(Options(servers, configure), time ?? TimeProvider.System, NullLogger.Instance);
}
