using System.Buffers;
using StxmWeb.ChannelAccess.Protocol;

namespace StxmWeb.ChannelAccess.Tests;

public sealed class FramingTests
{
    private static byte[] Stream(params Command[] commands) => commands.SelectMany(c => c.ToBytes()).ToArray();

    [Fact]
    public void BytesArrivingOneAtATime_AreReassembledIntoTheSameMessages()
    {
        var commands = new Command[]
        {
            new VersionRequest(0, 13), new ClientNameRequest("root"), new HostNameRequest("vm"), new CreateChanRequest("SIM:ENERGY", 1),
            new ReadNotifyRequest(6, 0, 1, 2),
        };
        var bytes = Stream(commands);
        var received = new List<Command>();
        var buffer = new List<byte>();

        foreach (var b in bytes)
        {
            buffer.Add(b);
            while (true)
            {
                var status = Framing.TryRead(new ReadOnlySequence<byte>(buffer.ToArray()), out var raw, out var consumed, out var error);
                if (status == OperationStatus.NeedMoreData)
                {
                    break;
                }

                Assert.Equal(OperationStatus.Done, status);
                Assert.Null(error);
                received.Add(Commands.Decode(raw, Role.Client));
                buffer.RemoveRange(0, (int)consumed);
            }
        }

        Assert.Empty(buffer);
        Assert.Equal(commands.Select(c => c.ToBytes()), received.Select(c => c.ToBytes()));
    }

    [Fact]
    public void ADatagram_HoldsSeveralMessages()
    {
        var datagram = Stream(new VersionRequest(1, 13, 5), new SearchRequest("A", 1), new SearchRequest("B", 2));

        var messages = Framing.ReadAll(datagram, out var error);

        Assert.Null(error);
        Assert.Equal(3, messages.Count);
        Assert.Equal("B", ((SearchRequest)Commands.Decode(messages[2], Role.Client)).Name);
    }

    [Fact]
    public void LargeArrays_UseTheExtendedHeader()
    {
        var values = Enumerable.Range(0, 100_000).Select(i => (double)i).ToArray();
        var data = Dbr.Encode(6, new DbrValue { Base = DbrBase.Double, Values = values });
        var bytes = new ReadNotifyResponse(6, 100_000, EcaStatus.Normal, 1, data).ToBytes();

        Assert.Equal(0xFF, bytes[2]);
        Assert.Equal(0xFF, bytes[3]);
        Assert.Equal(24 + 800_000, bytes.Length);
        Assert.Equal(OperationStatus.Done, Framing.TryRead(new ReadOnlySequence<byte>(bytes), out var raw, out _, out _));
        var decoded = (ReadNotifyResponse)Commands.Decode(raw, Role.Server);
        Assert.Equal(100_000u, decoded.Count);
        Assert.Equal(values, (double[])Dbr.Decode(6, 100_000, decoded.Data.Span).Values);
    }

    [Fact]
    public void AMisalignedPayload_IsInvalidData_WithTheReason()
    {
        var bytes = new byte[16 + 5];
        new MessageHeader(CommandId.ClientName, 5, 0, 0, 0, 0).Write(bytes);

        var status = Framing.TryRead(new ReadOnlySequence<byte>(bytes), out _, out _, out var error);

        Assert.Equal(OperationStatus.InvalidData, status);
        Assert.Contains("multiple of 8", error, StringComparison.Ordinal);
    }

    [Fact]
    public void AnAbsurdPayloadSize_IsInvalidData_BeforeAnyAllocation()
    {
        var bytes = new byte[24];
        new MessageHeader(CommandId.Write, 0xF000_0000, 6, 1, 0, 0).Write(bytes);

        Assert.Equal(OperationStatus.InvalidData, Framing.TryRead(new ReadOnlySequence<byte>(bytes), out _, out _, out var error));
        Assert.Contains("exceeds the limit", error, StringComparison.Ordinal);
    }

    [Fact]
    public void RandomBytes_NeverThrowAnythingButProtocolErrors()
    {
        var random = new Random(1234);
        for (var trial = 0; trial < 20_000; trial++)
        {
            var bytes = new byte[random.Next(0, 80)];
            random.NextBytes(bytes);
            if (bytes.Length >= 4 && random.Next(2) == 0)
            {
                // Make the size plausible half of the time so decoding is reached.
                bytes[2] = 0;
                bytes[3] = (byte)(random.Next(0, 8) * 8);
            }

            var status = Framing.TryRead(new ReadOnlySequence<byte>(bytes), out var raw, out _, out _);
            if (status != OperationStatus.Done)
            {
                continue;
            }

            foreach (var role in new[] { Role.Client, Role.Server })
            {
                try
                {
                    var command = Commands.Decode(raw, role);
                    _ = command.ToBytes();
                }
                catch (RemoteProtocolException)
                {
                }
            }
        }
    }
}
