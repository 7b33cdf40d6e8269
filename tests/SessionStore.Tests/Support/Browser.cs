using Microsoft.Playwright;

namespace SessionStore.Tests.Support;

/// <summary>
/// Debian's headless Chromium driven by Playwright (no browser download): <c>chromium</c> from PATH, sandbox off
/// (the tests run as root), background networking off (the machine has no internet, and the browser must only
/// talk to the app on 127.0.0.1).
/// </summary>
public sealed class Browser : IAsyncDisposable
{
    private static readonly string[] Arguments =
    [
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic",
    ];

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private Browser(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        _browser = browser;
    }

    public static async Task<Browser> LaunchAsync()
    {
        var chromium = ProcessPaths.FindOnPath("chromium") ?? throw new InvalidOperationException(
            "chromium is not on PATH. The browser tests drive Debian's Chromium: install it " +
            "(apt-get install chromium chromium-driver; ./test.sh does this when run as root).");
        // Generous: a loaded 2-core machine renders slowly; the asserted values are exact, only the wait is long.
        Assertions.SetDefaultExpectTimeout(30_000);
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = chromium,
                Headless = true,
                Args = Arguments,
                Timeout = 60_000,
            });
            return new Browser(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>A page in a fresh browser context (its own cookies). Content-Security-Policy reports are collected in <see cref="CspViolations"/>.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1200, Height = 860 } });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                lock (_violations)
                {
                    _violations.Add(message.Text);
                }
            }
        };
        return page;
    }

    private readonly List<string> _violations = [];

    /// <summary>Gets what the browser refused under the shop's Content-Security-Policy (should stay empty).</summary>
    public IReadOnlyList<string> CspViolations
    {
        get
        {
            lock (_violations)
            {
                return [.. _violations];
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
