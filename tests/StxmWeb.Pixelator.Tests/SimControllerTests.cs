using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using StxmWeb.Core.Scans;
using StxmWeb.Pixelator.Client;
using StxmWeb.Pixelator.Protocol;
using StxmWeb.Pixelator.Server;
using StxmWeb.Simulation;
using StxmWeb.Simulation.Pixelator;
using StxmWeb.Testing;

namespace StxmWeb.Pixelator.Tests;

/// <summary>
/// The simulated PixelatorController in process, on real ZeroMQ sockets, driven by StxmWeb's client: what it answers
/// and publishes, and the files it writes (read back with h5py).
/// </summary>
[Trait("Category", "Integration")]
public sealed class SimControllerTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<PublishedMessage> _published = new();
    private SimPixelatorController _controller = null!;
    private PixelatorClient _client = null!;
    private IDisposable? _subscription;
    private string _dataDir = "";

    public async ValueTask InitializeAsync()
    {
        _dataDir = Directory.CreateTempSubdirectory("pixelator-sim-test-").FullName;
        var scope = new SimMicroscope(SimulationOptions.Standard(), new AcceleratedTimeProvider(5));
        _controller = new SimPixelatorController(scope, new SimPixelatorOptions
        {
            DataDirectory = _dataDir,
            Server = new PixelatorServerOptions { Address = "127.0.0.1", PublisherPort = 0, RequestPort = 0, DataPublisherPort = 0 },
        }, NullLoggerFactory.Instance);
        var (pub, req, data) = _controller.Ports;
        _client = new PixelatorClient(new PixelatorClientOptions { Host = "127.0.0.1", SubPort = pub, ReqPort = req, DataPort = data }, NullLogger<PixelatorClient>.Instance);
        _subscription = _client.Subscribe(a => _published.Enqueue(a.Message));
        await Eventually.HoldsAsync(() => _client.IsAlive, "the controller's heartbeat", cancellationToken: TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _subscription?.Dispose();
        await _client.DisposeAsync();
        await _controller.DisposeAsync();
    }

    private Task<PixelatorReply> Send(PixelatorRequest request) => _client.RequestAsync(request, TestContext.Current.CancellationToken);

    private async Task<T> Next<T>(Func<T, bool>? where = null) where T : PublishedMessage
    {
        T? found = null;
        await Eventually.HoldsAsync(() => (found = _published.OfType<T>().FirstOrDefault(m => where?.Invoke(m) ?? true)) is not null,
            typeof(T).Name, TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        return found!;
    }

    private static PixelatorScanRequest Image(int nx, int ny, double dwellMs = 1, string mode = PixelatorScanRequest.ConstantVelocity) =>
        PixelatorScans.ToPixelator(ScanRequest.SampleImage(new(0, 20, nx), new(0, 20, ny), dwellMs, 285.2,
            mode == PixelatorScanRequest.ConstantVelocity ? AcquisitionMode.Line : AcquisitionMode.PointByPoint), PixelatorNames.PolLux);

    [Fact(Timeout = 120_000)]
    public async Task Initialize_DescribesTheMicroscope()
    {
        var init = InitializeReply.From(await Send(new InitializeRequest()));

        Assert.Contains(init.Positioners, p => p.Name == "SampleX" && p.PlainUnit == "µm" && p.LowerSoftLimit == -50);
        Assert.Contains(init.Positioners, p => p.Name == "Zoneplate");
        Assert.Contains(init.Positioners, p => p.Name == "Energy" && p.PlainUnit == "eV");
        Assert.Contains(init.Detectors, d => d.Name == "Counter0");
        Assert.True(init.ZonePlates.ActiveZonePlate!.A1 > 0);
        Assert.Equal(_dataDir, init.FileSystem.Directory);
        Assert.Equal(SimPixelatorController.Version, init.ServerVersion);
    }

    [Fact(Timeout = 120_000)]
    public async Task MoveRequest_MovesThePositioner_AndStatusFollowsIt()
    {
        // The goniometer turns at 20°/s: 60° take 3 s of the simulated clock (0.6 s at its speed-up), several heartbeats.
        var reply = await Send(new MoveRequest("GoniTheta", 60));
        var refused = await Send(new MoveRequest("OSAX", 1e6));
        var unknown = await Send(new MoveRequest("Flux", 1));

        Assert.True(reply.Status.IsOk);
        await Next<PositionerStatusMessage>(s => s.Positioners.Any(p => p.Name == "GoniTheta" && p.IsMoving && p.Position is > 0 and < 60));
        await Next<PositionerStatusMessage>(s => s.Positioners.Any(p => p.Name == "GoniTheta" && !p.IsMoving && p.Position == 60));
        Assert.Contains("OSAX moves within [-3000, 3000]", refused.Status.Message, StringComparison.Ordinal);
        Assert.Contains("no positioner 'Flux'", unknown.Status.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task SampleImage_PublishesEveryLine_AndWritesItsFile()
    {
        var reply = await Send(new StartScanRequest(Image(24, 12)));
        Assert.True(reply.Status.IsOk, reply.Status.Message);

        var finished = await Next<ScanFinishedMessage>();
        Assert.NotNull(await Next<ScanStartedMessage>());
        var name = await Next<FilenameMessage>();
        var lines = _published.OfType<ScanLineDataMessage>().ToList();
        Assert.Equal(12, lines.Count);
        Assert.Equal(Enumerable.Range(0, 12), lines.Select(l => l.Row).Order());
        Assert.All(lines, l => Assert.Equal((1, 24), (l.Height, l.Width)));
        Assert.Equal(Path.Combine(name.Directory, name.File), finished.Finished.Filename);
        Assert.Matches(@"Sample_Image_\d{4}-\d{2}-\d{2}_001\.hdf5$", finished.Finished.Filename);
        var file = await H5py.ReadAsync(finished.Finished.Filename);
        Assert.Equal([1, 12, 24], file.Shape("/entry0/counter0/data"));
        var data = file.Doubles("/entry0/counter0/data");
        foreach (var line in lines)
        {
            Assert.Equal(line.Values, data[(line.Row * 24)..((line.Row + 1) * 24)]);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task AbortScan_EndsWithScanAborted_AndTheFileKeepsTheLines()
    {
        Assert.True((await Send(new StartScanRequest(Image(40, 200, 5)))).Status.IsOk);
        await Next<ScanLineDataMessage>(l => l.Row >= 3);
        Assert.True((await Send(new PauseScanRequest())).Status.IsOk);
        await Next<ScanStatusMessage>(s => s.Status.Status == "paused");
        Assert.True((await Send(new ResumeScanRequest())).Status.IsOk);
        Assert.True((await Send(new AbortScanRequest())).Status.IsOk);

        var aborted = await Next<ScanAbortedMessage>();
        Assert.Contains("abortScan", aborted.Aborted.Message, StringComparison.Ordinal);
        var file = await H5py.ReadAsync(aborted.Aborted.Filename!);
        var rows = _published.OfType<ScanLineDataMessage>().Select(l => l.Row).ToList();
        Assert.InRange(rows.Count, 4, 199);
        Assert.All(file.Doubles("/entry0/counter0/data")[..(rows.Count * 40)], v => Assert.False(double.IsNaN(v)));
        Assert.Equal("aborted", file.Item("/entry0/collection/exit_status").GetProperty("value").Text());
        Assert.False((await Send(new AbortScanRequest())).Status.IsOk);
    }

    [Fact(Timeout = 120_000)]
    public async Task ABadScanRequest_IsRefusedNamingTheField()
    {
        var unknown = await Send(new StartScanRequest(Image(10, 10) with { ScanType = "Holography" }));
        var tooFar = await Send(new StartScanRequest(PixelatorScans.ToPixelator(ScanRequest.SampleImage(new(45, 20, 10), new(0, 10, 10), 1, 285), PixelatorNames.PolLux)));
        var noDwell = await Send(new StartScanRequest(Image(10, 10) with { OuterRegions = [] }));

        Assert.Contains("scanType: 'Holography'", unknown.Status.Message, StringComparison.Ordinal);
        Assert.Contains("x", tooFar.Status.Message, StringComparison.Ordinal);
        Assert.Contains("outerRegions[0].dwellTime", noDwell.Status.Message, StringComparison.Ordinal);
        Assert.Empty(_published.OfType<ScanStartedMessage>());
    }

    [Fact(Timeout = 120_000)]
    public async Task EstimatedTime_ComesFromThePlan()
    {
        var reply = await Send(new EstimatedTimeRequest(Image(100, 100, 1)));

        var seconds = reply.Read<EstimatedTime>(1, "estimatedTime").Seconds;
        Assert.InRange(seconds, 10, 30); // 100 lines of 100 ms of counting, plus run-ups and returns
    }

    [Fact(Timeout = 120_000)]
    public async Task FilesAndDirectories_AreListed_AndAFileIsLoadedOnTheDataPort()
    {
        var started = await Send(new StartScanRequest(Image(8, 4, dwellMs: 5)));
        Assert.True(started.Status.IsOk, started.Status.Message);
        var finished = await Next<ScanFinishedMessage>();
        var day = Path.GetDirectoryName(finished.Finished.Filename)!;

        var days = (await Send(new ListDirectoryRequest(new DirectoryQuery { Directory = _dataDir }))).Read<SubDirectoryListing>(1, "listDirectory");
        var files = (await Send(new LoadDirectoryRequest(new DirectoryQuery { Directory = day }))).Read<DirectoryListing>(1, "loadFile directory");
        var load = await Send(new LoadFileRequest(new LoadFileQuery { Directory = day, File = finished.Finished.Filename, Files = [Path.GetFileName(finished.Finished.Filename)] }, Several: false));
        var missing = await Send(new LoadFileRequest(new LoadFileQuery { Directory = day, File = Path.Combine(day, "nothing.hdf5") }, Several: false));

        Assert.Equal(1, Assert.Single(days.SubDirectories).Files);
        Assert.Equal([Path.GetFileName(finished.Finished.Filename)], files.Files);
        Assert.True(load.Status.IsOk);
        Assert.Contains("no file", missing.Status.Message, StringComparison.Ordinal);
        var content = await Next<ScanFileContentMessage>();
        Assert.Equal("Sample_Image", content.Content.ScanType);
        using var pystxm = JsonDocument.Parse(content.Content.PystxmLoad!);
        Assert.Equal(32, pystxm.RootElement.GetProperty("entries").GetProperty("entry0").GetProperty("data").GetArrayLength());
        Assert.Equal("SampleImage", content.Content.ScanRequest!.Value.GetProperty("scanType").GetString());
    }

    [Fact(Timeout = 120_000)]
    public async Task Settings_LimitsAndFocus_CanBeChanged()
    {
        var settings = (await Send(new GetSettingsRequest())).Read<JsonElement>(1, "getSettings");
        var limit = await Send(ModifiedPositionerDefinitionRequest.Number("OSAX", "upperSoftLimit", 100));
        var tooHigh = await Send(new MoveRequest("OSAX", 150));
        var focus = await Send(new ZonePlateFocusRequest(new ZonePlateFocus { Target = "Sample", CursorPosition = -1130 }));
        var shutter = await Send(new BeamShutterModeRequest("Open"));
        var badShutter = await Send(new BeamShutterModeRequest("Ajar"));

        Assert.Equal(_dataDir, settings.GetProperty("NeXusBaseDirectory").GetString());
        Assert.True(limit.Status.IsOk);
        await Next<PositionerDefinitionMessage>(d => d.Positioners.Any(p => p.Name == "OSAX" && p.UpperSoftLimit == 100));
        Assert.Contains("[-3000, 100]", tooHigh.Status.Message, StringComparison.Ordinal);
        Assert.True(focus.Status.IsOk);
        Assert.True((await Next<FocalStatusMessage>()).Status.MaxDOsa > 0);
        Assert.True(shutter.Status.IsOk);
        Assert.False((await Next<BeamShutterStatusMessage>()).IsClosed);
        Assert.Contains("Auto, Open, Closed, Auto Line", badShutter.Status.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task Oscilloscope_PublishesDetectorValues_WhileOn()
    {
        Assert.True((await Send(new OscilloscopeDefinitionRequest(new OscilloscopeDefinition(0.05, 1)))).Status.IsOk);

        var values = await Next<DetectorValuesMessage>();
        Assert.True(values.Values[0] > 0);
        Assert.True((await Send(new OscilloscopeDefinitionRequest(new OscilloscopeDefinition(0.05, 0)))).Status.IsOk);
    }
}
