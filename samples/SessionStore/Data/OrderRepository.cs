using System.Globalization;
using CachePatterns;
using Dapper;
using SessionStore.Catalog;

namespace SessionStore.Data;

/// <summary>
/// Orders, the loader and writer of <c>ICacheStrategy&lt;string, Order&gt;</c> (write-through): placing an order is one
/// transaction that takes each line's quantity off the product's stock (only where enough is left) and inserts the order;
/// if any line is short nothing is written (<see cref="OutOfStockException"/>). The strategy then puts the order in the
/// cache, so the confirmation page reads it from there.
/// </summary>
public sealed class OrderRepository(IDbConnectionFactory connections) : ICacheLoader<string, Order>, ICacheWriter<string, Order>
{
    public async ValueTask<LoadResult<Order>> LoadAsync(string key, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenReadAsync(cancellationToken);
        var order = await connection.QuerySingleOrDefaultAsync<OrderRow>(new CommandDefinition(
            "SELECT id AS Id, user_name AS UserName, placed_at AS PlacedAt FROM orders WHERE id = @id", new { id = key }, cancellationToken: cancellationToken));
        if (order is null)
        {
            return LoadResult.NotFound<Order>();
        }

        var lines = await connection.QueryAsync<LineRow>(new CommandDefinition(
            "SELECT product_id AS ProductId, name AS Name, quantity AS Quantity, price_cents AS PriceCents FROM order_lines WHERE order_id = @id ORDER BY product_id",
            new { id = key },
            cancellationToken: cancellationToken));
        return LoadResult.Found(new Order(
            order.Id,
            order.UserName,
            DateTimeOffset.Parse(order.PlacedAt, CultureInfo.InvariantCulture),
            [.. lines.Select(static l => new OrderLine(checked((int)l.ProductId), l.Name, checked((int)l.Quantity), l.PriceCents / 100m))]));
    }

    public async ValueTask WriteAsync(string key, Order value, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Id != key || value.Lines.Count == 0)
        {
            throw new ArgumentException($"Order {key}: the id must match ({value.Id}) and the order must have lines ({value.Lines.Count}).", nameof(value));
        }

        await using var connection = await connections.OpenWriteAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var line in value.Lines)
        {
            var taken = await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE products SET stock = stock - @Quantity WHERE id = @ProductId AND stock >= @Quantity",
                new { line.Quantity, line.ProductId },
                transaction,
                cancellationToken: cancellationToken));
            if (taken != 1)
            {
                throw new OutOfStockException(line);
            }
        }

        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO orders (id, user_name, placed_at, total_cents) VALUES (@Id, @UserName, @PlacedAt, @TotalCents)",
            new { value.Id, value.UserName, PlacedAt = value.PlacedAt.ToString("O", CultureInfo.InvariantCulture), TotalCents = Cents(value.Total) },
            transaction,
            cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO order_lines (order_id, product_id, name, quantity, price_cents) VALUES (@OrderId, @ProductId, @Name, @Quantity, @PriceCents)",
            value.Lines.Select(l => new { OrderId = value.Id, l.ProductId, l.Name, l.Quantity, PriceCents = Cents(l.Price) }),
            transaction,
            cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Orders are never deleted by the shop.</summary>
    public ValueTask DeleteAsync(string key, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"Orders are kept; order {key} cannot be deleted.");

    private static long Cents(decimal amount) => (long)decimal.Round(amount * 100m);

    private sealed record OrderRow(string Id, string UserName, string PlacedAt);

    private sealed record LineRow(long ProductId, string Name, long Quantity, long PriceCents);
}
