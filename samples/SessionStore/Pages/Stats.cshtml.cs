using Microsoft.AspNetCore.Authorization;
using SessionStore.Security;

namespace SessionStore.Pages;

/// <summary>The statistics page (administrators only); its script polls <c>/stats/data</c>.</summary>
[Authorize(Policy = Roles.AdministratorPolicy)]
public sealed class StatsModel : StorePageModel
{
    public void OnGet()
    {
    }
}
