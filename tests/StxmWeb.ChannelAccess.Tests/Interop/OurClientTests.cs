using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using StxmWeb.ChannelAccess.Client;
using StxmWeb.ChannelAccess.Protocol;
using StxmWeb.ChannelAccess.Server;

namespace StxmWeb.ChannelAccess.Tests.Interop;

/// <summary>StxmWeb's CA client against EPICS's own server (softIoc, RSRV) and against StxmWeb's server.</summary>
[Trait("Category", "Interop")]
public sealed class OurClientTests : IAsyncLifetime
{
    private const string Database = """
        record(ao, "T:AO") { field(VAL, "1.5") field(EGU, "mm") field(PREC, "3") field(HOPR, "10") field(LOPR, "-10")
                              field(DRVH, "9") field(DRVL, "-9") field(HIHI, "8") field(HIGH, "6") field(LOW, "-6") field(LOLO, "-8")
                              field(HHSV, "MAJOR") field(HSV, "MINOR") field(LSV, "MINOR") field(LLSV, "MAJOR") }
        record(mbbo, "T:POL") { field(ZRST, "CircLeft") field(ONST, "CircRight") field(TWST, "LinHor") field(VAL, "2") field(PINI, "YES") }
        record(stringout, "T:MSG") { field(VAL, "ready") }
        record(waveform, "T:WF") { field(FTVL, "DOUBLE") field(NELM, "10") }
        record(bo, "T:SHUTTER") { field(ZNAM, "Closed") field(ONAM, "Open") }
        record(calc, "T:CALC") { field(INPA, "T:AO CP") field(CALC, "A*2") }
        """;

    private static readonly double[] Seven = [7.0];

    private readonly string _folder = Directory.CreateTempSubdirectory("stxmweb-softioc-").FullName;
    private Process? _ioc;
    private int _port;

    public async ValueTask InitializeAsync()
    {
        File.WriteAllText(Path.Combine(_folder, "test.db"), Database);
        _port = StxmWeb.Testing.SimIocProcess.FreePort();
        await StartIocAsync();
    }

    private async Task StartIocAsync()
    {
        var start = new ProcessStartInfo(Path.Combine(EpicsBase.BinDirectory, "softIoc"))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, WorkingDirectory = _folder,
        };
        start.ArgumentList.Add("-S");
        start.ArgumentList.Add("-d");
        start.ArgumentList.Add("test.db");

        EpicsBase.Point(start, _port);
        _ioc = Process.Start(start)!;
        _ = _ioc.StandardOutput.ReadToEndAsync();
        _ = _ioc.StandardError.ReadToEndAsync();

        // Wait until it answers on its port.
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, _port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        throw new InvalidOperationException("softIoc did not start.");
    }

    private static CaClient Client(int port) => new(new CaClientOptions { AutoAddressList = false, ServerPort = port, AddressList = { new IPEndPoint(IPAddress.Loopback, port) } });

    [Fact]
    public async Task Get_ReadsValuesEnumStringsAndCtrlMetadataFromSoftIoc()
    {
        await using var client = Client(_port);
        var ct = TestContext.Current.CancellationToken;

        var ao = await client.ConnectAsync("T:AO", ct);
        var ctrl = await ao.GetAsync(DbrFamily.Ctrl, cancellationToken: ct);
        var pol = await (await client.ConnectAsync("T:POL", ct)).GetAsync(DbrFamily.Ctrl, cancellationToken: ct);
        var msg = await (await client.ConnectAsync("T:MSG", ct)).GetAsync(cancellationToken: ct);
        var wf = await client.ConnectAsync("T:WF", ct);

        Assert.Equal(DbrBase.Double, ao.NativeType);
        Assert.Equal(1.5, ((double[])ctrl.Values)[0]);
        Assert.Equal("mm", ctrl.Units);
        Assert.Equal(3, ctrl.Precision);
        Assert.Equal([10, -10, 8, 6, -6, -8, 9, -9], ctrl.Limits);
        Assert.Equal(["CircLeft", "CircRight", "LinHor"], pol.EnumStrings);
        Assert.Equal((ushort)2, ((ushort[])pol.Values)[0]);
        Assert.Equal("ready", ((string[])msg.Values)[0]);
        Assert.Equal(10, wf.Count);
        Assert.Equal(AccessRights.Read | AccessRights.Write, ao.Rights);
    }

    [Fact]
    public async Task PutWithCompletion_AndMonitors_WorkWithSoftIoc()
    {
        await using var client = Client(_port);
        var ct = TestContext.Current.CancellationToken;
        var ao = await client.ConnectAsync("T:AO", ct);
        var calc = await client.ConnectAsync("T:CALC", ct);
        var seen = new List<double>();
        using var arrived = new SemaphoreSlim(0);
        await using var subscription = await calc.SubscribeAsync(v =>
        {
            lock (seen)
            {
                seen.Add(((double[])v.Values)[0]);
            }

            arrived.Release();
        }, cancellationToken: ct);
        Assert.True(await arrived.WaitAsync(TimeSpan.FromSeconds(10), ct), "no initial update of T:CALC");

        // The calc follows the ao through a CP link, which softIoc processes asynchronously and may coalesce: each
        // change is awaited before the next put.
        foreach (var x in new[] { 2.0, 3.0, 4.5 })
        {
            await ao.PutAsync(x, wait: true, ct);
            Assert.True(await arrived.WaitAsync(TimeSpan.FromSeconds(10), ct), $"no update of T:CALC after T:AO = {x}");
        }

        Assert.Equal([3.0, 4.0, 6.0, 9.0], seen);
        Assert.Equal(4.5, ((double[])(await ao.GetAsync(cancellationToken: ct)).Values)[0]);

        var wf = await client.ConnectAsync("T:WF", ct);
        double[] written = [1.0, 2.0, 3.0];
        await wf.PutAsync(new DbrValue { Base = DbrBase.Double, Values = written }, wait: true, ct);
        var read = (double[])(await wf.GetAsync(DbrFamily.Plain, cancellationToken: ct)).Values;
        Assert.Equal(written, read);
    }

    [Fact]
    public async Task Channels_ReconnectAfterSoftIocRestarts()
    {
        await using var client = Client(_port);
        var ct = TestContext.Current.CancellationToken;
        var ao = await client.ConnectAsync("T:AO", ct);
        var disconnected = new TaskCompletionSource();
        var reconnected = new TaskCompletionSource();
        ao.ConnectionChanged += (_, up) => (up ? reconnected : disconnected).TrySetResult();

        _ioc!.Kill();
        await _ioc.WaitForExitAsync(ct);
        await disconnected.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
        await StartIocAsync();
        await reconnected.Task.WaitAsync(TimeSpan.FromSeconds(20), ct);

        Assert.Equal(1.5, ((double[])(await ao.GetAsync(cancellationToken: ct)).Values)[0]);
    }

    [Fact]
    public async Task UnknownName_TimesOutNamingThePv()
    {
        await using var client = new CaClient(new CaClientOptions
        {
            AutoAddressList = false, ServerPort = _port, Timeout = TimeSpan.FromSeconds(1), AddressList = { new IPEndPoint(IPAddress.Loopback, _port) },
        });

        var error = await Assert.ThrowsAsync<CaTimeoutException>(() => client.ConnectAsync("T:NOPE", TestContext.Current.CancellationToken));

        Assert.Contains("T:NOPE", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClosingSubscriptionsAndChannels_AfterTheServerWentAway_DoesNotThrow()
    {
        // What every `await using` does at the end of a run whose IOC died: EVENT_CANCEL and CLEAR_CHANNEL on a
        // circuit that is dropping or gone. Repeated, because whether the circuit noticed first is a race.
        var ct = TestContext.Current.CancellationToken;
        for (var round = 0; round < 20; round++)
        {
            var pv = new ProcessVariable("S:GONE", DbrValue.Of(1.0));
            var server = new CaServer([pv], NullLogger<CaServer>.Instance);
            await server.StartAsync(IPAddress.Loopback);
            await using var client = Client(server.Port);
            var channel = await client.ConnectAsync("S:GONE", ct);
            var subscription = await channel.SubscribeAsync(_ => { }, cancellationToken: ct);
            await server.DisposeAsync();
            if (round % 2 == 1)
            {
                await Task.Delay(round * 5, ct); // let the circuit see the close on some rounds
            }

            await subscription.DisposeAsync();
            await channel.DisposeAsync();
        }
    }

    [Fact]
    public async Task OurClientAndOurServer_GetPutMonitorAndReconnect()
    {
        var ct = TestContext.Current.CancellationToken;
        var pv = new ProcessVariable("S:X", DbrValue.Of(1.0) with { Units = "um" });
        var server = new CaServer([pv], NullLogger<CaServer>.Instance);
        await server.StartAsync(IPAddress.Loopback);
        var port = server.Port;
        await using var client = Client(port);
        var channel = await client.ConnectAsync("S:X", ct);
        var updates = new List<double>();
        await using var subscription = await channel.SubscribeAsync(v =>
        {
            lock (updates)
            {
                updates.Add(((double[])v.Values)[0]);
            }
        }, cancellationToken: ct);

        // CA monitors may coalesce: a put before the initial update arrived could replace it. Wait for it first.
        var initial = DateTime.UtcNow.AddSeconds(10);
        while (!Seen(1.0) && DateTime.UtcNow < initial)
        {
            await Task.Delay(10, ct);
        }

        await channel.PutAsync(2.5, wait: true, ct);
        Assert.Equal(2.5, ((double[])pv.Value.Values)[0]);
        Assert.Equal("um", (await channel.GetAsync(DbrFamily.Ctrl, cancellationToken: ct)).Units);

        var reconnected = new TaskCompletionSource();
        channel.ConnectionChanged += (_, up) =>
        {
            if (up)
            {
                reconnected.TrySetResult();
            }
        };
        await server.DisposeAsync();
        var again = new CaServer([pv], NullLogger<CaServer>.Instance);
        await again.StartAsync(IPAddress.Loopback, port);
        await reconnected.Task.WaitAsync(TimeSpan.FromSeconds(20), ct);
        pv.Set(Seven);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!Seen(7.0) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, ct);
        }

        await again.DisposeAsync();

        bool Seen(double value)
        {
            lock (updates)
            {
                return updates.Contains(value);
            }
        }

        Assert.Contains(1.0, updates);
        Assert.Contains(2.5, updates);
        Assert.Contains(7.0, updates);
    }

    public ValueTask DisposeAsync()
    {
        if (_ioc is { HasExited: false })
        {
            _ioc.Kill();
        }

        _ioc?.Dispose();
        Directory.Delete(_folder, recursive: true);
        return ValueTask.CompletedTask;
    }
}
