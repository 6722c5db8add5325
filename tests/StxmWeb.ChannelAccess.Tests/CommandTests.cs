using System.Buffers;
using StxmWeb.ChannelAccess.Protocol;

namespace StxmWeb.ChannelAccess.Tests;

public sealed class CommandTests
{
    private static readonly byte[] DoubleData = Dbr.Encode(Dbr.Code(DbrFamily.Time, DbrBase.Double), DbrValue.Of(3.25));

    /// <summary>One instance of every command, with values that exercise each field.</summary>
    public static TheoryData<Command> Samples() =>
    [
        new VersionRequest(0, 13),
        new VersionRequest(1, 13, 42),
        new VersionResponse(13),
        new VersionResponse(13, 1, 42),
        new SearchRequest("SIM:10ID1:SampleFineX", 7),
        new SearchRequest("X", 8, ReplyIfNotFound: true),
        new SearchResponse(5072, Commands.UseSourceAddress, 7),
        new NotFoundResponse(9),
        new ClientNameRequest("beamline"),
        new HostNameRequest("stxm-ws1"),
        new CreateChanRequest("SIM:ENERGY", 3),
        new CreateChanResponse(6, 1, 3, 1001),
        new AccessRightsResponse(3, AccessRights.Read | AccessRights.Write),
        new CreateChFailResponse(3),
        new ReadNotifyRequest(20, 0, 1001, 55),
        new ReadNotifyResponse(20, 1, EcaStatus.Normal, 55, DoubleData),
        new WriteRequest(6, 1, 1001, 56, Dbr.Encode(6, DbrValue.Of(1.5))),
        new WriteNotifyRequest(6, 1, 1001, 57, Dbr.Encode(6, DbrValue.Of(-2))),
        new WriteNotifyResponse(6, 1, EcaStatus.Normal, 57),
        new EventAddRequest(20, 1, 1001, 4, MonitorMask.Value | MonitorMask.Alarm),
        new EventAddResponse(20, 1, EcaStatus.Normal, 4, DoubleData),
        new EventCancelRequest(20, 1, 1001, 4),
        new EventCancelResponse(20, 1, 1001, 4),
        new ClearChannelRequest(1001, 3),
        new ClearChannelResponse(1001, 3),
        new EchoRequest(),
        new EchoResponse(),
        new EventsOffRequest(),
        new EventsOnRequest(),
        new ReadSyncRequest(),
        new ErrorResponse(3, EcaStatus.BadType, new MessageHeader(CommandId.ReadNotify, 0, 99, 1, 1001, 58), "bad DBR type 99"),
        new ServerDisconnResponse(3),
        new BeaconResponse(5072, 12, 0x7F000001),
    ];

    [Theory]
    [MemberData(nameof(Samples))]
    public void RoundTrip_DecodesToTheSameCommand_AndTheSameBytes(Command command)
    {
        var bytes = command.ToBytes();

        Assert.Equal(0, bytes.Length % 8);
        var status = Framing.TryRead(new ReadOnlySequence<byte>(bytes), out var raw, out var consumed, out var error);
        Assert.Equal(OperationStatus.Done, status);
        Assert.Null(error);
        Assert.Equal(bytes.Length, consumed);
        var decoded = Commands.Decode(raw, command.Sender);
        Assert.Equal(command.GetType(), decoded.GetType());
        Assert.Equal(bytes, decoded.ToBytes());
    }

    [Fact]
    public void Samples_CoverEveryCommandType()
    {
        var covered = Samples().Select(row => row.Data.GetType()).ToHashSet();
        var all = typeof(Command).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(Command)) && !t.IsAbstract);

        Assert.Empty(all.Where(t => !covered.Contains(t)).Select(t => t.Name));
    }

    [Fact]
    public void SearchResponse_MatchesTheBytesRsrvSends()
    {
        // CA_PROTOCOL.md section 3: port in dataType, 0xFFFFFFFF in p1, cid in p2, u16 minor 13 + 6 zero bytes.
        byte[] expected =
        [
            0x00, 0x06, 0x00, 0x08, 0x13, 0xD0, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x07,
            0x00, 0x0D, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];

        Assert.Equal(expected, new SearchResponse(5072, Commands.UseSourceAddress, 7).ToBytes());
    }

    [Fact]
    public void SearchRequest_PadsTheNameAndCarriesTheCidTwice()
    {
        var bytes = new SearchRequest("ab", 0x01020304).ToBytes();

        byte[] expected =
        [
            0x00, 0x06, 0x00, 0x08, 0x00, 0x05, 0x00, 0x0D, 0x01, 0x02, 0x03, 0x04, 0x01, 0x02, 0x03, 0x04,
            (byte)'a', (byte)'b', 0, 0, 0, 0, 0, 0,
        ];
        Assert.Equal(expected, bytes);
    }

    [Fact]
    public void EventAddRequest_PutsTheMaskAtPayloadOffset12()
    {
        var bytes = new EventAddRequest(20, 1, 9, 4, MonitorMask.Value | MonitorMask.Alarm).ToBytes();

        Assert.Equal(16 + 16, bytes.Length);
        Assert.Equal(0x00, bytes[16 + 12]);
        Assert.Equal(0x05, bytes[16 + 13]);
    }

    [Fact]
    public void ZeroSizeEventAddFromAServer_IsTheCancelConfirmation()
    {
        var raw = Read(new EventCancelResponse(20, 1, 9, 4).ToBytes());

        Assert.IsType<EventCancelResponse>(Commands.Decode(raw, Role.Server));
    }

    [Fact]
    public void ReadNotifyResponse_DropsThePadding()
    {
        var raw = Read(new ReadNotifyResponse(6, 1, EcaStatus.Normal, 1, Dbr.Encode(6, DbrValue.Of(1))).ToBytes());

        var decoded = (ReadNotifyResponse)Commands.Decode(raw, Role.Server);

        Assert.Equal(8, decoded.Data.Length);
        Assert.Equal(1.0, ((double[])Dbr.Decode(6, 1, decoded.Data.Span).Values)[0]);
    }

    [Fact]
    public void UnknownCommand_IsARemoteProtocolError()
    {
        var raw = Read(Header(CommandId.Error, Role.Client));

        var error = Assert.Throws<RemoteProtocolException>(() => Commands.Decode(raw, Role.Client));
        Assert.Contains("not one a client sends", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NameWithoutNul_IsMalformed()
    {
        byte[] bytes = [0x00, 0x12, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 13, (byte)'a', (byte)'b', (byte)'c', (byte)'d', (byte)'e', (byte)'f', (byte)'g', (byte)'h'];

        var error = Assert.Throws<RemoteProtocolException>(() => Commands.Decode(Read(bytes), Role.Client));
        Assert.Contains("NUL", error.Message, StringComparison.Ordinal);
    }

    private static byte[] Header(CommandId id, Role _) => new MessageHeaderBytes(id).Bytes;

    private static RawMessage Read(byte[] bytes)
    {
        Assert.Equal(OperationStatus.Done, Framing.TryRead(new ReadOnlySequence<byte>(bytes), out var raw, out _, out _));
        return raw;
    }

    private readonly record struct MessageHeaderBytes(CommandId Id)
    {
        public byte[] Bytes
        {
            get
            {
                var bytes = new byte[16];
                new MessageHeader(Id, 0, 0, 0, 0, 0).Write(bytes);
                return bytes;
            }
        }
    }
}
