using System.Globalization;

namespace SessionStore.Catalog;

/// <summary>How the shop writes amounts: <c>€12.50</c> (the catalogue is priced in euros, see <see cref="DemoCatalogue.Currency"/>).</summary>
public static class Money
{
    public static string Format(decimal amount) => "€" + amount.ToString("#,##0.00", CultureInfo.InvariantCulture);
}
