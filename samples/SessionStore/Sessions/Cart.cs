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

    /// <summary>
    /// Reads the cart from the session. A cart that does not deserialize (written by another version during a rolling
    /// deploy) drops the session once (<see cref="ShopSession.Discard"/>) and the user starts with an empty cart, instead
    /// of every page failing.
    /// </summary>
    public static async Task<Cart> LoadAsync(ISession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        await session.LoadAsync(cancellationToken);
        if (!session.TryGetValue(SessionKey, out var bytes))
        {
            return new Cart([]);
        }

        try
        {
            var lines = JsonSerializer.Deserialize<SortedDictionary<int, int>>(bytes) ?? [];
            if (lines.Count <= MaxLines && lines.All(static l => l.Value is > 0 and <= MaxQuantity))
            {
                return new Cart(lines);
            }
        }
        catch (JsonException)
        {
        }

        if (session is ShopSession shop)
        {
            shop.Discard("the cart does not deserialize");
        }
        else
        {
            session.Clear();
        }

        return new Cart([]);
    }

    /// <summary>How many of <paramref name="productId"/> the cart holds.</summary>
    public int QuantityOf(int productId) => _lines.GetValueOrDefault(productId);

    /// <summary>Empties the cart (after an order).</summary>
    public void Clear() => _lines.Clear();

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
