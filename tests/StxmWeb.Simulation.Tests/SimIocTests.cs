using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using StxmWeb.ChannelAccess.Client;
using StxmWeb.ChannelAccess.Protocol;
using StxmWeb.ChannelAccess.Tests.Interop;
using StxmWeb.Simulation.Ioc;
using StxmWeb.Testing;

namespace StxmWeb.Simulation.Tests;

/// <summary>The simulated IOC: motor records with their field behaviour, the counter, and the standalone process.</summary>
[Trait("Category", "Interop")]
public sealed partial class SimIocTests : IAsyncLifetime
{
    private readonly SimMicroscope _scope = new(SimulationOptions.Standard(), TimeProvider.System);
    private SimIoc? _ioc;
    private CaClient? _client;

    public async ValueTask InitializeAsync()
    {
        _ioc = new SimIoc(_scope, NullLoggerFactory.Instance);
        await _ioc.StartAsync(IPAddress.Loopback);
        _client = new CaClient(new CaClientOptions { AutoAddressList = false, ServerPort = _ioc.Port, AddressList = { new IPEndPoint(IPAddress.Loopback, _ioc.Port) } });
    }

    private async Task<double> GetAsync(string name) =>
        DbrConvert.Number(await (await _client!.ConnectAsync(name, TestContext.Current.CancellationToken)).GetAsync(cancellationToken: TestContext.Current.CancellationToken), 0);

    [Fact]
    public async Task PutWithCompletion_OnVal_ReturnsWhenTheMotorHasArrived()
    {
        var ct = TestContext.Current.CancellationToken;
        var val = await _client!.ConnectAsync("IOC:m112", ct);
        var dmovDuringMove = new List<double>();
        var dmov = await _client.ConnectAsync("IOC:m112.DMOV", ct);
        await using var monitor = await dmov.SubscribeAsync(v =>
        {
            lock (dmovDuringMove)
            {
                dmovDuringMove.Add(DbrConvert.Number(v, 0));
            }
        }, cancellationToken: ct);

        // Move only after the initial update arrived: a change queued behind it would replace it (CA coalescing).
        await Eventually.HoldsAsync(() =>
        {
            lock (dmovDuringMove)
            {
                return dmovDuringMove.Count > 0;
            }
        }, "the initial DMOV update", cancellationToken: ct);
        var clock = Stopwatch.StartNew();
        await val.PutAsync(1000, wait: true, ct);
        clock.Stop();

        // Coarse X: 1000 µm at 2000 µm/s with 10 000 µm/s² ramps = 0.7 s, plus 50 ms settle.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.7), $"the put completed after {clock.Elapsed}");
        Assert.Equal(1000, await GetAsync("IOC:m112.RBV"), 6);
        Assert.Equal(1, await GetAsync("IOC:m112.DMOV"));
        await Task.Delay(100, ct);
        lock (dmovDuringMove)
        {
            Assert.Equal([1.0, 0.0, 1.0], dmovDuringMove);
        }
    }

    [Fact]
    public async Task TargetPastTheSoftLimit_SetsLvio_AndDoesNotMove()
    {
        var ct = TestContext.Current.CancellationToken;
        var val = await _client!.ConnectAsync("IOC:m104", ct);
        await (await _client.ConnectAsync("IOC:m104.HLM", ct)).PutAsync(100, wait: true, ct);

        await val.PutAsync(500, wait: true, ct);

        Assert.Equal(1, await GetAsync("IOC:m104.LVIO"));
        Assert.Equal(0, await GetAsync("IOC:m104.RBV"));
    }

    [Fact]
    public async Task Stop_HaltsAMoveMidway()
    {
        var ct = TestContext.Current.CancellationToken;
        var val = await _client!.ConnectAsync("IOC:m113", ct);
        var move = val.PutAsync(4000, wait: true, ct);
        await Task.Delay(600, ct);

        await (await _client.ConnectAsync("IOC:m113.STOP", ct)).PutAsync(1, wait: true, ct);
        await move;
        var stoppedAt = await GetAsync("IOC:m113.RBV");

        Assert.InRange(stoppedAt, 1, 3999);
        Assert.Equal(stoppedAt, await GetAsync("IOC:m113.VAL"), 6);
        Assert.Equal(1, await GetAsync("IOC:m113.DMOV"));
    }

    [Fact]
    public async Task EnergyMove_DrivesTheZonePlateToFocus()
    {
        var ct = TestContext.Current.CancellationToken;
        await (await _client!.ConnectAsync("BL1610-I10:ENERGY", ct)).PutAsync(290, wait: true, ct);

        Assert.Equal(_scope.FocusZpz(290), await GetAsync("IOC:m111C.RBV"), 6);
    }

    [Fact]
    public async Task Counter_CountsAPointAndALine()
    {
        var ct = TestContext.Current.CancellationToken;
        await (await _client!.ConnectAsync("uhvCI:counter:Dwell", ct)).PutAsync(2, wait: true, ct);
        await (await _client.ConnectAsync("uhvCI:counter:Acquire", ct)).PutAsync(1, wait: true, ct);
        var counts = await GetAsync("uhvCI:counter:Counts");

        await (await _client.ConnectAsync("uhvCI:counter:Npts", ct)).PutAsync(DbrValue.Of(50.0), wait: true, ct);
        await (await _client.ConnectAsync("uhvCI:counter:AcquireLine", ct)).PutAsync(1, wait: true, ct);
        var line = (double[])(await (await _client.ConnectAsync("uhvCI:counter:Waveform_RBV", ct)).GetAsync(cancellationToken: ct)).Values;

        Assert.True(counts > 1000, $"counts {counts}");
        Assert.Equal(50, line.Length);
        Assert.All(line, v => Assert.True(v > 100));
    }

    [Fact]
    public async Task StandaloneProcess_AnswersEpicsTools()
    {
        using var ioc = await SimIocProcess.StartAsync(typeof(SimIoc).Assembly.Location, TestContext.Current.CancellationToken);

        var (code, output) = await EpicsBase.RunAsync(ioc.Port, "caget", "IOC:m100.DESC", "IOC:m100.EGU", "IOC:m100.RBV", "PCT1402-01:mA:fbk");

        Assert.Equal(0, code);
        Assert.Matches(@"IOC:m100\.DESC\s+SampleFineX", output);
        Assert.Matches(@"IOC:m100\.RBV\s+0", output);
        var ring = RingCurrentPattern().Match(output);
        Assert.True(ring.Success, $"no ring current in: {output}");
        var mA = double.Parse(ring.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(mA, 215.0, 220.0); // top-up: decays from 220 mA, refilled every 60 s
    }

    [GeneratedRegex(@"PCT1402-01:mA:fbk\s+([0-9.]+)\s")]
    private static partial Regex RingCurrentPattern();

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }

        if (_ioc is not null)
        {
            await _ioc.DisposeAsync();
        }
    }
}
