using System.Globalization;
using Microsoft.Playwright;
using StxmWeb.Testing;

namespace StxmWeb.E2E;

/// <summary>
/// A beamtime on a PixelatorController (the simulated one, as its own process) in a real browser: only the scan types
/// the controller runs are offered, the Scan request details reach it, and the image fills live as with the other
/// backends.
/// </summary>
[Trait("Category", "E2E")]
public sealed class PixelatorJourneyTests : IAsyncLifetime
{
    private SimPixelatorProcess? _controller;
    private StxmAppFactory? _app;
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public async ValueTask InitializeAsync()
    {
        _controller = await SimPixelatorProcess.StartAsync(TestContext.Current.CancellationToken, timeScale: 4);
        _app = new StxmAppFactory(timeScale: 1, settings: new Dictionary<string, string>
        {
            ["Instrument:Backend"] = "Pixelator",
            ["Instrument:Beamline"] = "Simulated PixelatorController",
            ["Instrument:Pixelator:SubPort"] = _controller.Ports.Publisher.ToString(CultureInfo.InvariantCulture),
            ["Instrument:Pixelator:ReqPort"] = _controller.Ports.Request.ToString(CultureInfo.InvariantCulture),
            ["Instrument:Pixelator:DataPort"] = _controller.Ports.Data.ToString(CultureInfo.InvariantCulture),
        });
        (_playwright, _browser) = await Chromium.LaunchAsync();
    }

    [Fact(Timeout = 180_000)]
    public async Task User_RunsASampleImageWithDetails_OnTheController_AndWatchesItFill()
    {
        var page = await _browser!.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 900 } });
        await page.GotoAsync(_app!.BaseAddress.ToString());
        var start = page.GetByRole(AriaRole.Button, new() { Name = "Start scan" });
        await Assertions.Expect(start).ToBeEnabledAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(page.GetByText("Pixelator backend")).ToBeVisibleAsync();

        // The type list is the controller's: no tomography, pattern generator or ptychography.
        await page.Locator("div.mud-input-control.mud-select").Filter(new() { Has = page.Locator("#scan-type") }).ClickAsync();
        var list = page.Locator(".mud-popover-open");
        await Assertions.Expect(list).ToContainTextAsync("Image stack");
        await Assertions.Expect(list).Not.ToContainTextAsync("Tomography");
        await Assertions.Expect(list).Not.ToContainTextAsync("Ptychography");
        await page.Keyboard.PressAsync("Escape");

        await page.Locator("#x-points").FillAsync("60");
        await page.Locator("#y-points").FillAsync("30");
        await page.Locator("#dwell").FillAsync("2");
        await page.GetByText("Scan request details").ClickAsync();
        await page.Locator("#detail-line-delay").FillAsync("5");
        await page.Locator("#detail-repetition").FillAsync("200");
        await Assertions.Expect(page.GetByTestId("problems")).ToContainTextAsync("details.lineRepetition");
        await Assertions.Expect(start).ToBeDisabledAsync();
        await page.Locator("#detail-repetition").FillAsync("2");
        await page.GetByLabel("Adapt position precision").CheckAsync();
        await Assertions.Expect(page.GetByTestId("estimate")).ToContainTextAsync("1,800 points");
        await Assertions.Expect(start).ToBeEnabledAsync();
        await start.ClickAsync();

        var canvas = page.GetByTestId("live-canvas");
        await page.WaitForFunctionAsync("() => Number(document.querySelector('[data-testid=live-canvas]').dataset.filled) > 300", null, new() { Timeout = 60_000 });
        await page.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotDirectory, "pixelator-running.png") });
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-status", "success", new() { Timeout = 90_000 });
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-filled", "1800");
        await Assertions.Expect(page.GetByTestId("run-row").First).ToContainTextAsync("success");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotDirectory, "pixelator-done.png") });

        var fileName = await page.GetByTestId("file-name").InnerTextAsync();
        var ours = await H5py.ReadAsync(Directory.EnumerateFiles(_app.DataDir, fileName, SearchOption.AllDirectories).Single());
        var controllers = await H5py.ReadAsync(Directory.EnumerateFiles(_controller!.DataDirectory, "Sample_Image_*.hdf5", SearchOption.AllDirectories).Single());
        Assert.Equal([1, 30, 60], ours.Shape("/entry0/counter0/data"));
        Assert.Equal(ours.Doubles("/entry0/counter0/data"), controllers.Doubles("/entry0/counter0/data"));

        // Two flights per line: the file states the count time as twice the dwell.
        Assert.Equal(0.004, ours.Doubles("/entry0/counter0/count_time")[0], 9);
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        _controller?.Dispose();
    }
}
