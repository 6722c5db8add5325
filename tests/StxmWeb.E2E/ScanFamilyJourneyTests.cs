using Microsoft.Playwright;
using StxmWeb.Testing;

namespace StxmWeb.E2E;

/// <summary>
/// One journey per scan family in a real browser: choose the type in the editor, adjust it, start, and see the result in
/// the viewer (an image, or a plot for spectra); the file is then read with h5py. Screenshots go to artifacts/screenshots.
/// </summary>
[Trait("Category", "E2E")]
public sealed class ScanFamilyJourneyTests : IAsyncLifetime
{
    private readonly StxmAppFactory _app = new(timeScale: 10);
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public async ValueTask InitializeAsync() => (_playwright, _browser) = await Chromium.LaunchAsync();

    public static TheoryData<string, string[], string, int, int[]> Families => new()
    {
        // label, fields to fill (id=value), viewer kind, entries, data shape of entry0
        { "Sample focus", ["line-points=60", "zpz-points=21"], "image", 1, [21, 60] },
        { "Point spectrum", [], "plot", 2, [38] },
        { "Line spectrum", ["line-points=40"], "image", 1, [38, 40] },
        { "Image stack", ["x-points=30", "y-points=30"], "image", 1, [19, 30, 30] },
        { "Tomography", ["x-points=30", "y-points=30", "theta-points=3"], "image", 3, [1, 30, 30] },
        { "OSA image", ["x-points=21", "y-points=21"], "image", 1, [1, 21, 21] },
    };

    [Theory(Timeout = 180_000)]
    [MemberData(nameof(Families))]
    public async Task User_ChoosesAScanType_RunsIt_AndSeesTheResult(string label, string[] fields, string kind, int entries, int[] shape)
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

        // Choose the scan type from the editor's select, with the mouse as a user would, then fill the fields.
        await page.Locator("div.mud-input-control.mud-select").Filter(new() { Has = page.Locator("#scan-type") }).ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = label, Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("div.mud-input-control.mud-select").Filter(new() { Has = page.Locator("#scan-type") })).ToContainTextAsync(label);
        foreach (var field in fields)
        {
            var (id, value) = (field[..field.IndexOf('=')], field[(field.IndexOf('=') + 1)..]);
            await page.Locator($"#{id}").FillAsync(value);
        }

        await Assertions.Expect(page.GetByTestId("estimate")).ToContainTextAsync("estimate");
        await Assertions.Expect(start).ToBeEnabledAsync();
        await start.ClickAsync();

        var canvas = page.GetByTestId("live-canvas");
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-status", "success", new() { Timeout = 120_000 });
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-kind", kind);
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-entries", entries.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Assertions.Expect(page.GetByTestId("run-row").First).ToContainTextAsync("success");
        var expectedPoints = entries * shape.Aggregate(1, (a, b) => a * b);
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-filled", expectedPoints.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await page.ScreenshotAsync(new() { Path = Path.Combine(ScreenshotDirectory, $"family-{label.Replace(' ', '-').ToLowerInvariant()}.png") });

        if (label == "Point spectrum")
        {
            // The spectra panel plots both points' spectra with Plotly.Blazor, every energy of each.
            await Assertions.Expect(page.GetByTestId("spectra-values")).ToHaveAttributeAsync("data-points", "76", new() { Timeout = 10_000 });
            await Assertions.Expect(page.Locator("#spectra-chart .scatterlayer .trace")).ToHaveCountAsync(2);
            await page.GetByTestId("spectra-panel").ScreenshotAsync(new() { Path = Path.Combine(ScreenshotDirectory, "spectra-panel-points.png") });
        }

        if (label == "OSA image")
        {
            // "Set Center to Cursor": a point picked on the OSA image centres the next OSA scan there.
            var box = (await canvas.BoundingBoxAsync())!;
            await canvas.ClickAsync(new() { Position = new Position { X = box.Width * 0.75f, Y = box.Height * 0.5f } });
            var tools = page.GetByTestId("pick-tools");
            await Assertions.Expect(tools).ToContainTextAsync("osa_x");
            var pickedX = System.Text.RegularExpressions.Regex.Match((await tools.TextContentAsync())!, @"osa_x (-?[0-9.]+)").Groups[1].Value;
            await page.GetByRole(AriaRole.Button, new() { Name = "Centre the next scan's region on the picked point" }).ClickAsync();
            await Assertions.Expect(page.Locator("#x-center")).ToHaveValueAsync(pickedX);
        }

        var path = Directory.EnumerateFiles(_app.DataDir, "*.hdf5", SearchOption.AllDirectories).Single();
        var file = await H5py.ReadAsync(path);
        Assert.Equal(shape, file.Shape("/entry0/counter0/data"));
        Assert.DoesNotContain(file.Doubles("/entry0/counter0/data"), double.IsNaN);
        Assert.Empty(consoleErrors);
    }

    [Fact(Timeout = 180_000)]
    public async Task User_SetsTheFocus_FromTheSharpestRowOfASampleFocusScan()
    {
        var ct = TestContext.Current.CancellationToken;
        using (var api = new HttpClient { BaseAddress = _app.BaseAddress })
        {
            // The calibration has drifted: A0 30 µm too long, so the energy device parks the zone plate off focus.
            var put = await api.PutAsync("/api/focus", new StringContent("""{"a0": 280}""", System.Text.Encoding.UTF8, "application/json"), ct);
            Assert.True(put.IsSuccessStatusCode);
        }

        var page = await _browser!.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 1000 } });
        await page.GotoAsync(_app.BaseAddress.ToString());
        var start = page.GetByRole(AriaRole.Button, new() { Name = "Start scan" });
        await Assertions.Expect(start).ToBeEnabledAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(page.GetByTestId("focus-calibration")).ToContainTextAsync("A0 280 µm");
        await page.Locator("div.mud-input-control.mud-select").Filter(new() { Has = page.Locator("#scan-type") }).ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "Sample focus", Exact = true }).ClickAsync();
        await page.Locator("#zpz-center").FillAsync("-1099.2");
        await page.Locator("#zpz-range").FillAsync("120");
        await page.Locator("#zpz-points").FillAsync("13");
        await Assertions.Expect(start).ToBeEnabledAsync();
        await start.ClickAsync();
        var canvas = page.GetByTestId("live-canvas");
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-status", "success", new() { Timeout = 120_000 });

        // The panel offers the sharpest row; clicking a row of the image picks that row instead.
        await Assertions.Expect(page.GetByTestId("focus-hint")).ToContainTextAsync("sharpest row");
        var box = (await canvas.BoundingBoxAsync())!;
        await canvas.ClickAsync(new() { Position = new Position { X = box.Width / 2, Y = box.Height * 0.5f / 13 } });
        await Assertions.Expect(page.Locator("#focus-zpz")).ToHaveValueAsync("-1039.2");

        // Back to the suggested row (the true focus is −FL + 250 = −1129.2 µm), and set A0 from it.
        var hint = await page.GetByTestId("focus-hint").TextContentAsync();
        var suggested = System.Text.RegularExpressions.Regex.Match(hint!, @"sharpest row (-?[0-9.]+) µm").Groups[1].Value;
        Assert.InRange(double.Parse(suggested, System.Globalization.CultureInfo.InvariantCulture), -1140.3, -1118.1);
        await page.Locator("#focus-zpz").FillAsync(suggested);
        await page.GetByRole(AriaRole.Button, new() { Name = "Set A0 to this row" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("focus-calibration")).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"A0 2(4\d|5\d|60)(\.\d)? µm"));
        await page.ScreenshotAsync(new() { Path = Path.Combine(ScreenshotDirectory, "set-focus.png") });

        // The other focus tools: ΔA0 back to zero, and the zone plate straight to the chosen row.
        await page.GetByRole(AriaRole.Button, new() { Name = "Reset delta A0 to zero" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("focus-calibration")).ToContainTextAsync("ΔA0 0 ");
        await page.Locator("#focus-zpz").FillAsync("-1100");
        await page.GetByRole(AriaRole.Button, new() { Name = "Move the zone plate to this row, calibration unchanged" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("readback-ZonePlateZ")).ToContainTextAsync("-1100.000", new() { Timeout = 30_000 });
    }

    [Fact(Timeout = 180_000)]
    public async Task User_LoadsAPatternFile_AndExposesIt()
    {
        // A 6 × 4 pattern on the polystyrene particle at (−7.88, 9.09): exposures rising along x, one pixel left out.
        var lines = new List<string> { "# x(um) y(um) t(ms)" };
        for (var r = 0; r < 4; r++)
        {
            for (var c = 0; c < 6; c++)
            {
                if ((r, c) != (0, 0))
                {
                    lines.Add(FormattableString.Invariant($"{-9.13 + (0.5 * c)} {8.34 + (0.5 * r)} {20 * (c + 1)}"));
                }
            }
        }

        var file = Path.Combine(Directory.CreateTempSubdirectory("stxmweb-xyt-").FullName, "steps.xyt");
        await File.WriteAllLinesAsync(file, lines, TestContext.Current.CancellationToken);

        var page = await _browser!.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 900 } });
        await page.GotoAsync(_app.BaseAddress.ToString());
        var start = page.GetByRole(AriaRole.Button, new() { Name = "Start scan" });
        await Assertions.Expect(start).ToBeEnabledAsync(new() { Timeout = 30_000 });
        await page.Locator("div.mud-input-control.mud-select").Filter(new() { Has = page.Locator("#scan-type") }).ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "Pattern generator", Exact = true }).ClickAsync();
        // Blazor wires the file input up after it renders; a pick made before that is lost, so pick again until the
        // editor has taken the file (a person cannot pick within milliseconds of the field appearing).
        for (var attempt = 0; attempt < 10 && await page.Locator("#x-points").InputValueAsync() != "6"; attempt++)
        {
            await page.Locator("#pattern-file").SetInputFilesAsync(file);
            await page.WaitForTimeoutAsync(500);
        }

        await Assertions.Expect(page.Locator("#x-points")).ToHaveValueAsync("6");
        await Assertions.Expect(page.Locator("#y-points")).ToHaveValueAsync("4");
        await Assertions.Expect(page.Locator("#pattern-exposure")).ToHaveValueAsync("120");
        await Assertions.Expect(start).ToBeEnabledAsync();
        await start.ClickAsync();
        await Assertions.Expect(page.GetByTestId("live-canvas")).ToHaveAttributeAsync("data-status", "success", new() { Timeout = 120_000 });

        var path = Directory.EnumerateFiles(_app.DataDir, "*.hdf5", SearchOption.AllDirectories).Single();
        var data = (await H5py.ReadAsync(path)).Doubles("/entry0/counter0/data");
        Assert.Equal(24, data.Length);
        Assert.Equal(0, data[0]); // the pixel the file left out is not exposed
        Assert.True(data[5] > 2.5 * data[1], $"the 120 ms pixel counts three times the 40 ms one: {data[5]} vs {data[1]}");
    }

    [Fact(Timeout = 180_000)]
    public async Task User_MovesTheOsaOut_ForADetectorScan_AndBackIn()
    {
        var page = await _browser!.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 900 } });
        await page.GotoAsync(_app.BaseAddress.ToString());
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Start scan" })).ToBeEnabledAsync(new() { Timeout = 30_000 });
        await page.Locator("div.mud-input-control.mud-select").Filter(new() { Has = page.Locator("#scan-type") }).ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "Detector image", Exact = true }).ClickAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Move the OSA out of the beam" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("readback-OsaY")).ToContainTextAsync("2500.000", new() { Timeout = 30_000 });
        await page.GetByRole(AriaRole.Button, new() { Name = "Move the OSA into the beam" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("readback-OsaY")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\s*0\.000"), new() { Timeout = 30_000 });
    }

    private static string ScreenshotDirectory => Chromium.ScreenshotDirectory;

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
