namespace SessionStore.Pages;

/// <summary>The statistics page; its script polls <c>/stats/data</c>.</summary>
public sealed class StatsModel : StorePageModel
{
    public void OnGet()
    {
    }
}
