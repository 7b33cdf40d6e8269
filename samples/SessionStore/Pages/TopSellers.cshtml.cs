using SessionStore.Catalog;

namespace SessionStore.Pages;

/// <summary>The best-selling products: an aggregate over every order, cached through <c>HybridCache</c>, tagged so that a placed order or a product edit invalidates it.</summary>
public sealed class TopSellersModel(CatalogQueries queries) : StorePageModel
{
    public IReadOnlyList<TopSeller> Sellers { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) =>
        Sellers = await queries.TopSellersAsync(cancellationToken);
}
