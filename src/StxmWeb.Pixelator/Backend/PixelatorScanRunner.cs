using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using StxmWeb.Core.Documents;
using StxmWeb.Core.Engine;
using StxmWeb.Core.Plans;
using StxmWeb.Core.Scans;
using StxmWeb.Pixelator.Client;
using StxmWeb.Pixelator.Protocol;

namespace StxmWeb.Pixelator.Backend;

/// <summary>
/// Runs scans on the PixelatorController: the request goes out as a scanRequest, and what the controller publishes comes
/// back as StxmWeb's documents (scanLineData → Frames at their entry, energy, row and column; scanStatus → progress and
/// pause; scanFinished → success; scanAborted → aborted, or failed with the controller's reason when nobody asked).
/// Pause, resume and abort become pauseScan, resumeScan and abortScan. A controller that falls silent ends the run as
/// failed with the reason, and every line received before stays in the file.
/// </summary>
public sealed partial class PixelatorScanRunner : IScanRunner
{
    /// <summary>How long an abort waits for the controller's scanAborted before the run is closed without it.</summary>
    private static readonly TimeSpan AbortGrace = TimeSpan.FromSeconds(10);

    private readonly PixelatorInstrument _instrument;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private EngineState _state = EngineState.Idle;
    private EngineProgress _progress = EngineProgress.Idle;
    private Channel<object>? _inbox;
    private string? _stopReason;
    private bool _failing;

    /// <summary>Creates the runner for <paramref name="instrument"/>.</summary>
    public PixelatorScanRunner(PixelatorInstrument instrument, TimeProvider time, ILogger<PixelatorScanRunner> logger)
    {
        _instrument = instrument ?? throw new ArgumentNullException(nameof(instrument));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <inheritdoc />
    public event Action<EngineProgress>? ProgressChanged;

    /// <inheritdoc />
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

    /// <inheritdoc />
    public EngineProgress Progress => Volatile.Read(ref _progress);

    private PixelatorClient Client => _instrument.Client;

    /// <inheritdoc />
    public async Task<RunStop> RunAsync(RunStart start, Descriptor descriptor, IEnumerable<Msg> plan, PlanKinematics kinematics, IDocumentSink sink, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(descriptor);
        ArgumentNullException.ThrowIfNull(sink);
        var inbox = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
        lock (_gate)
        {
            if (_state != EngineState.Idle)
            {
                throw new InvalidOperationException($"A scan is already {_state.ToString().ToLowerInvariant()}; one scan runs at a time.");
            }

            _state = EngineState.Running;
            _inbox = inbox;
            _stopReason = null;
            _failing = false;
        }

        var run = new Run(this, start, descriptor, sink);
        sink.Publish(start);
        sink.Publish(descriptor);
        run.Report();
        // Lines are placed and published on the client's poller thread as they arrive (the sink only enqueues): one
        // thread hop less per line than through the inbox. Everything else goes to the run's loop, in order, behind
        // the lines published before it.
        using var subscription = Client.Subscribe(a =>
        {
            switch (a.Message)
            {
                case ScanLineDataMessage line:
                    run.Place(line);
                    break;
                case RecordedChannelsMessage recorded:
                    run.Channel = Math.Max(0, recorded.Channels.ToList().IndexOf(_instrument.Channel));
                    break;
                default:
                    inbox.Writer.TryWrite(a);
                    break;
            }
        });
        void OnAlive(bool alive)
        {
            if (!alive)
            {
                inbox.Writer.TryWrite(new Silent());
            }
        }

        Client.AliveChanged += OnAlive;
        using var cancel = cancellationToken.Register(() => Abort("The run was cancelled."));
        ExitStatus status;
        string reason;
        try
        {
            (status, reason) = await run.ExecuteAsync(inbox.Reader, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is PixelatorCommandException or PixelatorTimeoutException or PixelatorProtocolException or Core.Devices.DeviceException or ArgumentException)
        {
            status = ExitStatus.Failed;
            reason = ex.Message;
            LogRunFailed(_logger, start.RunId, ex.Message);
        }
        finally
        {
            Client.AliveChanged -= OnAlive;
        }

        var stop = new RunStop(start.RunId, status, reason, _time.GetUtcNow(), run.Frames) { ControllerFile = run.ControllerFile };
        sink.Publish(stop);
        lock (_gate)
        {
            _state = EngineState.Idle;
            _inbox = null;
        }

        SetProgress(EngineProgress.Idle with { CompletedPixels = run.Completed, TotalPixels = descriptor.TotalSize, Elapsed = run.Elapsed });
        return stop;
    }

    /// <inheritdoc />
    public bool Pause()
    {
        lock (_gate)
        {
            if (_state != EngineState.Running)
            {
                return false;
            }

            _state = EngineState.Pausing;
        }

        SetProgress(Progress with { State = EngineState.Pausing });
        Send(new PauseScanRequest(), onRefused: () => SetState(EngineState.Pausing, EngineState.Running));
        return true;
    }

    /// <inheritdoc />
    public bool Resume()
    {
        lock (_gate)
        {
            if (_state is not (EngineState.Paused or EngineState.Pausing))
            {
                return false;
            }

            _state = EngineState.Running;
        }

        SetProgress(Progress with { State = EngineState.Running });
        Send(new ResumeScanRequest(), onRefused: null);
        return true;
    }

    /// <inheritdoc />
    public bool Abort(string reason) => Stop(reason, failing: false);

    /// <inheritdoc />
    public bool Fail(string reason) => Stop(reason, failing: true);

    private bool Stop(string reason, bool failing)
    {
        Channel<object>? inbox;
        lock (_gate)
        {
            if (_state is EngineState.Idle or EngineState.Aborting)
            {
                return false;
            }

            _state = EngineState.Aborting;
            _stopReason = reason;
            _failing = failing;
            inbox = _inbox;
        }

        SetProgress(Progress with { State = EngineState.Aborting });
        inbox?.Writer.TryWrite(new AbortAsked());
        Send(new AbortScanRequest(), onRefused: null, onLost: message => inbox?.Writer.TryWrite(new AbortUnanswered(message)));
        return true;
    }

    /// <summary>Sends a control request without waiting for it (the caller is a UI or API thread); failures are logged.</summary>
    private void Send(PixelatorRequest request, Action? onRefused, Action<string>? onLost = null) =>
        _ = Task.Run(async () =>
        {
            try
            {
                var reply = await Client.RequestAsync(request).ConfigureAwait(false);
                if (!reply.Status.IsOk)
                {
                    LogRefused(_logger, request.Command, reply.Status.Message ?? reply.Status.Status);
                    onRefused?.Invoke();
                }
            }
            catch (Exception ex) when (ex is PixelatorTimeoutException or PixelatorProtocolException or ObjectDisposedException)
            {
                LogRefused(_logger, request.Command, ex.Message);
                onLost?.Invoke(ex.Message);
            }
        });

    private void SetState(EngineState from, EngineState to)
    {
        lock (_gate)
        {
            if (_state != from)
            {
                return;
            }

            _state = to;
        }

        SetProgress(Progress with { State = to });
    }

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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pixelator run {RunId} failed: {Reason}")]
    private static partial void LogRunFailed(ILogger logger, Guid runId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Pixelator controller did not take '{Command}': {Reason}")]
    private static partial void LogRefused(ILogger logger, string command, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "scanLineData dropped: {Reason}")]
    private static partial void LogLineDropped(ILogger logger, string reason);

    private sealed record Silent;

    private sealed record AbortAsked;

    private sealed record AbortUnanswered(string Reason);

    /// <summary>One run: the request sent, the controller's publications turned into documents.</summary>
    private sealed class Run(PixelatorScanRunner runner, RunStart start, Descriptor descriptor, Core.Engine.IDocumentSink sink)
    {
        private readonly LineDataAssembler _assembler = new(start.Request.ScanType, descriptor.Entries);
        private readonly long _started = runner._time.GetTimestamp();
        private TimeSpan? _controllerTimeLeft;
        private int _dropped;
        private bool _accepting;

        public int Frames { get; private set; }

        /// <summary>The controller's file of the run (a path on its host), once it has said.</summary>
        public string? ControllerFile { get; private set; }

        public long Completed { get; private set; }

        public TimeSpan Elapsed => runner._time.GetElapsedTime(_started);

        public async Task<(ExitStatus, string)> ExecuteAsync(ChannelReader<object> inbox, CancellationToken cancellationToken)
        {
            var request = start.Request;
            if (!PixelatorScans.CarriesEnergy(request.ScanType) && Math.Abs(runner._instrument.Energy.Status.Position - request.EnergyEv) > 1e-3)
            {
                // Detector, OSA, focus and motor scans carry no energy: the energy is set before the request.
                await runner._instrument.Energy.MoveAsync(request.EnergyEv, null, cancellationToken).ConfigureAwait(false);
            }

            var scan = PixelatorScans.ToPixelator(request, runner._instrument.Names);
            Volatile.Write(ref _accepting, true);
            var reply = await runner.Client.RequestAsync(new StartScanRequest(scan), cancellationToken).ConfigureAwait(false);
            if (!reply.Status.IsOk)
            {
                return (ExitStatus.Failed, $"The Pixelator controller refused the scan: {reply.Status.Message ?? reply.Status.Status}");
            }

            long? abortDeadline = null;
            while (true)
            {
                object item;
                if (abortDeadline is { } deadline)
                {
                    var left = TimeSpan.FromSeconds((deadline - runner._time.GetTimestamp()) / (double)runner._time.TimestampFrequency);
                    if (left <= TimeSpan.Zero || !await WaitAsync(inbox, left).ConfigureAwait(false))
                    {
                        return Stopped($"{runner._stopReason} The controller did not confirm the abort within {AbortGrace.TotalSeconds:0} s.");
                    }
                }

                if (!inbox.TryRead(out item!))
                {
                    item = await inbox.ReadAsync(CancellationToken.None).ConfigureAwait(false);
                }

                switch (item)
                {
                    case AbortAsked:
                        abortDeadline ??= runner._time.GetTimestamp() + (long)(AbortGrace.TotalSeconds * runner._time.TimestampFrequency);
                        break;
                    case AbortUnanswered lost:
                        return (ExitStatus.Failed, $"{runner._stopReason} The abort did not reach the controller: {lost.Reason}");
                    case Silent:
                        return (ExitStatus.Failed,
                            $"The Pixelator controller at {runner.Client.Description} fell silent during the scan (it stopped, or the network failed); {Completed} of {descriptor.TotalSize} points were received and kept.");
                    case Arrival { Message: ScanStatusMessage status }:
                        Status(status.Status);
                        break;
                    case Arrival { Message: FilenameMessage file }:
                        ControllerFile = Path.Combine(file.Directory, file.File);
                        break;
                    case Arrival { Message: ScanFinishedMessage finished }:
                        ControllerFile = finished.Finished.Filename;
                        return runner._stopReason is not null
                            ? Stopped(runner._stopReason)
                            : (ExitStatus.Success, "");
                    case Arrival { Message: ScanAbortedMessage aborted }:
                        ControllerFile = aborted.Aborted.Filename ?? ControllerFile;
                        return runner._stopReason is not null
                            ? Stopped(runner._stopReason)
                            : (ExitStatus.Failed, $"The Pixelator controller aborted the scan: {aborted.Aborted.Message ?? "no reason given"}");
                }
            }
        }

        public void Report()
        {
            var elapsed = Elapsed;
            var fraction = descriptor.TotalSize == 0 ? 0 : (double)Completed / descriptor.TotalSize;
            var left = _controllerTimeLeft
                ?? (fraction > 0.02 ? elapsed * ((1 - fraction) / fraction) : descriptor.EstimatedDuration - elapsed);
            runner.SetProgress(new EngineProgress(runner.State, start.RunId, Completed, descriptor.TotalSize, elapsed, left > TimeSpan.Zero ? left : TimeSpan.Zero));
        }

        private (ExitStatus, string) Stopped(string reason) => (runner._failing ? ExitStatus.Failed : ExitStatus.Aborted, reason);

        private static async Task<bool> WaitAsync(ChannelReader<object> inbox, TimeSpan timeout)
        {
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                return await inbox.WaitToReadAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        /// <summary>Index of StxmWeb's channel in the controller's recordedChannels (set on the poller thread).</summary>
        public int Channel { get; set; }

        /// <summary>Places a line and publishes its frames: on the client's poller thread, lines in arrival order.</summary>
        public void Place(ScanLineDataMessage line)
        {
            if (!Volatile.Read(ref _accepting) || line.Channel != Channel)
            {
                return;
            }

            IReadOnlyList<PlacedSegment> segments;
            try
            {
                segments = _assembler.Place(line);
            }
            catch (PixelatorProtocolException ex)
            {
                if (++_dropped <= 10)
                {
                    LogLineDropped(runner._logger, ex.Message);
                }

                return;
            }

            foreach (var s in segments)
            {
                Frames++;
                sink.Publish(new Frame(start.RunId, Frames, s.Entry, s.Plane, s.Row, s.Column, s.Values, runner._time.GetUtcNow(), runner._instrument.RingCurrent));
                Completed += s.Values.Length;
            }

            Report();
        }

        private void Status(ScanStatus status)
        {
            _controllerTimeLeft = ScanStatus.ParseDuration(status.Current.RemainingTime);
            if (status.Status.Contains("paused", StringComparison.OrdinalIgnoreCase))
            {
                runner.SetState(EngineState.Pausing, EngineState.Paused);
            }
            else if (status.Status.Contains("running", StringComparison.OrdinalIgnoreCase))
            {
                runner.SetState(EngineState.Paused, EngineState.Running);
            }

            Report();
        }
    }
}
