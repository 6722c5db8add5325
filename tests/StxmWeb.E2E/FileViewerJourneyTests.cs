using Microsoft.Playwright;
using StxmWeb.Testing;

namespace StxmWeb.E2E;

/// <summary>
/// Files in the viewer, in a real browser: recorded pyStxm runs uploaded (imported, then shown: a stack with its energy
/// slider, a tomogram with an entry per angle), a file in pyStxm's layout made by h5py, a run's own file opened from
/// the run history (a spectrum plot), a refused upload, and back to live. Screenshots go to artifacts/screenshots.
/// </summary>
[Trait("Category", "E2E")]
public sealed class FileViewerJourneyTests : IAsyncLifetime
{
    private readonly StxmAppFactory _app = new(timeScale: 20);
    private readonly string _files = Directory.CreateTempSubdirectory("stxmweb-viewer-files-").FullName;
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public async ValueTask InitializeAsync()
    {
        (_playwright, _browser) = await Chromium.LaunchAsync();
        var (code, output) = await PythonScript.RunAsync("make_reader_files.py", _files);
        Assert.True(code == 0, $"make_reader_files.py failed (python3-h5py is installed by tests/run): {output}");
    }

    private static string Runs(string name) => Path.Combine(NexusValidator.SharedDirectory, "data", "pystxm-bluesky-runs", name + ".json");

    private async Task<IPage> OpenAsync()
    {
        var page = await _browser!.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 900 } });
        await page.GotoAsync(_app.BaseAddress.ToString());
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Start scan" })).ToBeEnabledAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(page.GetByTestId("live-canvas")).ToHaveAttributeAsync("data-connected", "true", new() { Timeout = 30_000 });
        return page;
    }

    [Fact(Timeout = 180_000)]
    public async Task User_UploadsRecordedStackRuns_AndStepsThroughItsEnergies()
    {
        var page = await OpenAsync();
        var canvas = page.GetByTestId("live-canvas");

        await page.Locator("#viewer-file").SetInputFilesAsync(Runs("SAMPLE_IMAGE_STACK"));

        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-source", "file", new() { Timeout = 30_000 });
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-plane", "0");
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-filled", "625");
        await Assertions.Expect(page.GetByTestId("viewer-file-tools")).ToContainTextAsync("SAMPLE_IMAGE_STACK.hdf5");
        await Assertions.Expect(page.GetByTestId("viewer-meta")).ToContainTextAsync("sample image stack · 3×25×25 (energy × sample_y × sample_x) · 720.00 eV · θ 2.0° · plane 1/3");
        var slider = page.Locator("#viewer-plane");
        await Assertions.Expect(slider).ToHaveAttributeAsync("max", "2");

        await slider.FillAsync("2");
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-plane", "2");
        await Assertions.Expect(page.GetByTestId("viewer-plane-value")).ToHaveTextAsync("750.40 eV (3/3)");
        await Assertions.Expect(page.GetByTestId("viewer-meta")).ToContainTextAsync("750.40 eV · θ 2.0° · plane 3/3");

        // The keyboard steps it too.
        await slider.FocusAsync();
        await page.Keyboard.PressAsync("ArrowLeft");
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-plane", "1");
        await Assertions.Expect(page.GetByTestId("viewer-plane-value")).ToHaveTextAsync("735.20 eV (2/3)");
        var box = (await canvas.BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(box.X + box.Width / 2, box.Y + box.Height / 2);
        await Assertions.Expect(page.GetByTestId("cursor-readout")).ToContainTextAsync("sample_x");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotDirectory, "viewer-imported-stack.png") });
        Assert.True(File.Exists(Path.Combine(_app.DataDir, "imported", "SAMPLE_IMAGE_STACK.hdf5")), "the import is kept in the data directory");

        // Back to live.
        await page.GetByRole(AriaRole.Button, new() { Name = "Back to the live image" }).ClickAsync();
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-source", "live");
        await Assertions.Expect(page.GetByTestId("viewer-file-tools")).ToHaveCountAsync(0);
    }

    [Fact(Timeout = 180_000)]
    public async Task User_OpensATomogram_AndAPyStxmFile_OneEntryAtATime()
    {
        var page = await OpenAsync();
        var canvas = page.GetByTestId("live-canvas");

        await page.Locator("#viewer-file").SetInputFilesAsync(Runs("TOMOGRAPHY_SCAN"));
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-source", "file", new() { Timeout = 30_000 });
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-entries", "3");
        await page.Locator("#viewer-entry").SelectOptionAsync("2");
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-entry", "2");
        await Assertions.Expect(page.GetByTestId("viewer-meta")).ToContainTextAsync("entry2 (3/3) · sample image · 2×20×20");
        await Assertions.Expect(page.GetByTestId("viewer-meta")).ToContainTextAsync("θ 2.0°");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotDirectory, "viewer-imported-tomogram.png") });

        // A file in pyStxm's own layout (gzip, default attributes), written by h5py: its last energy was never acquired.
        await page.Locator("#viewer-file").SetInputFilesAsync(Path.Combine(_files, "pystxm-stack.hdf5"));
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-entries", "1", new() { Timeout = 30_000 });
        await Assertions.Expect(page.GetByTestId("viewer-file-tools")).ToContainTextAsync("pystxm-stack.hdf5");
        await Assertions.Expect(page.GetByTestId("viewer-meta")).ToContainTextAsync("sample image stack · 3×4×5 (energy × sample_y × sample_x) · 700.00 eV");
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-filled", "20");
        await page.Locator("#viewer-plane").FillAsync("2");
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-plane", "2");
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-filled", "0");
    }

    [Fact(Timeout = 180_000)]
    public async Task User_OpensARunsFileFromTheHistory_AndARefusedUploadSaysWhy()
    {
        var ct = TestContext.Current.CancellationToken;
        using (var api = new HttpClient { BaseAddress = _app.BaseAddress })
        {
            var body = """{"scanType":"SamplePointSpectrum","mode":"PointByPoint","points":[{"x":-7.88,"y":9.09}],"energies":[{"startEv":280,"stopEv":300,"points":21,"dwellMs":2}]}""";
            var post = await api.PostAsync("/api/scans", new StringContent(body, System.Text.Encoding.UTF8, "application/json"), ct);
            Assert.True(post.IsSuccessStatusCode, await post.Content.ReadAsStringAsync(ct));
        }

        var page = await OpenAsync();
        var canvas = page.GetByTestId("live-canvas");
        var row = page.GetByTestId("run-row").First;
        await Assertions.Expect(row).ToContainTextAsync("success", new() { Timeout = 120_000 });

        await row.GetByTestId("run-open").ClickAsync();
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-source", "file", new() { Timeout = 30_000 });
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-kind", "plot");
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-filled", "21");
        await Assertions.Expect(page.GetByTestId("viewer-meta")).ToContainTextAsync("sample point spectrum · 21 (energy)");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotDirectory, "viewer-history-spectrum.png") });

        var broken = Path.Combine(_files, "broken.json");
        await File.WriteAllTextAsync(broken, "{\"abc\": [[\"start\", {\"uid\": \"abc\"}]]}", ct);
        await page.Locator("#viewer-file").SetInputFilesAsync(broken);
        await Assertions.Expect(page.GetByTestId("viewer-error")).ToContainTextAsync("broken.json: run abc: the start document has no 'metadata'", new() { Timeout = 30_000 });
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-kind", "plot");
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        _app.Dispose();
        Directory.Delete(_files, recursive: true);
    }
}
