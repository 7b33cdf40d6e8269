using System.Net;
using System.Text.RegularExpressions;

namespace SessionStore.Tests.Support;

/// <summary>
/// A browser without a screen: one cookie jar for every instance (cookies do not depend on the port, as behind a load
/// balancer), forms posted with the anti-forgery token scraped from the page that shows them, redirects not followed
/// so each response can be checked.
/// </summary>
public sealed partial class ShopClient : IDisposable
{
    private readonly HttpClientHandler _handler;
    private readonly HttpClient _client;

    public ShopClient(CookieContainer? cookies = null, System.Security.Cryptography.X509Certificates.X509Certificate2? trustedServerCertificate = null)
    {
        _handler = new HttpClientHandler { CookieContainer = cookies ?? new CookieContainer(), AllowAutoRedirect = false, UseCookies = true };
        if (trustedServerCertificate is not null)
        {
            _handler.ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
                certificate is not null && certificate.RawData.AsSpan().SequenceEqual(trustedServerCertificate.RawData);
        }

        _client = new HttpClient(_handler) { Timeout = TimeSpan.FromSeconds(30) };
    }

    public CookieContainer Cookies => _handler.CookieContainer;

    /// <summary>A copy of the cookies the jar would send to <paramref name="app"/>, for replaying them later.</summary>
    public CookieContainer CopyCookies(AppInstance app)
    {
        var copy = new CookieContainer();
        foreach (Cookie cookie in Cookies.GetCookies(app.BaseAddress))
        {
            copy.Add(app.BaseAddress, new Cookie(cookie.Name, cookie.Value, cookie.Path));
        }

        return copy;
    }

    public async Task<ShopResponse> GetAsync(AppInstance app, string path)
    {
        using var response = await _client.GetAsync(app.Url(path));
        return await ShopResponse.ReadAsync(response);
    }

    /// <summary>GETs <paramref name="pagePath"/>, takes the anti-forgery token of its form and posts <paramref name="fields"/> with it.</summary>
    public async Task<ShopResponse> PostFormAsync(AppInstance app, string pagePath, string action, IEnumerable<KeyValuePair<string, string>> fields)
    {
        var page = await GetAsync(app, pagePath);
        Assert.Equal(HttpStatusCode.OK, page.Status);
        var token = AntiforgeryToken().Match(page.Html);
        Assert.True(token.Success, $"No anti-forgery token on {pagePath}.");
        return await PostAsync(app, action, fields.Append(new("__RequestVerificationToken", WebUtility.HtmlDecode(token.Groups[1].Value))));
    }

    public async Task<ShopResponse> PostAsync(AppInstance app, string action, IEnumerable<KeyValuePair<string, string>> fields)
    {
        using var content = new FormUrlEncodedContent(fields);
        using var response = await _client.PostAsync(app.Url(action), content);
        return await ShopResponse.ReadAsync(response);
    }

    public Task<ShopResponse> SignInAsync(AppInstance app, string user, string password) =>
        PostFormAsync(app, "/SignIn", "/SignIn", [new("UserName", user), new("Password", password)]);

    public Task<ShopResponse> SignOutAsync(AppInstance app) => PostFormAsync(app, "/", "/SignOut", []);

    public Task<ShopResponse> AddToCartAsync(AppInstance app, int productId, int quantity) =>
        PostFormAsync(app, "/", "/?handler=Add", [new("id", productId.ToString(System.Globalization.CultureInfo.InvariantCulture)), new("quantity", quantity.ToString(System.Globalization.CultureInfo.InvariantCulture))]);

    /// <summary>Posts the product edit form of <paramref name="productId"/> (the form's own anti-forgery token).</summary>
    public Task<ShopResponse> EditProductAsync(AppInstance app, int productId, string name, string price, string stock)
    {
        var page = $"/Catalog/Edit/{productId.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        return PostFormAsync(app, page, page, [new("Name", name), new("Price", price), new("Stock", stock)]);
    }

    /// <summary>Who the page header says is signed in, or null.</summary>
    public async Task<string?> SignedInUserAsync(AppInstance app)
    {
        var page = await GetAsync(app, "/");
        Assert.Equal(HttpStatusCode.OK, page.Status);
        return page.SignedInUser;
    }

    /// <summary>The cart page's lines: product id → quantity.</summary>
    public async Task<IReadOnlyDictionary<int, int>> CartAsync(AppInstance app)
    {
        var page = await GetAsync(app, "/Cart");
        Assert.Equal(HttpStatusCode.OK, page.Status);
        return CartLine().Matches(page.Html).ToDictionary(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), m => int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    public void Dispose()
    {
        _client.Dispose();
        _handler.Dispose();
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();

    [GeneratedRegex("data-product-id=\"(\\d+)\" data-quantity=\"(\\d+)\"")]
    private static partial Regex CartLine();
}
