// The controller side of the protocol, for the simulated PixelatorController: a REP socket that answers requests and
// two PUB sockets (status/data, file content), all owned by one poller thread. Publications from any thread go through
// a NetMQQueue. A request that cannot be decoded gets an error reply naming the problem; the server never stops for it.
using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;
using StxmWeb.Pixelator.Protocol;

namespace StxmWeb.Pixelator.Server;

/// <summary>Where the controller listens (its settings.json "publisherPort", "requestPort", "dataPublisherPort").</summary>
public sealed class PixelatorServerOptions
{
    /// <summary>Address to bind, "*" for every interface.</summary>
    public string Address { get; set; } = "*";

    /// <summary>Status/data publisher port; 0 picks a free one.</summary>
    public int PublisherPort { get; set; } = 56561;

    /// <summary>Request port; 0 picks a free one.</summary>
    public int RequestPort { get; set; } = 56562;

    /// <summary>File-content publisher port; 0 picks a free one.</summary>
    public int DataPublisherPort { get; set; } = 56563;
}

/// <summary>Answers requests with a handler and publishes messages.</summary>
public sealed partial class PixelatorServer : IAsyncDisposable
{
    private readonly NetMQPoller _poller = [];
    private readonly ResponseSocket _rep = new();
    private readonly PublisherSocket _pub = new();
    private readonly PublisherSocket _data = new();
    private readonly NetMQQueue<(bool Data, byte[][] Frames)> _outbox = new();
    private readonly Func<PixelatorRequest, PixelatorReply> _handler;
    private readonly ILogger _logger;
    private int _disposed;

    /// <summary>
    /// Binds the sockets and starts answering with <paramref name="handler"/>, which runs on the poller thread: it must
    /// answer quickly and leave long work (a scan) to a task of its own.
    /// </summary>
    public PixelatorServer(PixelatorServerOptions options, Func<PixelatorRequest, PixelatorReply> handler, ILogger<PixelatorServer> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _handler = handler ?? throw new ArgumentNullException(nameof(handler));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        foreach (var socket in new NetMQSocket[] { _rep, _pub, _data })
        {
            socket.Options.Linger = TimeSpan.Zero;
        }

        // Subscribers that fall behind get a deep queue before anything is dropped (ZeroMQ PUB drops at the watermark).
        _pub.Options.SendHighWatermark = 200_000;
        _data.Options.SendHighWatermark = 1000;
        try
        {
            RequestPort = Bind(_rep, options.Address, options.RequestPort);
            PublisherPort = Bind(_pub, options.Address, options.PublisherPort);
            DataPublisherPort = Bind(_data, options.Address, options.DataPublisherPort);
        }
        catch
        {
            // A port in use: nothing stays bound or open.
            _rep.Dispose();
            _pub.Dispose();
            _data.Dispose();
            _outbox.Dispose();
            _poller.Dispose();
            throw;
        }

        _rep.ReceiveReady += (_, e) => Answer(e.Socket);
        _outbox.ReceiveReady += (_, _) => Flush();
        _poller.Add(_rep);
        _poller.Add(_outbox);
        _poller.RunAsync("Pixelator server", isBackgroundThread: true);
    }

    /// <summary>The bound request port.</summary>
    public int RequestPort { get; }

    /// <summary>The bound status/data publisher port.</summary>
    public int PublisherPort { get; }

    /// <summary>The bound file-content publisher port.</summary>
    public int DataPublisherPort { get; }

    /// <summary>Requests answered so far, malformed ones included.</summary>
    public long Requests { get; private set; }

    /// <summary>Publishes <paramref name="message"/> on the status/data port (or the file-content port). Any thread.</summary>
    public void Publish(PublishedMessage message, bool onDataPort = false)
    {
        ArgumentNullException.ThrowIfNull(message);
        PublishRaw(message.ToFrames(), onDataPort);
    }

    /// <summary>Publishes raw frames (tests send malformed messages this way). Any thread.</summary>
    public void PublishRaw(IReadOnlyList<string> frames, bool onDataPort = false)
    {
        if (Volatile.Read(ref _disposed) == 0)
        {
            _outbox.Enqueue((onDataPort, PixelatorFraming.Encode(frames)));
        }
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
        _rep.Dispose();
        _pub.Dispose();
        _data.Dispose();
        _outbox.Dispose();
    }

    private static int Bind(NetMQSocket socket, string address, int port)
    {
        if (port == 0)
        {
            return socket.BindRandomPort($"tcp://{address}");
        }

        socket.Bind($"tcp://{address}:{port}");
        return port;
    }

    private void Answer(NetMQSocket socket)
    {
        var frames = new List<byte[]>();
        if (!socket.TryReceiveMultipartBytes(ref frames))
        {
            return;
        }

        Requests++;
        PixelatorReply reply;
        try
        {
            var request = PixelatorRequest.Decode(PixelatorFraming.Decode(frames));
            reply = _handler(request);
        }
        catch (PixelatorProtocolException ex)
        {
            LogMalformed(_logger, ex.Message);
            reply = PixelatorReply.Error(ex.Message);
        }
#pragma warning disable CA1031 // A handler's fault becomes an error reply; the REP socket must answer every request or it is stuck.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogHandlerFailed(_logger, ex);
            reply = PixelatorReply.Error($"The controller failed: {ex.Message}");
        }

        socket.SendMultipartBytes(PixelatorFraming.Encode(reply.ToFrames()));
    }

    private void Flush()
    {
        while (_outbox.TryDequeue(out var item, TimeSpan.Zero))
        {
            (item.Data ? _data : _pub).SendMultipartBytes(item.Frames);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Malformed request answered with an error: {Reason}")]
    private static partial void LogMalformed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "A request handler failed")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception);
}
