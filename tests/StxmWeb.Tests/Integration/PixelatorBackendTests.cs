using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using StxmWeb.Core.Plans;
using StxmWeb.Core.Scans;
using StxmWeb.Services;
using StxmWeb.Testing;

namespace StxmWeb.Tests.Integration;

/// <summary>
/// StxmWeb with <c>Instrument:Backend=Pixelator</c> against the simulated PixelatorController running as its own process:
/// every Pixelator scan type through the HTTP API, StxmWeb's file and the controller's own file read back with h5py and
/// found equal, the Scan Request Details carried to the controller, live lines over SignalR, and what the controller
/// does not run refused before anything moves.
/// </summary>
[Trait("Category", "Integration")]
public sealed class PixelatorBackendTests : IClassFixture<PixelatorBackendTests.Backend>
{
    private readonly Backend _backend;

    public PixelatorBackendTests(Backend backend) => _backend = backend;

    /// <summary>One controller process and one app for the class; scans run one at a time.</summary>
    public sealed class Backend : IAsyncLifetime
    {
        public SimPixelatorProcess Controller { get; private set; } = null!;

        public StxmAppFactory App { get; private set; } = null!;

        public async ValueTask InitializeAsync()
        {
            Controller = await SimPixelatorProcess.StartAsync(TestContext.Current.CancellationToken, timeScale: 10);
            App = new StxmAppFactory(timeScale: 1, settings: Settings(Controller.Ports));
        }

        public ValueTask DisposeAsync()
        {
            App.Dispose();
            Controller.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    internal static Dictionary<string, string> Settings(PixelatorPorts ports) => new()
    {
        ["Instrument:Backend"] = "Pixelator",
        ["Instrument:Pixelator:Host"] = "127.0.0.1",
        ["Instrument:Pixelator:SubPort"] = ports.Publisher.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Instrument:Pixelator:ReqPort"] = ports.Request.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Instrument:Pixelator:DataPort"] = ports.Data.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Instrument:Pixelator:TimeoutSeconds"] = "3",
        ["Instrument:Pixelator:LivenessSeconds"] = "2",
    };

    private sealed record Run(JsonElement Response, JsonElement File, JsonElement ControllerFile);

    /// <summary>The command path, once the last run has ended.</summary>
    private async Task<ControlService> IdleAsync()
    {
        var control = _backend.App.Services.GetRequiredService<ControlService>();
        await control.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        return control;
    }

    private HttpClient Client() => new() { BaseAddress = _backend.App.BaseAddress };

    private async Task<Run> RunAsync(ScanRequest request, string expectedState = "success")
    {
        var ct = TestContext.Current.CancellationToken;
        var control = await IdleAsync();
        using var client = Client();
        var post = await client.PostAsJsonAsync("/api/scans", request, ScanDefinitionStore.Json, ct);
        var body = await post.Content.ReadAsStringAsync(ct);
        Assert.True(post.IsSuccessStatusCode, $"{request.ScanType} refused: {body}");
        var url = JsonDocument.Parse(body).RootElement.GetProperty("status").GetString()!;
        JsonElement run = default;
        await Eventually.HoldsAsync(async () =>
        {
            run = JsonDocument.Parse(await client.GetStringAsync(url, ct)).RootElement.Clone();
            return run.GetProperty("state").GetString() is "success" or "aborted" or "failed";
        }, $"{request.ScanType} to end", TimeSpan.FromSeconds(120), ct);
        await control.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(30), ct);
        Assert.True(run.GetProperty("state").GetString() == expectedState, $"{request.ScanType}: {run}");
        var path = run.GetProperty("filePath").GetString()!;
        await NexusValidator.AssertConformsAsync(path, request.ScanType.ToString());
        var controllerFile = run.GetProperty("controllerFile").GetString();
        Assert.False(string.IsNullOrEmpty(controllerFile), $"{request.ScanType}: the run names the controller's file");
        return new Run(run, await H5py.ReadAsync(path), await H5py.ReadAsync(controllerFile!));
    }

    public static TheoryData<ScanType> PixelatorTypes() => [.. StxmWeb.Pixelator.Protocol.PixelatorScans.Supported.Order()];

    /// <summary>Defaults, made small where the default would take long at the simulated controller's pace.</summary>
    private static ScanRequest Small(ScanType type) => type switch
    {
        ScanType.CoarseImage => ScanRequest.Default(type) with { Regions = [new SpatialRegion(new(0, 40, 9), new(0, 40, 7))] },
        ScanType.SampleImageStack => ScanRequest.Default(type) with
        {
            Regions = [new SpatialRegion(new(0, 30, 30), new(0, 30, 20))],
            Energies = [new(284, 286, 3, 1), new(288, 290, 2, 1)],
        },
        ScanType.SampleLineSpectrum => ScanRequest.Default(type) with { Energies = [new(284, 290, 7, 2)] },
        ScanType.SamplePointSpectrum => ScanRequest.Default(type) with { Energies = [new(284, 290, 13, 20)] },
        _ => ScanRequest.Default(type),
    };

    [Theory(Timeout = 180_000)]
    [MemberData(nameof(PixelatorTypes))]
    public async Task EveryPixelatorScanType_RunsOnTheController_AndBothFilesHoldTheSameData(ScanType type)
    {
        var request = Small(type);
        var entries = ScanPlanner.Build(request, _backend.App.Services.GetRequiredService<ControlService>().Kinematics).Entries;

        var run = await RunAsync(request);

        for (var e = 0; e < entries.Length; e++)
        {
            var path = $"/entry{e}/counter0/data";
            Assert.Equal(entries[e].Shape, run.File.Shape(path));
            var ours = run.File.Doubles(path);
            Assert.All(ours, v => Assert.True(double.IsFinite(v), $"{type}: every point acquired"));
            Assert.Equal(ours, run.ControllerFile.Doubles(path));
        }

        Assert.Equal(entries.Sum(e => e.Size), run.Response.GetProperty("completedPixels").GetInt64());
    }

    [Fact(Timeout = 180_000)]
    public async Task TheScanRequestDetails_ReachTheController()
    {
        var details = new ScanDetails(LineDelayMs: 3, PointDelayMs: 1, DefocusDiameterUm: 1.5, PositionPrecisionPercent: 5, TileDelayMs: 20);
        var tiled = ScanRequest.SampleImage(new(0, 150, 30), new(0, 90, 12), 2, 285.2, AcquisitionMode.PointByPoint) with
        {
            Tiling = true,
            Meander = true,
            Details = details,
        };
        var yFast = ScanRequest.SampleImage(new(0, 20, 10), new(0, 20, 8), 2, 285.2, AcquisitionMode.PointByPoint) with
        {
            Details = new ScanDetails(YAxisFast: true),
        };
        var repeated = ScanRequest.SampleImage(new(0, 20, 40), new(0, 20, 6), 2, 285.2) with { Details = new ScanDetails(LineRepetition: 3, AccelerationDistanceUm: 4) };

        foreach (var request in new[] { tiled, yFast, repeated })
        {
            var run = await RunAsync(request);

            // The controller stores the request it ran: its details are the ones StxmWeb sent.
            var stored = JsonSerializer.Deserialize<ScanRequest>(string.Concat(run.ControllerFile.Item("/entry0/collection/scan_request").GetProperty("value").EnumerateArray().Select(v => v.GetString()))
                ?? run.ControllerFile.Item("/entry0/collection/scan_request").GetProperty("value").Text(), ScanDefinitionStore.Json)!;
            Assert.Equal(request.Details, stored.Details);
            Assert.Equal(request.Tiling, stored.Tiling);
            Assert.Equal(request.Meander, stored.Meander);
            Assert.All(run.File.Doubles("/entry0/counter0/data"), v => Assert.True(double.IsFinite(v) && v > 0));
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task ScanTypesTheControllerDoesNotRun_AreRefusedNamingTheField()
    {
        using var client = Client();
        var ct = TestContext.Current.CancellationToken;
        var tomography = await client.PostAsJsonAsync("/api/scans", ScanRequest.Default(ScanType.Tomography), ScanDefinitionStore.Json, ct);
        var twoPolarizations = await client.PostAsJsonAsync("/api/scans", ScanRequest.Default(ScanType.SampleImageStack) with
        {
            Polarizations = [new PolarizationSetting(Polarization.CircLeft), new PolarizationSetting(Polarization.CircRight)],
        }, ScanDefinitionStore.Json, ct);
        var incVert = await client.PostAsJsonAsync("/api/scans", ScanRequest.Default(ScanType.SampleImage) with
        {
            Polarizations = [new PolarizationSetting(Polarization.IncVertPlus)],
        }, ScanDefinitionStore.Json, ct);

        Assert.Equal(HttpStatusCode.BadRequest, tomography.StatusCode);
        var problems = JsonDocument.Parse(await tomography.Content.ReadAsStringAsync(ct)).RootElement.GetProperty("errors");
        Assert.Contains("Pixelator controller does not run Tomography", problems.GetProperty("scanType")[0].GetString(), StringComparison.Ordinal);
        Assert.Contains("polarizations", await twoPolarizations.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        Assert.Contains("polarizations[0].mode", await incVert.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public async Task LiveLines_ReachAViewer_AsWithTheOtherBackends()
    {
        var ct = TestContext.Current.CancellationToken;
        await IdleAsync();
        await using var viewer = new LiveClient(_backend.App.BaseAddress);
        await viewer.StartAsync();
        using var client = Client();

        var post = await client.PostAsJsonAsync("/api/scans", ScanRequest.SampleImage(new(0, 20, 32), new(0, 20, 16), 2, 285.2), ScanDefinitionStore.Json, ct);
        var id = JsonDocument.Parse(await post.Content.ReadAsStringAsync(ct)).RootElement.GetProperty("id").GetString()!;
        await viewer.StoppedAsync(id).WaitAsync(TimeSpan.FromSeconds(60), ct);

        Assert.Equal("Success", viewer.Status);
        Assert.Equal(32 * 16, viewer.Pixels.Count);
        Assert.Equal(0, viewer.Doubled);
    }

    [Fact(Timeout = 180_000)]
    public async Task PauseResumeAndAbort_GoToTheController()
    {
        var ct = TestContext.Current.CancellationToken;
        var control = await IdleAsync();
        using var client = Client();
        var post = await client.PostAsJsonAsync("/api/scans", ScanRequest.SampleImage(new(0, 20, 40), new(0, 20, 200), 5, 285.2, AcquisitionMode.PointByPoint), ScanDefinitionStore.Json, ct);
        Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);

        await Eventually.HoldsAsync(() => control.CurrentRun!.Progress.CompletedPixels > 80, "lines from the controller", cancellationToken: ct);
        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync("/api/scans/current/pause", null, ct)).StatusCode);
        await Eventually.HoldsAsync(() => control.CurrentRun!.State == "paused", "the controller's paused status", cancellationToken: ct);
        var pausedAt = control.CurrentRun!.Progress.CompletedPixels;
        await Task.Delay(500, ct);
        Assert.InRange(control.CurrentRun!.Progress.CompletedPixels, pausedAt, pausedAt + 40);
        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync("/api/scans/current/resume", null, ct)).StatusCode);
        await Eventually.HoldsAsync(() => control.CurrentRun!.Progress.CompletedPixels > pausedAt + 80, "lines after the resume", cancellationToken: ct);
        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync("/api/scans/current/abort", null, ct)).StatusCode);
        await control.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(30), ct);

        var run = control.CurrentRun!;
        Assert.Equal("aborted", run.State);
        Assert.NotNull(run.ControllerFile);
        var file = await H5py.ReadAsync(run.FilePath);
        Assert.All(file.Doubles("/entry0/counter0/data")[..(int)run.Progress.CompletedPixels], v => Assert.False(double.IsNaN(v)));
    }

    [Fact(Timeout = 180_000)]
    public async Task MotorPanelMoves_AreMoveRequests()
    {
        var ct = TestContext.Current.CancellationToken;
        var control = await IdleAsync();
        using var client = Client();
        var osa = control.Instrument.Find(Roles.OsaY)!;

        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsJsonAsync("/api/motors/OsaY/move", new { target = 40 }, ct)).StatusCode);
        await Eventually.HoldsAsync(() => osa.Status.Position == 40 && !osa.Status.IsMoving, "OsaY at 40", cancellationToken: ct);
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsJsonAsync("/api/motors/OsaY/move", new { target = 0 }, ct)).StatusCode);
        await Eventually.HoldsAsync(() => osa.Status.Position == 0 && !osa.Status.IsMoving, "OsaY back at 0", cancellationToken: ct);
        var refused = await client.PostAsJsonAsync("/api/motors/OsaY/move", new { target = 9999 }, ct);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("-3000", await refused.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
    }
}
