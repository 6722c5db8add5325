using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using StxmWeb.ChannelAccess.Protocol;

namespace StxmWeb.ChannelAccess.Server;

/// <summary>
/// One client's TCP circuit: reads requests, answers them, and sends subscription updates. Outgoing messages wait in
/// one queue and are written in batches. As RSRV does, every change of a monitored PV is queued (its value held, not
/// copied) while the client keeps up; a subscription with <see cref="SnapshotsPerSubscription"/> updates waiting, or a
/// circuit with <see cref="QueuedLimit"/>, or a client that asked for flow control (EVENTS_OFF), gets one "latest"
/// update instead, encoded when it is sent: at least one, the most recent, update per subscription, and a bounded
/// queue. Replies to a batch of requests are encoded straight into the batch's buffer as they are made, in order, and
/// written at the end of the batch; scalar DBR_DOUBLE reads and writes, the bulk of CA traffic, take a path that
/// allocates nothing.
/// </summary>
#pragma warning disable CA1001 // _closed outlives RunAsync on purpose (late Close() calls and puts in flight); it holds no unmanaged resource.
internal sealed partial class ServerCircuit
#pragma warning restore CA1001
{
    private readonly CaServer _server;
    private readonly Socket _socket;
    private readonly ILogger _logger;
    /// <summary>Updates one subscription may have waiting before newer changes are coalesced into its latest value.</summary>
    internal const int SnapshotsPerSubscription = 32;

    /// <summary>Messages a circuit may have waiting before every subscription is coalesced.</summary>
    internal const int QueuedLimit = 16_384;

    private readonly ConcurrentQueue<Outgoing> _outbound = new();
    private int _queued;
    private int _writerSignalled;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly SemaphoreSlim _wake = new(0);
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private readonly ArrayBufferWriter<byte> _batch = new(64 * 1024);
    private int _batchThread;
    private volatile bool _inReadBatch;
    private readonly Dictionary<uint, OpenChannel> _channels = [];
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _closed = new();
    private uint _nextSid = 1;
    private volatile bool _eventsOff;

    public ServerCircuit(CaServer server, Socket socket, ILogger logger)
    {
        _server = server;
        _socket = socket;
        _logger = logger;
    }

    public string ClientName { get; private set; } = "";

    public string HostName { get; private set; } = "";

    public void Close() => _closed.Cancel();

    /// <summary>
    /// Serves the circuit until the client leaves or the server stops. As RSRV does, each circuit has two threads of its
    /// own: one blocks in recv and answers requests (no wake-up through the thread pool between a request and its
    /// reply), the other sends monitor updates and late replies.
    /// </summary>
    public async Task RunAsync(CancellationToken serverStopping)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(serverStopping, _closed.Token);
        var token = linked.Token;
        using var unblock = token.Register(() => Shutdown());
        Send(new VersionResponse());
        var reader = DedicatedThread.Run($"CA circuit read {_socket.RemoteEndPoint}", () => ReadLoop());
        var writer = DedicatedThread.Run($"CA circuit write {_socket.RemoteEndPoint}", () => WriteLoop(token));
        try
        {
            await reader.ConfigureAwait(false);
        }
        finally
        {
            await _closed.CancelAsync().ConfigureAwait(false);
            lock (_gate)
            {
                foreach (var channel in _channels.Values)
                {
                    channel.Dispose();
                }

                _channels.Clear();
            }

            await writer.ConfigureAwait(false);
            _socket.Dispose();

            // _closed is not disposed: Close() and puts still in flight may use it after the circuit ended.
        }
    }

    private void Shutdown()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
    }

    private void ReadLoop()
    {
        // Large reads: a burst of requests is parsed and answered in few reads and writes.
        var buffer = new byte[64 * 1024];
        var start = 0;
        var end = 0;
        _batchThread = Environment.CurrentManagedThreadId;
        while (true)
        {
            if (end == buffer.Length)
            {
                if (start == 0)
                {
                    Array.Resize(ref buffer, buffer.Length * 2); // one message larger than the buffer
                }
                else
                {
                    buffer.AsSpan(start, end - start).CopyTo(buffer);
                    end -= start;
                    start = 0;
                }
            }

            var received = _socket.Receive(buffer, end, buffer.Length - end, SocketFlags.None);
            if (received == 0)
            {
                return;
            }

            end += received;
            var pending = new ReadOnlySequence<byte>(buffer, start, end - start);
            _inReadBatch = true;
            while (true)
            {
                if (TryScalarDouble(ref pending))
                {
                    continue;
                }

                var status = Framing.TryRead(pending, out var message, out var consumed, out var error);
                if (status == OperationStatus.NeedMoreData)
                {
                    break;
                }

                if (status == OperationStatus.InvalidData)
                {
                    // Framing is lost: the circuit cannot go on (rsrv closes it too).
                    LogDropped(_logger, ClientName, HostName, error ?? "invalid data");
                    Flush(withBatch: true);
                    return;
                }

                pending = pending.Slice(consumed);
                _inReadBatch = true;
                Handle(message);
            }

            start = end - (int)pending.Length;
            if (start == end)
            {
                start = end = 0;
            }

            // Answer what this read brought, in one write (as RSRV does): a burst of requests arrives in few reads.
            _inReadBatch = false;
            Flush(withBatch: true);
        }
    }

    /// <summary>
    /// The fast path: a READ_NOTIFY or WRITE of one DBR_DOUBLE on a scalar double PV (what catime, pyStxm's motor and
    /// counter traffic and most clients send) is parsed from the buffer and answered into the batch without a message
    /// object, a copy of the payload, a DBR value or a queued item. Anything else (other types, arrays, unknown channels,
    /// PVs with a put handler) goes the general way, which also reports errors.
    /// </summary>
    private bool TryScalarDouble(ref ReadOnlySequence<byte> buffer)
    {
        const int HeaderSize = 16;
        var span = buffer.FirstSpan;
        if (span.Length < HeaderSize)
        {
            return false;
        }

        const ushort DbrDouble = (ushort)DbrBase.Double; // the plain DBR_DOUBLE type code is its base's
        var command = (CommandId)BinaryPrimitives.ReadUInt16BigEndian(span);
        var payloadSize = BinaryPrimitives.ReadUInt16BigEndian(span[2..]);
        if ((command != CommandId.ReadNotify && command != CommandId.Write) || payloadSize == 0xFFFF
            || BinaryPrimitives.ReadUInt16BigEndian(span[4..]) != DbrDouble || BinaryPrimitives.ReadUInt16BigEndian(span[6..]) > 1
            || span.Length < HeaderSize + payloadSize || payloadSize % 8 != 0)
        {
            return false;
        }

        var sid = BinaryPrimitives.ReadUInt32BigEndian(span[8..]);
        var ioid = BinaryPrimitives.ReadUInt32BigEndian(span[12..]);
        if (FindChannel(sid)?.Pv is not { } pv)
        {
            return false;
        }

        if (command == CommandId.ReadNotify)
        {
            if (!pv.TryReadScalarDouble(out var value))
            {
                return false;
            }

            var reply = _batch.GetSpan(HeaderSize + 8);
            BinaryPrimitives.WriteUInt16BigEndian(reply, (ushort)CommandId.ReadNotify);
            BinaryPrimitives.WriteUInt16BigEndian(reply[2..], 8);
            BinaryPrimitives.WriteUInt16BigEndian(reply[4..], DbrDouble);
            BinaryPrimitives.WriteUInt16BigEndian(reply[6..], 1);
            BinaryPrimitives.WriteUInt32BigEndian(reply[8..], EcaStatus.Normal);
            BinaryPrimitives.WriteUInt32BigEndian(reply[12..], ioid);
            BinaryPrimitives.WriteDoubleBigEndian(reply[16..], value);
            _batch.Advance(HeaderSize + 8);
        }
        else if (payloadSize < 8 || !pv.Writable || !pv.TryPutScalarDouble(BinaryPrimitives.ReadDoubleBigEndian(span[HeaderSize..])))
        {
            return false;
        }

        buffer = buffer.Slice(HeaderSize + payloadSize);
        return true;
    }

    private void Handle(RawMessage message)
    {
        Command command;
        try
        {
            command = Commands.Decode(message, Role.Client);
        }
        catch (RemoteProtocolException ex)
        {
            Send(new ErrorResponse(0xFFFFFFFF, EcaStatus.Internal, message.Header, ex.Message));
            return;
        }

        switch (command)
        {
            case VersionRequest or ReadSyncRequest:
                break;
            case ClientNameRequest client:
                ClientName = client.Name;
                break;
            case HostNameRequest host:
                HostName = host.Name;
                break;
            case CreateChanRequest create:
                CreateChannel(create);
                break;
            case ReadNotifyRequest read:
                Read(read, message.Header);
                break;
            case WriteRequest write:
                _ = PutAsync(write.DataType, write.Count, write.Sid, write.Ioid, write.Data, notify: false, message.Header);
                break;
            case WriteNotifyRequest write:
                _ = PutAsync(write.DataType, write.Count, write.Sid, write.Ioid, write.Data, notify: true, message.Header);
                break;
            case EventAddRequest add:
                Subscribe(add, message.Header);
                break;
            case EventCancelRequest cancel:
                Unsubscribe(cancel);
                break;
            case ClearChannelRequest clear:
                ClearChannel(clear);
                break;
            case EchoRequest:
                Send(new EchoResponse());
                break;
            case EventsOffRequest:
                _eventsOff = true;
                break;
            case EventsOnRequest:
                _eventsOff = false;
                ResendHeldUpdates();
                break;
            default:
                Send(new ErrorResponse(0xFFFFFFFF, EcaStatus.Internal, message.Header, $"{command.Id} is not served"));
                break;
        }
    }

    private void CreateChannel(CreateChanRequest create)
    {
        var pv = _server.Find(create.Name);
        if (pv is null)
        {
            Send(new CreateChFailResponse(create.Cid));
            return;
        }

        uint sid;
        lock (_gate)
        {
            sid = _nextSid++;
            _channels[sid] = new OpenChannel(create.Cid, pv);
        }

        // ACCESS_RIGHTS must come before the reply, or libca sees no access (CA_PROTOCOL.md section 3).
        Send(new AccessRightsResponse(create.Cid, AccessRights.Read | (pv.Writable ? AccessRights.Write : AccessRights.None)));
        Send(new CreateChanResponse((ushort)pv.NativeType, (uint)pv.MaxCount, create.Cid, sid));
    }

    private void Read(ReadNotifyRequest read, MessageHeader header)
    {
        var channel = FindChannel(read.Sid);
        if (channel is null || !Dbr.IsValueType(read.DataType))
        {
            Send(new ErrorResponse(channel?.Cid ?? 0xFFFFFFFF, channel is null ? EcaStatus.BadMonitorId : EcaStatus.BadType, header,
                channel is null ? $"no channel {read.Sid} on this circuit" : $"DBR type {read.DataType} cannot be read"));
            return;
        }

        var (status, count, data) = Encode(channel.Pv, read.DataType, read.Count);
        Send(new ReadNotifyResponse(read.DataType, count, status, read.Ioid, data));
    }

    private async Task PutAsync(ushort type, uint count, uint sid, uint ioid, ReadOnlyMemory<byte> data, bool notify, MessageHeader header)
    {
        var channel = FindChannel(sid);
        uint status;
        if (channel is null)
        {
            Send(new ErrorResponse(0xFFFFFFFF, EcaStatus.BadMonitorId, header, $"no channel {sid} on this circuit"));
            return;
        }

        if (!channel.Pv.Writable)
        {
            status = EcaStatus.NoWriteAccess;
        }
        else if (!Dbr.IsValueType(type) || count > (uint)channel.Pv.MaxCount)
        {
            status = Dbr.IsValueType(type) ? EcaStatus.BadCount : EcaStatus.BadType;
        }
        else
        {
            var value = Dbr.Decode(type, (int)count, data.Span) with { EnumStrings = channel.Pv.Value.EnumStrings };
            if (!DbrConvert.TryConvert(value, channel.Pv.NativeType, out var native, out var reason))
            {
                status = EcaStatus.BadString;
                LogPutRefused(_logger, channel.Pv.Name, reason ?? "");
            }
            else
            {
                try
                {
                    await channel.Pv.PutAsync(native, _closed.Token).ConfigureAwait(false);
                    status = EcaStatus.Normal;
                }
#pragma warning disable CA1031 // A failing put handler is reported to the client as ECA_PUTFAIL; the circuit goes on.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    LogPutRefused(_logger, channel.Pv.Name, ex.Message);
                    status = EcaStatus.PutFail;
                }
            }
        }

        if (notify)
        {
            Send(new WriteNotifyResponse(type, count, status, ioid));
        }
        else if (status != EcaStatus.Normal)
        {
            Send(new ErrorResponse(channel.Cid, status, header, $"put to {channel.Pv.Name} failed"));
        }
    }

    private void Subscribe(EventAddRequest add, MessageHeader header)
    {
        var channel = FindChannel(add.Sid);
        if (channel is null || !Dbr.IsValueType(add.DataType))
        {
            Send(new ErrorResponse(channel?.Cid ?? 0xFFFFFFFF, channel is null ? EcaStatus.BadMonitorId : EcaStatus.BadType, header, "cannot subscribe"));
            return;
        }

        var subscription = new Subscription(this, channel.Pv, add.DataType, add.Count, add.SubscriptionId, add.Mask == MonitorMask.None ? MonitorMask.Value | MonitorMask.Alarm : add.Mask);
        lock (_gate)
        {
            channel.Subscriptions[add.SubscriptionId] = subscription;
        }

        // The first update is unconditional.
        subscription.PostInitial();
    }

    private void Unsubscribe(EventCancelRequest cancel)
    {
        var channel = FindChannel(cancel.Sid);
        Subscription? subscription = null;
        lock (_gate)
        {
            channel?.Subscriptions.Remove(cancel.SubscriptionId, out subscription);
        }

        subscription?.Dispose();
        Send(new EventCancelResponse(cancel.DataType, cancel.Count, cancel.Sid, cancel.SubscriptionId));
    }

    private void ClearChannel(ClearChannelRequest clear)
    {
        OpenChannel? channel;
        lock (_gate)
        {
            _channels.Remove(clear.Sid, out channel);
        }

        channel?.Dispose();
        Send(new ClearChannelResponse(clear.Sid, clear.Cid));
    }

    private void ResendHeldUpdates()
    {
        lock (_gate)
        {
            foreach (var subscription in _channels.Values.SelectMany(c => c.Subscriptions.Values))
            {
                subscription.Release();
            }
        }
    }

    private OpenChannel? FindChannel(uint sid)
    {
        lock (_gate)
        {
            return _channels.GetValueOrDefault(sid);
        }
    }

    /// <summary>The PV's value as <paramref name="type"/>: count 0 means the current length (CA 4.13).</summary>
    private static (uint Status, uint Count, byte[] Data) Encode(ProcessVariable pv, ushort type, uint requested) =>
        Encode(pv.Value, pv.MaxCount, type, requested);

    private static (uint Status, uint Count, byte[] Data) Encode(DbrValue value, int maxCount, ushort type, uint requested)
    {
        var count = requested == 0 ? value.Count : (int)Math.Min(requested, (uint)maxCount);
        if (!DbrConvert.TryConvert(value, Dbr.Base(type), out var converted, out _))
        {
            return (EcaStatus.NoConvert, (uint)count, new byte[Dbr.Size(type, count)]);
        }

        if (converted.Count != count)
        {
            var values = Array.CreateInstance(converted.Values.GetType().GetElementType()!, count);
            Array.Copy(converted.Values, values, Math.Min(count, converted.Count));
            if (values is string[] strings)
            {
                for (var i = converted.Count; i < count; i++)
                {
                    strings[i] = "";
                }
            }

            converted = converted with { Values = values };
        }

        return (EcaStatus.Normal, (uint)count, Dbr.Encode(type, converted));
    }

    /// <summary>
    /// Queues a message. Replies made while a read batch is handled are written at its end by the read loop; anything
    /// else (monitor updates, completed puts) wakes the writer.
    /// </summary>
    private void Send(object item)
    {
        // A reply made by the read loop itself goes into the batch, in request order.
        if (item is Command reply && _inReadBatch && Environment.CurrentManagedThreadId == _batchThread)
        {
            reply.Write(_batch);
            return;
        }

        // Enqueue first, then look at the flag: while it is set, the read loop's flush at the end of the batch will
        // find this item; once it is cleared, the writer is woken.
        Enqueue(new Outgoing(item, null));
    }

    private void Enqueue(Outgoing item)
    {
        Interlocked.Increment(ref _queued);
        _outbound.Enqueue(item);
        if (!_inReadBatch && Interlocked.Exchange(ref _writerSignalled, 1) == 0)
        {
            _wake.Release();
        }
    }

    /// <summary>Writes the batch's replies (from the read loop only) and everything queued, in as few socket writes as possible.</summary>
    private void Flush(bool withBatch = false)
    {
        if (_outbound.IsEmpty && (!withBatch || _batch.WrittenCount == 0))
        {
            return;
        }

        _writeLock.Wait();
        try
        {
            if (withBatch && _batch.WrittenCount > 0)
            {
                _socket.Send(_batch.WrittenSpan);
                _batch.ResetWrittenCount();
            }

            while (!_outbound.IsEmpty)
            {
                _buffer.ResetWrittenCount();
                while (_buffer.WrittenCount < 1024 * 1024 && _outbound.TryDequeue(out var item))
                {
                    Interlocked.Decrement(ref _queued);
                    switch (item.Item)
                    {
                        case Command command:
                            command.Write(_buffer);
                            break;
                        case Subscription subscription:
                            subscription.WriteUpdate(_buffer, item.Change, _eventsOff);
                            break;
                    }
                }

                if (_buffer.WrittenCount > 0)
                {
                    _socket.Send(_buffer.WrittenSpan);
                }
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void WriteLoop(CancellationToken token)
    {
        try
        {
            while (true)
            {
                _wake.Wait(token);
                Volatile.Write(ref _writerSignalled, 0);
                Flush();
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            _closed.Cancel();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Circuit of {Client}@{Host} closed: {Reason}")]
    private static partial void LogDropped(ILogger logger, string client, string host, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Put to {Pv} refused: {Reason}")]
    private static partial void LogPutRefused(ILogger logger, string pv, string reason);

    private sealed class OpenChannel(uint cid, ProcessVariable pv) : IDisposable
    {
        public uint Cid { get; } = cid;

        public ProcessVariable Pv { get; } = pv;

        public Dictionary<uint, Subscription> Subscriptions { get; } = [];

        public void Dispose()
        {
            foreach (var subscription in Subscriptions.Values)
            {
                subscription.Dispose();
            }

            Subscriptions.Clear();
        }
    }

    /// <summary>A message waiting to be sent: a command, or a subscription's update (a held value, or null: its latest).</summary>
    private readonly record struct Outgoing(object Item, PvChange? Change);

    /// <summary>
    /// A monitor. Each change is queued with its value until <see cref="SnapshotsPerSubscription"/> wait or the circuit
    /// is full; then one "latest" update stands for all later changes until it is sent. Versions keep the updates in
    /// the order of the PV's changes even when changes are posted from several threads: an older one is dropped.
    /// </summary>
    private sealed class Subscription : IDisposable
    {
        private readonly ServerCircuit _circuit;
        private readonly ProcessVariable _pv;
        private readonly ushort _type;
        private readonly uint _count;
        private readonly uint _id;
        private readonly MonitorMask _mask;
        private readonly Lock _gate = new();
        private int _snapshots;
        private bool _latestQueued;
        private bool _held;
        private long _lastVersion = -1;

        public Subscription(ServerCircuit circuit, ProcessVariable pv, ushort type, uint count, uint id, MonitorMask mask)
        {
            _circuit = circuit;
            _pv = pv;
            _type = type;
            _count = count;
            _id = id;
            _mask = mask;
            pv.Changed += OnChanged;
        }

        /// <summary>The first update: the current value, unconditionally.</summary>
        public void PostInitial()
        {
            lock (_gate)
            {
                QueueLatest();
            }
        }

        /// <summary>EVENTS_ON: a subscription that changed while the client held events off sends its latest value.</summary>
        public void Release()
        {
            lock (_gate)
            {
                if (_held)
                {
                    _held = false;
                    QueueLatest();
                }
            }
        }

        public void WriteUpdate(IBufferWriter<byte> writer, PvChange? change, bool eventsOff)
        {
            DbrValue value;
            lock (_gate)
            {
                if (change is null)
                {
                    _latestQueued = false;
                }
                else
                {
                    _snapshots--;
                }

                if (eventsOff)
                {
                    // Flow control: nothing is sent now; the latest value goes when the client turns events on.
                    _held = true;
                    return;
                }

                if (change is { } held)
                {
                    value = held.Value;
                }
                else
                {
                    (value, var version) = _pv.Snapshot();
                    _lastVersion = Math.Max(_lastVersion, version);
                }
            }

            var (status, count, data) = Encode(value, _pv.MaxCount, _type, _count);
            new EventAddResponse(_type, count, status, _id, data).Write(writer);
        }

        public void Dispose() => _pv.Changed -= OnChanged;

        private void OnChanged(ProcessVariable pv, PvChange change)
        {
            if ((change.Events & _mask) == MonitorMask.None)
            {
                return;
            }

            lock (_gate)
            {
                if (_circuit._eventsOff)
                {
                    _held = true;
                }
                else if (change.Version <= _lastVersion || _latestQueued)
                {
                    // Older than what is queued already, or covered by the latest update waiting to be sent.
                }
                else if (_snapshots < SnapshotsPerSubscription && Volatile.Read(ref _circuit._queued) < QueuedLimit)
                {
                    _snapshots++;
                    _lastVersion = change.Version;
                    _circuit.Enqueue(new Outgoing(this, change));
                }
                else
                {
                    QueueLatest();
                }
            }
        }

        private void QueueLatest()
        {
            if (!_latestQueued)
            {
                _latestQueued = true;
                _circuit.Enqueue(new Outgoing(this, null));
            }
        }
    }
}
