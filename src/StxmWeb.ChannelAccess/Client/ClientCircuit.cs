using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using StxmWeb.ChannelAccess.Protocol;

namespace StxmWeb.ChannelAccess.Client;

/// <summary>
/// One TCP circuit to one server, shared by every channel on it: requests are matched to replies by id, subscription
/// updates go to their subscriptions, and when the circuit drops every channel goes back to searching.
/// </summary>
#pragma warning disable CA1001 // The socket, stream and token live as long as RunAsync, which disposes them when the circuit ends.
internal sealed class ClientCircuit
#pragma warning restore CA1001
{
    private readonly CaClient _client;
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentDictionary<uint, TaskCompletionSource<Command>> _pending = new();
    private readonly ConcurrentDictionary<uint, CaChannel> _channels = new();
    private readonly ConcurrentDictionary<uint, CaSubscription> _subscriptions = new();
    private readonly CancellationTokenSource _closed = new();
    private NetworkStream? _stream;
    private long _lastReceived = Environment.TickCount64;

    public ClientCircuit(CaClient client, IPEndPoint server)
    {
        _client = client;
        Server = server;
    }

    public IPEndPoint Server { get; }

    public Task Connected { get; private set; } = Task.CompletedTask;

    public Task Completion { get; private set; } = Task.CompletedTask;

    public void Start()
    {
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Connected = connected.Task;
        Completion = RunAsync(connected);
    }

    public async Task CreateChannelAsync(CaChannel channel)
    {
        await Connected.ConfigureAwait(false);
        _channels[channel.Cid] = channel;
        await SendAsync(new CreateChanRequest(channel.Name, channel.Cid), CancellationToken.None).ConfigureAwait(false);
    }

    public void Forget(CaChannel channel) => _channels.TryRemove(channel.Cid, out _);

    public async Task SendAsync(Command command, CancellationToken cancellationToken)
    {
        var stream = _stream ?? throw new CaException($"the circuit to {Server} is not connected");
        var bytes = command.ToBytes();
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            throw new CaException($"the circuit to {Server} failed: {ex.Message}", ex);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>
    /// Sends a teardown message (EVENT_CANCEL, CLEAR_CHANNEL) if the circuit is still up. On a circuit that is gone
    /// there is nothing left to cancel: the server dropped the channel and its subscriptions with the circuit.
    /// </summary>
    public async Task SendIfConnectedAsync(Command command)
    {
        if (_closed.IsCancellationRequested)
        {
            return;
        }

        try
        {
            await SendAsync(command, CancellationToken.None).ConfigureAwait(false);
        }
        catch (CaException)
        {
            // The circuit dropped between the check and the write; its end already told every channel.
        }
    }

    /// <summary>Sends a request with a fresh id and waits for the reply that carries it.</summary>
    public async Task<T> RequestAsync<T>(Func<uint, Command> request, CaChannel channel, string operation, CancellationToken cancellationToken, TimeSpan? timeout = null)
        where T : Command
    {
        var ioid = _client.NextId();
        var reply = new TaskCompletionSource<Command>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[ioid] = reply;
        try
        {
            await SendAsync(request(ioid), cancellationToken).ConfigureAwait(false);
            var wait = timeout ?? _client.Options.Timeout;
            var result = await reply.Task.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
            return result as T ?? throw new CaException($"{channel.Name}: unexpected reply {result.GetType().Name} to {operation}.");
        }
        catch (TimeoutException)
        {
            throw new CaTimeoutException($"{channel.Name}: no reply to {operation} within {(timeout ?? _client.Options.Timeout).TotalSeconds:0.#} s.");
        }
        finally
        {
            _pending.TryRemove(ioid, out _);
        }
    }

    public async Task SubscribeAsync(CaSubscription subscription, CancellationToken cancellationToken)
    {
        var channel = subscription.Channel;
        _subscriptions[subscription.Id] = subscription;
        var type = Dbr.Code(subscription.Family, channel.NativeType);
        await SendAsync(new EventAddRequest(type, 0, channel.Sid, subscription.Id, subscription.Mask), cancellationToken).ConfigureAwait(false);
    }

    public async Task UnsubscribeAsync(CaSubscription subscription)
    {
        if (_subscriptions.TryRemove(subscription.Id, out _))
        {
            var channel = subscription.Channel;
            await SendIfConnectedAsync(new EventCancelRequest(Dbr.Code(subscription.Family, channel.NativeType), 0, channel.Sid, subscription.Id)).ConfigureAwait(false);
        }
    }

    public void Close() => _closed.Cancel();

    private async Task RunAsync(TaskCompletionSource connected)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_closed.Token);
            timeout.CancelAfter(_client.Options.Timeout);
            await _socket.ConnectAsync(Server, timeout.Token).ConfigureAwait(false);
            _stream = new NetworkStream(_socket, ownsSocket: true);
            await SendAsync(new VersionRequest(0), CancellationToken.None).ConfigureAwait(false);
            await SendAsync(new ClientNameRequest(_client.Options.ClientName), CancellationToken.None).ConfigureAwait(false);
            await SendAsync(new HostNameRequest(_client.Options.HostName), CancellationToken.None).ConfigureAwait(false);
            connected.TrySetResult();
            var echo = EchoLoopAsync(_closed.Token);
            await ReadLoopAsync(PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024)), _closed.Token).ConfigureAwait(false);
            await _closed.CancelAsync().ConfigureAwait(false);
            await echo.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException or CaException)
        {
            connected.TrySetException(new CaException($"cannot connect to {Server}: {ex.Message}", ex));
        }
        finally
        {
            _stream?.Dispose();
            _socket.Dispose();
            foreach (var pending in _pending.Values)
            {
                pending.TrySetException(new CaException($"the circuit to {Server} was lost.", EcaStatus.Disconnected));
            }

            _client.OnCircuitClosed(this);
            foreach (var channel in _channels.Values)
            {
                channel.OnDisconnected();
            }
        }
    }

    private async Task ReadLoopAsync(PipeReader reader, CancellationToken token)
    {
        while (true)
        {
            var result = await reader.ReadAsync(token).ConfigureAwait(false);
            var buffer = result.Buffer;
            Interlocked.Exchange(ref _lastReceived, Environment.TickCount64); // heard from the server (echo timer)
            while (true)
            {
                if (TryUpdate(ref buffer))
                {
                    continue;
                }

                var status = Framing.TryRead(buffer, out var message, out var consumed, out _);
                if (status == OperationStatus.NeedMoreData)
                {
                    break;
                }

                if (status == OperationStatus.InvalidData)
                {
                    return; // framing lost: drop the circuit; channels search again
                }

                buffer = buffer.Slice(consumed);
                try
                {
                    Handle(Commands.Decode(message, Role.Server));
                }
                catch (RemoteProtocolException)
                {
                    // An unknown or malformed message is skipped; the circuit goes on.
                }
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }

    /// <summary>
    /// The fast path for the bulk of a circuit's traffic: a subscription update (EVENT_ADD with a normal status and a
    /// short header) is decoded straight from the read buffer into the value handed to the subscriber, with no copy of
    /// the message. Anything else goes the general way.
    /// </summary>
    private bool TryUpdate(ref ReadOnlySequence<byte> buffer)
    {
        const int HeaderSize = 16;
        var span = buffer.FirstSpan;
        if (span.Length < HeaderSize || (CommandId)BinaryPrimitives.ReadUInt16BigEndian(span) != CommandId.EventAdd)
        {
            return false;
        }

        var payloadSize = BinaryPrimitives.ReadUInt16BigEndian(span[2..]);
        var type = BinaryPrimitives.ReadUInt16BigEndian(span[4..]);
        var count = BinaryPrimitives.ReadUInt16BigEndian(span[6..]);
        if (payloadSize == 0xFFFF || payloadSize % 8 != 0 || span.Length < HeaderSize + payloadSize
            || BinaryPrimitives.ReadUInt32BigEndian(span[8..]) != EcaStatus.Normal || !Dbr.IsValueType(type)
            || Dbr.Size(type, count) > payloadSize
            || !_subscriptions.TryGetValue(BinaryPrimitives.ReadUInt32BigEndian(span[12..]), out var subscription))
        {
            return false;
        }

        var value = Dbr.Decode(type, count, span.Slice(HeaderSize, payloadSize));
        buffer = buffer.Slice(HeaderSize + payloadSize);
        subscription.Deliver(value);
        return true;
    }

    private void Handle(Command command)
    {
        switch (command)
        {
            case AccessRightsResponse rights when _channels.TryGetValue(rights.Cid, out var channel):
                channel.Rights = rights.Rights;
                break;
            case CreateChanResponse created when _channels.TryGetValue(created.Cid, out var channel):
                channel.OnConnected(this, created.Sid, Dbr.Base(created.NativeType), (int)created.NativeCount);
                break;
            case CreateChFailResponse failed when _channels.TryRemove(failed.Cid, out var channel):
                channel.OnDisconnected();
                break;
            case ServerDisconnResponse gone when _channels.TryRemove(gone.Cid, out var channel):
                channel.OnDisconnected();
                break;
            case ReadNotifyResponse read when _pending.TryGetValue(read.Ioid, out var reply):
                reply.TrySetResult(read);
                break;
            case WriteNotifyResponse write when _pending.TryGetValue(write.Ioid, out var reply):
                reply.TrySetResult(write);
                break;
            case EventAddResponse update when _subscriptions.TryGetValue(update.SubscriptionId, out var subscription):
                if (update.Status == EcaStatus.Normal && Dbr.IsValueType(update.DataType))
                {
                    subscription.Deliver(Dbr.Decode(update.DataType, (int)update.Count, update.Data.Span));
                }

                break;
            case ErrorResponse error when _pending.TryGetValue(error.Original.Parameter2, out var reply):
                reply.TrySetException(new CaException($"the server refused the request: {error.Message}", error.Status));
                break;
        }
    }

    private async Task EchoLoopAsync(CancellationToken token)
    {
        // On silence, probe with ECHO; a circuit that stays silent after the probe is dropped (libca: 30 s + 5 s).
        var interval = _client.Options.EchoInterval;
        try
        {
            while (!token.IsCancellationRequested)
            {
                await Task.Delay(interval / 4, token).ConfigureAwait(false);
                var silent = TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _lastReceived));
                if (silent > interval + TimeSpan.FromSeconds(5))
                {
                    await _closed.CancelAsync().ConfigureAwait(false);
                    return;
                }

                if (silent > interval)
                {
                    await SendAsync(new EchoRequest(), token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or CaException)
        {
        }
    }
}
