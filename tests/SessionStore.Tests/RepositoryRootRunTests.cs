using System.Net;
using SessionStore.Tests.Support;

namespace SessionStore.Tests;

/// <summary>README's command, <c>dotnet run --project samples/SessionStore</c> from the repository root, finds the app's files.</summary>
public sealed class RepositoryRootRunTests : IDisposable
{
    private readonly string _directory = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "sessionstore-root-" + Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    [Fact]
    public async Task Dotnet_run_from_the_repository_root_uses_the_apps_folder_as_content_root_and_loads_its_appsettings()
    {
        string output;
        await using (var app = await AppInstance.StartWithDotnetRunFromRepositoryRootAsync(
            "root", "--sqlite", Path.Combine(_directory, "store.db"), "--keys", Path.Combine(_directory, "keys")))
        {
            using var shop = new ShopClient();
            Assert.Equal(HttpStatusCode.OK, (await shop.GetAsync(app, "/")).Status);

            // wwwroot is found: the content root is the app's folder, not the repository root.
            Assert.Equal(HttpStatusCode.OK, (await shop.GetAsync(app, "/css/site.css")).Status);
            output = app.Output;
        }

        var contentRoot = Path.GetDirectoryName(ProcessPaths.AppDll)!;
        Assert.Contains($"Content root path: {contentRoot}", output, StringComparison.Ordinal);

        // appsettings.json is loaded: it sets Microsoft.AspNetCore to Warning, so the framework's per-request lines
        // (Information, "Request starting ...") that the built-in defaults would print are not there.
        Assert.Contains("Now listening on", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Request starting", output, StringComparison.Ordinal);
    }
}
