// The client transport: three NetMQ sockets owned by one poller thread (NetMQ sockets are not thread-safe; docs/poller.md)
//   SUB  tcp://host:56561  status and line data (positionerStatus, scanStatus, scanLineData, ...)
//   REQ  tcp://host:56562  commands, one in flight at a time (REQ alternates send and receive strictly)
//   SUB  tcp://host:56563  file content (scanFileContent)
// Requests reach the poller through a NetMQQueue; replies complete their tasks. A request without a reply in time gets
// the Lazy Pirate treatment (zguide chapter 4): the stuck REQ socket is closed and a new one connected; an idempotent
// request is sent again, up to the retry count, any other fails at once (it may have reached the controller). The SUB
// sockets double as a heartbeat: the controller publishes positionerStatus several times a second, so silence for
// longer than the liveness interval means the controller (or the network) is gone.
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;
using StxmWeb.Pixelator.Protocol;

namespace StxmWeb.Pixelator.Client;

/// <summary>Where the controller is and how patient to be with it (pyStxm's DCS_HOST, DCS_SUB_PORT, DCS_REQ_PORT, DATA_SUB_PORT).</summary>
public sealed class PixelatorClientOptions
{
    /// <summary>Controller host (DCS_HOST).</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>Status/data publisher port (DCS_SUB_PORT).</summary>
    public int SubPort { get; set; } = 56561;

    /// <summary>Request port (DCS_REQ_PORT).</summary>
    public int ReqPort { get; set; } = 56562;

    /// <summary>File-content publisher host (DATA_SERVER_HOST); null: <see cref="Host"/>.</summary>
    public string? DataHost { get; set; }

    /// <summary>File-content publisher port (DATA_SUB_PORT).</summary>
    public int DataPort { get; set; } = 56563;

    /// <summary>How long to wait for a reply before the REQ socket is replaced.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Times an idempotent request is sent in all before it fails.</summary>
    public int Attempts { get; set; } = 3;

    /// <summary>Silence on the status port longer than this means the controller is gone.</summary>
    public TimeSpan Liveness { get; set; } = TimeSpan.FromSeconds(3);

    internal string Endpoint(int port, string? host = null) => $"tcp://{host ?? Host}:{port}";
}

/// <summary>The controller did not answer a request: it names the request, the endpoint and how long it waited.</summary>
public sealed class PixelatorTimeoutException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PixelatorTimeoutException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    public PixelatorTimeoutException() : this("The Pixelator controller did not answer.") { }

    /// <summary>Creates the exception.</summary>
    public PixelatorTimeoutException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>A published message and when it arrived.</summary>
/// <param name="Message">The message.</param>
/// <param name="Timestamp">Arrival, <see cref="TimeProvider.GetTimestamp"/> of the system clock.</param>
public readonly record struct Arrival(PublishedMessage Message, long Timestamp);

/// <summary>
/// StxmWeb's connection to a PixelatorController: requests with replies, and the published messages. Subscribers are
/// called on the poller thread and must not block (hand the work to a queue).
/// </summary>
public sealed partial class PixelatorClient : IAsyncDisposable
{
    private readonly PixelatorClientOptions _options;
    private readonly ILogger _logger;
    private readonly NetMQPoller _poller = [];
    private readonly NetMQQueue<Pending> _outbox = new();
    private readonly NetMQTimer _timer = new(TimeSpan.FromMilliseconds(100));
    private readonly SubscriberSocket _status = new();
    private readonly SubscriberSocket _files = new();
    private readonly Queue<Pending> _waiting = new();
    private readonly Lock _subscribersGate = new();
    private Action<Arrival>[] _subscribers = [];
    private RequestSocket _req;
    private Pending? _inFlight;
    private long _lastHeard;
    private bool _alive;
    private int _disposed;
    private long _malformed;

    /// <summary>Connects the sockets (ZeroMQ connects lazily: nothing fails if the controller is not there yet) and starts the poller.</summary>
    public PixelatorClient(PixelatorClientOptions options, ILogger<PixelatorClient> logger)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        Configure(_status);
        Configure(_files);
        _status.Connect(options.Endpoint(options.SubPort));
        _status.SubscribeToAnyTopic();
        _files.Connect(options.Endpoint(options.DataPort, options.DataHost));
        _files.SubscribeToAnyTopic();
        _req = NewRequestSocket();
        _status.ReceiveReady += (_, e) => Drain(e.Socket);
        _files.ReceiveReady += (_, e) => Drain(e.Socket);
        _outbox.ReceiveReady += (_, _) => TakeOutbox();
        _timer.Elapsed += (_, _) => Tick();
        _poller.Add(_status);
        _poller.Add(_files);
        _poller.Add(_req);
        _poller.Add(_outbox);
        _poller.Add(_timer);
        _lastHeard = TimeProvider.System.GetTimestamp();
        _poller.RunAsync("Pixelator client", isBackgroundThread: true);
    }

    /// <summary>Raised (on the poller thread) when the controller starts or stops being heard.</summary>
    public event Action<bool>? AliveChanged;

    /// <summary>Whether the controller has published within the liveness interval.</summary>
    public bool IsAlive => Volatile.Read(ref _alive);

    /// <summary>Malformed messages received and dropped so far.</summary>
    public long MalformedMessages => Interlocked.Read(ref _malformed);

    /// <summary>The endpoints, for messages.</summary>
    public string Description => $"{_options.Endpoint(_options.ReqPort)} (publishing on {_options.SubPort}, files on {_options.DataPort})";

    /// <summary>Calls <paramref name="subscriber"/> for every published message (on the poller thread); dispose to stop.</summary>
    public IDisposable Subscribe(Action<Arrival> subscriber)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        lock (_subscribersGate)
        {
            _subscribers = [.. _subscribers, subscriber];
        }

        return new Unsubscriber(this, subscriber);
    }

    /// <summary>
    /// Sends <paramref name="request"/> and returns the controller's reply (ok or not; see <see cref="PixelatorReply.EnsureOk"/>).
    /// Throws <see cref="PixelatorTimeoutException"/> when no reply comes after the allowed attempts.
    /// </summary>
    public Task<PixelatorReply> RequestAsync(PixelatorRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var pending = new Pending(request, cancellationToken);
        _outbox.Enqueue(pending);
        return pending.Reply.Task;
    }

    /// <summary>Sends <paramref name="request"/> and throws <see cref="PixelatorCommandException"/> unless the reply is ok.</summary>
    public async Task<PixelatorReply> CommandAsync(PixelatorRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var reply = await RequestAsync(request, cancellationToken).ConfigureAwait(false);
        return reply.EnsureOk(request.Command);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_poller.IsRunning)
        {
            await Task.Run(_poller.Stop).ConfigureAwait(false);
        }

        _poller.Dispose();
        foreach (var pending in _waiting.Concat(_inFlight is null ? [] : [_inFlight]).Concat(_outbox))
        {
            pending.Reply.TrySetException(new ObjectDisposedException(nameof(PixelatorClient), "The Pixelator client was closed."));
        }

        _req.Dispose();
        _status.Dispose();
        _files.Dispose();
        _outbox.Dispose();
    }

    private static void Configure(SubscriberSocket socket)
    {
        socket.Options.Linger = TimeSpan.Zero;

        // Line data come fast (1000 lines/s and more); a deep queue rides out a busy moment instead of dropping lines.
        socket.Options.ReceiveHighWatermark = 200_000;
        socket.Options.ReconnectInterval = TimeSpan.FromMilliseconds(200);
        socket.Options.ReconnectIntervalMax = TimeSpan.FromSeconds(2);
    }

    private RequestSocket NewRequestSocket()
    {
        var socket = new RequestSocket();
        socket.Options.Linger = TimeSpan.Zero;
        socket.Options.ReconnectInterval = TimeSpan.FromMilliseconds(200);
        socket.Options.ReconnectIntervalMax = TimeSpan.FromSeconds(2);
        socket.Connect(_options.Endpoint(_options.ReqPort));
        socket.ReceiveReady += (_, e) => TakeReply(e.Socket);
        return socket;
    }

    private void Drain(NetMQSocket socket)
    {
        var frames = new List<byte[]>();
        while (socket.TryReceiveMultipartBytes(ref frames))
        {
            var now = TimeProvider.System.GetTimestamp();
            Heard(now);
            PublishedMessage message;
            try
            {
                message = PublishedMessage.Decode(PixelatorFraming.Decode(frames));
            }
            catch (PixelatorProtocolException ex)
            {
                // A malformed publication is dropped and counted; the connection stays.
                if (Interlocked.Increment(ref _malformed) <= 20)
                {
                    LogMalformed(_logger, ex.Message);
                }

                continue;
            }

            foreach (var subscriber in Volatile.Read(ref _subscribers))
            {
                try
                {
                    subscriber(new Arrival(message, now));
                }
#pragma warning disable CA1031 // A subscriber's bug must not stop the poller thread that every other subscriber and request needs.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    LogSubscriberFailed(_logger, message.Name, ex);
                }
            }
        }
    }

    private void Heard(long now)
    {
        _lastHeard = now;
        if (!_alive)
        {
            Volatile.Write(ref _alive, true);
            LogAlive(_logger, Description);
            AliveChanged?.Invoke(true);
        }
    }

    private void TakeOutbox()
    {
        while (_outbox.TryDequeue(out var pending, TimeSpan.Zero))
        {
            _waiting.Enqueue(pending);
        }

        SendNext();
    }

    private void SendNext()
    {
        while (_inFlight is null && _waiting.TryDequeue(out var next))
        {
            if (next.Cancellation.IsCancellationRequested)
            {
                next.Reply.TrySetCanceled(next.Cancellation);
                continue;
            }

            _inFlight = next;
            Send(next);
        }
    }

    private void Send(Pending pending)
    {
        pending.Attempts++;
        pending.Deadline = TimeProvider.System.GetTimestamp() + (long)(_options.RequestTimeout.TotalSeconds * TimeProvider.System.TimestampFrequency);
        _req.SendMultipartBytes(PixelatorFraming.Encode(pending.Request.ToFrames()));
    }

    private void TakeReply(NetMQSocket socket)
    {
        var frames = new List<byte[]>();
        if (!socket.TryReceiveMultipartBytes(ref frames))
        {
            return;
        }

        var pending = _inFlight;
        _inFlight = null;
        if (pending is not null)
        {
            try
            {
                pending.Reply.TrySetResult(PixelatorReply.Decode(PixelatorFraming.Decode(frames)));
            }
            catch (PixelatorProtocolException ex)
            {
                pending.Reply.TrySetException(new PixelatorProtocolException($"The reply to '{pending.Request.Command}' is malformed: {ex.Message}", ex));
            }
        }

        SendNext();
    }

    private void Tick()
    {
        var now = TimeProvider.System.GetTimestamp();
        if (_alive && TimeProvider.System.GetElapsedTime(_lastHeard, now) > _options.Liveness)
        {
            Volatile.Write(ref _alive, false);
            LogSilent(_logger, Description, _options.Liveness.TotalSeconds);
            AliveChanged?.Invoke(false);
        }

        if (_inFlight is not { } pending)
        {
            return;
        }

        if (pending.Cancellation.IsCancellationRequested)
        {
            // The reply may still come; a fresh socket makes sure it cannot be taken for the next request's.
            pending.Reply.TrySetCanceled(pending.Cancellation);
            ReplaceRequestSocket();
            _inFlight = null;
            SendNext();
            return;
        }

        if (now < pending.Deadline)
        {
            return;
        }

        ReplaceRequestSocket();
        if (pending.Request.IsIdempotent && pending.Attempts < _options.Attempts)
        {
            LogRetry(_logger, pending.Request.Command, pending.Attempts, _options.RequestTimeout.TotalSeconds);
            Send(pending);
            return;
        }

        _inFlight = null;
        var tries = pending.Attempts == 1 ? "" : $" ({pending.Attempts} tries)";
        var maybe = pending.Request.IsIdempotent ? "" : "; it is not sent again, since it may have reached the controller";
        pending.Reply.TrySetException(new PixelatorTimeoutException(
            $"The Pixelator controller at {_options.Endpoint(_options.ReqPort)} did not answer '{pending.Request.Command}' within {_options.RequestTimeout.TotalSeconds:0.#} s{tries}{maybe}."));
        SendNext();
    }

    /// <summary>Lazy Pirate: a REQ socket waiting for a lost reply can never send again; close it and open a new one.</summary>
    private void ReplaceRequestSocket()
    {
        _poller.Remove(_req);
        _req.Dispose();
        _req = NewRequestSocket();
        _poller.Add(_req);
    }

    private void Unsubscribe(Action<Arrival> subscriber)
    {
        lock (_subscribersGate)
        {
            _subscribers = [.. _subscribers.Where(s => s != subscriber)];
        }
    }

    private sealed class Pending(PixelatorRequest request, CancellationToken cancellation)
    {
        public PixelatorRequest Request { get; } = request;

        public CancellationToken Cancellation { get; } = cancellation;

        public TaskCompletionSource<PixelatorReply> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Attempts { get; set; }

        public long Deadline { get; set; }
    }

    private sealed class Unsubscriber(PixelatorClient client, Action<Arrival> subscriber) : IDisposable
    {
        public void Dispose() => client.Unsubscribe(subscriber);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Malformed message from the Pixelator controller dropped: {Reason}")]
    private static partial void LogMalformed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "A subscriber to {Message} failed")]
    private static partial void LogSubscriberFailed(ILogger logger, string message, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pixelator controller at {Endpoint} is publishing")]
    private static partial void LogAlive(ILogger logger, string endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pixelator controller at {Endpoint} has been silent for {Seconds} s")]
    private static partial void LogSilent(ILogger logger, string endpoint, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No reply to '{Command}' (try {Attempt}) within {Seconds} s; the request socket is replaced and the request sent again")]
    private static partial void LogRetry(ILogger logger, string command, int attempt, double seconds);
}
