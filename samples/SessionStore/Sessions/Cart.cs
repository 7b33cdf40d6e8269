using System.Text.Json;

namespace SessionStore.Sessions;

/// <summary>The shopping cart, kept in the session as JSON: product id → quantity.</summary>
public sealed class Cart
{
    /// <summary>The most of one product a cart holds.</summary>
    public const int MaxQuantity = 99;

    /// <summary>The most distinct products a cart holds (keeps the session small).</summary>
    public const int MaxLines = 50;

    private const string SessionKey = "cart";

    private readonly SortedDictionary<int, int> _lines;

    private Cart(SortedDictionary<int, int> lines) => _lines = lines;

    public IReadOnlyDictionary<int, int> Lines => _lines;

    public int ItemCount => _lines.Values.Sum();

    public static async Task<Cart> LoadAsync(ISession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        await session.LoadAsync(cancellationToken);
        var lines = session.TryGetValue(SessionKey, out var bytes)
            ? JsonSerializer.Deserialize<SortedDictionary<int, int>>(bytes) ?? []
            : [];
        return new Cart(lines);
    }

    /// <summary>Adds <paramref name="quantity"/>, capped at <see cref="MaxQuantity"/>; false when the cart is full.</summary>
    public bool Add(int productId, int quantity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(quantity);
        if (!_lines.TryGetValue(productId, out var current) && _lines.Count >= MaxLines)
        {
            return false;
        }

        _lines[productId] = Math.Min(MaxQuantity, current + quantity);
        return true;
    }

    public void Remove(int productId) => _lines.Remove(productId);

    public void Save(ISession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        session.Set(SessionKey, JsonSerializer.SerializeToUtf8Bytes(_lines));
    }
}
