using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using StxmWeb.Core.Documents;

namespace StxmWeb.Live;

/// <summary>
/// Sends the live run to every connected browser, each through its own sender (DESIGN.md, "The live path"). New lines
/// wait in a per-connection map keyed by position, so a newer copy of a line replaces an undelivered older one: a slow
/// connection gets coalesced frames and a bounded backlog (at most one image), never slows the scan or the other
/// connections. Lines are batched by time (<see cref="BatchInterval"/>) into one binary message. A connection that joins
/// mid-run is seeded with the run so far.
/// </summary>
public sealed partial class LiveBroadcaster(IHubContext<LiveHub> hub, ILogger<LiveBroadcaster> logger) : IDocumentConsumer, IAsyncDisposable
{
    private readonly IHubContext<LiveHub> _hub = hub;
    private readonly ILogger _logger = logger;

    /// <summary>How long new lines are gathered before a send.</summary>
    public static readonly TimeSpan BatchInterval = TimeSpan.FromMilliseconds(15);

    /// <summary>Integers per line in the <c>lines</c> header: entry, plane, row, column, count.</summary>
    public const int HeaderStride = 5;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<string, Session> _sessions = new();
    private readonly Dictionary<(int Entry, int Plane, int Row, int Column), Frame> _frames = [];
    private string? _startJson;
    private RunStop? _stop;
    private Guid _runId;
    private RunStart? _runStart;
    private Descriptor? _descriptor;

    /// <summary>Number of connected live clients.</summary>
    public int ConnectionCount => _sessions.Count;

    /// <inheritdoc />
    public ValueTask ConsumeAsync(Document document, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            switch (document)
            {
                case RunStart start:
                    _runId = start.RunId;
                    _runStart = start;
                    _frames.Clear();
                    _stop = null;
                    _startJson = null;
                    _descriptor = null;
                    break;
                case Descriptor descriptor when descriptor.RunId == _runId:
                    _descriptor = descriptor;
                    _startJson = StartJson(descriptor);
                    foreach (var session in _sessions.Values)
                    {
                        session.Reset(_startJson);
                    }

                    break;
                case Frame frame when frame.RunId == _runId:
                    _frames[(frame.Entry, frame.Plane, frame.Row, frame.Column)] = frame;
                    foreach (var session in _sessions.Values)
                    {
                        session.Add(frame);
                    }

                    break;
                case RunStop stop when stop.RunId == _runId:
                    _stop = stop;
                    foreach (var session in _sessions.Values)
                    {
                        session.Stop(stop);
                    }

                    break;
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// The current (or last) run as far as it has come: its descriptor and every line taken (the newest copy of each),
    /// for analysis while it runs (the spectra panel). Null before the first run's descriptor.
    /// </summary>
    public LiveSnapshot? Snapshot()
    {
        lock (_gate)
        {
            return _descriptor is null ? null : new LiveSnapshot(_runId, _descriptor, [.. _frames.Values], _stop);
        }
    }

    /// <summary>Registers a connection and seeds it with the run so far.</summary>
    public void Join(string connectionId)
    {
        var session = new Session(connectionId, this);
        lock (_gate)
        {
            if (_startJson is not null)
            {
                session.Reset(_startJson);
                foreach (var frame in _frames.Values)
                {
                    session.Add(frame);
                }

                if (_stop is not null)
                {
                    session.Stop(_stop);
                }
            }

            _sessions[connectionId] = session;
        }
    }

    /// <summary>Forgets a connection and ends its sender.</summary>
    public void Leave(string connectionId)
    {
        if (_sessions.TryRemove(connectionId, out var session))
        {
            session.Close();
            _ = session.Loop.ContinueWith(_ => session.Dispose(), TaskScheduler.Default);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        foreach (var id in _sessions.Keys)
        {
            Leave(id);
        }

        return ValueTask.CompletedTask;
    }

    private string StartJson(Descriptor d) => JsonSerializer.Serialize(new
    {
        runId = d.RunId,
        scanId = _runStart?.ScanId,
        fileName = Path.GetFileName(_runStart?.FilePath),
        title = _runStart?.Request.Title,
        detector = d.Detector,
        units = d.Units,
        scanType = d.ScanType,
        entries = d.Entries.Select(e => new
        {
            name = e.Name,
            shape = e.Shape,
            axes = e.Axes,
            positions = e.Positions,
            energy = e.EnergyEv,
            dwellMs = e.DwellMs,
            stxmScanType = e.StxmScanType,
            rotationAngle = e.RotationAngle,
            polarization = e.Polarization?.Mode.ToString(),
        }),
        estimatedSeconds = d.EstimatedDuration.TotalSeconds,
    }, Json);

    /// <summary>Encodes lines as the <c>lines</c> message: a header of (entry, plane, row, column, count) per line and float32 values.</summary>
    internal static (int[] Header, byte[] Payload) Encode(IReadOnlyCollection<Frame> frames)
    {
        var header = new int[frames.Count * HeaderStride];
        var payload = new byte[frames.Sum(f => f.Values.Length) * sizeof(float)];
        int h = 0, p = 0;
        foreach (var frame in frames)
        {
            header[h++] = frame.Entry;
            header[h++] = frame.Plane;
            header[h++] = frame.Row;
            header[h++] = frame.Column;
            header[h++] = frame.Values.Length;
            foreach (var value in frame.Values)
            {
                BinaryPrimitives.WriteSingleLittleEndian(payload.AsSpan(p), (float)value);
                p += sizeof(float);
            }
        }

        return (header, payload);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Live send to {Connection} failed")]
    private static partial void LogSendFailed(ILogger logger, string connection, Exception exception);

    /// <summary>One connection: what it has not yet received, and the loop that sends it.</summary>
    private sealed class Session : IDisposable
    {
        private readonly string _connectionId;
        private readonly LiveBroadcaster _owner;
        private readonly Lock _gate = new();
        private readonly SemaphoreSlim _signal = new(0);
        private readonly CancellationTokenSource _closed = new();
        private Dictionary<(int, int, int, int), Frame> _lines = [];
        private string? _start;
        private RunStop? _stop;

        public Session(string connectionId, LiveBroadcaster owner)
        {
            _connectionId = connectionId;
            _owner = owner;
            Loop = Task.Run(RunAsync);
        }

        public Task Loop { get; }

        public void Reset(string startJson)
        {
            lock (_gate)
            {
                _start = startJson;
                _lines.Clear();
                _stop = null;
            }

            Wake();
        }

        public void Add(Frame frame)
        {
            lock (_gate)
            {
                _lines[(frame.Entry, frame.Plane, frame.Row, frame.Column)] = frame;
            }

            Wake();
        }

        public void Stop(RunStop stop)
        {
            lock (_gate)
            {
                _stop = stop;
            }

            Wake();
        }

        public void Close() => _closed.Cancel();

        public void Dispose()
        {
            _closed.Dispose();
            _signal.Dispose();
        }

        private void Wake()
        {
            if (_signal.CurrentCount == 0)
            {
                _signal.Release();
            }
        }

        private async Task RunAsync()
        {
            var client = _owner._hub.Clients.Client(_connectionId);
            try
            {
                while (true)
                {
                    await _signal.WaitAsync(_closed.Token).ConfigureAwait(false);
                    await Task.Delay(BatchInterval, _closed.Token).ConfigureAwait(false);
                    string? start;
                    Dictionary<(int, int, int, int), Frame> lines;
                    RunStop? stop;
                    lock (_gate)
                    {
                        start = _start;
                        lines = _lines;
                        stop = _stop;
                        _start = null;
                        _stop = null;
                        _lines = [];
                    }

                    if (start is not null)
                    {
                        await client.SendAsync(LiveHub.Methods.RunStart, start, _closed.Token).ConfigureAwait(false);
                    }

                    if (lines.Count > 0)
                    {
                        var ordered = lines.Values.OrderBy(f => f.Sequence).ToList();
                        var (header, payload) = Encode(ordered);
                        await client.SendAsync(LiveHub.Methods.Lines, ordered[0].RunId.ToString(), header, payload, _closed.Token).ConfigureAwait(false);
                    }

                    if (stop is not null)
                    {
                        await client.SendAsync(LiveHub.Methods.RunStop, stop.RunId.ToString(), stop.Status.ToString(), stop.Reason, _closed.Token).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException) when (_closed.IsCancellationRequested)
            {
                // The connection left.
            }
#pragma warning disable CA1031 // A failed send ends this connection's sender only; the others go on.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogSendFailed(_owner._logger, _connectionId, ex);
            }
        }
    }
}

/// <summary>A run as far as it has come: see <see cref="LiveBroadcaster.Snapshot"/>.</summary>
/// <param name="RunId">The run.</param>
/// <param name="Descriptor">Its entries, shapes and axes.</param>
/// <param name="Frames">Every line taken so far (the newest copy of each position), in no particular order.</param>
/// <param name="Stop">How it ended; null while it runs.</param>
public sealed record LiveSnapshot(Guid RunId, Descriptor Descriptor, IReadOnlyList<Frame> Frames, RunStop? Stop);
