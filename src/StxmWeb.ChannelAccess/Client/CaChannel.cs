using StxmWeb.ChannelAccess.Protocol;

namespace StxmWeb.ChannelAccess.Client;

/// <summary>Where a channel stands.</summary>
public enum ChannelState
{
    /// <summary>Looking for a server that has the name.</summary>
    Searching,

    /// <summary>Connected on a circuit.</summary>
    Connected,

    /// <summary>Closed by the user.</summary>
    Closed,
}

/// <summary>
/// A channel to one PV: connects when a server answers the search, reconnects by itself when the server returns, and
/// keeps its subscriptions across reconnections. Operations fail with <see cref="CaTimeoutException"/> or
/// <see cref="CaException"/> naming the PV.
/// </summary>
public sealed class CaChannel : IAsyncDisposable
{
    private readonly CaClient _client;
    private readonly Lock _gate = new();
    private readonly List<CaSubscription> _subscriptions = [];
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal CaChannel(CaClient client, string name, uint cid)
    {
        _client = client;
        Name = name;
        Cid = cid;
    }

    /// <summary>The PV name.</summary>
    public string Name { get; }

    /// <summary>Client channel id.</summary>
    public uint Cid { get; }

    /// <summary>Current state.</summary>
    public ChannelState State { get; private set; } = ChannelState.Searching;

    /// <summary>Native base type (valid once connected).</summary>
    public DbrBase NativeType { get; private set; }

    /// <summary>Native element count (valid once connected).</summary>
    public int Count { get; private set; }

    /// <summary>Access rights the server grants.</summary>
    public AccessRights Rights { get; internal set; }

    /// <summary>Raised on connect (true) and disconnect (false).</summary>
    public event Action<CaChannel, bool>? ConnectionChanged;

    internal uint Sid { get; private set; }

    internal ClientCircuit? Circuit { get; private set; }

    internal DateTime NextSearch { get; set; }

    internal TimeSpan SearchPeriod { get; set; }

    /// <summary>Waits until connected, or fails after the client's timeout naming the PV.</summary>
    public async Task WaitConnectedAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        Task connected;
        lock (_gate)
        {
            connected = _connected.Task;
        }

        try
        {
            await connected.WaitAsync(timeout ?? _client.Options.Timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new CaTimeoutException($"{Name}: no server answered the search within {(timeout ?? _client.Options.Timeout).TotalSeconds:0.#} s.");
        }
    }

    /// <summary>Reads the value with the metadata of <paramref name="family"/> (count 0: all elements the server has).</summary>
    public async Task<DbrValue> GetAsync(DbrFamily family = DbrFamily.Time, int count = 0, CancellationToken cancellationToken = default)
    {
        var circuit = await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var type = Dbr.Code(family, NativeType);
        var reply = await circuit.RequestAsync<ReadNotifyResponse>(
            ioid => new ReadNotifyRequest(type, (uint)count, Sid, ioid), this, "get", cancellationToken).ConfigureAwait(false);
        if (reply.Status != EcaStatus.Normal)
        {
            throw new CaException($"{Name}: get failed with ECA status {reply.Status}.", reply.Status);
        }

        return Dbr.Decode(reply.DataType, (int)reply.Count, reply.Data.Span);
    }

    /// <summary>
    /// Writes <paramref name="value"/>. With <paramref name="wait"/>, completes when the server says the put is done
    /// (WRITE_NOTIFY: a motor has arrived); otherwise when the request is sent.
    /// </summary>
    public async Task PutAsync(DbrValue value, bool wait = true, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        var circuit = await ReadyAsync(cancellationToken).ConfigureAwait(false);
        if ((Rights & AccessRights.Write) == 0)
        {
            throw new CaException($"{Name}: the server grants no write access.", EcaStatus.NoWriteAccess);
        }

        var type = Dbr.Code(DbrFamily.Plain, value.Base);
        var data = Dbr.Encode(type, value);
        if (!wait)
        {
            await circuit.SendAsync(new WriteRequest(type, (uint)value.Count, Sid, 0, data), cancellationToken).ConfigureAwait(false);
            return;
        }

        var reply = await circuit.RequestAsync<WriteNotifyResponse>(
            ioid => new WriteNotifyRequest(type, (uint)value.Count, Sid, ioid, data), this, "put", cancellationToken, timeout: Timeout.InfiniteTimeSpan).ConfigureAwait(false);
        if (reply.Status != EcaStatus.Normal)
        {
            throw new CaException($"{Name}: put failed with ECA status {reply.Status}.", reply.Status);
        }
    }

    /// <summary>Writes a number and waits for completion.</summary>
    public Task PutAsync(double value, bool wait = true, CancellationToken cancellationToken = default) =>
        PutAsync(DbrValue.Of(value), wait, cancellationToken);

    /// <summary>
    /// Subscribes: <paramref name="onUpdate"/> gets the current value at once, then every change in
    /// <paramref name="mask"/>. The subscription survives reconnections; dispose it to cancel.
    /// </summary>
    public async Task<CaSubscription> SubscribeAsync(Action<DbrValue> onUpdate, MonitorMask mask = MonitorMask.Value | MonitorMask.Alarm,
        DbrFamily family = DbrFamily.Time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(onUpdate);
        await WaitConnectedAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var subscription = new CaSubscription(this, _client.NextId(), onUpdate, mask, family);
        lock (_gate)
        {
            _subscriptions.Add(subscription);
        }

        if (Circuit is { } circuit)
        {
            await circuit.SubscribeAsync(subscription, cancellationToken).ConfigureAwait(false);
        }

        return subscription;
    }

    /// <summary>Closes the channel (CLEAR_CHANNEL) and its subscriptions.</summary>
    public async ValueTask DisposeAsync()
    {
        ClientCircuit? circuit;
        uint sid;
        lock (_gate)
        {
            if (State == ChannelState.Closed)
            {
                return;
            }

            State = ChannelState.Closed;
            circuit = Circuit;
            sid = Sid;
            _subscriptions.Clear();
        }

        _client.Forget(this);
        if (circuit is not null)
        {
            circuit.Forget(this);
            await circuit.SendIfConnectedAsync(new ClearChannelRequest(sid, Cid)).ConfigureAwait(false);
        }
    }

    internal async Task RemoveAsync(CaSubscription subscription)
    {
        lock (_gate)
        {
            _subscriptions.Remove(subscription);
        }

        if (Circuit is { } circuit && State == ChannelState.Connected)
        {
            await circuit.UnsubscribeAsync(subscription).ConfigureAwait(false);
        }
    }

    internal void OnConnected(ClientCircuit circuit, uint sid, DbrBase nativeType, int count)
    {
        List<CaSubscription> resubscribe;
        TaskCompletionSource connected;
        lock (_gate)
        {
            if (State == ChannelState.Closed)
            {
                return;
            }

            Circuit = circuit;
            Sid = sid;
            NativeType = nativeType;
            Count = count;
            State = ChannelState.Connected;
            connected = _connected;
            resubscribe = [.. _subscriptions];
        }

        foreach (var subscription in resubscribe)
        {
            _ = circuit.SubscribeAsync(subscription, CancellationToken.None);
        }

        connected.TrySetResult();
        ConnectionChanged?.Invoke(this, true);
    }

    internal void OnDisconnected()
    {
        lock (_gate)
        {
            if (State != ChannelState.Connected)
            {
                return;
            }

            State = ChannelState.Searching;
            Circuit = null;
            _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            SearchPeriod = TimeSpan.Zero;
            NextSearch = DateTime.UtcNow;
        }

        ConnectionChanged?.Invoke(this, false);
    }

    private async Task<ClientCircuit> ReadyAsync(CancellationToken cancellationToken)
    {
        await WaitConnectedAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        return Circuit ?? throw new CaException($"{Name}: the channel is disconnected.", EcaStatus.Disconnected);
    }
}

/// <summary>A monitor on a channel; dispose it to cancel (EVENT_CANCEL).</summary>
public sealed class CaSubscription : IAsyncDisposable
{
    private readonly Action<DbrValue> _onUpdate;

    internal CaSubscription(CaChannel channel, uint id, Action<DbrValue> onUpdate, MonitorMask mask, DbrFamily family)
    {
        Channel = channel;
        Id = id;
        _onUpdate = onUpdate;
        Mask = mask;
        Family = family;
    }

    /// <summary>The channel.</summary>
    public CaChannel Channel { get; }

    internal uint Id { get; }

    internal MonitorMask Mask { get; }

    internal DbrFamily Family { get; }

    internal void Deliver(DbrValue value) => _onUpdate(value);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => new(Channel.RemoveAsync(this));
}
