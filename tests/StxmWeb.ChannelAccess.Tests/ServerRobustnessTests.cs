using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using StxmWeb.ChannelAccess.Client;
using StxmWeb.ChannelAccess.Protocol;
using StxmWeb.ChannelAccess.Server;

namespace StxmWeb.ChannelAccess.Tests;

/// <summary>Malformed and truncated input over real sockets never brings the server down.</summary>
public sealed class ServerRobustnessTests : IAsyncLifetime
{
    private readonly ProcessVariable _pv = new("R:X", DbrValue.Of(4.5));
    private CaServer? _server;

    public async ValueTask InitializeAsync()
    {
        _server = new CaServer([_pv], NullLogger<CaServer>.Instance);
        await _server.StartAsync(IPAddress.Loopback);
    }

    [Fact]
    public async Task FuzzedCircuitsAndDatagrams_LeaveTheServerServing()
    {
        var ct = TestContext.Current.CancellationToken;
        var random = new Random(99);
        for (var trial = 0; trial < 60; trial++)
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, _server!.Port, ct);
            var stream = tcp.GetStream();
            var bytes = new byte[random.Next(1, 400)];
            random.NextBytes(bytes);
            if (trial % 3 == 0)
            {
                // A valid start, then garbage: a VERSION and a CREATE_CHAN cut short.
                var valid = new VersionRequest(0).ToBytes().Concat(new CreateChanRequest("R:X", 1).ToBytes()).ToArray();
                bytes = [.. valid, .. bytes.Take(random.Next(0, 30))];
            }

            try
            {
                await stream.WriteAsync(bytes, ct);
            }
            catch (IOException)
            {
                // The server may already have closed a circuit whose framing it lost.
            }
        }

        using (var udp = new UdpClient())
        {
            for (var trial = 0; trial < 200; trial++)
            {
                var datagram = new byte[random.Next(0, 200)];
                random.NextBytes(datagram);
                await udp.SendAsync(datagram, new IPEndPoint(IPAddress.Loopback, _server!.Port), ct);
            }
        }

        await using var client = new CaClient(new CaClientOptions { AutoAddressList = false, ServerPort = _server!.Port, AddressList = { new IPEndPoint(IPAddress.Loopback, _server.Port) } });
        var channel = await client.ConnectAsync("R:X", ct);
        Assert.Equal(4.5, DbrConvert.Number(await channel.GetAsync(cancellationToken: ct), 0));
    }

    [Fact]
    public async Task UnknownCommandOnACircuit_IsAnsweredWithAnError_AndTheCircuitGoesOn()
    {
        var ct = TestContext.Current.CancellationToken;
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _server!.Port, ct);
        var stream = tcp.GetStream();
        var unknown = new byte[16];
        new MessageHeader((CommandId)99, 0, 0, 0, 0, 0).Write(unknown);
        await stream.WriteAsync(unknown, ct);
        await stream.WriteAsync(new EchoRequest().ToBytes(), ct);

        var received = new List<Command>();
        var buffer = new byte[4096];
        var pending = new List<byte>();
        while (!received.OfType<EchoResponse>().Any())
        {
            var n = await stream.ReadAsync(buffer, ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), ct);
            Assert.True(n > 0, "the server closed the circuit");
            pending.AddRange(buffer.Take(n));
            while (Framing.TryRead(new System.Buffers.ReadOnlySequence<byte>(pending.ToArray()), out var raw, out var consumed, out _) == System.Buffers.OperationStatus.Done)
            {
                received.Add(Commands.Decode(raw, Role.Server));
                pending.RemoveRange(0, (int)consumed);
            }
        }

        var error = Assert.Single(received.OfType<ErrorResponse>());
        Assert.Equal((CommandId)99, error.Original.Command);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
