using Microsoft.Extensions.Logging.Abstractions;
using NetMQ;
using NetMQ.Sockets;
using StxmWeb.Pixelator.Client;
using StxmWeb.Pixelator.Protocol;
using StxmWeb.Pixelator.Server;
using StxmWeb.Testing;

namespace StxmWeb.Pixelator.Tests;

/// <summary>The NetMQ transports over real TCP sockets: requests and replies, publications, Lazy Pirate, liveness.</summary>
[Trait("Category", "Integration")]
public sealed class TransportTests
{
    private static PixelatorServer Server(Func<PixelatorRequest, PixelatorReply> handler, PixelatorPorts? ports = null) => new(
        new PixelatorServerOptions { Address = "127.0.0.1", PublisherPort = ports?.Publisher ?? 0, RequestPort = ports?.Request ?? 0, DataPublisherPort = ports?.Data ?? 0 },
        handler, NullLogger<PixelatorServer>.Instance);

    private static PixelatorClient Client(PixelatorPorts ports, double timeoutSeconds = 1, int attempts = 2, double livenessSeconds = 1) => new(
        new PixelatorClientOptions
        {
            Host = "127.0.0.1",
            SubPort = ports.Publisher,
            ReqPort = ports.Request,
            DataPort = ports.Data,
            RequestTimeout = TimeSpan.FromSeconds(timeoutSeconds),
            Attempts = attempts,
            Liveness = TimeSpan.FromSeconds(livenessSeconds),
        },
        NullLogger<PixelatorClient>.Instance);

    /// <summary>NetMQ closes a socket on its I/O thread, a moment after Dispose: binding the same port again waits for that.</summary>
    private static async Task<PixelatorServer> BindWhenFreeAsync(Func<PixelatorServer> bind)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                return bind();
            }
            catch (AddressAlreadyInUseException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    private static PixelatorPorts PortsOf(PixelatorServer server) => new(server.PublisherPort, server.RequestPort, server.DataPublisherPort);

    [Fact(Timeout = 60_000)]
    public async Task Request_GetsTheHandlersReply_OverTcp()
    {
        await using var server = Server(r => r is MoveRequest m ? PixelatorReply.Ok(PixelatorFraming.ToJson(m.Positions)) : PixelatorReply.Error("no"));
        await using var client = Client(PortsOf(server));

        var reply = await client.CommandAsync(new MoveRequest("OSAX", 12.5), TestContext.Current.CancellationToken);
        var refused = await client.RequestAsync(new PauseScanRequest(), TestContext.Current.CancellationToken);

        Assert.Equal("[12.5]", reply.Payload[0]);
        Assert.False(refused.Status.IsOk);
        Assert.Equal("no", refused.Status.Message);
    }

    [Fact(Timeout = 60_000)]
    public async Task ManyRequestsFromManyThreads_EachGetsItsOwnReply()
    {
        await using var server = Server(r => PixelatorReply.Ok(PixelatorFraming.ToJson(((MoveRequest)r).Positions[0])));
        await using var client = Client(PortsOf(server), timeoutSeconds: 5);

        var replies = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(() => client.CommandAsync(new MoveRequest("OSAX", i), TestContext.Current.CancellationToken))));

        Assert.Equal(Enumerable.Range(0, 200).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), replies.Select(r => r.Payload[0]));
    }

    [Fact(Timeout = 60_000)]
    public async Task MalformedRequest_GetsAnErrorReply_AndTheServerGoesOn()
    {
        await using var server = Server(_ => PixelatorReply.Ok());
        using var raw = new RequestSocket();
        raw.Connect($"tcp://127.0.0.1:{server.RequestPort}");

        raw.SendMultipartBytes(PixelatorFraming.Encode(["moveRequest", "{broken"]));
        var frames = new List<byte[]>();
        Assert.True(raw.TryReceiveMultipartBytes(TimeSpan.FromSeconds(10), ref frames));
        var reply = PixelatorReply.Decode(PixelatorFraming.Decode(frames));
        raw.SendMultipartBytes([[0xff, 0xfe]]);
        Assert.True(raw.TryReceiveMultipartBytes(TimeSpan.FromSeconds(10), ref frames));
        var notText = PixelatorReply.Decode(PixelatorFraming.Decode(frames));
        raw.SendMultipartBytes(PixelatorFraming.Encode(["initialize"]));
        Assert.True(raw.TryReceiveMultipartBytes(TimeSpan.FromSeconds(10), ref frames));
        var fine = PixelatorReply.Decode(PixelatorFraming.Decode(frames));

        Assert.Contains("not valid JSON", reply.Status.Message, StringComparison.Ordinal);
        Assert.Contains("not UTF-8", notText.Status.Message, StringComparison.Ordinal);
        Assert.True(fine.Status.IsOk);
    }

    [Fact(Timeout = 60_000)]
    public async Task Publications_ReachTheSubscriber_AndMalformedOnesAreDroppedAndCounted()
    {
        await using var server = Server(_ => PixelatorReply.Ok());
        await using var client = Client(PortsOf(server));
        var received = new System.Collections.Concurrent.ConcurrentQueue<PublishedMessage>();
        using var subscription = client.Subscribe(a => received.Enqueue(a.Message));

        // A SUB socket joins a little after it connects (ZeroMQ's slow joiner): publish until the first arrives.
        await Eventually.HoldsAsync(() =>
        {
            server.Publish(new PositionerStatusMessage([new PositionerState("OSAX", 1, "ok")]));
            return !received.IsEmpty;
        }, "the first publication", cancellationToken: TestContext.Current.CancellationToken);
        server.PublishRaw(["scanLineData", "0 0", "nonsense"]);
        server.Publish(new ScanLineDataMessage(0, 0, 0, 0, 1, 0, 1, 3, [1, 2, 3]));
        server.Publish(new FilenameMessage("a.hdf5", "/data"), onDataPort: true);

        await Eventually.HoldsAsync(() => received.OfType<ScanLineDataMessage>().Any() && received.OfType<FilenameMessage>().Any(),
            "the line and the file-port message", cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal([1.0, 2, 3], received.OfType<ScanLineDataMessage>().Single().Values);
        Assert.Equal(1, client.MalformedMessages);
    }

    [Fact(Timeout = 60_000)]
    public async Task AServerThatNeverAnswers_TimesOut_AndANewSocketReachesTheServerThatReplacesIt()
    {
        // A REP socket that takes requests and never answers: the REQ socket is stuck (Lazy Pirate's case).
        var ports = PixelatorPorts.Free();
        var mute = new ResponseSocket();
        mute.Options.Linger = TimeSpan.Zero;
        mute.Bind($"tcp://127.0.0.1:{ports.Request}");
        await using var client = Client(ports, timeoutSeconds: 0.5, attempts: 3);

        var idempotent = await Assert.ThrowsAsync<PixelatorTimeoutException>(() => client.RequestAsync(new InitializeRequest(), TestContext.Current.CancellationToken));
        var once = await Assert.ThrowsAsync<PixelatorTimeoutException>(() => client.RequestAsync(new StartScanRequest(ProtocolTests.SampleScan), TestContext.Current.CancellationToken));
        mute.Dispose();
        await using var server = await BindWhenFreeAsync(() => Server(_ => PixelatorReply.Ok("\"back\""), ports));
        var reply = await client.CommandAsync(new InitializeRequest(), TestContext.Current.CancellationToken);

        Assert.Contains("'initialize' within 0.5 s (3 tries)", idempotent.Message, StringComparison.Ordinal);
        Assert.Contains($"tcp://127.0.0.1:{ports.Request}", idempotent.Message, StringComparison.Ordinal);
        Assert.Contains("not sent again", once.Message, StringComparison.Ordinal);
        Assert.Equal("\"back\"", reply.Payload[0]);
    }

    [Fact(Timeout = 60_000)]
    public async Task SilenceOnTheStatusPort_IsReported_AndItsEndToo()
    {
        var ports = PixelatorPorts.Free();
        var server = Server(_ => PixelatorReply.Ok(), ports);
        await using var client = Client(ports, livenessSeconds: 0.5);
        var changes = new System.Collections.Concurrent.ConcurrentQueue<bool>();
        client.AliveChanged += changes.Enqueue;
        using var heartbeat = new CancellationTokenSource();
        var beating = Task.Run(async () =>
        {
            while (!heartbeat.IsCancellationRequested)
            {
                server.Publish(new PositionerStatusMessage([]));
                await Task.Delay(50, CancellationToken.None);
            }
        }, CancellationToken.None);

        await Eventually.HoldsAsync(() => client.IsAlive, "the heartbeat", cancellationToken: TestContext.Current.CancellationToken);
        await heartbeat.CancelAsync();
        await beating;
        await server.DisposeAsync();
        await Eventually.HoldsAsync(() => !client.IsAlive, "the silence to be noticed", cancellationToken: TestContext.Current.CancellationToken);
        await using var again = await BindWhenFreeAsync(() => Server(_ => PixelatorReply.Ok(), ports));
        await Eventually.HoldsAsync(() =>
        {
            again.Publish(new PositionerStatusMessage([]));
            return client.IsAlive;
        }, "the controller to be heard again", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal([true, false, true], changes.ToArray());
    }
}
