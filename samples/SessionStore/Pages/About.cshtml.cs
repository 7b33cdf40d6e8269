using SessionStore.Configuration;
using SessionStore.Data;

namespace SessionStore.Pages;

/// <summary>What the shop is and how each page uses the library (the storefront itself carries no developer notes).</summary>
public sealed class AboutModel(SessionStoreSettings settings, IDbConnectionFactory database) : StorePageModel
{
    public string Provider => settings.Provider.ToString();

    public string Database => database.Kind.ToString();

    public void OnGet()
    {
    }
}
