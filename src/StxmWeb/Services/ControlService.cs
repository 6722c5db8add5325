using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using StxmWeb.Core.Devices;
using StxmWeb.Core.Documents;
using StxmWeb.Core.Engine;
using StxmWeb.Core.Focus;
using StxmWeb.Core.Plans;
using StxmWeb.Core.Scans;
using StxmWeb.Nexus;
using StxmWeb.Options;

namespace StxmWeb.Services;

/// <summary>What became of a command: accepted, or refused with the problems (field-level where they concern a field).</summary>
/// <param name="Accepted">Whether the command was carried out or started.</param>
/// <param name="Problems">Why not, field by field.</param>
/// <param name="Conflict">True when refused because of the instrument's state (busy), not the input.</param>
/// <param name="RunId">The run started, for a scan.</param>
public sealed record CommandResult(bool Accepted, IReadOnlyList<FieldProblem> Problems, bool Conflict = false, Guid? RunId = null)
{
    /// <summary>Carried out.</summary>
    public static CommandResult Ok(Guid? runId = null) => new(true, [], RunId: runId);

    /// <summary>Refused because of the input.</summary>
    public static CommandResult Invalid(IReadOnlyList<FieldProblem> problems) => new(false, problems);

    /// <summary>Refused because of the instrument's state.</summary>
    public static CommandResult Busy(string message) => new(false, [new FieldProblem("", message)], Conflict: true);
}

/// <summary>The focus a focus scan found: the zone-plate Z of its sharpest row.</summary>
/// <param name="RunId">The focus scan.</param>
/// <param name="ScanType">OSA or sample focus.</param>
/// <param name="Zpz">Zone-plate Z of the sharpest row, µm.</param>
/// <param name="Row">Its row index.</param>
/// <param name="Rows">Zone-plate Z of every row.</param>
public sealed record FocusSuggestion(Guid RunId, ScanType ScanType, double Zpz, int Row, double[] Rows);

/// <summary>A run as the history and the API show it.</summary>
public sealed record RunRecord(Guid Id, int ScanId, ScanRequest Request, string FilePath, string User, DateTimeOffset StartTime)
{
    /// <summary>running, pausing, paused, aborting, success, aborted or failed.</summary>
    public string State { get; init; } = "running";

    /// <summary>Latest progress.</summary>
    public EngineProgress Progress { get; init; } = EngineProgress.Idle;

    /// <summary>Why it ended, when it did not succeed.</summary>
    public string Reason { get; init; } = "";

    /// <summary>When it ended.</summary>
    public DateTimeOffset? EndTime { get; init; }

    /// <summary>The file the backend's controller wrote itself (Pixelator), a path on the controller's host.</summary>
    public string? ControllerFile { get; init; }

    /// <summary>The saved file's validation, once done.</summary>
    public FileVerdict? Validation { get; init; }

    /// <summary>Whether the run has ended and its file is final.</summary>
    public bool IsFinished => State is "success" or "aborted" or "failed";
}

/// <summary>
/// The one command path: every action from a browser or the API (start, pause, resume, abort, move, stop) comes here
/// with its <see cref="Caller"/>, is checked, logged to the audit log and carried out. Roles and control leases will be
/// enforced here, in one place.
/// </summary>
public sealed partial class ControlService : IAsyncDisposable
{
    private readonly IInstrument _instrument;
    private readonly IScanRunner _engine;
    private readonly DocumentBroadcaster _documents;
    private readonly InstrumentOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _audit;
    private readonly Lock _startGate = new();
    private readonly Lock _progressGate = new();
    private readonly ConcurrentDictionary<Guid, RunRecord> _runs = new();
    private readonly ConcurrentDictionary<string, Task> _moves = new(StringComparer.OrdinalIgnoreCase);
    private Task _current = Task.CompletedTask;
    private readonly ConcurrentDictionary<Guid, string> _fileFaults = new();
    private readonly NxstxmWriter? _writer;
    private readonly ScanDefinitionStore? _definitions;
    private Guid? _currentRunId;
    private EngineState _lastState;

    /// <summary>Creates the service.</summary>
    public ControlService(IInstrument instrument, IScanRunner engine, DocumentBroadcaster documents, IOptions<InstrumentOptions> options, TimeProvider time, ILoggerFactory loggers, NxstxmWriter? writer = null, ScanDefinitionStore? definitions = null)
    {
        _definitions = definitions;
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        _instrument = instrument;
        _engine = engine;
        _documents = documents;
        _options = options.Value;
        _time = time;
        _audit = loggers.CreateLogger("StxmWeb.Audit");
        _engine.ProgressChanged += OnProgress;
        _writer = writer;
        if (writer is not null)
        {
            writer.Faulted += OnFileFaulted;
        }

        Kinematics = new PlanKinematics(instrument.Positioners.ToDictionary(p => p.Name, p => p.Kinematics, StringComparer.OrdinalIgnoreCase));
        Limits = new InstrumentLimits(instrument.Positioners.ToDictionary(p => p.Name, p => p.Limits, StringComparer.OrdinalIgnoreCase),
            new Limits(_options.MinDwellMs, _options.MaxDwellMs), _options.MaxPointsPerAxis)
        {
            Kinematics = Kinematics,
            HasAreaDetector = instrument.AreaDetector is not null,
            Capabilities = instrument.Capabilities,
            CanDefocus = instrument.Focus is not null || instrument.Capabilities.HandlesDefocus,

            // A tile spans 80 % of the fine stage's travel: the rest is room to accelerate.
            TileUm = 0.8 * (instrument.SampleX.Limits.High - instrument.SampleX.Limits.Low),
        };
    }

    /// <summary>Raised when a run starts or ends, the engine changes state, or a motor starts or stops (any thread).</summary>
    public event Action? Changed;

    /// <summary>What requests are checked against.</summary>
    public InstrumentLimits Limits { get; }

    /// <summary>Axis kinematics for plans and estimates.</summary>
    public PlanKinematics Kinematics { get; }

    /// <summary>The instrument.</summary>
    public IInstrument Instrument => _instrument;

    /// <summary>Where data files go.</summary>
    public string DataDirectory => _options.DataDirectory;

    /// <summary>The engine's latest progress.</summary>
    public EngineProgress Progress => _engine.Progress;

    /// <summary>The current or latest run.</summary>
    public RunRecord? CurrentRun => _currentRunId is { } id && _runs.TryGetValue(id, out var run) ? run : null;

    /// <summary>All runs since start-up, newest first.</summary>
    public IReadOnlyList<RunRecord> Runs => [.. _runs.Values.OrderByDescending(r => r.StartTime)];

    /// <summary>A run by id.</summary>
    public RunRecord? FindRun(Guid id) => _runs.TryGetValue(id, out var run) ? run : null;

    /// <summary>Every problem of a request; empty when it may run.</summary>
    public IReadOnlyList<FieldProblem> Validate(ScanRequest? request) => ScanRequestValidator.Validate(request, Limits);

    /// <summary>The plan's time estimate and number of points, from where the stages stand now (the request must be valid).</summary>
    public (TimeSpan Duration, long Points) Estimate(ScanRequest request)
    {
        var planned = ScanPlanner.Build(request, Kinematics, Limits.TileUm);
        return (ScanPlanner.Estimate(planned.Plan, Kinematics, CurrentPositions()), planned.TotalPoints);
    }

    /// <summary>Starts a scan. Invalid requests are refused with their problems and never reach the engine.</summary>
    public CommandResult StartScan(ScanRequest? request, Caller caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var problems = Validate(request);
        if (problems.Count > 0)
        {
            LogRefused(_audit, caller, "start scan", string.Join("; ", problems.Select(p => $"{p.Field}: {p.Message}")));
            return CommandResult.Invalid(problems);
        }

        RunRecord record;
        lock (_startGate)
        {
            if (!_current.IsCompleted || _engine.State != EngineState.Idle)
            {
                LogRefused(_audit, caller, "start scan", "a scan is running");
                return CommandResult.Busy("A scan is already running; one scan runs at a time.");
            }

            var busyMotor = _moves.FirstOrDefault(m => !m.Value.IsCompleted).Key;
            if (busyMotor is not null)
            {
                return CommandResult.Busy($"{busyMotor} is moving; start the scan when it has stopped.");
            }

            var now = _time.GetUtcNow();
            string path;
            int number;
            try
            {
                (path, number) = DataFileNaming.Reserve(_options.DataDirectory, _options.FilePrefix, DateOnly.FromDateTime(now.LocalDateTime));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogRefused(_audit, caller, "start scan", ex.Message);
                return CommandResult.Busy($"The data directory {_options.DataDirectory} cannot be written: {ex.Message}");
            }

            var points = ScanPlanner.Build(request!, Kinematics, Limits.TileUm).TotalPoints;
            if (request!.ScanType == ScanType.Ptychography && _instrument.AreaDetector is { } camera)
            {
                // A float32 frame per point, counted here in 8-byte values as the counter data are.
                points += points * camera.Width * camera.Height / 2;
            }

            if (CheckFreeSpace(path, points) is { } shortage)
            {
                File.Delete(path);
                LogRefused(_audit, caller, "start scan", shortage);
                return CommandResult.Busy(shortage);
            }

            record = new RunRecord(Guid.NewGuid(), number, request!, path, caller.Name, now);
            _runs[record.Id] = record;
            _currentRunId = record.Id;
            _current = RunAsync(record);
        }

        LogStarted(_audit, caller, record.Id, record.FilePath);
        _definitions?.SaveLastUsed(caller.Name, record.Request);
        Changed?.Invoke();
        return CommandResult.Ok(record.Id);
    }

    /// <summary>Pauses the running scan at the next line.</summary>
    public CommandResult Pause(Caller caller) => Act(caller, "pause", _engine.Pause(), "No scan is running.");

    /// <summary>Resumes a paused scan.</summary>
    public CommandResult Resume(Caller caller) => Act(caller, "resume", _engine.Resume(), "No scan is paused.");

    /// <summary>Aborts the scan; the file keeps what was acquired.</summary>
    public CommandResult Abort(Caller caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return Act(caller, "abort", _engine.Abort($"Aborted by {caller.Name}."), "No scan is running.");
    }

    /// <summary>Moves a positioner. Refused during a scan, past the limits, or for an unknown name.</summary>
    public CommandResult Move(string name, double target, Caller caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var positioner = _instrument.Find(name);
        if (positioner is null)
        {
            return CommandResult.Invalid([new FieldProblem("name", $"There is no positioner named '{name}'.")]);
        }

        if (!double.IsFinite(target) || !positioner.Limits.Contains(target))
        {
            return CommandResult.Invalid([new FieldProblem("target",
                FormattableString.Invariant($"{positioner.Name} moves within {positioner.Limits} {positioner.Units}; got {target:G6}."))]);
        }

        if (_engine.State != EngineState.Idle)
        {
            return CommandResult.Busy("A scan is running; motors can be moved when it ends.");
        }

        LogMove(_audit, caller, positioner.Name, target);
        _moves[positioner.Name] = MoveAsync(positioner, target);
        Changed?.Invoke();
        return CommandResult.Ok();
    }

    /// <summary>Stops a positioner at once.</summary>
    public async Task<CommandResult> StopAsync(string name, Caller caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var positioner = _instrument.Find(name);
        if (positioner is null)
        {
            return CommandResult.Invalid([new FieldProblem("name", $"There is no positioner named '{name}'.")]);
        }

        LogStop(_audit, caller, positioner.Name);
        await positioner.StopAsync().ConfigureAwait(false);
        return CommandResult.Ok();
    }

    /// <summary>
    /// Applies a new focus calibration (the zone plate moves to the new focus). Refused during a scan, for an instrument
    /// without focus control, or for values out of range.
    /// </summary>
    public async Task<CommandResult> SetFocusAsync(FocusSettings settings, Caller caller)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(caller);
        if (_instrument.Focus is not { } focus)
        {
            return CommandResult.Invalid([new FieldProblem("", "This instrument has no focus calibration to set.")]);
        }

        List<FieldProblem> problems = [];
        if (!FocusSettings.A0Limits.Contains(settings.A0))
        {
            problems.Add(new("a0", FormattableString.Invariant($"A0 must be within {FocusSettings.A0Limits} µm; got {settings.A0:G6}.")));
        }

        if (!double.IsFinite(settings.DeltaA0) || Math.Abs(settings.DeltaA0) > 1000)
        {
            problems.Add(new("deltaA0", "ΔA0 must be within ±1000 µm."));
        }

        if (!double.IsFinite(settings.ZpzAdjust) || Math.Abs(settings.ZpzAdjust) > 5000)
        {
            problems.Add(new("zpzAdjust", "The zone-plate adjust must be within ±5000 µm."));
        }

        if (!double.IsFinite(settings.DefocusSpotUm) || settings.DefocusSpotUm is < 0 or > 50)
        {
            problems.Add(new("defocusSpotUm", "The defocus spot must be 0 (focused) to 50 µm."));
        }

        if (!Enum.IsDefined(settings.Mode))
        {
            problems.Add(new("mode", "Mode must be SampleFocused or OsaFocused."));
        }

        if (problems.Count > 0)
        {
            return CommandResult.Invalid(problems);
        }

        if (_engine.State != EngineState.Idle)
        {
            return CommandResult.Busy("A scan is running; the focus can be set when it ends.");
        }

        LogFocus(_audit, caller, settings.A0, settings.DeltaA0, settings.ZpzAdjust, settings.Mode);
        try
        {
            await focus.ApplyAsync(settings).ConfigureAwait(false);
        }
        catch (DeviceException ex)
        {
            return CommandResult.Invalid([new FieldProblem("", ex.Message)]);
        }

        Changed?.Invoke();
        return CommandResult.Ok();
    }

    /// <summary>
    /// pyStxm's "Set Focus" / "Set A0 to cursor" after a focus scan: the row at <paramref name="zpz"/> is the focus. An
    /// OSA focus scan re-calibrates the zone-plate Z; a sample focus scan moves A0.
    /// </summary>
    public Task<CommandResult> SetFocusFromScanAsync(Guid runId, double zpz, Caller caller)
    {
        if (FindRun(runId) is not { } run)
        {
            return Task.FromResult(CommandResult.Invalid([new FieldProblem("runId", $"There is no run {runId}.")]));
        }

        if (run.Request.ScanType is not (ScanType.OsaFocus or ScanType.SampleFocus) || run.Request.ZonePlateZ is not { } z)
        {
            return Task.FromResult(CommandResult.Invalid([new FieldProblem("runId", $"Run {run.ScanId} is a {run.Request.ScanType}, not a focus scan.")]));
        }

        if (!double.IsFinite(zpz) || zpz < z.Start - 1e-6 || zpz > z.Stop + 1e-6)
        {
            return Task.FromResult(CommandResult.Invalid([new FieldProblem("zpz",
                FormattableString.Invariant($"The focus must be a row of the scan: {z.Start:G6} to {z.Stop:G6} µm; got {zpz:G6}."))]));
        }

        if (_instrument.Focus is not { } focus)
        {
            return Task.FromResult(CommandResult.Invalid([new FieldProblem("", "This instrument has no focus calibration to set.")]));
        }

        var settings = run.Request.ScanType == ScanType.OsaFocus
            ? focus.Settings.WithOsaFocusAt(focus.ZonePlate, run.Request.EnergyEv, zpz)
            : focus.Settings.WithSampleFocusAt(focus.ZonePlate, run.Request.EnergyEv, zpz);
        return SetFocusAsync(settings, caller);
    }

    /// <summary>
    /// Where a finished focus scan says the focus is: the zone-plate Z of its sharpest row (read back from its file), or
    /// null when the run is not a finished focus scan or its file cannot be read.
    /// </summary>
    public FocusSuggestion? SuggestFocus(Guid runId)
    {
        if (FindRun(runId) is not { IsFinished: true } run || run.Request.ScanType is not (ScanType.OsaFocus or ScanType.SampleFocus))
        {
            return null;
        }

        try
        {
            var entry = NxstxmReader.Read(run.FilePath, detector: _instrument.Counter.Name);
            var zs = entry.Axes[0].Values;
            var row = FocusAnalysis.SharpestRow(entry.Data, entry.Shape[0], entry.Shape[1]);
            return row < 0 ? null : new FocusSuggestion(run.Id, run.Request.ScanType, zs[row], row, zs);
        }
#pragma warning disable CA1031 // A file that cannot be read back (moved, damaged, PureHDF's own errors) only means no suggestion.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogUnreadable(_audit, run.FilePath, ex.Message);
            return null;
        }
    }

    /// <summary>Records the validation of run <paramref name="runId"/>'s file (from <see cref="FileValidation"/>).</summary>
    public void RecordValidation(Guid runId, FileVerdict verdict)
    {
        lock (_progressGate)
        {
            if (_runs.TryGetValue(runId, out var run))
            {
                _runs[runId] = run with { Validation = verdict };
            }
        }

        Changed?.Invoke();
    }

    /// <summary>Waits for the current run to end and its documents to be consumed (tests, shutdown).</summary>
    public Task WhenIdleAsync() => _current;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _engine.Abort("The server is shutting down.");
        await _current.ConfigureAwait(false);
        _engine.ProgressChanged -= OnProgress;
        if (_writer is not null)
        {
            _writer.Faulted -= OnFileFaulted;
        }
    }

    private CommandResult Act(Caller caller, string action, bool done, string whyNot)
    {
        if (!done)
        {
            LogRefused(_audit, caller, action, whyNot);
            return CommandResult.Busy(whyNot);
        }

        LogAction(_audit, caller, action, _currentRunId);
        Changed?.Invoke();
        return CommandResult.Ok(_currentRunId);
    }

    /// <summary>Runs the scan. The engine enters Running before the first await, so a pause right after start acts.</summary>
    private async Task RunAsync(RunRecord record)
    {
        var request = record.Request;
        var planned = ScanPlanner.Build(request, Kinematics, Limits.TileUm);
        var positions = CurrentPositions();
        var estimate = ScanPlanner.Estimate(planned.Plan, Kinematics, positions);
        var start = new RunStart(record.Id, record.ScanId, request, record.StartTime, record.User, record.FilePath);
        var descriptor = new Descriptor(record.Id, _instrument.Counter.Name, _instrument.Counter.Units, request.ScanType,
            [.. planned.Entries.Select(e => WithFrames(WithBaseline(e, positions), request))], estimate);
        var stop = await RunDefocusedAsync(request, plan => _engine.RunAsync(start, descriptor, plan, Kinematics, _documents), planned.Plan).ConfigureAwait(false);
        await _documents.DrainAsync().ConfigureAwait(false);

        // A file that could not be written fails the run even when every point was acquired: the user must know.
        var state = stop.Status.ToString().ToLowerInvariant();
        var reason = stop.Reason;
        if (_fileFaults.TryRemove(record.Id, out var fault))
        {
            state = "failed";
            reason = reason == fault || reason.Length == 0 ? fault : $"{reason} {fault}";
        }

        lock (_progressGate)
        {
            _runs[record.Id] = _runs[record.Id] with
            {
                State = state,
                Reason = reason,
                EndTime = stop.Time,
                ControllerFile = stop.ControllerFile,
                Progress = _engine.Progress,
            };
        }
        LogEnded(_audit, record.Id, stop.Status, stop.Reason);
        Changed?.Invoke();
    }

    /// <summary>
    /// Pixelator's Defocus on StxmWeb's own engine: the focus calibration moves the zone plate off focus so the spot has
    /// the asked diameter for the run, and back after it. A controller that defocuses itself gets the request as it is.
    /// </summary>
    private async Task<RunStop> RunDefocusedAsync(ScanRequest request, Func<IEnumerable<Msg>, Task<RunStop>> run, IEnumerable<Msg> plan)
    {
        if (request.Details.DefocusDiameterUm <= 0 || _instrument.Capabilities.HandlesDefocus || _instrument.Focus is not { } focus)
        {
            return await run(plan).ConfigureAwait(false);
        }

        var settings = focus.Settings;
        try
        {
            await focus.ApplyAsync(settings with { DefocusSpotUm = request.Details.DefocusDiameterUm }).ConfigureAwait(false);
        }
        catch (DeviceException ex)
        {
            // The run still opens and closes (as failed, with the reason), so history and file say what happened.
            return await run(Refused(ex)).ConfigureAwait(false);
        }

        try
        {
            return await run(plan).ConfigureAwait(false);
        }
        finally
        {
            try
            {
                await focus.ApplyAsync(settings).ConfigureAwait(false);
            }
            catch (DeviceException ex)
            {
                LogMoveFailed(_audit, "ZonePlateZ (focus after defocus)", ex.Message);
            }
        }

        static IEnumerable<Msg> Refused(DeviceException reason)
        {
            throw new DeviceException($"The beam could not be defocused: {reason.Message}", reason);
#pragma warning disable CS0162 // An iterator that fails on its first step.
            yield break;
#pragma warning restore CS0162
        }
    }

    private async Task MoveAsync(IPositioner positioner, double target)
    {
        try
        {
            await positioner.MoveAsync(target).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DeviceException or OperationCanceledException)
        {
            LogMoveFailed(_audit, positioner.Name, ex.Message);
        }

        Changed?.Invoke();
    }

    /// <summary>
    /// The file is laid out whole at the start (data and ring current, NaN-filled) and copied once at the end, so it needs
    /// about twice its size free; refused before anything moves when the disk has less.
    /// </summary>
    private static string? CheckFreeSpace(string path, long points)
    {
        const long Overhead = 256 * 1024;
        var needed = (points * sizeof(double) * 2 + Overhead) * 2;
        var directory = Path.GetDirectoryName(path)!;
        long free;
        try
        {
            free = new DriveInfo(directory).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return $"The free space of {directory} cannot be read: {ex.Message}";
        }

        return free >= needed
            ? null
            : FormattableString.Invariant($"The data directory {directory} has {free / 1e6:F1} MB free; this scan needs about {needed / 1e6:F1} MB.");
    }

    private void OnFileFaulted(Guid runId, string reason)
    {
        _fileFaults[runId] = reason;
        if (_currentRunId == runId)
        {
            _engine.Fail(reason);
        }
    }

    /// <summary>
    /// NXstxm wants sample_x and sample_y in every NXdata: entries that do not scan them (detector, OSA, focus of the
    /// OSA, positioner scans) record where the fine stage stood at the start.
    /// </summary>
    private static EntryDescriptor WithBaseline(EntryDescriptor entry, Dictionary<string, double> positions)
    {
        var present = entry.Axes.Concat(entry.Positions).Select(a => a.Name).ToHashSet(StringComparer.Ordinal);
        var extra = new List<Axis>();
        foreach (var (name, role) in new[] { ("sample_x", Roles.SampleX), ("sample_y", Roles.SampleY) })
        {
            if (!present.Contains(name) && positions.TryGetValue(role, out var value))
            {
                extra.Add(new Axis(name, "µm", [value]));
            }
        }

        return extra.Count == 0 ? entry : entry with { Positions = [.. entry.Positions, .. extra] };
    }

    /// <summary>Ptychography entries carry the area detector's frames, one per point.</summary>
    private EntryDescriptor WithFrames(EntryDescriptor entry, ScanRequest request) =>
        request.ScanType == ScanType.Ptychography && _instrument.AreaDetector is { } camera
            ? entry with { Frames = new FrameLayout(camera.Name, camera.Height, camera.Width) }
            : entry;

    private Dictionary<string, double> CurrentPositions() =>
        _instrument.Positioners.ToDictionary(p => p.Name, p => p.Status.Position, StringComparer.OrdinalIgnoreCase);

    private void OnProgress(EngineProgress progress)
    {
        // Progress is reported from two threads (the run's, and the caller of Pause or Abort), and the reports can
        // arrive out of order: a late "pausing" after "paused" would stick while the run waits. The state is therefore
        // read from the runner now, not taken from the report.
        bool stateChanged;
        lock (_progressGate)
        {
            var state = _engine.State;
            progress = progress with { State = state };
            stateChanged = state != _lastState;
            _lastState = state;
            if (progress.RunId is { } id && _runs.TryGetValue(id, out var run) && !run.IsFinished)
            {
                _runs[id] = run with { Progress = progress, State = state.ToString().ToLowerInvariant() };
            }
        }

        // Progress itself is polled by the views; only state changes are pushed.
        if (stateChanged)
        {
            Changed?.Invoke();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Caller} started run {RunId} -> {Path}")]
    private static partial void LogStarted(ILogger logger, Caller caller, Guid runId, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Caller}: {Action} run {RunId}")]
    private static partial void LogAction(ILogger logger, Caller caller, string action, Guid? runId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Caller}: {Action} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, Caller caller, string action, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Caller}: move {Positioner} to {Target}")]
    private static partial void LogMove(ILogger logger, Caller caller, string positioner, double target);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Caller}: set focus A0 {A0} ΔA0 {DeltaA0} adjust {ZpzAdjust} {Mode}")]
    private static partial void LogFocus(ILogger logger, Caller caller, double a0, double deltaA0, double zpzAdjust, FocusMode mode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Focus scan file {Path} cannot be read: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string path, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Caller}: stop {Positioner}")]
    private static partial void LogStop(ILogger logger, Caller caller, string positioner);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Move of {Positioner} failed: {Reason}")]
    private static partial void LogMoveFailed(ILogger logger, string positioner, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} ended: {Status} {Reason}")]
    private static partial void LogEnded(ILogger logger, Guid runId, ExitStatus status, string reason);
}
