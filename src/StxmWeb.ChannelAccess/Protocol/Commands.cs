using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace StxmWeb.ChannelAccess.Protocol;

/// <summary>Which side sent a message: the same command code means different things in each direction.</summary>
public enum Role
{
    /// <summary>Sent by a client.</summary>
    Client,

    /// <summary>Sent by a server.</summary>
    Server,
}

/// <summary>Read and write access of a channel (ACCESS_RIGHTS bits).</summary>
[Flags]
public enum AccessRights : uint
{
    /// <summary>Neither.</summary>
    None = 0,

    /// <summary>Bit 0.</summary>
    Read = 1,

    /// <summary>Bit 1.</summary>
    Write = 2,
}

/// <summary>Which changes a subscription reports (EVENT_ADD mask).</summary>
[Flags]
public enum MonitorMask : ushort
{
    /// <summary>No event.</summary>
    None = 0,

    /// <summary>DBE_VALUE: the value changed by more than the deadband.</summary>
    Value = 1,

    /// <summary>DBE_LOG (archive deadband).</summary>
    Log = 2,

    /// <summary>DBE_ALARM: status or severity changed.</summary>
    Alarm = 4,

    /// <summary>DBE_PROPERTY: metadata changed.</summary>
    Property = 8,
}

/// <summary>ECA status codes carried in replies (caerr.h): <c>(message number &lt;&lt; 3) | severity</c>.</summary>
public static class EcaStatus
{
    /// <summary>ECA_NORMAL.</summary>
    public const uint Normal = 1;

    /// <summary>ECA_BADTYPE.</summary>
    public const uint BadType = 114;

    /// <summary>ECA_INTERNAL.</summary>
    public const uint Internal = 142;

    /// <summary>ECA_GETFAIL.</summary>
    public const uint GetFail = 152;

    /// <summary>ECA_PUTFAIL.</summary>
    public const uint PutFail = 160;

    /// <summary>ECA_BADCOUNT.</summary>
    public const uint BadCount = 176;

    /// <summary>ECA_BADSTR.</summary>
    public const uint BadString = 186;

    /// <summary>ECA_DISCONN.</summary>
    public const uint Disconnected = 192;

    /// <summary>ECA_BADMONID.</summary>
    public const uint BadMonitorId = 242;

    /// <summary>ECA_NORDACCESS.</summary>
    public const uint NoReadAccess = 368;

    /// <summary>ECA_NOWTACCESS.</summary>
    public const uint NoWriteAccess = 376;

    /// <summary>ECA_NOCONVERT.</summary>
    public const uint NoConvert = 400;
}

/// <summary>The peer broke the protocol; the message says how. The circuit may go on unless framing was lost.</summary>
public sealed class RemoteProtocolException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RemoteProtocolException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    public RemoteProtocolException() { }

    /// <summary>Creates the exception.</summary>
    public RemoteProtocolException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>
/// One Channel Access message as an immutable value (caproto's <c>_commands.py</c>). Requests are sent by clients,
/// responses by servers; each writes itself with <see cref="Write"/> and is read back by <see cref="Commands.Decode"/>.
/// </summary>
public abstract record Command
{
    /// <summary>The command code.</summary>
    public abstract CommandId Id { get; }

    /// <summary>Who sends this command.</summary>
    public abstract Role Sender { get; }

    /// <summary>Writes the message, header and padded payload.</summary>
    public abstract void Write(IBufferWriter<byte> writer);

    /// <summary>The message as bytes.</summary>
    public byte[] ToBytes()
    {
        var buffer = new ArrayBufferWriter<byte>();
        Write(buffer);
        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>VERSION from a client: on TCP the circuit priority; on UDP the first message of a search datagram.</summary>
/// <param name="Priority">Circuit priority 0..99 (TCP), or 1 = "sequence number valid" (UDP).</param>
/// <param name="MinorVersion">Protocol minor version (13).</param>
/// <param name="Sequence">Search sequence number (UDP).</param>
public sealed record VersionRequest(ushort Priority, ushort MinorVersion = Commands.MinorVersion, uint Sequence = 0) : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.Version;

    /// <inheritdoc />
    public override Role Sender => Role.Client;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer) => Framing.Write(writer, Id, Priority, MinorVersion, Sequence, 0);
}

/// <summary>VERSION from a server (after accept on TCP; first message of a search reply on UDP).</summary>
/// <param name="MinorVersion">Protocol minor version.</param>
/// <param name="Flags">1 when <paramref name="Sequence"/> echoes a search sequence.</param>
/// <param name="Sequence">Echoed search sequence number.</param>
public sealed record VersionResponse(ushort MinorVersion = Commands.MinorVersion, ushort Flags = 0, uint Sequence = 0) : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.Version;

    /// <inheritdoc />
    public override Role Sender => Role.Server;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer) => Framing.Write(writer, Id, Flags, MinorVersion, Sequence, 0);
}

/// <summary>SEARCH: which server has <paramref name="Name"/>?</summary>
/// <param name="Name">PV name.</param>
/// <param name="Cid">Client channel id.</param>
/// <param name="ReplyIfNotFound">DOREPLY (10) when true, DONTREPLY (5) as libca sends.</param>
/// <param name="MinorVersion">Client minor version.</param>
public sealed record SearchRequest(string Name, uint Cid, bool ReplyIfNotFound = false, ushort MinorVersion = Commands.MinorVersion) : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.Search;

    /// <inheritdoc />
    public override Role Sender => Role.Client;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer) =>
        Framing.Write(writer, Id, ReplyIfNotFound ? Commands.DoReply : Commands.DontReply, MinorVersion, Cid, Cid, Commands.NameBytes(Name));
}

/// <summary>SEARCH reply: the server's TCP port and address (0xFFFFFFFF = the datagram's source address).</summary>
/// <param name="Port">Server TCP port.</param>
/// <param name="Address">IPv4 as a big-endian u32, or <see cref="Commands.UseSourceAddress"/>.</param>
/// <param name="Cid">The client channel id searched for.</param>
/// <param name="MinorVersion">Server minor version.</param>
public sealed record SearchResponse(ushort Port, uint Address, uint Cid, ushort MinorVersion = Commands.MinorVersion) : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.Search;

    /// <inheritdoc />
    public override Role Sender => Role.Server;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer)
    {
        Span<byte> payload = stackalloc byte[8];
        payload.Clear();
        BinaryPrimitives.WriteUInt16BigEndian(payload, MinorVersion);
        Framing.Write(writer, Id, Port, 0, Address, Cid, payload);
    }
}

/// <summary>NOT_FOUND: the answer to a DOREPLY search for a name the server does not have.</summary>
/// <param name="Cid">The client channel id.</param>
/// <param name="MinorVersion">Client minor version, echoed.</param>
public sealed record NotFoundResponse(uint Cid, ushort MinorVersion = Commands.MinorVersion) : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.NotFound;

    /// <inheritdoc />
    public override Role Sender => Role.Server;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer) => Framing.Write(writer, Id, Commands.DoReply, MinorVersion, Cid, Cid);
}

/// <summary>CLIENT_NAME: the user name of the client.</summary>
/// <param name="Name">User name.</param>
public sealed record ClientNameRequest(string Name) : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.ClientName;

    /// <inheritdoc />
    public override Role Sender => Role.Client;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer) => Framing.Write(writer, Id, 0, 0, 0, 0, Commands.NameBytes(Name));
}

/// <summary>HOST_NAME: the host name of the client.</summary>
/// <param name="Name">Host name.</param>
public sealed record HostNameRequest(string Name) : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.HostName;

    /// <inheritdoc />
    public override Role Sender => Role.Client;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer) => Framing.Write(writer, Id, 0, 0, 0, 0, Commands.NameBytes(Name));
}

/// <summary>CREATE_CHAN: open a channel to <paramref name="Name"/> on this circuit.</summary>
/// <param name="Name">PV name.</param>
/// <param name="Cid">Client channel id.</param>
/// <param name="MinorVersion">Client minor version.</param>
public sealed record CreateChanRequest(string Name, uint Cid, uint MinorVersion = Commands.MinorVersion) : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.CreateChan;

    /// <inheritdoc />
    public override Role Sender => Role.Client;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer) => Framing.Write(writer, Id, 0, 0, Cid, MinorVersion, Commands.NameBytes(Name));
}

/// <summary>CREATE_CHAN reply: the channel's native type and count, and the server's id for it.</summary>
/// <param name="NativeType">Native DBR type 0..6.</param>
/// <param name="NativeCount">Native element count.</param>
/// <param name="Cid">Client channel id.</param>
/// <param name="Sid">Server channel id.</param>
public sealed record CreateChanResponse(ushort NativeType, uint NativeCount, uint Cid, uint Sid) : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.CreateChan;

    /// <inheritdoc />
    public override Role Sender => Role.Server;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer) => Framing.Write(writer, Id, NativeType, NativeCount, Cid, Sid);
}

/// <summary>ACCESS_RIGHTS: sent before the CREATE_CHAN reply and whenever the rights change.</summary>
/// <param name="Cid">Client channel id.</param>
/// <param name="Rights">Read and write bits.</param>
public sealed record AccessRightsResponse(uint Cid, AccessRights Rights) : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.AccessRights;

    /// <inheritdoc />
    public override Role Sender => Role.Server;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer) => Framing.Write(writer, Id, 0, 0, Cid, (uint)Rights);
}

/// <summary>CREATE_CH_FAIL: the server has no such channel (TCP path).</summary>
/// <param name="Cid">Client channel id.</param>
public sealed record CreateChFailResponse(uint Cid) : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.CreateChFail;

    /// <inheritdoc />
    public override Role Sender => Role.Server;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer) => Framing.Write(writer, Id, 0, 0, Cid, 0);
}

/// <summary>READ_NOTIFY: get <paramref name="Count"/> elements as <paramref name="DataType"/> (count 0 = all there are).</summary>
/// <param name="DataType">Requested DBR type.</param>
/// <param name="Count">Requested count; 0 = the server's current length.</param>
/// <param name="Sid">Server channel id.</param>
/// <param name="Ioid">Request id.</param>
public sealed record ReadNotifyRequest(ushort DataType, uint Count, uint Sid, uint Ioid) : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.ReadNotify;

    /// <inheritdoc />
    public override Role Sender => Role.Client;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer) => Framing.Write(writer, Id, DataType, Count, Sid, Ioid);
}

/// <summary>READ_NOTIFY reply: the data, the count actually sent, and an ECA status.</summary>
/// <param name="DataType">DBR type of the data.</param>
/// <param name="Count">Elements sent.</param>
/// <param name="Status">ECA status (<see cref="EcaStatus.Normal"/>).</param>
/// <param name="Ioid">Request id.</param>
/// <param name="Data">DBR payload (unpadded).</param>
public sealed record ReadNotifyResponse(ushort DataType, uint Count, uint Status, uint Ioid, ReadOnlyMemory<byte> Data) : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.ReadNotify;

    /// <inheritdoc />
    public override Role Sender => Role.Server;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer) => Framing.Write(writer, Id, DataType, Count, Status, Ioid, Data.Span);
}

/// <summary>WRITE: put without completion (no reply unless it fails).</summary>
/// <param name="DataType">DBR type of the data.</param>
/// <param name="Count">Elements.</param>
/// <param name="Sid">Server channel id.</param>
/// <param name="Ioid">Request id.</param>
/// <param name="Data">DBR payload.</param>
public sealed record WriteRequest(ushort DataType, uint Count, uint Sid, uint Ioid, ReadOnlyMemory<byte> Data) : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.Write;

    /// <inheritdoc />
    public override Role Sender => Role.Client;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer) => Framing.Write(writer, Id, DataType, Count, Sid, Ioid, Data.Span);
}

/// <summary>WRITE_NOTIFY: put, and reply when the action completes (a motor: when the move is done).</summary>
/// <param name="DataType">DBR type of the data.</param>
/// <param name="Count">Elements.</param>
/// <param name="Sid">Server channel id.</param>
/// <param name="Ioid">Request id.</param>
/// <param name="Data">DBR payload.</param>
public sealed record WriteNotifyRequest(ushort DataType, uint Count, uint Sid, uint Ioid, ReadOnlyMemory<byte> Data) : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.WriteNotify;

    /// <inheritdoc />
    public override Role Sender => Role.Client;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer) => Framing.Write(writer, Id, DataType, Count, Sid, Ioid, Data.Span);
}

/// <summary>WRITE_NOTIFY reply: the put completed, with an ECA status.</summary>
/// <param name="DataType">DBR type of the put.</param>
/// <param name="Count">Elements of the put.</param>
/// <param name="Status">ECA status.</param>
/// <param name="Ioid">Request id.</param>
public sealed record WriteNotifyResponse(ushort DataType, uint Count, uint Status, uint Ioid) : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.WriteNotify;

    /// <inheritdoc />
    public override Role Sender => Role.Server;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer) => Framing.Write(writer, Id, DataType, Count, Status, Ioid);
}

/// <summary>EVENT_ADD: subscribe (the server answers at once, then on every event in <paramref name="Mask"/>).</summary>
/// <param name="DataType">DBR type of the updates.</param>
/// <param name="Count">Elements; 0 = the current length.</param>
/// <param name="Sid">Server channel id.</param>
/// <param name="SubscriptionId">Subscription id.</param>
/// <param name="Mask">Events to report.</param>
public sealed record EventAddRequest(ushort DataType, uint Count, uint Sid, uint SubscriptionId, MonitorMask Mask) : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.EventAdd;

    /// <inheritdoc />
    public override Role Sender => Role.Client;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer)
    {
        // f32 low, high, timeout (unused, 0), u16 mask, u16 pad.
        Span<byte> payload = stackalloc byte[16];
        payload.Clear();
        BinaryPrimitives.WriteUInt16BigEndian(payload[12..], (ushort)Mask);
        Framing.Write(writer, Id, DataType, Count, Sid, SubscriptionId, payload);
    }
}

/// <summary>EVENT_ADD reply: one subscription update.</summary>
/// <param name="DataType">DBR type.</param>
/// <param name="Count">Elements sent.</param>
/// <param name="Status">ECA status.</param>
/// <param name="SubscriptionId">Subscription id.</param>
/// <param name="Data">DBR payload (unpadded).</param>
public sealed record EventAddResponse(ushort DataType, uint Count, uint Status, uint SubscriptionId, ReadOnlyMemory<byte> Data) : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.EventAdd;

    /// <inheritdoc />
    public override Role Sender => Role.Server;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer) => Framing.Write(writer, Id, DataType, Count, Status, SubscriptionId, Data.Span);
}

/// <summary>EVENT_CANCEL: end a subscription.</summary>
/// <param name="DataType">DBR type of the subscription.</param>
/// <param name="Count">Count of the subscription.</param>
/// <param name="Sid">Server channel id.</param>
/// <param name="SubscriptionId">Subscription id.</param>
public sealed record EventCancelRequest(ushort DataType, uint Count, uint Sid, uint SubscriptionId) : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.EventCancel;

    /// <inheritdoc />
    public override Role Sender => Role.Client;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer) => Framing.Write(writer, Id, DataType, Count, Sid, SubscriptionId);
}

/// <summary>The confirmation of EVENT_CANCEL: an EVENT_ADD header with no payload (libca treats it as a no-op).</summary>
/// <param name="DataType">DBR type of the subscription.</param>
/// <param name="Count">Count of the subscription.</param>
/// <param name="Sid">Server channel id.</param>
/// <param name="SubscriptionId">Subscription id.</param>
public sealed record EventCancelResponse(ushort DataType, uint Count, uint Sid, uint SubscriptionId) : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.EventAdd;

    /// <inheritdoc />
    public override Role Sender => Role.Server;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer) => Framing.Write(writer, Id, DataType, Count, Sid, SubscriptionId);
}

/// <summary>CLEAR_CHANNEL: close a channel (its subscriptions end with it).</summary>
/// <param name="Sid">Server channel id.</param>
/// <param name="Cid">Client channel id.</param>
public sealed record ClearChannelRequest(uint Sid, uint Cid) : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.ClearChannel;

    /// <inheritdoc />
    public override Role Sender => Role.Client;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer) => Framing.Write(writer, Id, 0, 0, Sid, Cid);
}

/// <summary>CLEAR_CHANNEL reply.</summary>
/// <param name="Sid">Server channel id.</param>
/// <param name="Cid">Client channel id.</param>
public sealed record ClearChannelResponse(uint Sid, uint Cid) : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.ClearChannel;

    /// <inheritdoc />
    public override Role Sender => Role.Server;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer) => Framing.Write(writer, Id, 0, 0, Sid, Cid);
}

/// <summary>ECHO from a client (a liveness probe after silence).</summary>
public sealed record EchoRequest : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.Echo;

    /// <inheritdoc />
    public override Role Sender => Role.Client;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer) => Framing.Write(writer, Id, 0, 0, 0, 0);
}

/// <summary>ECHO from a server (the answer, or its own probe).</summary>
public sealed record EchoResponse : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.Echo;

    /// <inheritdoc />
    public override Role Sender => Role.Server;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer) => Framing.Write(writer, Id, 0, 0, 0, 0);
}

/// <summary>EVENTS_OFF: the client is behind; hold subscription updates (keeping the latest).</summary>
public sealed record EventsOffRequest : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.EventsOff;

    /// <inheritdoc />
    public override Role Sender => Role.Client;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer) => Framing.Write(writer, Id, 0, 0, 0, 0);
}

/// <summary>EVENTS_ON: the client caught up; resume updates.</summary>
public sealed record EventsOnRequest : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.EventsOn;

    /// <inheritdoc />
    public override Role Sender => Role.Client;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer) => Framing.Write(writer, Id, 0, 0, 0, 0);
}

/// <summary>READ_SYNC (legacy): the server echoes the header.</summary>
public sealed record ReadSyncRequest : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.ReadSync;

    /// <inheritdoc />
    public override Role Sender => Role.Client;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer) => Framing.Write(writer, Id, 0, 0, 0, 0);
}

/// <summary>ERROR: a request failed; carries a copy of its header and a text.</summary>
/// <param name="Cid">Client channel id of the failing request (0xFFFFFFFF if unknown).</param>
/// <param name="Status">ECA status.</param>
/// <param name="Original">The header of the failing request.</param>
/// <param name="Message">What went wrong.</param>
public sealed record ErrorResponse(uint Cid, uint Status, MessageHeader Original, string Message) : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.Error;

    /// <inheritdoc />
    public override Role Sender => Role.Server;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer)
    {
        var text = Encoding.Latin1.GetBytes(Message + "\0");
        var payload = new byte[Original.Size + text.Length];
        Original.Write(payload);
        text.CopyTo(payload, Original.Size);
        Framing.Write(writer, Id, 0, 0, Cid, Status, payload);
    }
}

/// <summary>SERVER_DISCONN: the server dropped the channel; the client searches for it again.</summary>
/// <param name="Cid">Client channel id.</param>
public sealed record ServerDisconnResponse(uint Cid) : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.ServerDisconn;

    /// <inheritdoc />
    public override Role Sender => Role.Server;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer) => Framing.Write(writer, Id, 0, 0, Cid, 0);
}

/// <summary>RSRV_IS_UP: the server's beacon (UDP, to the repeater port).</summary>
/// <param name="Port">Server TCP port.</param>
/// <param name="BeaconId">Beacon counter.</param>
/// <param name="Address">Server IPv4 as a big-endian u32, or 0 for the source address.</param>
/// <param name="MinorVersion">Server minor version.</param>
public sealed record BeaconResponse(ushort Port, uint BeaconId, uint Address, ushort MinorVersion = Commands.MinorVersion) : Command
{
    /// <inheritdoc />
    public override CommandId Id => CommandId.RsrvIsUp;

    /// <inheritdoc />
    public override Role Sender => Role.Server;

    /// <inheritdoc />
    public override void Write(IBufferWriter<byte> writer) => Framing.Write(writer, Id, MinorVersion, Port, BeaconId, Address);
}

/// <summary>Decoding of framed messages into commands, by the role of their sender.</summary>
public static class Commands
{
    /// <summary>The protocol minor version spoken: CA 4.13.</summary>
    public const ushort MinorVersion = 13;

    /// <summary>SEARCH reply flag DOREPLY.</summary>
    public const ushort DoReply = 10;

    /// <summary>SEARCH reply flag DONTREPLY.</summary>
    public const ushort DontReply = 5;

    /// <summary>Search-reply address meaning "the datagram's source address" (rsrv).</summary>
    public const uint UseSourceAddress = 0xFFFFFFFF;

    /// <summary>Longest PV name accepted.</summary>
    public const int MaxNameLength = 1024;

    /// <summary>Turns a framed message into its command. Throws <see cref="RemoteProtocolException"/> when it is not one.</summary>
    public static Command Decode(RawMessage message, Role sender)
    {
        var h = message.Header;
        var payload = message.Payload.Span;
        return (h.Command, sender) switch
        {
            (CommandId.Version, Role.Client) => new VersionRequest(h.DataType, (ushort)h.Count, h.Parameter1),
            (CommandId.Version, Role.Server) => new VersionResponse((ushort)h.Count, h.DataType, h.Parameter1),
            (CommandId.Search, Role.Client) => new SearchRequest(Name(payload, h), h.Parameter1, h.DataType == DoReply, (ushort)h.Count),
            (CommandId.Search, Role.Server) => new SearchResponse(h.DataType, h.Parameter1, h.Parameter2,
                payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : (ushort)0),
            (CommandId.NotFound, Role.Server) => new NotFoundResponse(h.Parameter1, (ushort)h.Count),
            (CommandId.ClientName, Role.Client) => new ClientNameRequest(Name(payload, h)),
            (CommandId.HostName, Role.Client) => new HostNameRequest(Name(payload, h)),
            (CommandId.CreateChan, Role.Client) => new CreateChanRequest(Name(payload, h), h.Parameter1, h.Parameter2),
            (CommandId.CreateChan, Role.Server) => new CreateChanResponse(h.DataType, h.Count, h.Parameter1, h.Parameter2),
            (CommandId.AccessRights, Role.Server) => new AccessRightsResponse(h.Parameter1, (AccessRights)h.Parameter2),
            (CommandId.CreateChFail, Role.Server) => new CreateChFailResponse(h.Parameter1),
            (CommandId.ReadNotify, Role.Client) => new ReadNotifyRequest(h.DataType, h.Count, h.Parameter1, h.Parameter2),
            (CommandId.ReadNotify, Role.Server) => new ReadNotifyResponse(h.DataType, h.Count, h.Parameter1, h.Parameter2, Data(message)),
            (CommandId.Write, Role.Client) => new WriteRequest(h.DataType, h.Count, h.Parameter1, h.Parameter2, Data(message)),
            (CommandId.WriteNotify, Role.Client) => new WriteNotifyRequest(h.DataType, h.Count, h.Parameter1, h.Parameter2, Data(message)),
            (CommandId.WriteNotify, Role.Server) => new WriteNotifyResponse(h.DataType, h.Count, h.Parameter1, h.Parameter2),
            (CommandId.EventAdd, Role.Client) => new EventAddRequest(h.DataType, h.Count, h.Parameter1, h.Parameter2,
                payload.Length >= 14 ? (MonitorMask)BinaryPrimitives.ReadUInt16BigEndian(payload[12..]) : throw Malformed(h, "an EVENT_ADD request needs its 16-byte payload")),
            (CommandId.EventAdd, Role.Server) when h.PayloadSize == 0 => new EventCancelResponse(h.DataType, h.Count, h.Parameter1, h.Parameter2),
            (CommandId.EventAdd, Role.Server) => new EventAddResponse(h.DataType, h.Count, h.Parameter1, h.Parameter2, Data(message)),
            (CommandId.EventCancel, Role.Client) => new EventCancelRequest(h.DataType, h.Count, h.Parameter1, h.Parameter2),
            (CommandId.ClearChannel, Role.Client) => new ClearChannelRequest(h.Parameter1, h.Parameter2),
            (CommandId.ClearChannel, Role.Server) => new ClearChannelResponse(h.Parameter1, h.Parameter2),
            (CommandId.Echo, Role.Client) => new EchoRequest(),
            (CommandId.Echo, Role.Server) => new EchoResponse(),
            (CommandId.EventsOff, Role.Client) => new EventsOffRequest(),
            (CommandId.EventsOn, Role.Client) => new EventsOnRequest(),
            (CommandId.ReadSync, Role.Client) => new ReadSyncRequest(),
            (CommandId.Error, Role.Server) => DecodeError(h, payload),
            (CommandId.ServerDisconn, Role.Server) => new ServerDisconnResponse(h.Parameter1),
            (CommandId.RsrvIsUp, Role.Server) => new BeaconResponse((ushort)h.Count, h.Parameter1, h.Parameter2, h.DataType),
            _ => throw new RemoteProtocolException($"command {(ushort)h.Command} is not one a {sender.ToString().ToLowerInvariant()} sends"),
        };
    }

    /// <summary>A name as sent: Latin-1, NUL-terminated.</summary>
    internal static byte[] NameBytes(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length > MaxNameLength || name.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"a name must be at most {MaxNameLength} characters without NUL", nameof(name));
        }

        return Encoding.Latin1.GetBytes(name + "\0");
    }

    private static string Name(ReadOnlySpan<byte> payload, MessageHeader header)
    {
        var end = payload.IndexOf((byte)0);
        if (end < 0)
        {
            throw Malformed(header, "the name is not NUL-terminated");
        }

        if (end > MaxNameLength)
        {
            throw Malformed(header, $"the name is longer than {MaxNameLength} characters");
        }

        return Encoding.Latin1.GetString(payload[..end]);
    }

    /// <summary>The data of a value-bearing message, cut to its DBR size when the type is known (the rest is padding).</summary>
    private static ReadOnlyMemory<byte> Data(RawMessage message)
    {
        var h = message.Header;
        if (Dbr.IsValueType(h.DataType) && h.Count <= int.MaxValue / Dbr.StringSize)
        {
            var size = Dbr.Size(h.DataType, (int)h.Count);
            if (size <= message.Payload.Length)
            {
                return message.Payload[..size];
            }
        }

        return message.Payload;
    }

    private static ErrorResponse DecodeError(MessageHeader h, ReadOnlySpan<byte> payload)
    {
        if (MessageHeader.TryRead(payload, out var original, out var size) != System.Buffers.OperationStatus.Done)
        {
            throw Malformed(h, "an ERROR must carry the failing request's header");
        }

        var text = payload[size..];
        var end = text.IndexOf((byte)0);
        return new ErrorResponse(h.Parameter1, h.Parameter2, original, Encoding.Latin1.GetString(end < 0 ? text : text[..end]));
    }

    private static RemoteProtocolException Malformed(MessageHeader header, string why) => new($"malformed {header.Command}: {why}");
}
