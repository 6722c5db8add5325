using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using StxmWeb.ChannelAccess.Protocol;
using StxmWeb.ChannelAccess.Server;

namespace StxmWeb.ChannelAccess.Tests;

/// <summary>
/// How the server delivers monitor updates, seen on a raw circuit: every change in order while the client keeps up,
/// the latest value last and a bounded queue when it does not, and libca's flow control (EVENTS_OFF / EVENTS_ON).
/// </summary>
public sealed class ServerMonitorTests : IAsyncLifetime
{
    private const ushort DbrDouble = (ushort)DbrBase.Double;
    private readonly ProcessVariable _pv = new("M:X", DbrValue.Of(0.0));
    private CaServer? _server;

    public async ValueTask InitializeAsync()
    {
        _server = new CaServer([_pv], NullLogger<CaServer>.Instance);
        await _server.StartAsync(IPAddress.Loopback);
    }

    [Fact]
    public async Task EveryChange_IsDelivered_InOrder_WhileTheClientKeepsUp()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var circuit = await RawCircuit.OpenAsync(_server!.Port, receiveBuffer: null, ct);
        Assert.Equal(0.0, (await circuit.NextUpdateAsync(ct)).Value);

        // Bursts smaller than what one subscription may hold waiting: nothing may be coalesced.
        var expected = new List<double>();
        var next = 1.0;
        for (var burst = 0; burst < 20; burst++)
        {
            for (var i = 0; i < ServerCircuit.SnapshotsPerSubscription - 2; i++)
            {
                expected.Add(next);
                _pv.Set(new[] { next++ });
            }

            var received = new List<double>();
            while (received.Count < ServerCircuit.SnapshotsPerSubscription - 2)
            {
                received.Add((await circuit.NextUpdateAsync(ct)).Value);
            }

            Assert.Equal(expected.TakeLast(received.Count), received);
        }
    }

    [Fact]
    public async Task AClientThatDoesNotRead_GetsCoalescedUpdates_EndingWithTheLatest()
    {
        var ct = TestContext.Current.CancellationToken;

        // A small receive window: the server's socket buffer and its bounded queue fill long before the burst ends.
        await using var circuit = await RawCircuit.OpenAsync(_server!.Port, receiveBuffer: 4096, ct);
        Assert.Equal(0.0, (await circuit.NextUpdateAsync(ct)).Value);
        const int Changes = 300_000;
        for (var i = 1; i <= Changes; i++)
        {
            _pv.Set(new[] { (double)i });
        }

        var received = new List<double>();
        while (received.Count == 0 || received[^1] < Changes)
        {
            received.Add((await circuit.NextUpdateAsync(ct)).Value);
        }

        Assert.True(received.Zip(received.Skip(1)).All(p => p.First < p.Second), "updates arrived out of order");
        Assert.True(received.Count < Changes, $"all {Changes} changes were queued for a client that did not read");
        Assert.False(await circuit.AnyUpdateWithinEchoAsync(ct), "an update came after the latest value");
    }

    [Fact]
    public async Task EventsOff_HoldsUpdates_AndEventsOn_SendsTheLatestOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var circuit = await RawCircuit.OpenAsync(_server!.Port, receiveBuffer: null, ct);
        Assert.Equal(0.0, (await circuit.NextUpdateAsync(ct)).Value);

        await circuit.SendAsync(new EventsOffRequest(), ct);
        Assert.False(await circuit.AnyUpdateWithinEchoAsync(ct)); // the server has read EVENTS_OFF
        for (var i = 1; i <= 100; i++)
        {
            _pv.Set(new[] { (double)i });
        }

        await Task.Delay(200, ct);
        Assert.False(await circuit.AnyUpdateWithinEchoAsync(ct), "an update was sent while the client held events off");

        await circuit.SendAsync(new EventsOnRequest(), ct);
        Assert.Equal(100.0, (await circuit.NextUpdateAsync(ct)).Value);
        Assert.False(await circuit.AnyUpdateWithinEchoAsync(ct), "more than the latest update was sent on EVENTS_ON");

        var after = 101.0;
        _pv.Set(new[] { after });
        Assert.Equal(101.0, (await circuit.NextUpdateAsync(ct)).Value);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>One circuit spoken by hand: a channel to M:X and one DBR_DOUBLE subscription (id 7).</summary>
    private sealed class RawCircuit : IAsyncDisposable
    {
        private readonly TcpClient _tcp;
        private readonly NetworkStream _stream;
        private byte[] _pending = new byte[256 * 1024];
        private int _start;
        private int _end;

        private RawCircuit(TcpClient tcp)
        {
            _tcp = tcp;
            _stream = tcp.GetStream();
        }

        public static async Task<RawCircuit> OpenAsync(int port, int? receiveBuffer, CancellationToken ct)
        {
            var tcp = new TcpClient();
            if (receiveBuffer is { } size)
            {
                tcp.ReceiveBufferSize = size;
            }

            await tcp.ConnectAsync(IPAddress.Loopback, port, ct);
            var circuit = new RawCircuit(tcp);
            await circuit.SendAsync(new VersionRequest(0), ct);
            await circuit.SendAsync(new CreateChanRequest("M:X", 1), ct);
            var created = await circuit.NextAsync<CreateChanResponse>(ct);
            await circuit.SendAsync(new EventAddRequest(DbrDouble, 1, created.Sid, 7, MonitorMask.Value), ct);
            return circuit;
        }

        public async Task SendAsync(Command command, CancellationToken ct) => await _stream.WriteAsync(command.ToBytes(), ct);

        public async Task<(double Value, EventAddResponse Message)> NextUpdateAsync(CancellationToken ct)
        {
            var update = await NextAsync<EventAddResponse>(ct);
            Assert.Equal(7u, update.SubscriptionId);
            return (BinaryPrimitives.ReadDoubleBigEndian(update.Data.Span), update);
        }

        /// <summary>Sends an ECHO and reads to its reply: whether any update came before it.</summary>
        public async Task<bool> AnyUpdateWithinEchoAsync(CancellationToken ct)
        {
            await SendAsync(new EchoRequest(), ct);
            var any = false;
            while (true)
            {
                switch (await NextAsync<Command>(ct))
                {
                    case EchoResponse:
                        return any;
                    case EventAddResponse:
                        any = true;
                        break;
                }
            }
        }

        public async Task<T> NextAsync<T>(CancellationToken ct)
            where T : Command
        {
            while (true)
            {
                while (Framing.TryRead(new ReadOnlySequence<byte>(_pending, _start, _end - _start), out var raw, out var consumed, out _) == OperationStatus.Done)
                {
                    var command = Commands.Decode(raw, Role.Server);
                    _start += (int)consumed;
                    if (command is T wanted)
                    {
                        return wanted;
                    }
                }

                // Keep the unread tail at the front, then read after it.
                _pending.AsSpan(_start, _end - _start).CopyTo(_pending);
                _end -= _start;
                _start = 0;
                if (_end == _pending.Length)
                {
                    Array.Resize(ref _pending, _pending.Length * 2);
                }

                var n = await _stream.ReadAsync(_pending.AsMemory(_end), ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), ct);
                Assert.True(n > 0, "the server closed the circuit");
                _end += n;
            }
        }

        public ValueTask DisposeAsync()
        {
            _tcp.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
