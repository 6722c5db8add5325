using Microsoft.Playwright;

namespace StxmWeb.E2E;

/// <summary>Debian's chromium driven by Playwright (browser downloads cannot work here), and where screenshots go.</summary>
internal static class Chromium
{
    private const string Executable = "/usr/bin/chromium";

    /// <summary>Starts Playwright and a headless chromium; fails with a clear message when chromium is missing.</summary>
    public static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync()
    {
        if (!File.Exists(Executable))
        {
            throw new InvalidOperationException($"{Executable} is missing; run the README's test command, which installs Debian's chromium.");
        }

        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Executable,
            Headless = true,
            Args = ["--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
        });
        return (playwright, browser);
    }

    /// <summary>
    /// A 1600 × 900 page on the app, once its editor can start a scan, and the console errors it logs from then on
    /// (journeys end by asserting there were none).
    /// </summary>
    public static async Task<(IPage Page, List<string> ConsoleErrors)> OpenAppAsync(IBrowser browser, Uri app)
    {
        ArgumentNullException.ThrowIfNull(browser);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 900 } });
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add(message.Text);
            }
        };

        await page.GotoAsync(app.ToString());
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Start scan" })).ToBeEnabledAsync(new() { Timeout = 30_000 });
        return (page, errors);
    }

    /// <summary>artifacts/screenshots under the repository root (created).</summary>
    public static string ScreenshotDirectory
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "StxmWeb.sln")))
            {
                directory = directory.Parent;
            }

            var path = Path.Combine(directory?.FullName ?? AppContext.BaseDirectory, "artifacts", "screenshots");
            Directory.CreateDirectory(path);
            return path;
        }
    }
}
