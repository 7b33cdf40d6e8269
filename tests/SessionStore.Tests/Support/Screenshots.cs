using Microsoft.Playwright;
using Xunit.Abstractions;

namespace SessionStore.Tests.Support;

/// <summary>Full-page PNGs of what the browser showed, under <c>artifacts/screenshots/</c> at the repository root (not committed).</summary>
public static class Screenshots
{
    public static string Directory { get; } = Path.Combine(ProcessPaths.RepositoryRoot, "artifacts", "screenshots");

    public static async Task TakeAsync(IPage page, string name, ITestOutputHelper output)
    {
        ArgumentNullException.ThrowIfNull(page);
        ArgumentNullException.ThrowIfNull(output);
        System.IO.Directory.CreateDirectory(Directory);
        var path = Path.Combine(Directory, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        Assert.True(new FileInfo(path).Length > 1000, $"The screenshot {path} is empty.");
        output.WriteLine($"screenshot: {path}");
    }
}
