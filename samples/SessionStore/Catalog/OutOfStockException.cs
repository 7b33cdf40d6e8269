namespace SessionStore.Catalog;

/// <summary>An order asked for more of a product than is in stock; nothing was written.</summary>
public sealed class OutOfStockException : Exception
{
    public OutOfStockException()
    {
    }

    public OutOfStockException(string message)
        : base(message)
    {
    }

    public OutOfStockException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public OutOfStockException(OrderLine line)
        : base($"Not enough of {line?.Name} in stock for {line?.Quantity}.")
    {
        ArgumentNullException.ThrowIfNull(line);
        Line = line;
    }

    /// <summary>Gets the line that could not be served.</summary>
    public OrderLine? Line { get; }
}
