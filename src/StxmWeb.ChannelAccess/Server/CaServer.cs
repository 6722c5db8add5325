using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using StxmWeb.ChannelAccess.Protocol;

namespace StxmWeb.ChannelAccess.Server;

/// <summary>
/// A Channel Access server: answers name searches over UDP and serves its process variables over TCP circuits
/// (get, put, put with completion, monitors, access rights), speaking CA 4.13 so that EPICS's own clients (caget,
/// camonitor, libca through pyepics) and other implementations talk to it. The protocol logic is the sans-I/O codec in
/// <see cref="Protocol"/>; this class and <see cref="ServerCircuit"/> are the socket layer.
/// </summary>
public sealed partial class CaServer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, ProcessVariable> _pvs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<ServerCircuit, byte> _circuits = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly ILogger _logger;
    private TcpListener? _listener;
    private Socket? _udp;
    private Task _acceptLoop = Task.CompletedTask;
    private Task _udpLoop = Task.CompletedTask;

    /// <summary>Creates a server for <paramref name="pvs"/>.</summary>
    public CaServer(IEnumerable<ProcessVariable> pvs, ILogger<CaServer> logger)
    {
        ArgumentNullException.ThrowIfNull(pvs);
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        foreach (var pv in pvs)
        {
            Add(pv);
        }
    }

    /// <summary>The TCP (and UDP search) port, once started.</summary>
    public int Port { get; private set; }

    /// <summary>Number of open circuits.</summary>
    public int CircuitCount => _circuits.Count;

    /// <summary>Serves one more PV.</summary>
    public void Add(ProcessVariable pv)
    {
        ArgumentNullException.ThrowIfNull(pv);
        if (!_pvs.TryAdd(pv.Name, pv))
        {
            throw new ArgumentException($"A PV named {pv.Name} is already served.", nameof(pv));
        }
    }

    /// <summary>A served PV by name ("REC" means "REC.VAL").</summary>
    public ProcessVariable? Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _pvs.TryGetValue(name, out var pv) ? pv
            : name.EndsWith(".VAL", StringComparison.Ordinal) && _pvs.TryGetValue(name[..^4], out pv) ? pv
            : !name.Contains('.', StringComparison.Ordinal) && _pvs.TryGetValue(name + ".VAL", out pv) ? pv
            : null;
    }

    /// <summary>
    /// Starts listening on <paramref name="address"/>: TCP on <paramref name="port"/> (0 = any free port) and UDP searches
    /// on the same port number.
    /// </summary>
    public Task StartAsync(IPAddress address, int port = 0)
    {
        ArgumentNullException.ThrowIfNull(address);
        for (var attempt = 0; ; attempt++)
        {
            var listener = new TcpListener(address, port);

            // As EPICS' rsrv does: a restarted server takes its port back while old circuits sit in TIME_WAIT.
            listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Start();
            var actual = ((IPEndPoint)listener.LocalEndpoint).Port;
            var udp = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                udp.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);

                // A client connecting many channels sends its searches in bursts: room for a burst, so that none is
                // dropped and retried after libca's back-off (the kernel's default holds a few hundred datagrams).
                udp.ReceiveBufferSize = 1 << 20;
                udp.Bind(new IPEndPoint(address, actual));
            }
            catch (SocketException) when (port == 0 && attempt < 20)
            {
                // The UDP port of that number is taken: try another TCP port.
                udp.Dispose();
                listener.Stop();
                continue;
            }

            _listener = listener;
            _udp = udp;
            Port = actual;
            break;
        }

        _acceptLoop = AcceptAsync(_stop.Token);
        _udpLoop = DedicatedThread.Run("CA search", () => SearchLoop(_stop.Token));
        LogStarted(_logger, address, Port, _pvs.Count);
        return Task.CompletedTask;
    }

    private async Task AcceptAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener!.AcceptSocketAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            socket.NoDelay = true;

            // Room for a burst of requests (catime's 10,000 puts are 240 KB): the client's writes do not stall while
            // this circuit catches up.
            socket.ReceiveBufferSize = 1 << 20;
            socket.SendBufferSize = 1 << 20;
            var circuit = new ServerCircuit(this, socket, _logger);
            _circuits[circuit] = 0;
            _ = circuit.RunAsync(cancellationToken).ContinueWith(t => _circuits.TryRemove(circuit, out var _), TaskScheduler.Default);
        }
    }

    private void SearchLoop(CancellationToken cancellationToken)
    {
        var buffer = new byte[65_536];
        var reply = new System.Buffers.ArrayBufferWriter<byte>();
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        while (!cancellationToken.IsCancellationRequested)
        {
            int receivedBytes;
            EndPoint from = any;
            try
            {
                receivedBytes = _udp!.ReceiveFrom(buffer, SocketFlags.None, ref from);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            reply.ResetWrittenCount();
            uint sequence = 0;
            var found = false;
            foreach (var message in Framing.ReadAll(buffer.AsMemory(0, receivedBytes), out _))
            {
                Command command;
                try
                {
                    command = Commands.Decode(message, Role.Client);
                }
                catch (RemoteProtocolException)
                {
                    continue; // a malformed datagram part is dropped; the rest is still answered
                }

                switch (command)
                {
                    case VersionRequest version:
                        sequence = version.Sequence;
                        break;
                    case SearchRequest search when Find(search.Name) is not null:
                        if (!found)
                        {
                            new VersionResponse(Commands.MinorVersion, 1, sequence).Write(reply);
                            found = true;
                        }

                        new SearchResponse((ushort)Port, Commands.UseSourceAddress, search.Cid).Write(reply);
                        break;
                }
            }

            if (found)
            {
                try
                {
                    _udp.SendTo(reply.WrittenSpan, SocketFlags.None, from);
                }
                catch (SocketException)
                {
                    // The searcher is gone; searches are retried by design.
                }
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener?.Stop();
        _udp?.Dispose();
        foreach (var circuit in _circuits.Keys)
        {
            circuit.Close();
        }

        await Task.WhenAll(_acceptLoop, _udpLoop).ConfigureAwait(false);
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Channel Access server on {Address}:{Port} serving {Count} PVs")]
    private static partial void LogStarted(ILogger logger, IPAddress address, int port, int count);
}
