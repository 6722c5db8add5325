using System.Buffers;
using System.Buffers.Binary;

namespace StxmWeb.ChannelAccess.Protocol;

/// <summary>Channel Access command codes (caProto.h). "Command" means a CA message here, as in caproto.</summary>
public enum CommandId : ushort
{
    /// <summary>CA_PROTO_VERSION.</summary>
    Version = 0,

    /// <summary>CA_PROTO_EVENT_ADD: subscribe; also every subscription update and the cancel confirmation.</summary>
    EventAdd = 1,

    /// <summary>CA_PROTO_EVENT_CANCEL.</summary>
    EventCancel = 2,

    /// <summary>CA_PROTO_READ (deprecated).</summary>
    Read = 3,

    /// <summary>CA_PROTO_WRITE: put without completion.</summary>
    Write = 4,

    /// <summary>CA_PROTO_SEARCH: name resolution request and reply.</summary>
    Search = 6,

    /// <summary>CA_PROTO_EVENTS_OFF: client flow control.</summary>
    EventsOff = 8,

    /// <summary>CA_PROTO_EVENTS_ON.</summary>
    EventsOn = 9,

    /// <summary>CA_PROTO_READ_SYNC (legacy).</summary>
    ReadSync = 10,

    /// <summary>CA_PROTO_ERROR.</summary>
    Error = 11,

    /// <summary>CA_PROTO_CLEAR_CHANNEL.</summary>
    ClearChannel = 12,

    /// <summary>CA_PROTO_RSRV_IS_UP: the server beacon.</summary>
    RsrvIsUp = 13,

    /// <summary>CA_PROTO_NOT_FOUND.</summary>
    NotFound = 14,

    /// <summary>CA_PROTO_READ_NOTIFY: get.</summary>
    ReadNotify = 15,

    /// <summary>CA_PROTO_REPEATER_CONFIRM.</summary>
    RepeaterConfirm = 17,

    /// <summary>CA_PROTO_CREATE_CHAN.</summary>
    CreateChan = 18,

    /// <summary>CA_PROTO_WRITE_NOTIFY: put with completion.</summary>
    WriteNotify = 19,

    /// <summary>CA_PROTO_CLIENT_NAME.</summary>
    ClientName = 20,

    /// <summary>CA_PROTO_HOST_NAME.</summary>
    HostName = 21,

    /// <summary>CA_PROTO_ACCESS_RIGHTS.</summary>
    AccessRights = 22,

    /// <summary>CA_PROTO_ECHO.</summary>
    Echo = 23,

    /// <summary>REPEATER_REGISTER.</summary>
    RepeaterRegister = 24,

    /// <summary>CA_PROTO_CREATE_CH_FAIL.</summary>
    CreateChFail = 26,

    /// <summary>CA_PROTO_SERVER_DISCONN.</summary>
    ServerDisconn = 27,
}

/// <summary>
/// The CA message header (CA_PROTOCOL.md section 2): 16 bytes, big-endian, or 24 bytes in the extended form used when the
/// payload or the element count reaches 0xFFFF (postsize 0xFFFF and count 0 in the standard part, then u32 size and
/// u32 count). <see cref="PayloadSize"/> includes the padding to 8 bytes.
/// </summary>
/// <param name="Command">Command code.</param>
/// <param name="PayloadSize">Payload bytes, padded to a multiple of 8.</param>
/// <param name="DataType">DBR type, or whatever the command puts there.</param>
/// <param name="Count">Element count, or whatever the command puts there.</param>
/// <param name="Parameter1">m_cid: per command.</param>
/// <param name="Parameter2">m_available: per command.</param>
public readonly record struct MessageHeader(CommandId Command, uint PayloadSize, ushort DataType, uint Count, uint Parameter1, uint Parameter2)
{
    /// <summary>Size of the standard header.</summary>
    public const int StandardSize = 16;

    /// <summary>Size of the extended header.</summary>
    public const int ExtendedSize = 24;

    /// <summary>Whether this header needs the extended form.</summary>
    public bool IsExtended => PayloadSize >= 0xFFFF || Count >= 0xFFFF;

    /// <summary>Bytes this header takes on the wire.</summary>
    public int Size => IsExtended ? ExtendedSize : StandardSize;

    /// <summary>Writes the header, in the extended form when needed.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)Command);
        BinaryPrimitives.WriteUInt16BigEndian(destination[4..], DataType);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], Parameter1);
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], Parameter2);
        if (IsExtended)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], 0xFFFF);
            BinaryPrimitives.WriteUInt16BigEndian(destination[6..], 0);
            BinaryPrimitives.WriteUInt32BigEndian(destination[16..], PayloadSize);
            BinaryPrimitives.WriteUInt32BigEndian(destination[20..], Count);
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)PayloadSize);
            BinaryPrimitives.WriteUInt16BigEndian(destination[6..], (ushort)Count);
        }
    }

    /// <summary>
    /// Reads a header from the start of <paramref name="source"/>: <see cref="OperationStatus.Done"/> with its size,
    /// or <see cref="OperationStatus.NeedMoreData"/> when the bytes end before it does.
    /// </summary>
    public static OperationStatus TryRead(ReadOnlySpan<byte> source, out MessageHeader header, out int size)
    {
        header = default;
        size = 0;
        if (source.Length < StandardSize)
        {
            return OperationStatus.NeedMoreData;
        }

        var command = (CommandId)BinaryPrimitives.ReadUInt16BigEndian(source);
        uint payload = BinaryPrimitives.ReadUInt16BigEndian(source[2..]);
        var dataType = BinaryPrimitives.ReadUInt16BigEndian(source[4..]);
        uint count = BinaryPrimitives.ReadUInt16BigEndian(source[6..]);
        var p1 = BinaryPrimitives.ReadUInt32BigEndian(source[8..]);
        var p2 = BinaryPrimitives.ReadUInt32BigEndian(source[12..]);
        size = StandardSize;
        if (payload == 0xFFFF)
        {
            if (source.Length < ExtendedSize)
            {
                size = 0;
                return OperationStatus.NeedMoreData;
            }

            payload = BinaryPrimitives.ReadUInt32BigEndian(source[16..]);
            count = BinaryPrimitives.ReadUInt32BigEndian(source[20..]);
            size = ExtendedSize;
        }

        header = new MessageHeader(command, payload, dataType, count, p1, p2);
        return OperationStatus.Done;
    }

    /// <summary>Rounds a payload length up to the 8-byte alignment every CA message keeps.</summary>
    public static int Align(int length) => (length + 7) & ~7;
}
