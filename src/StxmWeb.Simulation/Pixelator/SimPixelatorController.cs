using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using StxmWeb.Core.Devices;
using StxmWeb.Core.Plans;
using StxmWeb.Core.Scans;
using StxmWeb.Pixelator.Protocol;
using StxmWeb.Pixelator.Server;

namespace StxmWeb.Simulation.Pixelator;

/// <summary>What the simulated PixelatorController serves and where it writes.</summary>
public sealed class SimPixelatorOptions
{
    /// <summary>Ports and address.</summary>
    public PixelatorServerOptions Server { get; set; } = new();

    /// <summary>NeXusBaseDirectory: files go to <c>&lt;base&gt;/&lt;yyyy-mm-dd&gt;/Sample_Image_&lt;yyyy-mm-dd&gt;_&lt;nnn&gt;.hdf5</c>.</summary>
    public string DataDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "pixelator-sim");

    /// <summary>Controller names of StxmWeb's roles.</summary>
    public PixelatorNames Names { get; set; } = PixelatorNames.PolLux;

    /// <summary>How often positionerStatus is published (also the controller's heartbeat).</summary>
    public TimeSpan PositionerStatusInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How often scanStatus is published during a scan.</summary>
    public TimeSpan ScanStatusInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>OSA in and out of the beam (microscopeControl "InOut"), µm.</summary>
    public (double InX, double InY, double OutX, double OutY) OsaInOut { get; set; } = (0, 0, 0, 2500);

    /// <summary>Zone plate in and out (its Z), µm; "in" is the focus at the current energy.</summary>
    public double ZonePlateOutZ { get; set; } = -15_000;

    /// <summary>Sample out (coarse X), µm.</summary>
    public double SampleOutX { get; set; } = -4500;
}

/// <summary>
/// A simulated PixelatorController: a real ZeroMQ peer on the controller's ports (REP 56562, PUB 56561, file PUB 56563)
/// that owns the simulated microscope, runs the scans it is sent and writes their NeXus files itself, as PSI's controller
/// does. It plans and runs a scan with StxmWeb's own planner and engine, reads its requests with the same protocol code
/// the backend writes them with, and publishes what the real controller publishes: positionerStatus as a heartbeat,
/// scanStarted, filename, scanLineData per line, scanStatus, scanFinished or scanAborted.
/// </summary>
public sealed partial class SimPixelatorController : IAsyncDisposable
{
    private readonly SimMicroscope _scope;
    private readonly SimPixelatorOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly PixelatorServer _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _heartbeat;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, PositionerDefinition> _definitions;
    private readonly List<string> _order;
    private readonly List<DetectorDefinition> _detectors = [new("Counter0", "counts"), new("Counter1", "counts"), new("Analog0", "V")];
    private readonly Dictionary<string, Task> _moves = new(StringComparer.OrdinalIgnoreCase);
    private List<string> _recorded = ["Counter0"];
    private ZonePlateDefinition _zonePlates;
    private OscilloscopeDefinition _oscilloscope = new();
    private Task _oscilloscopeLoop = Task.CompletedTask;
    private CancellationTokenSource? _oscilloscopeStop;
    private string _focusType = "Auto";
    private string _topupMode = "Off";
    private string _shutterMode = "Auto";

    /// <summary>Binds the controller's ports and starts publishing positionerStatus.</summary>
    public SimPixelatorController(SimMicroscope scope, SimPixelatorOptions options, ILoggerFactory loggers)
    {
        _scope = scope ?? throw new ArgumentNullException(nameof(scope));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _loggers = loggers ?? throw new ArgumentNullException(nameof(loggers));
        _logger = loggers.CreateLogger<SimPixelatorController>();
        _order = [.. scope.Positioners.Select(p => options.Names.ToController(p.Name)), RingCurrent];
        _definitions = scope.Positioners.ToDictionary(p => options.Names.ToController(p.Name), Define, StringComparer.OrdinalIgnoreCase);
        _definitions[RingCurrent] = new PositionerDefinition
        {
            Name = RingCurrent,
            AxisName = RingCurrent,
            Description = "Storage-ring current (read only)",
            Unit = "(mA)",
            LowerSoftLimit = 0,
            UpperSoftLimit = 500,
            AutoOffMode = "Disabled",
            BeamlineControlPosition = 1,
        };
        _zonePlates = DefineZonePlates(scope);
        Directory.CreateDirectory(options.DataDirectory);
        _server = new PixelatorServer(options.Server, Handle, loggers.CreateLogger<PixelatorServer>());
        _heartbeat = Task.Run(() => HeartbeatAsync(_stop.Token));
    }

    /// <summary>The bound ports.</summary>
    public (int Publisher, int Request, int Data) Ports => (_server.PublisherPort, _server.RequestPort, _server.DataPublisherPort);

    /// <summary>The read-only pseudo positioner that reads the storage-ring current, as PolLux's Ring_Current.</summary>
    public const string RingCurrent = "RingCurrent";

    /// <summary>The controller's server version (the last frame of the initialize reply).</summary>
    public static string Version => "StxmWeb simulated PixelatorController 1.0";

    /// <summary>The server transport (tests publish malformed messages through it).</summary>
    public PixelatorServer Server => _server;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _engine?.Abort("The controller is shutting down.");
        await Task.WhenAll(_heartbeat, _scan, _oscilloscopeLoop).ConfigureAwait(false);
        await _server.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
        _oscilloscopeStop?.Dispose();
    }

    private PositionerDefinition Define(IPositioner p) => new()
    {
        Name = _options.Names.ToController(p.Name),
        AxisName = p.Name,
        Description = p.Description,
        Unit = $"({p.Units.Replace('\u00b5', '\u03bc')})",
        VelocityUnit = $"({p.Units.Replace('\u00b5', '\u03bc')}/ms)",
        HardwareUnitFactor = 1,
        DistributionMode = "n",
        AutoOffMode = "Never",
        PositionOffset = 0,
        UpperSoftLimit = p.Limits.High,
        LowerSoftLimit = p.Limits.Low,
        MaxVelocity = p.Kinematics.Velocity / 1000,
        BeamlineControlPosition = p.Name == Roles.Energy ? 1 : 0,
        AtPositionCheckInterval = 0.002,
        AtPositionCheckTimeout = 10,
        Destination = p.Status.Setpoint,
    };

    private static ZonePlateDefinition DefineZonePlates(SimMicroscope scope) => new()
    {
        Osas = [new OsaDefinition { Name = scope.Osa.Name, Diameter = scope.Osa.DiameterUm, Active = 1 }, new OsaDefinition()],
        DOsa = scope.FocusSettings.A0,
        ZonePlates =
        [
            new ZonePlateEntry
            {
                Name = scope.ZonePlate.Name,
                B = [0, -scope.ZonePlate.A1],
                OuterDiameter = scope.ZonePlate.DiameterUm,
                CentralStopDiameter = scope.ZonePlate.CentralStopUm,
                OutermostZoneWidth = scope.ZonePlate.OutermostZoneNm,
                Fabrication = "simulated",
                Active = 1,
            },
            new ZonePlateEntry(),
        ],
    };

    /// <summary>Answers one request (on the server's poller thread: quick, long work goes to tasks).</summary>
    private PixelatorReply Handle(PixelatorRequest request)
    {
        LogRequest(_logger, request.Command);
        return request switch
        {
            InitializeRequest => Initialize(),
            GetSettingsRequest => PixelatorReply.Ok(PixelatorFraming.ToJson(Settings())),
            RecordedChannelsRequest r => SetRecorded(r.Channels),
            StartScanRequest r => StartScan(r.Scan),
            AbortScanRequest => _engine?.Abort("Aborted by the client (abortScan).") == true ? PixelatorReply.Ok() : PixelatorReply.Error("No scan is running."),
            PauseScanRequest => _engine?.Pause() == true ? PixelatorReply.Ok() : PixelatorReply.Error("No scan is running."),
            ResumeScanRequest => _engine?.Resume() == true ? PixelatorReply.Ok() : PixelatorReply.Error("No scan is paused."),
            MoveRequest r => Move(r.Positioners, r.Positions),
            ModifiedPositionerDefinitionRequest r => ModifyPositioner(r),
            ModifiedZonePlateDefinitionRequest r => ModifyZonePlates(r.Definition),
            OscilloscopeDefinitionRequest r => SetOscilloscope(r.Definition),
            FocusTypeRequest r => SetChoice(r.Type, ["Static", "Auto"], "focusType", v => _focusType = v),
            TopupModeRequest r => SetChoice(r.Mode, ["On", "Off", "No Repeat"], "topupMode", v => _topupMode = v),
            BeamShutterModeRequest r => SetShutter(r.Mode),
            MicroscopeCommandRequest r => Microscope(r.Name),
            LoadDirectoryRequest r => ListFiles(r.Query),
            LoadFileRequest r => LoadFiles(r.Query, r.Several),
            ListDirectoryRequest r => ListDays(r.Query),
            ZonePlateFocusRequest r => Calibrate(r.Focus),
            EstimatedTimeRequest r => Estimate(r.Scan),
            ScanStatusRequest => PixelatorReply.Ok(PixelatorFraming.ToJson(CurrentScanStatus())),
            PositionerStatusRequest => PixelatorReply.Ok(PixelatorFraming.ToJson(PositionerStates())),
            HomeRequest r => Move(r.Positioners, [.. r.Positioners.Select(n => Clamp(n, 0))]),
            DetectorSettingsRequest => PixelatorReply.Ok(PixelatorFraming.ToJson(_detectors)),
            _ => PixelatorReply.Error($"'{request.Command}' is not supported by the simulated controller."),
        };
    }

    private PixelatorReply Initialize()
    {
        var reply = new InitializeReply(
            [.. _order.Select(n => _definitions[n])],
            _detectors,
            _oscilloscope,
            _zonePlates,
            new RemoteFileSystemInfo { Directory = _options.DataDirectory, Bookmarks = [new FileBookmark("data", _options.DataDirectory)] },
            Version);
        return reply.ToReply();
    }

    private Dictionary<string, object> Settings() => new()
    {
        ["publisherPort"] = _server.PublisherPort,
        ["requestPort"] = _server.RequestPort,
        ["dataPublisherPort"] = _server.DataPublisherPort,
        ["NeXusBaseDirectory"] = _options.DataDirectory,
        ["NeXusDiscardSubDirectory"] = "discard",
        ["NeXusLocalBaseDirectory"] = _options.DataDirectory,
        ["referencedJsonFiles"] = new Dictionary<string, object>
        {
            ["microscopeControlConfigFileName"] = new Dictionary<string, object>
            {
                ["fileName"] = "microscopeControl.json",
                ["resolvedFileName"] = Path.Combine(_options.DataDirectory, "microscopeControl.json"),
                ["content"] = new Dictionary<string, object>
                {
                    ["InOut"] = new Dictionary<string, object>
                    {
                        ["OSA"] = new object[]
                        {
                            new Dictionary<string, object> { ["positioner"] = _options.Names.ToController(Roles.OsaX), ["positionIn"] = _options.OsaInOut.InX, ["positionOut"] = _options.OsaInOut.OutX },
                            new Dictionary<string, object> { ["positioner"] = _options.Names.ToController(Roles.OsaY), ["positionIn"] = _options.OsaInOut.InY, ["positionOut"] = _options.OsaInOut.OutY },
                        },
                        ["ZonePlate"] = new object[]
                        {
                            new Dictionary<string, object> { ["positioner"] = _options.Names.ToController(Roles.ZonePlateZ), ["positionIn"] = _scope.FocusSettings.Zpz(_scope.ZonePlate, _scope.Energy.Status.Position), ["positionOut"] = _options.ZonePlateOutZ },
                        },
                        ["Sample"] = new object[]
                        {
                            new Dictionary<string, object> { ["positioner"] = _options.Names.ToController(Roles.CoarseX), ["positionIn"] = 0.0, ["positionOut"] = _options.SampleOutX },
                        },
                    },
                },
            },
        },
    };

    private PixelatorReply SetRecorded(IReadOnlyList<string> channels)
    {
        var unknown = channels.Where(c => !_detectors.Any(d => d.Name == c)).ToList();
        if (channels.Count == 0 || unknown.Count > 0)
        {
            return PixelatorReply.Error(channels.Count == 0
                ? "recordedChannels needs at least one channel."
                : $"Unknown channel(s) {string.Join(", ", unknown)}; the detectors are {string.Join(", ", _detectors.Select(d => d.Name))}.");
        }

        if (IsScanning)
        {
            return PixelatorReply.Error("The recorded channels cannot change during a scan.");
        }

        _recorded = [.. channels];
        _server.Publish(new RecordedChannelsMessage(_recorded));
        return PixelatorReply.Ok();
    }

    private PixelatorReply Move(IReadOnlyList<string> names, IReadOnlyList<double> targets)
    {
        if (IsScanning)
        {
            return PixelatorReply.Error("A scan is running; positioners move when it ends.");
        }

        var problems = new List<string>();
        var moves = new List<(IPositioner Positioner, double Target)>();
        for (var i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], RingCurrent, StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"{RingCurrent} is read only");
                continue;
            }

            if (!_definitions.TryGetValue(names[i], out var definition) || Find(_options.Names.ToRole(names[i])) is not { } positioner)
            {
                problems.Add($"there is no positioner '{names[i]}'");
                continue;
            }

            if (!double.IsFinite(targets[i]) || targets[i] < definition.LowerSoftLimit || targets[i] > definition.UpperSoftLimit)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{names[i]} moves within [{definition.LowerSoftLimit}, {definition.UpperSoftLimit}]; got {targets[i]}"));
                continue;
            }

            moves.Add((positioner, targets[i]));
        }

        if (problems.Count > 0)
        {
            return PixelatorReply.Error(string.Join("; ", problems) + ".");
        }

        foreach (var (positioner, target) in moves)
        {
            StartMove(positioner, target);
        }

        return PixelatorReply.Ok();
    }

    private void StartMove(IPositioner positioner, double target)
    {
        var move = MoveAsync(positioner, target);
        lock (_gate)
        {
            _moves[positioner.Name] = move;
        }
    }

    private async Task MoveAsync(IPositioner positioner, double target)
    {
        try
        {
            await positioner.MoveAsync(target, cancellationToken: _stop.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DeviceException or OperationCanceledException)
        {
            LogMoveFailed(_logger, positioner.Name, ex.Message);
        }
    }

    /// <summary>The simulated positioner of StxmWeb role <paramref name="role"/>.</summary>
    private IPositioner? Find(string role) => ((IInstrument)_scope).Find(role);

    private double Clamp(string name, double value) =>
        _definitions.TryGetValue(name, out var d) ? Math.Clamp(value, d.LowerSoftLimit, d.UpperSoftLimit) : value;

    private PixelatorReply ModifyPositioner(ModifiedPositionerDefinitionRequest request)
    {
        if (!_definitions.TryGetValue(request.Positioner, out var definition) || Find(_options.Names.ToRole(request.Positioner)) is not { } positioner)
        {
            return PixelatorReply.Error($"There is no positioner '{request.Positioner}'.");
        }

        var hardware = positioner.Limits;
        double Number() => request.Value.ValueKind == JsonValueKind.Number ? request.Value.GetDouble() : double.NaN;
        var changed = request.Field switch
        {
            "lowerSoftLimit" when Number() is var v && double.IsFinite(v) && v >= hardware.Low && v < definition.UpperSoftLimit => definition with { LowerSoftLimit = v },
            "upperSoftLimit" when Number() is var v && double.IsFinite(v) && v <= hardware.High && v > definition.LowerSoftLimit => definition with { UpperSoftLimit = v },
            "positionOffset" when Number() is var v && double.IsFinite(v) => definition with { PositionOffset = v },
            "autoOffMode" when request.Value.ValueKind == JsonValueKind.String && request.Value.GetString() is "Always" or "SlowAxis" or "Never" or "Manual" or "Disabled" =>
                definition with { AutoOffMode = request.Value.GetString() },
            _ => null,
        };
        if (changed is null)
        {
            return PixelatorReply.Error(string.Create(CultureInfo.InvariantCulture,
                $"{request.Field} = {request.Value.GetRawText()} is not allowed for {request.Positioner} (hardware range [{hardware.Low}, {hardware.High}], limits low < high, auto-off Always/SlowAxis/Never/Manual/Disabled)."));
        }

        lock (_gate)
        {
            _definitions[request.Positioner] = changed;
        }

        _server.Publish(new PositionerDefinitionMessage([.. _order.Select(n => _definitions[n])]));
        return PixelatorReply.Ok();
    }

    private PixelatorReply ModifyZonePlates(ZonePlateDefinition definition)
    {
        if (definition.ActiveZonePlate?.A1 is not > 0)
        {
            return PixelatorReply.Error("The zone-plate definition needs an active zone plate with b = [b0, A1].");
        }

        _zonePlates = definition;
        _server.Publish(new ZonePlateDefinitionMessage(definition));
        return PixelatorReply.Ok();
    }

    private PixelatorReply SetChoice(string value, string[] allowed, string name, Action<string> set)
    {
        if (!allowed.Contains(value))
        {
            return PixelatorReply.Error($"{name} is one of {string.Join(", ", allowed)}; got '{value}'.");
        }

        set(value);
        _server.Publish(new JsonPublication(name, JsonSerializer.SerializeToElement(value)));
        return PixelatorReply.Ok();
    }

    private PixelatorReply SetShutter(string mode)
    {
        var reply = SetChoice(mode, [.. BeamShutterModeRequest.Modes], "beamShutterMode", v => _shutterMode = v);
        if (reply.Status.IsOk)
        {
            _server.Publish(new BeamShutterStatusMessage(ShutterOpen(scanning: IsScanning) ? "green" : "red"));
        }

        return reply;
    }

    /// <summary>Auto opens the shutter during scans; Open and Closed hold it.</summary>
    private bool ShutterOpen(bool scanning) => _shutterMode switch
    {
        "Open" => true,
        "Closed" => false,
        _ => scanning,
    };

    private PixelatorReply Microscope(string command)
    {
        if (IsScanning && command != "allMotorsOff")
        {
            return PixelatorReply.Error($"A scan is running; '{command}' waits until it ends.");
        }

        var names = _options.Names;
        switch (command)
        {
            case "OSA IN":
                return Move([names.ToController(Roles.OsaX), names.ToController(Roles.OsaY)], [_options.OsaInOut.InX, _options.OsaInOut.InY]);
            case "OSA OUT":
                return Move([names.ToController(Roles.OsaX), names.ToController(Roles.OsaY)], [_options.OsaInOut.OutX, _options.OsaInOut.OutY]);
            case "ZonePlate IN":
                return Move([names.ToController(Roles.ZonePlateZ)], [_scope.FocusSettings.Zpz(_scope.ZonePlate, _scope.Energy.Status.Position)]);
            case "ZonePlate OUT":
                return Move([names.ToController(Roles.ZonePlateZ)], [_options.ZonePlateOutZ]);
            case "Sample OUT":
                return Move([names.ToController(Roles.CoarseX)], [_options.SampleOutX]);
            case "allMotorsOff":
                _engine?.Abort("All motors were switched off (allMotorsOff).");
                _ = Task.WhenAll(_scope.Positioners.Select(p => p.StopAsync()));
                return PixelatorReply.Ok();
            case "resetInterferometer":
                // The simulated stages read their position exactly: there is no interferometer drift to zero.
                _server.Publish(new JsonPublication("userStatus", JsonSerializer.SerializeToElement(new { message = "interferometers reset" })));
                return PixelatorReply.Ok();
            default:
                return PixelatorReply.Error($"'{command}' is not a microscope command.");
        }
    }

    private PixelatorReply SetOscilloscope(OscilloscopeDefinition definition)
    {
        if (!(definition.Interval is >= 0.01 and <= 60))
        {
            return PixelatorReply.Error(string.Create(CultureInfo.InvariantCulture, $"interval is 0.01 to 60 s; got {definition.Interval}."));
        }

        _oscilloscope = definition;
        _oscilloscopeStop?.Cancel();
        _oscilloscopeStop?.Dispose();
        _oscilloscopeStop = null;
        if (definition.On == 1)
        {
            _oscilloscopeStop = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            _oscilloscopeLoop = OscilloscopeAsync(definition, _oscilloscopeStop.Token);
        }

        return PixelatorReply.Ok();
    }

    /// <summary>Chart mode: the counter counts for one interval at a time, between scans, and each value is published.</summary>
    private async Task OscilloscopeAsync(OscilloscopeDefinition definition, CancellationToken cancellationToken)
    {
        var interval = TimeSpan.FromSeconds(definition.Interval);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                if (IsScanning)
                {
                    await Task.Delay(interval, _scope.Time, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                var counts = await _scope.Counter.AcquirePointAsync(interval, cancellationToken).ConfigureAwait(false);
                var value = definition.CountRate == 1 ? counts / interval.TotalSeconds : counts;
                _server.Publish(new DetectorValuesMessage([value]));
                _server.Publish(new ChartModeDetectorUpdateMessage([new NamedValue(_recorded[0], value)]));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static IEnumerable<string> Files(string directory, string extension) => Directory.Exists(directory)
        ? Directory.EnumerateFiles(directory, "*" + extension).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)
        : [];

    private PixelatorReply ListFiles(DirectoryQuery query)
    {
        var directory = string.IsNullOrEmpty(query.Directory) ? _options.DataDirectory : query.Directory;
        if (!Directory.Exists(directory))
        {
            return PixelatorReply.Error($"There is no directory {directory}.");
        }

        var listing = new DirectoryListing
        {
            Directory = directory,
            FileExtension = query.FileExtension,
            ShowHidden = query.ShowHidden ?? 0,
            Directories = ["..", .. Directory.EnumerateDirectories(directory).Select(Path.GetFileName).OfType<string>()
                .Where(d => query.ShowHidden == 1 || !d.StartsWith('.')).Order(StringComparer.Ordinal)],
            Files = [.. Files(directory, query.FileExtension)],
        };
        return PixelatorReply.Ok(PixelatorFraming.ToJson(listing));
    }

    private PixelatorReply ListDays(DirectoryQuery query)
    {
        var directory = string.IsNullOrEmpty(query.Directory) ? _options.DataDirectory : query.Directory;
        if (!Directory.Exists(directory))
        {
            return PixelatorReply.Error($"There is no directory {directory}.");
        }

        var days = Directory.EnumerateDirectories(directory)
            .Select(d => (Path: d, Name: Path.GetFileName(d)))
            .Where(d => DateOnly.TryParseExact(d.Name, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
            .Select(d => new SubDirectory(d.Name, Files(d.Path, query.FileExtension).Count()))
            .OrderByDescending(d => d.Name, StringComparer.Ordinal)
            .ToList();
        return PixelatorReply.Ok(PixelatorFraming.ToJson(new SubDirectoryListing(days)));
    }

    private PixelatorReply LoadFiles(LoadFileQuery query, bool several)
    {
        var files = several ? query.Files : [query.File];
        var paths = files.Where(f => f.Length > 0).Select(f => Path.IsPathRooted(f) ? f : Path.Combine(query.Directory, f)).ToList();
        if (paths.Count == 0)
        {
            return PixelatorReply.Error("No file to load.");
        }

        if (paths.FirstOrDefault(p => !File.Exists(p)) is { } missing)
        {
            return PixelatorReply.Error($"There is no file {missing}.");
        }

        _ = Task.Run(() => PublishFileContents(paths, query.PluginNumber));
        return PixelatorReply.Ok();
    }

    private PixelatorReply Calibrate(ZonePlateFocus focus)
    {
        if (focus.Action != "calibrate" || focus.Target is not ("Sample" or "OSA") || !double.IsFinite(focus.CursorPosition))
        {
            return PixelatorReply.Error("zonePlateFocus calibrates (action \"calibrate\") the Sample or OSA focus at a finite cursorPosition.");
        }

        if (IsScanning)
        {
            return PixelatorReply.Error("A scan is running; the focus is calibrated when it ends.");
        }

        var energy = _scope.Energy.Status.Position;
        var settings = focus.Target == "OSA"
            ? _scope.FocusSettings.WithOsaFocusAt(_scope.ZonePlate, energy, focus.CursorPosition)
            : _scope.FocusSettings.WithSampleFocusAt(_scope.ZonePlate, energy, focus.CursorPosition);
        _ = _scope.ApplyAsync(settings, _stop.Token);
        _zonePlates = _zonePlates with { DOsa = settings.A0 + settings.DeltaA0 };
        _server.Publish(new FocalStatusMessage(new FocalStatus(settings.A0 + settings.DeltaA0)));
        _server.Publish(new ZonePlateDefinitionMessage(_zonePlates));
        return PixelatorReply.Ok();
    }

    private List<PositionerState> PositionerStates() => [.. _order.Select(name =>
    {
        if (name == RingCurrent)
        {
            return new PositionerState(name, Math.Round(_scope.RingCurrent, 3), PositionerState.Ok);
        }

        var status = Find(_options.Names.ToRole(name))!.Status;
        return new PositionerState(name, status.Position, status.Fault is not null ? $"fault: {status.Fault}" : status.IsMoving ? PositionerState.Moving : PositionerState.Ok);
    })];

    /// <summary>positionerStatus at a fixed rate: the panels' readbacks and the controller's heartbeat.</summary>
    private async Task HeartbeatAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.PositionerStatusInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                _server.Publish(new PositionerStatusMessage(PositionerStates()));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Request {Command}")]
    private static partial void LogRequest(ILogger logger, string command);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Move of {Positioner} failed: {Reason}")]
    private static partial void LogMoveFailed(ILogger logger, string positioner, string reason);
}
