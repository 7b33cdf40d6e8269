namespace CachePatterns.Routing.Tests.Support;

/// <summary>One server of a test cluster, whatever its engine: enough for the tests shared by every engine.</summary>
public interface IClusterNode
{
    string Name { get; }

    int Port { get; }

    /// <summary>A connection string of the application's account to this node alone.</summary>
    string ConnectionString { get; }

    Task ExecuteAsync(string sql);

    Task<T> ScalarAsync<T>(string sql);
}
