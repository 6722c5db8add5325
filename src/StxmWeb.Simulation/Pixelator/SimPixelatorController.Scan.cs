using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using StxmWeb.Core.Devices;
using StxmWeb.Core.Documents;
using StxmWeb.Core.Engine;
using StxmWeb.Core.Plans;
using StxmWeb.Core.Scans;
using StxmWeb.Nexus;
using StxmWeb.Pixelator.Protocol;

namespace StxmWeb.Simulation.Pixelator;

/// <summary>The scans of the simulated controller: translated, validated, planned and run with StxmWeb's engine.</summary>
public sealed partial class SimPixelatorController
{
    private ScanEngine? _engine;
    private Task _scan = Task.CompletedTask;
    private CurrentScan? _current;

    private bool IsScanning => !_scan.IsCompleted;

    private ScanEngine Engine => _engine ??= new ScanEngine(_scope, _scope.Time, _loggers.CreateLogger<ScanEngine>());

    private PlanKinematics Kinematics => new(_scope.Positioners.ToDictionary(p => p.Name, p => p.Kinematics, StringComparer.OrdinalIgnoreCase));

    private double TileUm => 0.8 * (_scope.SampleX.Limits.High - _scope.SampleX.Limits.Low);

    private InstrumentLimits Limits => new(
        _scope.Positioners.ToDictionary(p => p.Name, p => LimitsOf(p), StringComparer.OrdinalIgnoreCase), new Limits(0.05, 10_000), 4096)
    {
        Kinematics = Kinematics,
        TileUm = TileUm,

        // The controller's own limits: its scan types, one polarization and region; it defocuses by itself, and its
        // exact simulated stages meet any position precision asked for.
        Capabilities = new BackendCapabilities("The simulated controller", PixelatorScans.Supported, MaxPolarizations: 1,
            Polarizations: PixelatorScans.SupportedPolarizations, PolarizationOffset: false, MaxRegions: 1, HandlesDefocus: true, AdaptsPositionPrecision: true),
    };

    private Limits LimitsOf(IPositioner p) => _definitions.TryGetValue(_options.Names.ToController(p.Name), out var d)
        ? new Limits(d.LowerSoftLimit, d.UpperSoftLimit)
        : p.Limits;

    /// <summary>The request as StxmWeb's core understands it, or the reason the controller refuses it.</summary>
    private (ScanRequest? Request, string? Problem) Understand(PixelatorScanRequest scan)
    {
        ScanRequest request;
        try
        {
            request = PixelatorScans.ToScanRequest(scan, _options.Names, _scope.Energy.Status.Position);
        }
        catch (PixelatorProtocolException ex)
        {
            return (null, ex.Message);
        }

        var problems = ScanRequestValidator.Validate(request, Limits);
        return problems.Count > 0
            ? (null, string.Join("; ", problems.Select(p => p.Field.Length > 0 ? $"{p.Field}: {p.Message}" : p.Message)))
            : (request, null);
    }

    private PixelatorReply StartScan(PixelatorScanRequest scan)
    {
        var (request, problem) = Understand(scan);
        if (request is null)
        {
            return PixelatorReply.Error($"The scan request is refused: {problem}");
        }

        if (_recorded.Count != 1)
        {
            return PixelatorReply.Error("The simulated controller has one counter: record one channel (recordedChannels).");
        }

        lock (_gate)
        {
            if (IsScanning || Engine.State != EngineState.Idle)
            {
                return PixelatorReply.Error("A scan is already running.");
            }

            if (_moves.FirstOrDefault(m => !m.Value.IsCompleted).Key is { } moving)
            {
                return PixelatorReply.Error($"{_options.Names.ToController(moving)} is moving; send the scan when it has stopped.");
            }

            string path;
            try
            {
                path = PixelatorFileNaming.Reserve(_options.DataDirectory, request.ScanType, DateOnly.FromDateTime(_scope.Time.GetLocalNow().DateTime));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return PixelatorReply.Error($"The data directory {_options.DataDirectory} cannot be written: {ex.Message}");
            }

            _scan = RunAsync(scan, request, path);
        }

        return PixelatorReply.Ok();
    }

    private PixelatorReply Estimate(PixelatorScanRequest scan)
    {
        var (request, problem) = Understand(scan);
        if (request is null)
        {
            return PixelatorReply.Error($"The scan request is refused: {problem}");
        }

        var planned = ScanPlanner.Build(request, Kinematics, TileUm);
        var seconds = ScanPlanner.Estimate(planned.Plan, Kinematics, Positions()).TotalSeconds;
        return PixelatorReply.Ok(PixelatorFraming.ToJson(new EstimatedTime(Math.Round(seconds, 3))));
    }

    private Dictionary<string, double> Positions() =>
        _scope.Positioners.ToDictionary(p => p.Name, p => p.Status.Position, StringComparer.OrdinalIgnoreCase);

    /// <summary>Runs one scan: publishes scanStarted and filename, the lines as they come, scanStatus, and how it ended.</summary>
    private async Task RunAsync(PixelatorScanRequest scan, ScanRequest request, string path)
    {
        var kinematics = Kinematics;
        var planned = ScanPlanner.Build(request, kinematics, TileUm);
        var estimate = ScanPlanner.Estimate(planned.Plan, kinematics, Positions());
        var runId = Guid.NewGuid();
        var number = PixelatorFileNaming.Number(path);
        var start = new RunStart(runId, number, request, _scope.Time.GetUtcNow(), "pixelator", path);
        var descriptor = new Descriptor(runId, _scope.Counter.Name, _scope.Counter.Units, request.ScanType, planned.Entries, estimate);
        var tiles = request.Tiling && request.Regions.Count > 0
            ? new TileGrid(
                [.. ScanPlanner.Tiles(request.Regions[0].Y.Setpoints(), TileUm).Select(t => (t.First, t.End))],
                [.. ScanPlanner.Tiles(request.Regions[0].X.Setpoints(), TileUm).Select(t => (t.First, t.End))])
            : null;
        var current = new CurrentScan(request, planned.Entries, estimate);
        _current = current;

        using var writer = new NxstxmWriter(_loggers.CreateLogger<NxstxmWriter>());
        string? fileFault = null;
        writer.Faulted += (_, reason) =>
        {
            fileFault = reason;
            Engine.Fail(reason);
        };
        var sink = new OrderedSink(async document =>
        {
            await writer.ConsumeAsync(document, CancellationToken.None).ConfigureAwait(false);
            if (document is Frame frame)
            {
                foreach (var message in PixelatorLineData.ToWire(request.ScanType, frame, tiles))
                {
                    _server.Publish(message);
                }
            }
        });

        _server.Publish(new ScanStartedMessage(scan));
        _server.Publish(new FilenameMessage(Path.GetFileName(path), Path.GetDirectoryName(path)!));
        _server.Publish(new BeamShutterStatusMessage(ShutterOpen(scanning: true) ? "green" : "red"));
        var focus = _scope.FocusSettings;
        using var statusStop = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        var status = ScanStatusAsync(statusStop.Token);
        RunStop stop;
        try
        {
            if (request.Details.DefocusDiameterUm > 0)
            {
                // Pixelator's Defocus: the zone plate moves off focus so the spot at the sample has the asked diameter.
                await _scope.ApplyAsync(focus with { DefocusSpotUm = request.Details.DefocusDiameterUm }, _stop.Token).ConfigureAwait(false);
            }

            stop = await Engine.RunAsync(start, descriptor, planned.Plan, kinematics, sink, _stop.Token).ConfigureAwait(false);
        }
        finally
        {
            if (request.Details.DefocusDiameterUm > 0)
            {
                await _scope.ApplyAsync(focus, CancellationToken.None).ConfigureAwait(false);
            }
        }

        await sink.CompleteAsync().ConfigureAwait(false);
        await statusStop.CancelAsync().ConfigureAwait(false);
        await status.ConfigureAwait(false);
        _current = null;
        _server.Publish(new ScanStatusMessage(current.Status(Engine.Progress with { State = EngineState.Idle })));
        _server.Publish(new BeamShutterStatusMessage(ShutterOpen(scanning: false) ? "green" : "red"));
        if (stop.Status == ExitStatus.Success && fileFault is null)
        {
            _server.Publish(new ScanFinishedMessage(new ScanFinished
            {
                Filename = path,
                Flag = "0",
                NeXusBaseDirectory = _options.DataDirectory,
                NeXusDiscardSubDirectory = "discard",
                NeXusLocalBaseDirectory = _options.DataDirectory,
            }));
        }
        else
        {
            _server.Publish(new ScanAbortedMessage(new ScanAborted { Message = fileFault ?? stop.Reason, Filename = path }));
        }

        LogScanEnded(_logger, path, stop.Status, stop.Reason);
    }

    private ScanStatus CurrentScanStatus() => _current is { } current
        ? current.Status(Engine.Progress)
        : new ScanStatus { Status = "idle" };

    private async Task ScanStatusAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.ScanStatusInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                if (_current is { } current)
                {
                    _server.Publish(new ScanStatusMessage(current.Status(Engine.Progress)));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Reads each file back and publishes what it holds on the file-content port (as "loadFile file" asks).</summary>
    private void PublishFileContents(IReadOnlyList<string> paths, int plugin)
    {
        foreach (var path in paths)
        {
            try
            {
                var (entries, @default) = NxstxmReader.Entries(path);
                var content = new Dictionary<string, object>();
                foreach (var entry in entries)
                {
                    var data = NxstxmReader.Read(path, entry, _scope.Counter.Name);
                    content[entry] = new Dictionary<string, object>
                    {
                        ["stxm_scan_type"] = NxstxmReader.StxmScanType(path, entry, _scope.Counter.Name),
                        ["shape"] = data.Shape,
                        ["axes"] = data.Axes.ToDictionary(a => a.Name, a => a.Values),
                        ["data"] = data.Data,
                    };
                }

                JsonElement? stored = null;
                try
                {
                    stored = JsonDocument.Parse(NxstxmReader.ScanRequestJson(path)).RootElement.Clone();
                }
                catch (InvalidDataException)
                {
                }

                var file = new ScanFileContent
                {
                    Directory = Path.GetDirectoryName(path)!,
                    Filename = Path.GetFileName(path),
                    ScanType = PixelatorFileNaming.KindOf(Path.GetFileName(path)),
                    ScanRequest = stored,
                    PystxmLoad = JsonSerializer.Serialize(new Dictionary<string, object> { ["default"] = @default, ["entries"] = content }, PixelatorFraming.Json),
                };
                _server.Publish(new ScanFileContentMessage(file, plugin == 0 ? null : plugin), onDataPort: true);
            }
#pragma warning disable CA1031 // A file that cannot be read is reported to the client as a status; the controller goes on.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogFileUnreadable(_logger, path, ex.Message);
                _server.Publish(new JsonPublication("userStatus", JsonSerializer.SerializeToElement(new { message = $"{Path.GetFileName(path)} cannot be read: {ex.Message}" })));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Scan {Path} ended: {Status} {Reason}")]
    private static partial void LogScanEnded(ILogger logger, string path, ExitStatus status, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "File {Path} cannot be read: {Reason}")]
    private static partial void LogFileUnreadable(ILogger logger, string path, string reason);

    /// <summary>The scan under way: what the scanStatus counters are made of.</summary>
    private sealed class CurrentScan(ScanRequest request, EntryDescriptor[] entries, TimeSpan estimate)
    {
        private readonly int _lineLength = Math.Max(1, entries[0].Shape[^1]);
        private readonly long _lines = entries.Sum(e => e.Size) / Math.Max(1, entries[0].Shape[^1]);

        public ScanStatus Status(EngineProgress progress)
        {
            var line = (int)Math.Min(_lines, progress.CompletedPixels / _lineLength);
            return new ScanStatus
            {
                ScanType = ScanTypes.Of(request.ScanType).Label,
                Status = progress.State switch
                {
                    EngineState.Paused or EngineState.Pausing => "paused",
                    EngineState.Idle => "idle",
                    _ => "running",
                },
                Current = new ScanCounters
                {
                    InnerRegion = 1,
                    OuterRegion = 1,
                    Line = line + (line < _lines ? 1 : 0),
                    LineRepetition = 1,
                    Point = (int)(progress.CompletedPixels % _lineLength),
                    Polarization = request.Polarizations.Count > 0 ? 1 : null,
                    RemainingTime = ScanStatus.FormatDuration(progress.TimeLeft),
                    Time = ScanStatus.FormatDuration(progress.Elapsed),
                },
                Total = new ScanCounters
                {
                    InnerRegion = Math.Max(1, entries.Length),
                    OuterRegion = Math.Max(1, request.Energies.Count),
                    Line = (int)_lines,
                    LineRepetition = request.Details.LineRepetition,
                    Point = _lineLength,
                    Polarization = Math.Max(1, request.Polarizations.Count),
                    Time = ScanStatus.FormatDuration(estimate),
                },
            };
        }
    }

    /// <summary>
    /// The engine's documents, handled one at a time in order on a task of their own: the engine only enqueues, so a
    /// slow disk never holds up the acquisition.
    /// </summary>
    private sealed class OrderedSink : IDocumentSink
    {
        private readonly Channel<Document> _queue = Channel.CreateUnbounded<Document>(new UnboundedChannelOptions { SingleReader = true });
        private readonly Task _loop;

        public OrderedSink(Func<Document, Task> handle) => _loop = Task.Run(async () =>
        {
            await foreach (var document in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                await handle(document).ConfigureAwait(false);
            }
        });

        public void Publish(Document document) => _queue.Writer.TryWrite(document);

        public Task CompleteAsync()
        {
            _queue.Writer.TryComplete();
            return _loop;
        }
    }
}

/// <summary>
/// The PixelatorController's file names: <c>&lt;Kind&gt;_&lt;yyyy-mm-dd&gt;_&lt;nnn&gt;.hdf5</c> (Sample_Image_2026-12-01_003.hdf5)
/// under <c>&lt;base&gt;/&lt;yyyy-mm-dd&gt;/</c>, the number the day's next free one.
/// </summary>
public static partial class PixelatorFileNaming
{
    /// <summary>The name's kind for a scan type.</summary>
    public static string Kind(ScanType type) => type switch
    {
        ScanType.DetectorImage => "Detector",
        ScanType.OsaImage => "OSA",
        ScanType.OsaFocus => "OSA_Focus",
        ScanType.SampleFocus => "Focus",
        ScanType.GenericScan => "Motor",
        ScanType.TwoVariableImage => "Motor2D",
        ScanType.SamplePointSpectrum => "Sample_Point",
        ScanType.SampleLineSpectrum => "Sample_Line",
        ScanType.SampleImageStack => "Sample_Stack",
        _ => "Sample_Image",
    };

    /// <summary>The kind in a file name, or null.</summary>
    public static string? KindOf(string fileName) => Pattern().Match(fileName ?? "") is { Success: true } m ? m.Groups["kind"].Value : null;

    /// <summary>The number in a file name (0 when there is none).</summary>
    public static int Number(string path) =>
        Pattern().Match(Path.GetFileName(path) ?? "") is { Success: true } m ? int.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture) : 0;

    /// <summary>Creates the day's directory and reserves the next file of <paramref name="type"/> (created empty); its path.</summary>
    public static string Reserve(string baseDirectory, ScanType type, DateOnly day)
    {
        var date = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var directory = Path.Combine(baseDirectory, date);
        Directory.CreateDirectory(directory);
        var kind = Kind(type);
        var highest = Directory.EnumerateFiles(directory, $"{kind}_{date}_*.hdf5")
            .Select(f => Pattern().Match(Path.GetFileName(f)))
            .Where(m => m.Success && m.Groups["kind"].Value == kind)
            .Select(m => int.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture))
            .DefaultIfEmpty(0).Max();
        for (var n = highest + 1; ; n++)
        {
            var path = Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"{kind}_{date}_{n:000}.hdf5"));
            try
            {
                using (new FileStream(path, FileMode.CreateNew, FileAccess.Write))
                {
                }

                return path;
            }
            catch (IOException) when (File.Exists(path))
            {
                // Taken between the listing and now: the next.
            }
        }
    }

    [GeneratedRegex(@"^(?<kind>[A-Za-z0-9_]+?)_\d{4}-\d{2}-\d{2}_(?<n>\d{3,})\.hdf5$")]
    private static partial Regex Pattern();
}
