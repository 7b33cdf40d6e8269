using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace CachePatterns.OpenTelemetry.Tests;

public sealed record Product(int Id, string Name);

/// <summary>A table of products as the loader and writer; a load takes <c>loadTime</c> on the given clock.</summary>
public sealed class ProductTable(TimeProvider time, TimeSpan loadTime) : ICacheLoader<int, Product>, ICacheWriter<int, Product>
{
    private readonly ConcurrentDictionary<int, Product> _rows = new() { [1] = new Product(1, "teapot") };

    public ValueTask<LoadResult<Product>> LoadAsync(int key, CancellationToken cancellationToken)
    {
        if (time is FakeTimeProvider fake)
        {
            fake.Advance(loadTime);
        }

        return ValueTask.FromResult(_rows.TryGetValue(key, out var row) ? LoadResult.Found(row) : LoadResult.NotFound<Product>());
    }

    public ValueTask WriteAsync(int key, Product value, CancellationToken cancellationToken)
    {
        _rows[key] = value;
        return ValueTask.CompletedTask;
    }

    public ValueTask DeleteAsync(int key, CancellationToken cancellationToken)
    {
        _rows.TryRemove(key, out _);
        return ValueTask.CompletedTask;
    }
}
