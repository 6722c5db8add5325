using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using StxmWeb.Services;
using StxmWeb.Testing;

namespace StxmWeb.Tests.Integration;

/// <summary>Bad disks on a real filesystem: too small, read-only, filling up during the scan.</summary>
[Trait("Category", "Integration")]
public sealed class DiskFaultTests
{
    private static object Request(int nx, int ny) => new
    {
        x = new { center = 0, range = 20, points = nx },
        y = new { center = 0, range = 20, points = ny },
        dwellMs = 1,
        energyEv = 285.2,
        mode = "PointByPoint",
    };

    [Fact(Timeout = 180_000)]
    public async Task TooLittleFreeSpace_RefusesTheScanBeforeAnythingMoves()
    {
        using var disk = new TmpfsMount(512);
        using var app = new StxmAppFactory(settings: new Dictionary<string, string> { ["Instrument:DataDir"] = disk.Path });
        using var client = new HttpClient { BaseAddress = app.BaseAddress };

        var response = await client.PostAsJsonAsync("/api/scans", Request(400, 400), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Contains("MB free; this scan needs about", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(app.Services.GetRequiredService<ControlService>().Runs);
        Assert.Empty(Directory.EnumerateFiles(disk.Path, "*.hdf5", SearchOption.AllDirectories));
    }

    [Fact(Timeout = 180_000)]
    public async Task ReadOnlyDataDirectory_RefusesTheScanWithTheReason()
    {
        using var disk = new TmpfsMount(512, readOnly: true);
        using var app = new StxmAppFactory(settings: new Dictionary<string, string> { ["Instrument:DataDir"] = disk.Path });
        using var client = new HttpClient { BaseAddress = app.BaseAddress };

        var response = await client.PostAsJsonAsync("/api/scans", Request(10, 10), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var detail = (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("detail").GetString();
        Assert.Contains("cannot be written", detail, StringComparison.Ordinal);
        Assert.Contains("Read-only file system", detail, StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public async Task DiskFillsDuringTheScan_TheRunFailsWithTheReason_AndTheFileKeepsEveryLine()
    {
        using var disk = new TmpfsMount(2048);
        using var app = new StxmAppFactory(timeScale: 4, settings: new Dictionary<string, string> { ["Instrument:DataDir"] = disk.Path });
        using var client = new HttpClient { BaseAddress = app.BaseAddress };
        var control = app.Services.GetRequiredService<ControlService>();

        var response = await client.PostAsJsonAsync("/api/scans", Request(40, 30), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var path = (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("filePath").GetString()!;
        await Eventually.HoldsAsync(() => control.CurrentRun!.Progress.CompletedPixels >= 200 || control.CurrentRun.IsFinished,
            "200 pixels acquired", cancellationToken: TestContext.Current.CancellationToken);

        // The writer consumes documents on its own task: let it lay out the file and write what was acquired so far
        // (under load it can lag the engine), then fill the disk.
        await app.Services.GetRequiredService<DocumentBroadcaster>().DrainAsync(TestContext.Current.CancellationToken);
        disk.Fill();
        await control.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        var run = control.CurrentRun!;
        Assert.Equal("failed", run.State);
        Assert.Contains("No space left on device", run.Reason, StringComparison.Ordinal);
        Assert.Contains(Path.GetFileName(path), run.Reason, StringComparison.Ordinal);

        // The file was laid out whole at the start: every line reached it, only the final copy could not be made.
        var file = await H5py.ReadAsync(path);
        Assert.DoesNotContain(file.Doubles("/entry0/counter0/data"), double.IsNaN);
        Assert.Empty(Directory.EnumerateFiles(disk.Path, "*.final", SearchOption.AllDirectories));
    }
}
