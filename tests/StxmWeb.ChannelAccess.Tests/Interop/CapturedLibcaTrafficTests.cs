using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StxmWeb.ChannelAccess.Protocol;

namespace StxmWeb.ChannelAccess.Tests.Interop;

/// <summary>
/// The bytes EPICS's own client (caget, libca) puts on the wire, captured by plain sockets and decoded by our codec:
/// the search datagram, then the circuit's opening messages, as CA_PROTOCOL.md section 5 records them.
/// </summary>
[Trait("Category", "Interop")]
public sealed class CapturedLibcaTrafficTests
{
    [Fact]
    public async Task CagetTraffic_DecodesAsTheProtocolReferenceDescribes()
    {
        var ct = TestContext.Current.CancellationToken;
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, port));
        var start = new ProcessStartInfo(Path.Combine(EpicsBase.BinDirectory, "caget")) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-w");
        start.ArgumentList.Add("3");
        start.ArgumentList.Add("CAPTURE:PV");
        EpicsBase.Point(start, port);
        using var caget = Process.Start(start)!;
        try
        {
            // 1. The search datagram: VERSION (sequence valid) then SEARCH(name, DONTREPLY, minor 13, cid twice).
            var datagram = await udp.ReceiveAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), ct);
            var messages = Framing.ReadAll(datagram.Buffer, out var error);
            Assert.Null(error);
            var version = Assert.IsType<VersionRequest>(Commands.Decode(messages[0], Role.Client));
            Assert.Equal(13, version.MinorVersion);
            var searchMessage = messages[1];
            var search = Assert.IsType<SearchRequest>(Commands.Decode(searchMessage, Role.Client));
            Assert.Equal("CAPTURE:PV", search.Name);
            Assert.False(search.ReplyIfNotFound);
            Assert.Equal(search.Cid, searchMessage.Header.Parameter2);
            Assert.Equal(0, (int)searchMessage.Header.PayloadSize % 8);

            // Answer as a server would, so that caget opens the circuit.
            var reply = new ArrayBufferWriter<byte>();
            new VersionResponse(13, 1, version.Sequence).Write(reply);
            new SearchResponse((ushort)port, Commands.UseSourceAddress, search.Cid).Write(reply);
            await udp.SendAsync(reply.WrittenMemory, datagram.RemoteEndPoint, ct);

            // 2. The circuit: VERSION, CLIENT_NAME, HOST_NAME, CREATE_CHAN(name, cid, 13), pipelined.
            using var circuit = await listener.AcceptTcpClientAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), ct);
            var stream = circuit.GetStream();
            var received = new List<Command>();
            var pending = new List<byte>();
            var buffer = new byte[4096];
            while (!received.OfType<CreateChanRequest>().Any())
            {
                var n = await stream.ReadAsync(buffer, ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), ct);
                Assert.True(n > 0, "caget closed the circuit");
                pending.AddRange(buffer.Take(n));
                while (Framing.TryRead(new ReadOnlySequence<byte>(pending.ToArray()), out var raw, out var consumed, out _) == OperationStatus.Done)
                {
                    received.Add(Commands.Decode(raw, Role.Client));
                    pending.RemoveRange(0, (int)consumed);
                }
            }

            Assert.IsType<VersionRequest>(received[0]);
            Assert.Contains(received, c => c is ClientNameRequest { Name.Length: > 0 });
            Assert.Contains(received, c => c is HostNameRequest { Name.Length: > 0 });
            var create = received.OfType<CreateChanRequest>().Single();
            Assert.Equal("CAPTURE:PV", create.Name);
            Assert.Equal(13u, create.MinorVersion);
        }
        finally
        {
            if (!caget.HasExited)
            {
                caget.Kill();
            }
        }
    }
}
