using System.Net;
using System.Text.RegularExpressions;

namespace SessionStore.Tests.Support;

/// <summary>A response read to the end: status, body, redirect target and Set-Cookie headers.</summary>
public sealed partial record ShopResponse(HttpStatusCode Status, string Html, Uri? Location, IReadOnlyList<string> SetCookies, IReadOnlyDictionary<string, string> Headers)
{
    public string? SignedInUser => SignedInAs().Match(Html) is { Success: true } m ? m.Groups[1].Value : null;

    public static async Task<ShopResponse> ReadAsync(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var html = await response.Content.ReadAsStringAsync();
        var cookies = response.Headers.TryGetValues("Set-Cookie", out var values) ? values.ToList() : [];
        var headers = response.Headers.Concat(response.Content.Headers).ToDictionary(static h => h.Key, static h => string.Join(", ", h.Value), StringComparer.OrdinalIgnoreCase);
        return new ShopResponse(response.StatusCode, html, response.Headers.Location, cookies, headers);
    }

    public override string ToString() => $"{(int)Status} {Status}{(Location is null ? "" : " → " + Location)}: {Html[..Math.Min(Html.Length, 400)]}";

    [GeneratedRegex("id=\"signed-in-as\" data-user=\"([^\"]+)\"")]
    private static partial Regex SignedInAs();
}
