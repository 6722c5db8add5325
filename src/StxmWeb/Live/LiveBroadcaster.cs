using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using StxmWeb.Core.Documents;

namespace StxmWeb.Live;

/// <summary>
/// Sends the live run to every connected browser, each through its own sender (DESIGN.md, "The live path"). Lines are
/// batched by time (<see cref="BatchInterval"/>); each batch is serialized once and written to every connection that is
/// up to date. A connection that is behind lets batches wait, shared, and past a bound coalesces them into its own map
/// keyed by position, so a newer copy of a line replaces an undelivered older one: a slow connection gets coalesced frames
/// and a bounded backlog (at most one image), never slows the scan or the other connections. A connection that joins
/// mid-run is seeded with the run so far. A connection may ask for a lighter stream (<see cref="SetView"/>): images binned
/// to the size it displays, and values windowed to 16 or 8 bits, for a remote link; full resolution again on demand.
/// </summary>
public sealed partial class LiveBroadcaster : IDocumentConsumer, IAsyncDisposable
{
    private readonly LiveConnections _connections;
    private readonly ILogger _logger;

    /// <summary>How long new lines are gathered before a send.</summary>
    public static readonly TimeSpan BatchInterval = TimeSpan.FromMilliseconds(15);

    /// <summary>
    /// Values per <c>lines</c> message at most (one line more if a single line is longer): 60 KB of float32, so that a
    /// message and the buffers the transport and the websocket rent for it (one per connection sending) fit the pools'
    /// 64 KB size, below the large object heap's 85 KB: an 80 KB message took 128 KB buffers, which are only collected
    /// with a full collection.
    /// </summary>
    public const int MessageValues = 15_000;

    /// <summary>
    /// Values of whole batches a connection may have waiting before they are coalesced into its own queue: 2 s of a
    /// 1 Mpx/s scan. The batches waiting are the ones every connection shares (8 MB of float32 at most however many
    /// connections lag), so a connection that is a little behind costs no encoding or memory of its own.
    /// </summary>
    public const int QueuedValues = 2_000_000;

    /// <summary>Integers per line in the <c>lines</c> header: entry, plane, row, column, count.</summary>
    public const int HeaderStride = 5;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<string, Session> _sessions = new();
    private readonly Dictionary<(int Entry, int Plane, int Row, int Column), Frame> _frames = [];
    private readonly Dictionary<(int Entry, int Plane), float[]> _planes = [];
    private readonly SemaphoreSlim _tickSignal = new(0);
    private readonly CancellationTokenSource _closed = new();
    private readonly Task _ticker;
    private Dictionary<(int Entry, int Plane, int Row, int Column), Frame> _tick = [];
    private RunStop? _tickStop;
    private long _ticks;
    private readonly SpareImages _sparePlanes = new();
    private SerializedHubMessage[]? _seed;
    private bool _painting;
    private string? _startJson;
    private readonly Dictionary<string, SerializedHubMessage> _startMessages = [];
    private RunStop? _stop;
    private Guid _runId;
    private RunStart? _runStart;
    private Descriptor? _descriptor;

    /// <summary>Creates the broadcaster and starts its batching loop.</summary>
    public LiveBroadcaster(LiveConnections connections, ILogger<LiveBroadcaster> logger)
    {
        _connections = connections;
        _logger = logger;
        _ticker = Task.Run(TickLoopAsync);
    }

    private Guid CurrentRunId
    {
        get
        {
            lock (_gate)
            {
                return _runId;
            }
        }
    }

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
                    _seed = null;
                    _frames.Clear();
                    // The last run's planes are the new run's when their sizes match (no allocation as a run starts).
                    _sparePlanes.Keep(_planes.Values);
                    _planes.Clear();
                    _tick.Clear();
                    _tickStop = null;
                    _stop = null;
                    _startJson = null;
                    _startMessages.Clear();
                    _descriptor = null;
                    break;
                case Descriptor descriptor when descriptor.RunId == _runId:
                    _descriptor = descriptor;
                    _startJson = StartJson(descriptor);
                    _startMessages.Clear();
                    foreach (var session in _sessions.Values)
                    {
                        Reset(session, descriptor);
                    }

                    break;
                case Frame frame when frame.RunId == _runId:
                    // Every connection gets the line with the next batch (see TickLoopAsync).
                    _frames[(frame.Entry, frame.Plane, frame.Row, frame.Column)] = frame;
                    _tick[(frame.Entry, frame.Plane, frame.Row, frame.Column)] = frame;
                    _seed = null; // the run so far has changed
                    Paint(frame);
                    WakeTicker();
                    break;
                case RunStop stop when stop.RunId == _runId:
                    _stop = stop;
                    _tickStop = stop;
                    WakeTicker();
                    break;
            }
        }

        return ValueTask.CompletedTask;
    }

    private void WakeTicker()
    {
        if (_tickSignal.CurrentCount == 0)
        {
            _tickSignal.Release();
        }
    }

    /// <summary>
    /// The batching loop: every <see cref="BatchInterval"/> with new lines, the lines since the last batch become one
    /// message, serialized once and written to every connection that is up to date (nothing queued, no write in flight,
    /// full resolution). A connection that is behind, or asked for a lighter stream, gets the batch into its own
    /// coalescing queue and its own sender sends it when it can.
    /// </summary>
    private async Task TickLoopAsync()
    {
        try
        {
            while (true)
            {
                await _tickSignal.WaitAsync(_closed.Token).ConfigureAwait(false);
                await Task.Delay(BatchInterval, _closed.Token).ConfigureAwait(false);
                try
                {
                    Tick();
                }
#pragma warning disable CA1031 // The batching loop is the live path of every viewer: it logs and goes on.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    LogBatchFailed(_logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (_closed.IsCancellationRequested)
        {
            // Disposed.
        }
    }

    /// <summary>The lines since the last batch, if any, as one batch offered to every connection.</summary>
    private void Tick()
    {
        Batch batch;
        Session[] sessions;
        lock (_gate)
        {
            if (_tick.Count == 0 && _tickStop is null)
            {
                return;
            }

            batch = new Batch(++_ticks, _runId, [.. _tick.Values.OrderBy(f => f.Sequence)], _tickStop);
            _seed = null; // a seed now leaves out fewer lines
            _tick = [];
            _tickStop = null;
            sessions = [.. _sessions.Values];
        }

        if (sessions.Any(s => s.Full))
        {
            _ = batch.Messages; // serialized here, so that its stamp is the batch's time, not a sender's
        }

        foreach (var session in sessions)
        {
            try
            {
                session.Offer(batch);
            }
#pragma warning disable CA1031 // One connection's failure must not end the batching every other connection depends on.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogSendFailed(_logger, session.ConnectionId, ex);
            }
        }
    }

    /// <summary>The current run's descriptor (null before the first run): what it holds, without copying its lines.</summary>
    public Descriptor? CurrentDescriptor
    {
        get
        {
            lock (_gate)
            {
                return _descriptor;
            }
        }
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

    /// <summary>Registers a connection of the live hub on this instance and seeds it with the run so far.</summary>
    public void Join(string connectionId, LiveView? view = null)
    {
        var connection = _connections.Find(connectionId)
            ?? throw new InvalidOperationException($"{connectionId} is not a live hub connection of this instance.");
        var session = new Session(connection, this) { View = view ?? LiveView.Full };
        lock (_gate)
        {
            StartPainting(session.View);
            Seed(session);
            _sessions[connectionId] = session;
        }
    }

    /// <summary>
    /// Sets what a connection receives from now on and sends it the run again in that form: <paramref name="view"/>'s
    /// largest image size (images larger are binned by the smallest whole factor that fits; 0 = full resolution) and
    /// bits per value (32: float32; 16 or 8: windowed to the batch's range).
    /// </summary>
    public void SetView(string connectionId, LiveView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        lock (_gate)
        {
            if (_sessions.TryGetValue(connectionId, out var session))
            {
                StartPainting(view);
                session.View = view;
                Seed(session);
            }
        }
    }

    /// <summary>The first binned view (under the lock): from now on the image so far of each plane is kept, from the lines taken.</summary>
    private void StartPainting(LiveView view)
    {
        if (view.MaxWidth > 0 && view.MaxHeight > 0 && !_painting)
        {
            _painting = true;
            foreach (var frame in _frames.Values)
            {
                Paint(frame);
            }
        }
    }

    /// <summary>
    /// Gives a session the run so far (under the lock): every line taken except those waiting for the next batch, which
    /// brings them; the batches already made are skipped by the session, so nothing is missing or doubled.
    /// </summary>
    private void Seed(Session session)
    {
        if (_startJson is null || _descriptor is null)
        {
            return;
        }

        Reset(session, _descriptor);
        var taken = _frames.Where(f => !_tick.ContainsKey(f.Key)).Select(f => f.Value);
        if (session.Full)
        {
            // Full resolution: the run so far as hub messages, made once for every connection seeded before the run
            // changes again (viewers that open the page together, or between runs, share them).
            _seed ??= [.. LinesMessages(_runId.ToString(), [.. taken.OrderBy(f => f.Sequence)]).Select(m => new SerializedHubMessage(m))];
            session.Seeded(_seed);
        }
        else
        {
            foreach (var frame in taken)
            {
                session.Add(frame);
            }
        }

        if (_stop is not null && _tickStop is null)
        {
            session.Stop(_stop);
        }
    }

    /// <summary>Keeps the image so far of each plane, once a connection has asked for a binned view.</summary>
    private void Paint(Frame frame)
    {
        if (!_painting || _descriptor is null || frame.Entry >= _descriptor.Entries.Length || _descriptor.Entries[frame.Entry].Shape is not { Length: >= 2 } shape)
        {
            return;
        }

        var (rows, columns) = (shape[^2], shape[^1]);
        if (!_planes.TryGetValue((frame.Entry, frame.Plane), out var plane))
        {
            plane = _sparePlanes.Take(rows * columns, float.NaN);
            _planes[(frame.Entry, frame.Plane)] = plane;
        }

        var start = (frame.Row * columns) + frame.Column;
        for (var k = 0; k < frame.Values.Length && start + k < plane.Length; k++)
        {
            plane[start + k] = (float)frame.Values[k];
        }
    }

    /// <summary>Binned rows of the image so far: the mean of the finite pixels of each bin × bin block (NaN: none yet).</summary>
    private List<Line> BinnedRows(IEnumerable<(int Entry, int Plane, int Row)> rows, int[] bins)
    {
        var lines = new List<Line>();
        lock (_gate)
        {
            foreach (var (entry, planeIndex, row) in rows)
            {
                if (_descriptor is null || entry >= bins.Length || entry >= _descriptor.Entries.Length || !_planes.TryGetValue((entry, planeIndex), out var plane))
                {
                    continue;
                }

                var shape = _descriptor.Entries[entry].Shape;
                var (height, width, bin) = (shape[^2], shape[^1], bins[entry]);
                var values = new float[(width + bin - 1) / bin];
                for (var c = 0; c < values.Length; c++)
                {
                    double sum = 0;
                    var count = 0;
                    for (var r = row * bin; r < Math.Min(height, (row + 1) * bin); r++)
                    {
                        for (var x = c * bin; x < Math.Min(width, (c + 1) * bin); x++)
                        {
                            var v = plane[(r * width) + x];
                            if (!float.IsNaN(v))
                            {
                                sum += v;
                                count++;
                            }
                        }
                    }

                    values[c] = count > 0 ? (float)(sum / count) : float.NaN;
                }

                lines.Add(new Line(entry, planeIndex, row, 0, values));
            }
        }

        return lines;
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
    public async ValueTask DisposeAsync()
    {
        await _closed.CancelAsync().ConfigureAwait(false);
        await _ticker.ConfigureAwait(false);
        foreach (var id in _sessions.Keys)
        {
            Leave(id);
        }

        _closed.Dispose();
        _tickSignal.Dispose();
    }

    /// <summary>
    /// Starts the run (or the run again in a new view) on a session (under the lock): the bin of each entry for its view
    /// (images larger than the view are binned by the smallest whole factor that fits) and the run-start message for those
    /// bins and bits, serialized once for every session that shares them (it holds the run's positions: a few hundred KB
    /// for a large image, which a copy per viewer would make large-object garbage).
    /// </summary>
    private void Reset(Session session, Descriptor descriptor)
    {
        var view = session.View;
        var bins = descriptor.Entries.Select(e => e.Shape.Length < 2 || view.MaxWidth <= 0 || view.MaxHeight <= 0
            ? 1
            : Math.Max(1, Math.Max((e.Shape[^1] + view.MaxWidth - 1) / view.MaxWidth, (e.Shape[^2] + view.MaxHeight - 1) / view.MaxHeight))).ToArray();
        var key = $"{view.Bits}:{string.Join(',', bins)}";
        if (!_startMessages.TryGetValue(key, out var start))
        {
            var json = JsonNode.Parse(_startJson!)!.AsObject();
            json["bin"] = new JsonArray([.. bins.Select(b => (JsonNode?)JsonValue.Create(b))]);
            json["bits"] = view.Bits;
            start = new SerializedHubMessage(Invocation(LiveHub.Methods.RunStart, json.ToJsonString()));
            _startMessages[key] = start;
        }

        session.Reset(start, bins, descriptor.RunId, _ticks);
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
        var payload = GC.AllocateUninitializedArray<byte>(frames.Sum(f => f.Values.Length) * sizeof(float));
        int h = 0, p = 0;
        foreach (var frame in frames)
        {
            header[h++] = frame.Entry;
            header[h++] = frame.Plane;
            header[h++] = frame.Row;
            header[h++] = frame.Column;
            header[h++] = frame.Values.Length;
            var target = payload.AsSpan(p, frame.Values.Length * sizeof(float));
            if (BitConverter.IsLittleEndian)
            {
                var floats = MemoryMarshal.Cast<byte, float>(target);
                var values = frame.Values.AsSpan();
                for (var k = 0; k < floats.Length; k++)
                {
                    floats[k] = (float)values[k];
                }
            }
            else
            {
                for (var k = 0; k < frame.Values.Length; k++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(target[(k * sizeof(float))..], (float)frame.Values[k]);
                }
            }

            p += target.Length;
        }

        return (header, payload);
    }

    /// <summary>Encodes lines with their values as float32 (bits 32) or windowed to 16 or 8 bits over the batch's range.</summary>
    internal static (int[] Header, byte[] Payload, float Low, float High) Encode(IReadOnlyList<Line> lines, int bits)
    {
        var header = new int[lines.Count * HeaderStride];
        var count = lines.Sum(l => l.Values.Length);
        int h = 0;
        float low = float.PositiveInfinity, high = float.NegativeInfinity;
        foreach (var line in lines)
        {
            header[h++] = line.Entry;
            header[h++] = line.Plane;
            header[h++] = line.Row;
            header[h++] = line.Column;
            header[h++] = line.Values.Length;
            foreach (var v in line.Values)
            {
                if (float.IsFinite(v))
                {
                    low = Math.Min(low, v);
                    high = Math.Max(high, v);
                }
            }
        }

        if (bits == 32)
        {
            var payload = new byte[count * sizeof(float)];
            var p = 0;
            foreach (var line in lines)
            {
                foreach (var v in line.Values)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(payload.AsSpan(p), v);
                    p += sizeof(float);
                }
            }

            return (header, payload, low, high);
        }

        // Windowed: code 0..max-1 spans [low, high]; the top code is "no value yet" (NaN).
        var top = bits == 16 ? ushort.MaxValue : byte.MaxValue;
        var span = high > low ? high - low : 1f;
        var quantized = new byte[count * (bits / 8)];
        var q = 0;
        foreach (var line in lines)
        {
            foreach (var v in line.Values)
            {
                var code = float.IsFinite(v) ? (int)Math.Round((v - low) / span * (top - 1)) : top;
                if (bits == 16)
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(quantized.AsSpan(q), (ushort)code);
                    q += 2;
                }
                else
                {
                    quantized[q++] = (byte)code;
                }
            }
        }

        return (header, quantized, float.IsFinite(low) ? low : 0, float.IsFinite(high) ? high : 0);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A live batch failed; its lines are in the run so far that viewers get as they join")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Live send to {Connection} failed; the connection is closed (its client reconnects)")]
    private static partial void LogSendFailed(ILogger logger, string connection, Exception exception);

    /// <summary>Lines messages of at most <see cref="MessageValues"/> values each, for lines in the order given.</summary>
    private static IEnumerable<InvocationMessage> LinesMessages(string runId, List<Frame> ordered)
    {
        // Bounded messages: their buffers stay off the large-object heap, which a slow connection's big backlog would
        // otherwise fragment and grow.
        for (var first = 0; first < ordered.Count;)
        {
            var (taken, values) = (0, 0);
            while (first + taken < ordered.Count && (taken == 0 || values + ordered[first + taken].Values.Length <= MessageValues))
            {
                values += ordered[first + taken++].Values.Length;
            }

            var (header, payload) = Encode(ordered.Skip(first).Take(taken).ToList());
            yield return Invocation(LiveHub.Methods.Lines, runId, header, payload, ServerTime());
            first += taken;
        }
    }

    private static InvocationMessage StopMessage(RunStop stop) =>
        Invocation(LiveHub.Methods.RunStop, stop.RunId.ToString(), stop.Status.ToString(), stop.Reason);

    private static InvocationMessage Invocation(string target, params object?[] arguments) => new(target, arguments);

    /// <summary>The server's clock as a lines message is made: milliseconds since 1970 (UTC), the stamp clients measure their latency from.</summary>
    private static double ServerTime() => (DateTime.UtcNow - DateTime.UnixEpoch).TotalMilliseconds;

    /// <summary>
    /// The lines of one batching interval (newest copy of each position, in the order taken) and the run's stop if it came
    /// in it; <see cref="Number"/> counts the batches, so that a connection seeded after a batch was made skips it. Its
    /// messages are serialized once, for every connection that is up to date.
    /// </summary>
    private sealed class Batch(long number, Guid runId, List<Frame> lines, RunStop? stop)
    {
        private SerializedHubMessage[]? _messages;

        public long Number { get; } = number;

        public Guid RunId { get; } = runId;

        public List<Frame> Lines { get; } = lines;

        public RunStop? Stop { get; } = stop;

        /// <summary>Values in its lines.</summary>
        public int Values { get; } = lines.Sum(f => f.Values.Length);

        /// <summary>The batch as hub messages, made once (by whichever connection needs them first) and shared.</summary>
        public SerializedHubMessage[] Messages => LazyInitializer.EnsureInitialized(ref _messages, () =>
        [
            .. LinesMessages(RunId.ToString(), Lines).Select(m => new SerializedHubMessage(m)),
            .. Stop is null ? [] : new[] { new SerializedHubMessage(StopMessage(Stop)) },
        ]);
    }

    /// <summary>
    /// One connection: what it has not yet received, and the loop that sends it. While it keeps up (nothing queued, no
    /// write in flight, full resolution) it is written each batch's shared messages; otherwise the batches wait, shared,
    /// and past <see cref="QueuedValues"/> are coalesced into its own map keyed by position; its loop sends what is
    /// queued when the last write is done (<see cref="Offer"/>).
    /// </summary>
    private sealed class Session : IDisposable
    {
        private readonly HubConnectionContext _connection;
        private readonly LiveBroadcaster _owner;
        private readonly Lock _gate = new();
        private readonly SemaphoreSlim _signal = new(0);
        private readonly CancellationTokenSource _closed = new();
        private Dictionary<(int, int, int, int), Frame> _lines = [];
        private HashSet<(int Entry, int Plane, int Row)> _binnedRows = [];
        private int[] _bins = [];
        private SerializedHubMessage? _start;
        private RunStop? _stop;
        private List<Batch> _batches = [];
        private SerializedHubMessage[] _seed = [];
        private int _batchedValues;
        private Guid _runId;
        private long _seenBatches;
        private bool _writing;
        private bool _full = true;

        public Session(HubConnectionContext connection, LiveBroadcaster owner)
        {
            _connection = connection;
            _owner = owner;
            Loop = Task.Run(RunAsync);
        }

        public Task Loop { get; }

        public string ConnectionId => _connection.ConnectionId;

        /// <summary>What this connection asked for; full resolution, float32 by default.</summary>
        public LiveView View { get; set; } = LiveView.Full;

        private bool Queued => _start is not null || _stop is not null || _seed.Length > 0 || _lines.Count > 0 || _binnedRows.Count > 0 || _batches.Count > 0;

        /// <summary>Full resolution, float32: this connection takes the shared batches and seed.</summary>
        public bool Full
        {
            get
            {
                lock (_gate)
                {
                    return _full;
                }
            }
        }

        /// <summary>
        /// A new run (or the run again in a new view): its start message, the bin of each entry, and batches up to
        /// <paramref name="seenBatches"/> skipped.
        /// </summary>
        public void Reset(SerializedHubMessage start, int[] bins, Guid runId, long seenBatches)
        {
            var view = View;
            lock (_gate)
            {
                _start = start;
                _bins = bins;
                _full = view.Bits == 32 && bins.All(b => b == 1);
                _runId = runId;
                _seenBatches = seenBatches;
                _lines.Clear();
                _binnedRows.Clear();
                _batches.Clear();
                _seed = [];
                _batchedValues = 0;
                _stop = null;
            }

            Wake();
        }

        /// <summary>Queues the run so far, as messages shared with the other connections seeded at the same point.</summary>
        public void Seeded(SerializedHubMessage[] messages)
        {
            lock (_gate)
            {
                _seed = messages;
            }

            Wake();
        }

        /// <summary>Queues a line (the seed of a connection that joins, or a batch it is not up to date for).</summary>
        public void Add(Frame frame)
        {
            lock (_gate)
            {
                Queue(frame);
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

        /// <summary>
        /// Takes a batch. Up to date: its shared messages are written now. A write in flight or something queued: the
        /// batch waits, shared, behind what is queued (a connection a little behind still costs no encoding of its own),
        /// until more than <see cref="QueuedValues"/> values wait; then the waiting batches are coalesced into this
        /// connection's own map of lines by position, bounded by the image. A lighter stream queues the lines in its own form.
        /// </summary>
        public void Offer(Batch batch)
        {
            lock (_gate)
            {
                if (batch.Number <= _seenBatches || batch.RunId != _runId || _closed.IsCancellationRequested)
                {
                    return; // in this connection's seed already, or of a run it has not started (or left)
                }

                _seenBatches = batch.Number;
                if (!_full)
                {
                    Coalesce(batch);
                    Wake();
                    return;
                }

                if (_writing || Queued)
                {
                    _batches.Add(batch);
                    _batchedValues += batch.Values;
                    if (_batchedValues > QueuedValues)
                    {
                        foreach (var waiting in _batches)
                        {
                            Coalesce(waiting);
                        }

                        _batches.Clear();
                        _batchedValues = 0;
                    }

                    Wake();
                    return;
                }

                _writing = true;
            }

            _ = WriteSharedAsync(batch.Messages);
        }

        private void Coalesce(Batch batch)
        {
            foreach (var frame in batch.Lines)
            {
                Queue(frame);
            }

            _stop = batch.Stop ?? _stop;
        }

        public void Close() => _closed.Cancel();

        public void Dispose()
        {
            _closed.Dispose();
            _signal.Dispose();
        }

        private void Queue(Frame frame)
        {
            if (frame.Entry < _bins.Length && _bins[frame.Entry] > 1)
            {
                _binnedRows.Add((frame.Entry, frame.Plane, frame.Row / _bins[frame.Entry]));
            }
            else
            {
                _lines[(frame.Entry, frame.Plane, frame.Row, frame.Column)] = frame;
            }
        }

        private void Wake()
        {
            if (_signal.CurrentCount == 0)
            {
                _signal.Release();
            }
        }

        private async Task WriteAsync(IEnumerable<SerializedHubMessage> messages)
        {
            foreach (var message in messages)
            {
                await _connection.WriteAsync(message, _closed.Token).ConfigureAwait(false);
            }
        }

        private async Task WriteSharedAsync(SerializedHubMessage[] messages)
        {
            try
            {
                await WriteAsync(messages).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_closed.IsCancellationRequested)
            {
                // The connection left.
            }
#pragma warning disable CA1031 // A failed write ends this connection only; the others go on.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Failed(ex);
            }
            finally
            {
                Written();
            }
        }

        /// <summary>
        /// The messages of what this connection queued of its own: the run's start, its lines (full resolution, or binned
        /// and windowed for a lighter stream, made from the image so far) and the stop, in that order.
        /// </summary>
        private IEnumerable<SerializedHubMessage> OwnMessages(SerializedHubMessage? start, SerializedHubMessage[] seed, Dictionary<(int, int, int, int), Frame> lines,
            HashSet<(int Entry, int Plane, int Row)> binned, int[] bins, RunStop? stop, Guid runId)
        {
            if (start is not null)
            {
                yield return start;
            }

            foreach (var message in seed)
            {
                yield return message;
            }

            var bits = View.Bits;
            if (lines.Count > 0 && bits == 32 && binned.Count == 0)
            {
                foreach (var message in LinesMessages(runId.ToString(), [.. lines.Values.OrderBy(f => f.Sequence)]))
                {
                    yield return new SerializedHubMessage(message);
                }
            }
            else if (lines.Count > 0 || binned.Count > 0)
            {
                var all = lines.Values.OrderBy(f => f.Sequence).Select(f => new Line(f.Entry, f.Plane, f.Row, f.Column, [.. f.Values.Select(v => (float)v)])).ToList();
                all.AddRange(_owner.BinnedRows(binned.OrderBy(r => r), bins));
                var (header, payload, low, high) = Encode(all, bits);
                yield return new SerializedHubMessage(bits == 32
                    ? Invocation(LiveHub.Methods.Lines, runId.ToString(), header, payload, ServerTime())
                    : Invocation(LiveHub.Methods.WindowedLines, runId.ToString(), header, payload, low, high, bits, ServerTime()));
            }

            if (stop is not null)
            {
                yield return new SerializedHubMessage(StopMessage(stop));
            }
        }

        /// <summary>The write in flight is done: what was queued meanwhile goes out with the sender loop.</summary>
        private void Written()
        {
            lock (_gate)
            {
                _writing = false;
                if (Queued)
                {
                    Wake();
                }
            }
        }

        private async Task RunAsync()
        {
            try
            {
                while (true)
                {
                    await _signal.WaitAsync(_closed.Token).ConfigureAwait(false);
                    SerializedHubMessage? start;
                    SerializedHubMessage[] seed;
                    List<Batch> batches;
                    Dictionary<(int, int, int, int), Frame> lines;
                    HashSet<(int Entry, int Plane, int Row)> binned;
                    int[] bins;
                    RunStop? stop;
                    Guid runId;
                    lock (_gate)
                    {
                        if (_writing || !Queued)
                        {
                            continue; // the write in flight wakes this loop when it is done
                        }

                        start = _start;
                        seed = _seed;
                        lines = _lines;
                        binned = _binnedRows;
                        bins = _bins;
                        stop = _stop;
                        runId = _runId;
                        batches = _batches;
                        _start = null;
                        _seed = [];
                        _stop = null;
                        _lines = [];
                        _binnedRows = [];
                        _batches = [];
                        _batchedValues = 0;
                        _writing = true;
                    }

                    try
                    {
                        // What this connection has queued of its own, then the batches that came meanwhile, in order,
                        // as they were serialized for everyone.
                        await WriteAsync(OwnMessages(start, seed, lines, binned, bins, stop, runId).Concat(batches.SelectMany(b => b.Messages))).ConfigureAwait(false);
                    }
                    finally
                    {
                        Written();
                    }
                }
            }
            catch (OperationCanceledException) when (_closed.IsCancellationRequested)
            {
                // The connection left.
            }
#pragma warning disable CA1031 // A failed write ends this connection only; the others go on.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Failed(ex);
            }
        }

        /// <summary>
        /// A write that failed (the transport broke under it) ends the connection, whichever queue it came from: the
        /// connection is aborted so that its client reconnects and is sent the run again, rather than staying open with a
        /// gap in what it was sent.
        /// </summary>
        private void Failed(Exception ex)
        {
            LogSendFailed(_owner._logger, _connection.ConnectionId, ex);
            if (!_closed.IsCancellationRequested)
            {
                Close(); // (a session that has left was closed before it was disposed)
            }

            _connection.Abort();
        }
    }
}

/// <summary>A run as far as it has come: see <see cref="LiveBroadcaster.Snapshot"/>.</summary>
/// <param name="RunId">The run.</param>
/// <param name="Descriptor">Its entries, shapes and axes.</param>
/// <param name="Frames">Every line taken so far (the newest copy of each position), in no particular order.</param>
/// <param name="Stop">How it ended; null while it runs.</param>
public sealed record LiveSnapshot(Guid RunId, Descriptor Descriptor, IReadOnlyList<Frame> Frames, RunStop? Stop);

/// <summary>What a live connection asks for: images no larger than MaxWidth × MaxHeight (0: full resolution), and 32 (float),
/// 16 or 8 bits per value.</summary>
public sealed record LiveView(int MaxWidth, int MaxHeight, int Bits)
{
    /// <summary>Full resolution, float32.</summary>
    public static LiveView Full { get; } = new(0, 0, 32);
}

/// <summary>A line to send: where it goes and its values.</summary>
internal sealed record Line(int Entry, int Plane, int Row, int Column, float[] Values);
