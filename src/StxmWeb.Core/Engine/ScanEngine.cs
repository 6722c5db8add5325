using System.Diagnostics;
using Microsoft.Extensions.Logging;
using StxmWeb.Core.Devices;
using StxmWeb.Core.Documents;
using StxmWeb.Core.Plans;
using StxmWeb.Core.Timing;

namespace StxmWeb.Core.Engine;

/// <summary>The engine's states; transitions are listed in <see cref="ScanEngine"/>.</summary>
public enum EngineState
{
    /// <summary>No run.</summary>
    Idle,

    /// <summary>A run is acquiring.</summary>
    Running,

    /// <summary>A pause was asked; the run stops at the next line boundary.</summary>
    Pausing,

    /// <summary>Paused at a line boundary.</summary>
    Paused,

    /// <summary>An abort was asked; motion is stopping and the run is closing.</summary>
    Aborting,
}

/// <summary>Where a run stands: for the status bar and the API.</summary>
/// <param name="State">Engine state.</param>
/// <param name="RunId">The run, if any.</param>
/// <param name="CompletedPixels">Pixels acquired.</param>
/// <param name="TotalPixels">Pixels in the run.</param>
/// <param name="Elapsed">Time acquiring, pauses excluded.</param>
/// <param name="TimeLeft">Estimated time to the end.</param>
public sealed record EngineProgress(EngineState State, Guid? RunId, long CompletedPixels, long TotalPixels, TimeSpan Elapsed, TimeSpan TimeLeft)
{
    /// <summary>Fraction done, 0..1.</summary>
    public double Fraction => TotalPixels == 0 ? 0 : (double)CompletedPixels / TotalPixels;

    /// <summary>Nothing running.</summary>
    public static EngineProgress Idle { get; } = new(EngineState.Idle, null, 0, 0, TimeSpan.Zero, TimeSpan.Zero);
}

/// <summary>Receives the documents of a run, in order. Must not block: the engine calls it on the acquisition path.</summary>
public interface IDocumentSink
{
    /// <summary>Hands over one document.</summary>
    void Publish(Document document);
}

/// <summary>
/// Runs one plan at a time against an instrument: an interpreter of <see cref="Msg"/>s with an explicit state machine
/// (Idle → Running ⇄ Pausing → Paused → Running; Running/Pausing/Paused → Aborting → Idle). Pause, resume and abort act
/// at line boundaries (checkpoints); abort also stops motion at once. A device fault ends the run with
/// <see cref="ExitStatus.Failed"/> and its reason; every frame acquired before stays published. The run is always closed.
/// </summary>
public sealed partial class ScanEngine : IScanRunner
{
    private static readonly TimeSpan PointFlushInterval = TimeSpan.FromMilliseconds(50);

    private readonly IInstrument _instrument;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private EngineState _state = EngineState.Idle;
    private CancellationTokenSource? _abort;
    private TaskCompletionSource? _resume;
    private string _abortReason = "";
    private bool _failing;
    private EngineProgress _progress = EngineProgress.Idle;

    /// <summary>Creates an engine for <paramref name="instrument"/>.</summary>
    public ScanEngine(IInstrument instrument, TimeProvider time, ILogger<ScanEngine> logger)
    {
        _instrument = instrument ?? throw new ArgumentNullException(nameof(instrument));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>Raised (on the engine's task) whenever progress or state changes.</summary>
    public event Action<EngineProgress>? ProgressChanged;

    /// <summary>The current state.</summary>
    public EngineState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <summary>The latest progress.</summary>
    public EngineProgress Progress => Volatile.Read(ref _progress);

    /// <summary>
    /// Runs <paramref name="plan"/> to the end, publishing <paramref name="start"/>, <paramref name="descriptor"/>,
    /// every frame and the closing <see cref="RunStop"/> to <paramref name="sink"/>. Returns that RunStop.
    /// Throws <see cref="InvalidOperationException"/> when a run is already going.
    /// </summary>
    public async Task<RunStop> RunAsync(RunStart start, Descriptor descriptor, IEnumerable<Msg> plan, PlanKinematics kinematics, IDocumentSink sink, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(descriptor);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(sink);

        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        lock (_gate)
        {
            if (_state != EngineState.Idle)
            {
                throw new InvalidOperationException($"A scan is already {_state.ToString().ToLowerInvariant()}; one scan runs at a time.");
            }

            _state = EngineState.Running;
            _abort = abort;
            _abortReason = "";
            _failing = false;
            _resume = null;
        }

        var run = new RunContext(this, start.RunId, sink, descriptor, kinematics);
        sink.Publish(start);
        sink.Publish(descriptor);
        ExitStatus status;
        string reason;
        try
        {
            await run.ExecuteAsync(plan, abort.Token).ConfigureAwait(false);
            status = ExitStatus.Success;
            reason = "";
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            status = _failing ? ExitStatus.Failed : ExitStatus.Aborted;
            reason = _abortReason.Length > 0 ? _abortReason : "Aborted.";
            await StopAllMotionAsync().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Any fault must end the run as failed with its reason, never escape and leave the run open.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            status = ExitStatus.Failed;
            reason = ex.Message;
            LogRunFailed(_logger, start.RunId, ex);
            await StopAllMotionAsync().ConfigureAwait(false);
        }

        run.FlushPoints();
        await run.ReturnToStartAsync().ConfigureAwait(false);
        var stop = new RunStop(start.RunId, status, reason, _time.GetUtcNow(), run.FramesEmitted);
        sink.Publish(stop);
        lock (_gate)
        {
            _state = EngineState.Idle;
            _abort = null;
            _resume?.TrySetResult();
            _resume = null;
        }

        SetProgress(EngineProgress.Idle with { CompletedPixels = run.CompletedPixels, TotalPixels = run.TotalPixels, Elapsed = run.Elapsed });
        return stop;
    }

    /// <summary>Asks the run to pause at the next line boundary. False when nothing runs.</summary>
    public bool Pause()
    {
        lock (_gate)
        {
            if (_state != EngineState.Running)
            {
                return false;
            }

            _state = EngineState.Pausing;
            _resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        SetProgress(Progress with { State = EngineState.Pausing });
        return true;
    }

    /// <summary>Resumes a paused (or pausing) run. False when it was not paused.</summary>
    public bool Resume()
    {
        TaskCompletionSource? resume;
        lock (_gate)
        {
            if (_state is not (EngineState.Paused or EngineState.Pausing))
            {
                return false;
            }

            _state = EngineState.Running;
            resume = _resume;
            _resume = null;
        }

        resume?.TrySetResult();
        SetProgress(Progress with { State = EngineState.Running });
        return true;
    }

    /// <summary>Aborts the run: motion stops, the run closes as aborted with <paramref name="reason"/>. False when idle.</summary>
    public bool Abort(string reason) => Stop(reason, failing: false);

    /// <summary>
    /// Ends the run because something outside the plan failed (the file cannot be written, say): motion stops and the
    /// run closes as <see cref="ExitStatus.Failed"/> with <paramref name="reason"/>. False when idle.
    /// </summary>
    public bool Fail(string reason) => Stop(reason, failing: true);

    private bool Stop(string reason, bool failing)
    {
        CancellationTokenSource? abort;
        lock (_gate)
        {
            if (_state is EngineState.Idle or EngineState.Aborting)
            {
                return false;
            }

            _state = EngineState.Aborting;
            _abortReason = reason;
            _failing = failing;
            abort = _abort;
        }

        SetProgress(Progress with { State = EngineState.Aborting });
        abort?.Cancel();
        return true;
    }

    private Task StopAllMotionAsync() => Task.WhenAll(_instrument.Positioners.Select(async positioner =>
    {
        try
        {
            await positioner.StopAsync().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Stopping is best effort while closing a failed run; each failure is logged.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogStopFailed(_logger, positioner.Name, ex);
        }
    }));

    private void SetProgress(EngineProgress progress)
    {
        lock (_gate)
        {
            // The state is the runner's now: reports from the run and from a caller of Pause or Abort can cross, and a
            // late "pausing" must not stand over "paused".
            progress = progress with { State = _state };
            _progress = progress;
        }

        ProgressChanged?.Invoke(progress);
    }

    /// <summary>Waits at a checkpoint while paused. Returns the time spent paused.</summary>
    private async Task<TimeSpan> CheckpointAsync(CancellationToken cancellationToken)
    {
        Task? wait = null;
        lock (_gate)
        {
            if (_state == EngineState.Pausing)
            {
                _state = EngineState.Paused;
                wait = _resume?.Task;
            }
        }

        if (wait is null)
        {
            return TimeSpan.Zero;
        }

        var pausedAt = _time.GetTimestamp();
        SetProgress(Progress with { State = EngineState.Paused });
        await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        return _time.GetElapsedTime(pausedAt);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Run {RunId} failed")]
    private static partial void LogRunFailed(ILogger logger, Guid runId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId}: returning the positioners to their start failed")]
    private static partial void LogReturnFailed(ILogger logger, Guid runId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping {Positioner} failed")]
    private static partial void LogStopFailed(ILogger logger, string positioner, Exception exception);

    /// <summary>One run's interpretation of its plan: positions, pending points, progress and frames.</summary>
    private sealed class RunContext(ScanEngine engine, Guid runId, IDocumentSink sink, Descriptor descriptor, PlanKinematics kinematics)
    {
        private readonly EstimateTracker _tracker = new(kinematics,
            engine._instrument.Positioners.ToDictionary(p => p.Name, p => p.Status.Position, StringComparer.Ordinal));
        private readonly List<double> _pendingValues = [];
        private readonly Dictionary<string, double> _startSetpoints = engine._instrument.Positioners.ToDictionary(p => p.Name, p => p.Status.Setpoint, StringComparer.OrdinalIgnoreCase);
        private readonly HashSet<string> _moved = new(StringComparer.OrdinalIgnoreCase);
        private int _pendingEntry;
        private int _pendingPlane;
        private int _pendingRow;
        private int _pendingColumn;
        private long _lastFlush;
        private TimeSpan _estimateRemaining;
        private TimeSpan _estimateDone;
        private TimeSpan _paused;
        private long _started;

        public int FramesEmitted { get; private set; }

        public long CompletedPixels { get; private set; }

        public long TotalPixels { get; } = descriptor.TotalSize;

        public TimeSpan Elapsed => _started == 0 ? TimeSpan.Zero : engine._time.GetElapsedTime(_started) - _paused;

        public async Task ExecuteAsync(IEnumerable<Msg> plan, CancellationToken ct)
        {
            _started = engine._time.GetTimestamp();
            _lastFlush = _started;
            _estimateRemaining = descriptor.EstimatedDuration;
            Report();
            foreach (var msg in plan)
            {
                ct.ThrowIfCancellationRequested();
                var cost = _tracker.Cost(msg);
                switch (msg)
                {
                    case CheckpointMsg checkpoint:
                        FlushPoints();
                        CompletedPixels = checkpoint.CompletedPixels;
                        Report();
                        _paused += await engine.CheckpointAsync(ct).ConfigureAwait(false);
                        break;
                    case MoveMsg move:
                        _moved.UnionWith(move.Targets.Select(t => t.Positioner));
                        await Task.WhenAll(move.Targets.Select(t => Positioner(t.Positioner).MoveAsync(t.Target, null, ct))).ConfigureAwait(false);
                        break;
                    case MoveByMsg by:
                        _moved.Add(by.Positioner);
                        var positioner = Positioner(by.Positioner);
                        await positioner.MoveAsync(positioner.Status.Setpoint + by.Delta, null, ct).ConfigureAwait(false);
                        break;
                    case AcquirePointMsg point when point.WithFrame && point.Dwell > TimeSpan.Zero:
                        // The area detector exposes during the counter's dwell; its frame goes out as its own document.
                        var camera = engine._instrument.AreaDetector ?? throw new DeviceException("AreaDetector", "this instrument has no area detector.");
                        var frame = camera.AcquireFrameAsync(point.Dwell, ct);
                        var counted = await engine._instrument.Counter.AcquirePointAsync(point.Dwell, ct).ConfigureAwait(false);
                        var pixels = await frame.ConfigureAwait(false);
                        AddPoint(point, counted);
                        sink.Publish(new DetectorFrame(runId, point.Entry, FlatIndex(point), pixels));
                        break;
                    case AcquirePointMsg point:
                        // Zero dwell (an unexposed pattern pixel) counts nothing and takes no time.
                        var value = point.Dwell > TimeSpan.Zero
                            ? await engine._instrument.Counter.AcquirePointAsync(point.Dwell, ct).ConfigureAwait(false)
                            : 0;
                        AddPoint(point, value);
                        break;
                    case FlyLineMsg fly:
                        _moved.Add(fly.Positioner);
                        await FlyAsync(fly, ct).ConfigureAwait(false);
                        break;
                    case DelayMsg delay:
                        await engine._time.DelayPreciseAsync(delay.Duration, ct).ConfigureAwait(false);
                        break;
                    default:
                        throw new InvalidOperationException($"The engine has no handler for {msg.GetType().Name}.");
                }

                _estimateDone += cost;
                _estimateRemaining -= cost;
            }

            FlushPoints();
            Report();
        }

        /// <summary>
        /// Puts every positioner the plan moved back where it stood before the run (energy first, since the zone plate
        /// follows it), so an OSA, detector or focus scan leaves the microscope as it found it. Best effort: a failure
        /// is logged and does not change how the run ended.
        /// </summary>
        public async Task ReturnToStartAsync()
        {
            if (_moved.Count == 0)
            {
                return;
            }

            try
            {
                if (_moved.Remove(Roles.Energy) && _startSetpoints.TryGetValue(Roles.Energy, out var energy))
                {
                    await Positioner(Roles.Energy).MoveAsync(energy).ConfigureAwait(false);
                }

                await Task.WhenAll(_moved.Where(_startSetpoints.ContainsKey).Select(name => Positioner(name).MoveAsync(_startSetpoints[name]))).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Returning is a courtesy after the run; its failure is logged, the run's end stands.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogReturnFailed(engine._logger, runId, ex);
            }
        }

        public void FlushPoints()
        {
            if (_pendingValues.Count == 0)
            {
                return;
            }

            Emit(_pendingEntry, _pendingPlane, _pendingRow, _pendingColumn, [.. _pendingValues]);
            _pendingValues.Clear();
        }

        /// <summary>Flies the line (as many times as it repeats, back to the run-up between), sums the flights, emits one line.</summary>
        private async Task FlyAsync(FlyLineMsg fly, CancellationToken ct)
        {
            var stage = Positioner(fly.Positioner);
            double[]? sum = null;
            for (var repetition = 0; repetition < Math.Max(1, fly.Repetitions); repetition++)
            {
                if (repetition > 0)
                {
                    await stage.MoveAsync(fly.RunUp, null, ct).ConfigureAwait(false);
                }

                var values = await FlyOnceAsync(stage, fly, ct).ConfigureAwait(false);
                if (sum is null)
                {
                    sum = values;
                }
                else
                {
                    for (var i = 0; i < sum.Length && i < values.Length; i++)
                    {
                        sum[i] += values[i];
                    }
                }
            }

            Emit(fly.Entry, fly.Plane, fly.Row, fly.Column, sum!);
            CompletedPixels += sum!.Length;
        }

        private async Task<double[]> FlyOnceAsync(IPositioner stage, FlyLineMsg fly, CancellationToken ct)
        {
            using var lineCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var trigger = engine._time.Deadline(fly.AccelerationTime);
            var move = stage.MoveAsync(fly.RunOut, fly.Velocity, lineCts.Token);
            try
            {
                // The counter is triggered when the stage reaches constant speed, not when this task wakes up.
                var values = await engine._instrument.Counter.AcquireLineAsync(fly.Bins, fly.Dwell, trigger, ct).ConfigureAwait(false);
                await move.ConfigureAwait(false);
                return values;
            }
            catch
            {
                await lineCts.CancelAsync().ConfigureAwait(false);
                await Task.WhenAny(move).ConfigureAwait(false);
                throw;
            }
        }

        private int FlatIndex(AcquirePointMsg point)
        {
            var shape = descriptor.Entries[point.Entry].Shape;
            var rows = shape.Length >= 2 ? shape[^2] : 1;
            return ((point.Plane * rows) + point.Row) * shape[^1] + point.Column;
        }

        private void AddPoint(AcquirePointMsg point, double value)
        {
            var contiguous = _pendingValues.Count > 0 && point.Entry == _pendingEntry && point.Plane == _pendingPlane && point.Row == _pendingRow
                && point.Column == _pendingColumn + _pendingValues.Count;
            if (!contiguous)
            {
                FlushPoints();
                _pendingEntry = point.Entry;
                _pendingPlane = point.Plane;
                _pendingRow = point.Row;
                _pendingColumn = point.Column;
            }

            _pendingValues.Add(value);
            CompletedPixels++;
            if (engine._time.GetElapsedTime(_lastFlush) >= PointFlushInterval)
            {
                FlushPoints();
                Report();
            }
        }

        private void Emit(int entry, int plane, int row, int column, double[] values)
        {
            FramesEmitted++;
            _lastFlush = engine._time.GetTimestamp();
            sink.Publish(new Frame(runId, FramesEmitted, entry, plane, row, column, values, engine._time.GetUtcNow(), engine._instrument.RingCurrent));
        }

        private void Report()
        {
            // Time left: the plan's estimate of what remains, scaled by how the run has kept to the estimate so far.
            var elapsed = Elapsed;
            var ratio = _estimateDone > TimeSpan.FromSeconds(1) ? Math.Clamp(elapsed / _estimateDone, 0.5, 3) : 1.0;
            var left = _estimateRemaining > TimeSpan.Zero ? _estimateRemaining * ratio : TimeSpan.Zero;
            EngineState state;
            lock (engine._gate)
            {
                state = engine._state;
            }

            engine.SetProgress(new EngineProgress(state, runId, CompletedPixels, TotalPixels, elapsed, left));
        }

        private IPositioner Positioner(string name) =>
            engine._instrument.Find(name) ?? throw new DeviceException(name, "no such positioner on this instrument.");
    }
}
