using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using SessionStore.Tests.Support;

namespace SessionStore.Tests;

/// <summary>Under HTTPS the session and sign-in cookies are Secure (CookieSecurePolicy.SameAsRequest).</summary>
public sealed class HttpsTests : IAsyncLifetime
{
    private const string CertificatePassword = "test-only";
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "sessionstore-https-" + Guid.NewGuid().ToString("N"));
    private X509Certificate2 _certificate = null!;
    private AppInstance _app = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var pfx = Path.Combine(_directory, "server.pfx");
        await File.WriteAllBytesAsync(pfx, created.Export(X509ContentType.Pfx, CertificatePassword));
        _certificate = X509CertificateLoader.LoadCertificate(created.RawData);

        _app = await AppInstance.StartWithSchemeAsync("https", Uri.UriSchemeHttps,
            "--sqlite", Path.Combine(_directory, "store.db"), "--keys", Path.Combine(_directory, "keys"),
            "--Kestrel:Certificates:Default:Path", pfx, "--Kestrel:Certificates:Default:Password", CertificatePassword);
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        _certificate.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Over_HTTPS_the_session_and_sign_in_cookies_are_secure_http_only_and_same_site()
    {
        using var shop = new ShopClient(trustedServerCertificate: _certificate);
        var signIn = await shop.SignInAsync(_app, "alice", "wonderland-42");
        Assert.Equal(HttpStatusCode.Redirect, signIn.Status);

        var session = Assert.Single(signIn.SetCookies, c => c.StartsWith(".SessionStore.Session=", StringComparison.Ordinal));
        var auth = Assert.Single(signIn.SetCookies, c => c.StartsWith(".SessionStore.SignIn=", StringComparison.Ordinal));
        foreach (var cookie in new[] { session, auth })
        {
            var attributes = cookie.Split(';', StringSplitOptions.TrimEntries).Skip(1).Select(a => a.ToLowerInvariant()).ToList();
            Assert.Contains("secure", attributes);
            Assert.Contains("httponly", attributes);
            Assert.Contains("samesite=lax", attributes);
        }

        Assert.Equal("alice", await shop.SignedInUserAsync(_app));

        // Under HTTPS the browser is also told to use nothing else (HSTS).
        var home = await shop.GetAsync(_app, "/");
        Assert.Equal("max-age=31536000", home.Headers["Strict-Transport-Security"]);
    }
}
