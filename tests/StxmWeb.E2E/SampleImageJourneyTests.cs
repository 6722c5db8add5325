using System.Text.RegularExpressions;
using Microsoft.Playwright;
using StxmWeb.Testing;

namespace StxmWeb.E2E;

/// <summary>
/// A user's journey in a real browser (Debian's chromium driven by Playwright): open the page, fill the editor, start,
/// watch the image fill line by line, see the file name; the file is then read with h5py. Screenshots are kept under
/// artifacts/screenshots/.
/// </summary>
[Trait("Category", "E2E")]
public sealed partial class SampleImageJourneyTests : IAsyncLifetime
{
    private readonly StxmAppFactory _app = new(timeScale: 4);
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public async ValueTask InitializeAsync() => (_playwright, _browser) = await Chromium.LaunchAsync();

    [Fact(Timeout = 180_000)]
    public async Task User_FillsTheEditor_StartsAScan_AndWatchesTheImageFill()
    {
        var page = await _browser!.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 900 } });
        var consoleErrors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                consoleErrors.Add(message.Text);
            }
        };

        await page.GotoAsync(_app.BaseAddress.ToString());
        var start = page.GetByRole(AriaRole.Button, new() { Name = "Start scan" });
        await Assertions.Expect(start).ToBeEnabledAsync(new() { Timeout = 30_000 });

        await page.Locator("#x-points").FillAsync("80");
        await page.Locator("#y-points").FillAsync("60");
        await page.Locator("#x-range").FillAsync("30");
        await page.Locator("#y-range").FillAsync("24");
        await page.Locator("#dwell").FillAsync("2");
        await page.Locator("#title").FillAsync("journey");
        await Assertions.Expect(page.GetByTestId("estimate")).ToContainTextAsync("4,800 points");

        // An invalid value shows its error beside the field and blocks Start; fixing it unblocks.
        await page.Locator("#energy").FillAsync("50");
        await Assertions.Expect(page.Locator("#energy").Locator("xpath=ancestor::div[contains(concat(' ', @class, ' '), ' mud-input-control ')][1]")).ToContainTextAsync("Energy must be between");
        await Assertions.Expect(page.GetByTestId("problems")).ToContainTextAsync("energyEv");
        await Assertions.Expect(start).ToBeDisabledAsync();
        await page.Locator("#energy").FillAsync("285.2");
        await Assertions.Expect(start).ToBeEnabledAsync();

        await start.ClickAsync();

        var canvas = page.GetByTestId("live-canvas");
        await Assertions.Expect(page.GetByTestId("scan-state")).ToHaveTextAsync("running", new() { Timeout = 15_000 });
        await page.WaitForFunctionAsync("() => Number(document.querySelector('[data-testid=live-canvas]').dataset.filled) > 0", null, new() { Timeout = 30_000 });
        var partly = int.Parse(await canvas.GetAttributeAsync("data-filled") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
        Directory.CreateDirectory(ScreenshotDirectory);
        await page.ScreenshotAsync(new() { Path = Path.Combine(ScreenshotDirectory, "journey-running.png") });

        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-status", "success", new() { Timeout = 60_000 });
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-filled", "4800");
        Assert.InRange(partly, 1, 4800);
        await Assertions.Expect(page.GetByTestId("scan-state")).ToHaveTextAsync("success");
        await Assertions.Expect(page.GetByTestId("progress-text")).ToHaveTextAsync("100 %");
        var fileName = await page.GetByTestId("file-name").InnerTextAsync();
        Assert.Matches(FileNamePattern(), fileName);
        await Assertions.Expect(page.GetByTestId("run-row").First).ToContainTextAsync(Path.GetFileNameWithoutExtension(fileName));
        await Assertions.Expect(page.GetByTestId("run-row").First).ToContainTextAsync("success");

        // The cursor readout gives the value and stage coordinates under the mouse.
        var box = (await canvas.BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(box.X + box.Width / 2, box.Y + box.Height / 2);
        await Assertions.Expect(page.GetByTestId("cursor-readout")).ToContainTextAsync("µm");
        await Assertions.Expect(page.GetByTestId("cursor-readout")).ToContainTextAsync("counts");
        await page.ScreenshotAsync(new() { Path = Path.Combine(ScreenshotDirectory, "journey-done.png") });

        // Plot tools: a click picks a point on the image; "Spectrum point" turns it into a point spectrum's point.
        await canvas.ClickAsync(new() { Position = new Position { X = box.Width / 2, Y = box.Height / 2 } });
        var tools = page.GetByTestId("pick-tools");
        await Assertions.Expect(tools).ToContainTextAsync("sample_x");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add the picked point to a point spectrum" }).ClickAsync();
        await Assertions.Expect(page.Locator("div.mud-input-control.mud-select").Filter(new() { Has = page.Locator("#scan-type") })).ToContainTextAsync("Point spectrum");
        var pickedX = Regex.Match((await tools.TextContentAsync())!, @"sample_x (-?[0-9.]+)").Groups[1].Value;
        await Assertions.Expect(page.Locator("#point-x")).ToHaveValueAsync(pickedX);

        var path = Directory.EnumerateFiles(_app.DataDir, fileName, SearchOption.AllDirectories).Single();
        var file = await H5py.ReadAsync(path);
        Assert.Equal([1, 60, 80], file.Shape("/entry0/counter0/data"));
        Assert.DoesNotContain(file.Doubles("/entry0/counter0/data"), double.IsNaN);
        Assert.Equal("journey", file.Item("/entry0/title").GetProperty("value").Text());
        Assert.Empty(consoleErrors);
    }

    [Fact(Timeout = 180_000)]
    public async Task User_MovesAMotor_FromThePanel_AndSeesTheReadbackArrive()
    {
        var page = await _browser!.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 900 } });
        await page.GotoAsync(_app.BaseAddress.ToString());
        var target = page.GetByLabel("Target for OsaY");
        await Assertions.Expect(target).ToBeEnabledAsync(new() { Timeout = 30_000 });

        await target.FillAsync("250");
        await target.PressAsync("Enter");

        await Assertions.Expect(page.GetByTestId("readback-OsaY")).ToContainTextAsync("250.000", new() { Timeout = 30_000 });
    }

    private static string ScreenshotDirectory => Chromium.ScreenshotDirectory;

    [GeneratedRegex(@"^A\d{9}\.hdf5$")]
    private static partial Regex FileNamePattern();

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        await _app.DisposeAsync();
    }
}
