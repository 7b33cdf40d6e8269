namespace SessionStore.Statistics;

/// <summary>What the shop itself counts for the statistics page (the library's own counters come from its meter).</summary>
public sealed class ShopActivity
{
    private long _ordersPlaced;

    /// <summary>Gets how many orders this instance placed since it started.</summary>
    public long OrdersPlaced => Interlocked.Read(ref _ordersPlaced);

    public void OrderPlaced() => Interlocked.Increment(ref _ordersPlaced);
}
