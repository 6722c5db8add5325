using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using StxmWeb.Testing;

namespace StxmWeb.E2E;

/// <summary>
/// The image viewer's tools in a real browser, on an image just taken: zoom and pan (wheel, drag, keyboard, Fit),
/// manual contrast with the histogram, a line profile that becomes a line spectrum, a rectangle that becomes the next
/// scan's region; and readbacks coalesced to a few updates a second while a motor moves.
/// </summary>
[Trait("Category", "E2E")]
public sealed partial class ViewerToolsJourneyTests : IAsyncLifetime
{
    private readonly StxmAppFactory _app = new(timeScale: 4);
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public async ValueTask InitializeAsync() => (_playwright, _browser) = await Chromium.LaunchAsync();

    [Fact(Timeout = 180_000)]
    public async Task User_ZoomsPansSetsContrast_DrawsAProfileAndARegion()
    {
        var (page, consoleErrors) = await Chromium.OpenAppAsync(_browser!, _app.BaseAddress);
        var start = page.GetByRole(AriaRole.Button, new() { Name = "Start scan" });
        await page.Locator("#x-points").FillAsync("60");
        await page.Locator("#y-points").FillAsync("40");
        await page.Locator("#x-range").FillAsync("30");
        await page.Locator("#y-range").FillAsync("20");
        await page.Locator("#dwell").FillAsync("1");
        await start.ClickAsync();
        var canvas = page.GetByTestId("live-canvas");
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-status", "success", new() { Timeout = 60_000 });
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-filled", "2400");

        // Zoom about the cursor: the pixel under it stays under it.
        var box = (await canvas.BoundingBoxAsync())!;
        var (px, py) = (box.X + box.Width * 0.3, box.Y + box.Height * 0.6);
        await MoveAsync(page, px, py);
        var readout = page.GetByTestId("cursor-readout");
        var before = Cell(await readout.InnerTextAsync());
        await page.Mouse.WheelAsync(0, -100);
        await page.Mouse.WheelAsync(0, -100);
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-zoom", "1.563");
        await MoveAsync(page, px + 1, py);
        await MoveAsync(page, px, py);
        var after = Cell(await readout.InnerTextAsync());
        Assert.InRange(Math.Abs(after.Row - before.Row), 0, 1);
        Assert.InRange(Math.Abs(after.Column - before.Column), 0, 1);
        var zoomed = (await canvas.BoundingBoxAsync())!;
        Assert.InRange(zoomed.Width / box.Width, 1.5, 1.6);

        // Drag pans (the pick tool), keyboard zooms and fits, Fit returns to the whole image.
        await page.Mouse.DownAsync();
        await MoveAsync(page, px + 60, py + 30, steps: 5);
        await page.Mouse.UpAsync();
        var panned = (await canvas.BoundingBoxAsync())!;
        Assert.InRange(panned.X - zoomed.X, 55, 65);
        await page.GetByTestId("viewer-fit").ClickAsync();
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-zoom", "1.000");
        await page.GetByTestId("viewer-view").FocusAsync();
        await page.Keyboard.PressAsync("+");
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-zoom", "1.250");
        await page.Keyboard.PressAsync("0");
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-zoom", "1.000");

        // The histogram counts every pixel shown; manual contrast starts from the limits in force and takes new ones.
        await Assertions.Expect(page.GetByTestId("viewer-histogram")).ToHaveAttributeAsync("data-total", "2400");
        var autoLo = Attribute(await canvas.GetAttributeAsync("data-lo"));
        var autoHi = Attribute(await canvas.GetAttributeAsync("data-hi"));
        await page.Locator("#contrast").SelectOptionAsync("manual");
        await Assertions.Expect(page.Locator("#contrast-lo")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#contrast-lo")).ToHaveValueAsync(Math.Round(autoLo, 3).ToString(CultureInfo.InvariantCulture));
        var manualHi = Math.Round(autoLo + (autoHi - autoLo) / 2);
        await page.Locator("#contrast-hi").FillAsync(manualHi.ToString(CultureInfo.InvariantCulture));
        await page.Locator("#contrast-hi").PressAsync("Tab");
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-hi", manualHi.ToString(CultureInfo.InvariantCulture));
        await page.Locator("#contrast").SelectOptionAsync("auto");
        await Assertions.Expect(page.Locator("#contrast-lo")).ToHaveCountAsync(0);

        // The line tool: a drag draws a line, its profile is plotted, and it becomes a line spectrum's line.
        await page.Locator("#viewer-tool").SelectOptionAsync("line");
        box = (await canvas.BoundingBoxAsync())!;
        await MoveAsync(page, box.X + box.Width * 0.1, box.Y + box.Height * 0.5);
        await page.Mouse.DownAsync();
        await MoveAsync(page, box.X + box.Width * 0.9, box.Y + box.Height * 0.5, steps: 8);
        await page.Mouse.UpAsync();
        var profile = page.GetByTestId("profile-canvas");
        await Assertions.Expect(profile).ToBeVisibleAsync();
        var samples = int.Parse((await profile.GetAttributeAsync("data-count"))!, CultureInfo.InvariantCulture);
        Assert.InRange(samples, 46, 50); // 80 % of 60 columns, one sample per pixel step
        Assert.InRange(Attribute(await profile.GetAttributeAsync("data-length")), 22, 26); // 80 % of 30 µm
        await Assertions.Expect(page.GetByTestId("profile-readout")).ToContainTextAsync("profile");
        await Assertions.Expect(page.GetByTestId("line-tools")).ToBeVisibleAsync();
        await Screenshot(page, "viewer-tools-profile.png");
        await page.GetByRole(AriaRole.Button, new() { Name = "Make the drawn line the next line spectrum" }).ClickAsync();
        await Assertions.Expect(page.Locator("div.mud-input-control.mud-select").Filter(new() { Has = page.Locator("#scan-type") })).ToContainTextAsync("Line spectrum");
        // The line's two ends arrive as two changes of the editor: wait for both.
        await page.WaitForFunctionAsync("""
            () => {
              const length = parseFloat(document.querySelector('#line-stop-x').value) - parseFloat(document.querySelector('#line-start-x').value);
              return length > 22 && length < 26;
            }
            """, null, new() { Timeout = 10_000 });

        // The region tool: a rectangle becomes the next image's region.
        await page.Keyboard.PressAsync("Escape");
        await page.Locator("#viewer-tool").SelectOptionAsync("region");
        await MoveAsync(page, box.X + box.Width * 0.25, box.Y + box.Height * 0.25);
        await page.Mouse.DownAsync();
        await MoveAsync(page, box.X + box.Width * 0.75, box.Y + box.Height * 0.75, steps: 8);
        await page.Mouse.UpAsync();
        await Assertions.Expect(page.GetByTestId("region-tools")).ToBeVisibleAsync();
        var drawn = (await canvas.GetAttributeAsync("data-region"))!.Split(',').Select(Attribute).ToArray();
        await Screenshot(page, "viewer-tools-region.png");
        await page.GetByRole(AriaRole.Button, new() { Name = "Make the drawn rectangle the next scan's region" }).ClickAsync();
        await Assertions.Expect(page.Locator("div.mud-input-control.mud-select").Filter(new() { Has = page.Locator("#scan-type") })).ToContainTextAsync("Sample image");
        Assert.Equal(Math.Round(drawn[1] - drawn[0], 3), Attribute(await page.Locator("#x-range").InputValueAsync()), 3);
        Assert.Equal(Math.Round(drawn[3] - drawn[2], 3), Attribute(await page.Locator("#y-range").InputValueAsync()), 3);
        Assert.InRange(Attribute(await page.Locator("#x-range").InputValueAsync()), 13, 17); // half of 30 µm

        // A lighter stream for a slow link: the run comes again windowed to 8 bits (this image fits the view: no binning).
        await page.Locator("#viewer-stream").SelectOptionAsync("fit8");
        await Assertions.Expect(page.GetByTestId("viewer-meta")).ToContainTextAsync("8 bit");
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-filled", "2400");
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-bin", "1");
        await page.Locator("#viewer-stream").SelectOptionAsync("full");
        await Assertions.Expect(page.GetByTestId("viewer-meta")).Not.ToContainTextAsync("8 bit");
        Assert.Empty(consoleErrors);
    }

    [Fact(Timeout = 180_000)]
    public async Task DuringAStack_TheOpticalDensityOfADrawnRegion_GrowsEnergyByEnergy_AndMatchesTheFile()
    {
        var (page, consoleErrors) = await Chromium.OpenAppAsync(_browser!, _app.BaseAddress);
        var start = page.GetByRole(AriaRole.Button, new() { Name = "Start scan" });
        var type = page.Locator("div.mud-input-control.mud-select").Filter(new() { Has = page.Locator("#scan-type") });
        await type.ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "Image stack", Exact = true }).ClickAsync();
        await Assertions.Expect(type).ToContainTextAsync("Image stack");
        await page.Locator("#x-points").FillAsync("30");
        await page.Locator("#y-points").FillAsync("30");
        await Assertions.Expect(start).ToBeEnabledAsync();
        await start.ClickAsync();

        var canvas = page.GetByTestId("live-canvas");
        await page.WaitForFunctionAsync("() => Number(document.querySelector('[data-testid=live-canvas]').dataset.filled) > 0", null, new() { Timeout = 30_000 });

        // While the first energies come in: a region over the upper left, and an I0 region over the lower right.
        await page.Locator("#viewer-tool").SelectOptionAsync("region");
        var box = (await canvas.BoundingBoxAsync())!;
        async Task<double[]> DrawAsync(double from, double to)
        {
            await MoveAsync(page, box.X + box.Width * from, box.Y + box.Height * from);
            await page.Mouse.DownAsync();
            await MoveAsync(page, box.X + box.Width * to, box.Y + box.Height * to, steps: 6);
            await page.Mouse.UpAsync();
            await Assertions.Expect(page.GetByTestId("region-tools")).ToBeVisibleAsync();
            return [.. (await canvas.GetAttributeAsync("data-region"))!.Split(',').Select(Attribute)];
        }

        var region = await DrawAsync(0.1, 0.45);
        await page.GetByRole(AriaRole.Button, new() { Name = "Follow the spectrum of the drawn rectangle during a stack" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("spectra-note")).ToContainTextAsync("transmitted counts");
        var background = await DrawAsync(0.55, 0.9);
        await page.GetByRole(AriaRole.Button, new() { Name = "Use the drawn rectangle as the I0 background of the optical density" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("spectra-note")).ToContainTextAsync("OD");

        // The spectrum grows plane by plane while the stack runs.
        var values = page.GetByTestId("spectra-values");
        var seen = new List<int>();
        while (await canvas.GetAttributeAsync("data-status") != "success")
        {
            if (await values.CountAsync() > 0)
            {
                seen.Add(int.Parse((await values.GetAttributeAsync("data-points"))!, CultureInfo.InvariantCulture));
            }

            await Task.Delay(250, TestContext.Current.CancellationToken);
        }

        await Assertions.Expect(values).ToHaveAttributeAsync("data-points", "19", new() { Timeout = 10_000 });
        Assert.True(seen.Distinct().Count(p => p < 19) >= 2, $"the spectrum did not grow while the stack ran: {string.Join(", ", seen)}");
        Assert.True(seen.SequenceEqual(seen.Order()), $"the spectrum lost points: {string.Join(", ", seen)}");
        // The live energy slider steps back through the energies taken, by keyboard too; "follow" returns to the newest.
        var slider = page.GetByTestId("live-plane");
        await Assertions.Expect(page.GetByTestId("live-plane-tools")).ToBeVisibleAsync();
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-shown-plane", "18");
        await slider.FocusAsync();
        await page.Keyboard.PressAsync("Home");
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-shown-plane", "0");
        await Assertions.Expect(page.GetByTestId("live-plane-value")).ToContainTextAsync("280.00 eV (1/19)");
        await Assertions.Expect(page.GetByTestId("viewer-meta")).ToContainTextAsync("280.00 eV");
        await Assertions.Expect(page.GetByTestId("live-follow")).Not.ToBeCheckedAsync();
        await page.GetByTestId("live-follow").CheckAsync();
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-shown-plane", "18");
        await Screenshot(page, "viewer-tools-od-spectrum.png");
        await page.GetByTestId("spectra-panel").ScrollIntoViewIfNeededAsync();
        await page.GetByTestId("spectra-panel").ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotDirectory, "spectra-panel-od.png") });

        // The last energy's optical density, from the file with h5py, over the same pixels.
        var fileName = await page.GetByTestId("file-name").InnerTextAsync();
        var file = await H5py.ReadAsync(Directory.EnumerateFiles(_app.DataDir, fileName, SearchOption.AllDirectories).Single());
        var data = file.Doubles("/entry0/counter0/data");
        var xs = file.Doubles("/entry0/counter0/sample_x");
        var ys = file.Doubles("/entry0/counter0/sample_y");
        double Mean(double[] r, int plane)
        {
            var inside = from row in Enumerable.Range(0, ys.Length)
                         from column in Enumerable.Range(0, xs.Length)
                         where xs[column] >= r[0] - 1e-3 && xs[column] <= r[1] + 1e-3 && ys[row] >= r[2] - 1e-3 && ys[row] <= r[3] + 1e-3
                         select data[(plane * ys.Length + row) * xs.Length + column];
            return inside.Average();
        }

        var expected = -Math.Log(Mean(region, 18) / Mean(background, 18));
        var shown = Attribute(await values.GetAttributeAsync("data-last"));
        Assert.True(Math.Abs(shown - expected) < 1e-4, $"OD at the last energy: the panel shows {shown}, the file gives {expected}");
        Assert.Empty(consoleErrors);
    }

    [Fact(Timeout = 180_000)]
    public async Task Readbacks_ReachTheBrowser_AtMostTenTimesASecond_WhileAMotorMoves()
    {
        var (page, _) = await Chromium.OpenAppAsync(_browser!, _app.BaseAddress);
        var target = page.GetByLabel("Target for Energy");
        await Assertions.Expect(target).ToBeEnabledAsync(new() { Timeout = 30_000 });

        // The simulated monochromator moves at 20 eV/s (80 at this test's time scale), its readback changing at every
        // tick of the simulation; the panel shows it at its own rate.
        await target.FillAsync("2000");
        await target.PressAsync("Enter");
        await Assertions.Expect(page.GetByTestId("readback-Energy")).Not.ToContainTextAsync("285.000", new() { Timeout = 10_000 });
        var counted = await page.EvaluateAsync<double[]>("""
            () => new Promise((resolve) => {
              const cell = document.querySelector('[data-testid="readback-Energy"]');
              let changes = 0, last = cell.textContent;
              const observer = new MutationObserver(() => { if (cell.textContent !== last) { last = cell.textContent; changes++; } });
              observer.observe(cell, { subtree: true, childList: true, characterData: true });
              const first = parseFloat(cell.textContent);
              setTimeout(() => { observer.disconnect(); resolve([changes, first, parseFloat(cell.textContent)]); }, 3000);
            })
            """);
        Assert.True(counted[2] > counted[1], $"the readback did not advance ({counted[1]} → {counted[2]})");
        Assert.InRange(counted[0], 5, 31); // moving the whole time, shown at ≤ 10 Hz
        await page.GetByRole(AriaRole.Button, new() { Name = "Stop Energy" }).ClickAsync();
    }

    private static (int Row, int Column) Cell(string readout)
    {
        var match = CellPattern().Match(readout);
        Assert.True(match.Success, $"no row and column in the readout: {readout}");
        return (int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    [Fact(Timeout = 180_000)]
    public async Task AnImageTallerThanTheViewer_StreamsBinnedToItsSize_AndFullResolutionOnDemand()
    {
        var (page, consoleErrors) = await Chromium.OpenAppAsync(_browser!, _app.BaseAddress);
        var canvas = page.GetByTestId("live-canvas");
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-stream", "fit");
        await Assertions.Expect(page.Locator("#viewer-stream")).ToHaveValueAsync("fit");
        await page.Locator("#x-points").FillAsync("100");
        await page.Locator("#y-points").FillAsync("900");
        // Too fast for the stage first: while the field is being edited its error is one line under it, the whole of it
        // in the list below the form.
        await page.Locator("#dwell").FillAsync("0.2");
        var problems = page.Locator(".stxm-form .mud-input-helper-text").Filter(new() { HasText = "above its 2000" });
        await Assertions.Expect(problems.First).ToContainTextAsync("above its 2000");
        Assert.InRange((await problems.First.BoundingBoxAsync())!.Height, 10, 24);
        await Assertions.Expect(page.GetByText("1 problem to fix before starting")).ToBeVisibleAsync();
        await Screenshot(page, "scan-editor-field-error.png");
        await page.Locator("#x-range").FillAsync("10");
        await page.GetByRole(AriaRole.Button, new() { Name = "Start scan" }).ClickAsync();
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-status", "success", new() { Timeout = 120_000 });

        // 900 rows do not fit the viewer (about 600 px tall here): the server bins them to fit, and every binned pixel comes.
        var bin = (int)Attribute(await canvas.GetAttributeAsync("data-bin"));
        Assert.InRange(bin, 2, 4);
        var binned = ((900 + bin - 1) / bin) * ((100 + bin - 1) / bin);
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-filled", binned.ToString(CultureInfo.InvariantCulture));
        await Assertions.Expect(page.GetByTestId("viewer-meta")).ToContainTextAsync($"binned {bin}×");
        await Screenshot(page, "viewer-binned-to-view.png");

        // Full resolution on demand: the run comes again, every pixel.
        await page.Locator("#viewer-stream").SelectOptionAsync("full");
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-bin", "1");
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-filled", "90000");
        await Assertions.Expect(page.GetByTestId("viewer-meta")).Not.ToContainTextAsync("binned");
        Assert.Empty(consoleErrors);
    }

    private static Task MoveAsync(IPage page, double x, double y, int steps = 1) =>
        page.Mouse.MoveAsync((float)x, (float)y, new() { Steps = steps });

    private static double Attribute(string? text) => double.Parse(text!, CultureInfo.InvariantCulture);

    private static async Task Screenshot(IPage page, string name)
    {
        Directory.CreateDirectory(Chromium.ScreenshotDirectory);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotDirectory, name) });
    }

    [GeneratedRegex(@"\(row (\d+), column (\d+)\)")]
    private static partial Regex CellPattern();

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
