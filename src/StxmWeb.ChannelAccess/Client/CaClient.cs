using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using StxmWeb.ChannelAccess.Protocol;

namespace StxmWeb.ChannelAccess.Client;

/// <summary>
/// A Channel Access client context: searches names over UDP (address list, broadcast, retries with back-off), keeps one
/// TCP circuit per server, and reconnects channels when their server comes back.
/// </summary>
public sealed class CaClient : IAsyncDisposable
{
    private static readonly TimeSpan FirstSearchPeriod = TimeSpan.FromMilliseconds(30);
    private readonly ConcurrentDictionary<uint, CaChannel> _channels = new();
    private readonly ConcurrentDictionary<IPEndPoint, ClientCircuit> _circuits = new();
    private readonly Socket _udp = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiveLoop;
    private readonly Task _searchLoop;
    private readonly SemaphoreSlim _wake = new(0);
    private int _nextId;
    private uint _sequence;

    /// <summary>Creates a client; <paramref name="options"/> default to the EPICS_CA_* environment.</summary>
    public CaClient(CaClientOptions? options = null)
    {
        Options = options ?? CaClientOptions.FromEnvironment();
        _udp.EnableBroadcast = true;
        _udp.Bind(new IPEndPoint(IPAddress.Any, 0));
        _receiveLoop = ReceiveLoopAsync(_stop.Token);
        _searchLoop = SearchLoopAsync(_stop.Token);
    }

    /// <summary>The options in force.</summary>
    public CaClientOptions Options { get; }

    /// <summary>Creates a channel and waits until it connects (or fails with a timeout naming the PV).</summary>
    public async Task<CaChannel> ConnectAsync(string name, CancellationToken cancellationToken = default)
    {
        var channel = CreateChannel(name);
        try
        {
            await channel.WaitConnectedAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await channel.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return channel;
    }

    /// <summary>Creates a channel that connects in the background (see <see cref="CaChannel.ConnectionChanged"/>).</summary>
    public CaChannel CreateChannel(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var channel = new CaChannel(this, name, NextId()) { NextSearch = DateTime.UtcNow, SearchPeriod = TimeSpan.Zero };
        _channels[channel.Cid] = channel;
        _wake.Release();
        return channel;
    }

    internal uint NextId() => (uint)Interlocked.Increment(ref _nextId);

    internal void Forget(CaChannel channel) => _channels.TryRemove(channel.Cid, out _);

    internal void OnCircuitClosed(ClientCircuit circuit)
    {
        _circuits.TryRemove(new KeyValuePair<IPEndPoint, ClientCircuit>(circuit.Server, circuit));
        _wake.Release();
    }

    private IEnumerable<IPEndPoint> Destinations()
    {
        foreach (var endPoint in Options.AddressList)
        {
            yield return endPoint;
        }

        if (Options.AutoAddressList)
        {
            yield return new IPEndPoint(IPAddress.Broadcast, Options.ServerPort);
        }
    }

    private async Task SearchLoopAsync(CancellationToken token)
    {
        var datagram = new ArrayBufferWriter<byte>(1024);
        while (!token.IsCancellationRequested)
        {
            var now = DateTime.UtcNow;
            var due = _channels.Values.Where(c => c.State == ChannelState.Searching && c.NextSearch <= now).ToList();
            for (var start = 0; start < due.Count; start += 30)
            {
                datagram.ResetWrittenCount();
                new VersionRequest(0, Commands.MinorVersion, ++_sequence).Write(datagram);
                foreach (var channel in due.Skip(start).Take(30))
                {
                    new SearchRequest(channel.Name, channel.Cid).Write(datagram);

                    // Back off: 30 ms, doubling, up to the maximum period.
                    channel.SearchPeriod = channel.SearchPeriod == TimeSpan.Zero ? FirstSearchPeriod
                        : TimeSpan.FromTicks(Math.Min(channel.SearchPeriod.Ticks * 2, Options.MaxSearchPeriod.Ticks));
                    channel.NextSearch = now + channel.SearchPeriod;
                }

                foreach (var destination in Destinations())
                {
                    try
                    {
                        await _udp.SendToAsync(datagram.WrittenMemory, SocketFlags.None, destination, token).ConfigureAwait(false);
                    }
                    catch (SocketException)
                    {
                        // An unreachable destination; the others may answer.
                    }
                    catch (Exception ex) when (token.IsCancellationRequested && ex is OperationCanceledException or ObjectDisposedException)
                    {
                        return; // the client is closing
                    }
                }
            }

            var next = _channels.Values.Where(c => c.State == ChannelState.Searching).Select(c => c.NextSearch).DefaultIfEmpty(now.AddSeconds(1)).Min();
            var wait = next - DateTime.UtcNow;
            try
            {
                await _wake.WaitAsync(wait < TimeSpan.FromMilliseconds(5) ? TimeSpan.FromMilliseconds(5) : wait, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task ReceiveLoopAsync(CancellationToken token)
    {
        var buffer = new byte[65_536];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        while (!token.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _udp.ReceiveFromAsync(buffer, SocketFlags.None, any, token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            var source = (IPEndPoint)received.RemoteEndPoint;
            foreach (var message in Framing.ReadAll(buffer.AsMemory(0, received.ReceivedBytes), out _))
            {
                Command command;
                try
                {
                    command = Commands.Decode(message, Role.Server);
                }
                catch (RemoteProtocolException)
                {
                    continue;
                }

                if (command is SearchResponse found && _channels.TryGetValue(found.Cid, out var channel) && channel.State == ChannelState.Searching)
                {
                    var address = found.Address == Commands.UseSourceAddress
                        ? source.Address
                        : new IPAddress(BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(found.Address)));
                    await AttachAsync(channel, new IPEndPoint(address, found.Port)).ConfigureAwait(false);
                }
            }
        }
    }

    private async Task AttachAsync(CaChannel channel, IPEndPoint server)
    {
        // Keep searching meanwhile, more slowly, in case the circuit cannot be made.
        channel.NextSearch = DateTime.UtcNow + Options.Timeout;
        var circuit = _circuits.GetOrAdd(server, endPoint =>
        {
            var created = new ClientCircuit(this, endPoint);
            created.Start();
            return created;
        });
        try
        {
            await circuit.CreateChannelAsync(channel).ConfigureAwait(false);
        }
        catch (CaException)
        {
            channel.NextSearch = DateTime.UtcNow;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _udp.Dispose();
        foreach (var circuit in _circuits.Values)
        {
            circuit.Close();
        }

        await Task.WhenAll(_circuits.Values.Select(c => c.Completion).Append(_receiveLoop).Append(_searchLoop)).ConfigureAwait(false);
        _stop.Dispose();
        _wake.Dispose();
    }
}
