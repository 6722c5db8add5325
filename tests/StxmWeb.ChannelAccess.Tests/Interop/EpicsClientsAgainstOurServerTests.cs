using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using StxmWeb.ChannelAccess.Protocol;
using StxmWeb.ChannelAccess.Server;

namespace StxmWeb.ChannelAccess.Tests.Interop;

/// <summary>EPICS's own clients (caget, caput, camonitor, cainfo from EPICS Base) against StxmWeb's CA server.</summary>
[Trait("Category", "Interop")]
public sealed class EpicsClientsAgainstOurServerTests : IAsyncLifetime
{
    private static readonly string[] Polarizations = ["CircLeft", "CircRight", "LinHor", "IncVert-", "IncVert+", "LinInc"];
    private readonly ProcessVariable _energy = new("SIM:ENERGY", DbrValue.Of(285.2) with
    {
        Units = "eV", Precision = 3, Limits = [2500, 100, 2400, 2300, 150, 110, 2500, 100],
    });

    private readonly ProcessVariable _polarization = new("SIM:EPU:POL", new DbrValue { Base = DbrBase.Enum, Values = new ushort[] { 2 }, EnumStrings = Polarizations });
    private readonly ProcessVariable _message = new("SIM:MSG", DbrValue.Of("ready"));
    private readonly ProcessVariable _waveform = new("SIM:WF", new DbrValue { Base = DbrBase.Double, Values = Enumerable.Range(0, 100).Select(i => i * 0.5).ToArray() });
    private readonly ProcessVariable _readOnly = new("SIM:RING:CURRENT", new DbrValue { Base = DbrBase.Long, Values = new[] { 220 } }, writable: false);
    private CaServer? _server;

    private int Port => _server!.Port;

    public async ValueTask InitializeAsync()
    {
        _ = EpicsBase.BinDirectory;
        _server = new CaServer([_energy, _polarization, _message, _waveform, _readOnly], NullLogger<CaServer>.Instance);
        await _server.StartAsync(IPAddress.Loopback);
    }

    [Fact]
    public async Task Caget_ReadsDoubleEnumStringAndWaveform()
    {
        var (code, output) = await EpicsBase.RunAsync(Port, "caget", "SIM:ENERGY", "SIM:EPU:POL", "SIM:MSG", "SIM:RING:CURRENT");

        Assert.Equal(0, code);
        Assert.Matches(@"SIM:ENERGY\s+285\.2", output);
        Assert.Matches(@"SIM:EPU:POL\s+LinHor", output);
        Assert.Matches(@"SIM:MSG\s+ready", output);
        Assert.Matches(@"SIM:RING:CURRENT\s+220", output);

        var (wfCode, wf) = await EpicsBase.RunAsync(Port, "caget", "SIM:WF");
        Assert.Equal(0, wfCode);
        Assert.Matches(@"SIM:WF\s+100\s+0\s+0\.5\s+1\s+1\.5", wf);
    }

    [Fact]
    public async Task CagetCtrl_ShowsUnitsPrecisionAndLimits()
    {
        var (code, output) = await EpicsBase.RunAsync(Port, "caget", "-d", "DBR_CTRL_DOUBLE", "SIM:ENERGY");

        Assert.Equal(0, code);
        Assert.Matches(@"Units:\s+eV", output);
        Assert.Matches(@"Precision:\s+3", output);
        Assert.Matches(@"Hi disp limit:\s+2500", output);
        Assert.Matches(@"Lo alarm limit:\s+110", output);
        Assert.Matches(@"Hi warn limit:\s+2300", output);
        Assert.Matches(@"Lo ctrl limit:\s+100", output);
    }

    [Fact]
    public async Task CaputWithCompletion_WritesTheValue()
    {
        var (code, output) = await EpicsBase.RunAsync(Port, "caput", "-c", "-w", "5", "SIM:ENERGY", "290.5");

        Assert.Equal(0, code);
        Assert.Matches(@"New : SIM:ENERGY\s+290\.5", output);
        Assert.Equal(290.5, ((double[])_energy.Value.Values)[0]);
    }

    [Fact]
    public async Task Caput_EnumByLabel_AndStrings()
    {
        Assert.Equal(0, (await EpicsBase.RunAsync(Port, "caput", "SIM:EPU:POL", "CircRight")).ExitCode);
        Assert.Equal(0, (await EpicsBase.RunAsync(Port, "caput", "SIM:MSG", "scan running")).ExitCode);

        Assert.Equal((ushort)1, ((ushort[])_polarization.Value.Values)[0]);
        Assert.Equal("scan running", ((string[])_message.Value.Values)[0]);
    }

    [Fact]
    public async Task Caput_ToAReadOnlyPv_IsRefused()
    {
        var (_, output) = await EpicsBase.RunAsync(Port, "caput", "SIM:RING:CURRENT", "5");

        Assert.Contains("Write access denied", output, StringComparison.Ordinal);
        Assert.Equal(220, ((int[])_readOnly.Value.Values)[0]);
    }

    [Fact]
    public async Task Cainfo_ReportsNativeTypeCountAndAccess()
    {
        var (code, output) = await EpicsBase.RunAsync(Port, "cainfo", "SIM:WF");

        Assert.Equal(0, code);
        Assert.Contains("DBF_DOUBLE", output, StringComparison.Ordinal);
        Assert.Contains("Element count:    100", output, StringComparison.Ordinal);
        Assert.Contains("read, write", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Camonitor_GetsTheInitialValueAndEveryChange()
    {
        using var monitor = EpicsBase.Start(Port, "camonitor", "SIM:ENERGY");
        var lines = new List<string>();
        var reading = Task.Run(async () =>
        {
            while (await monitor.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken) is { } line)
            {
                lock (lines)
                {
                    lines.Add(line);
                }
            }
        }, TestContext.Current.CancellationToken);

        await WaitForAsync(() => lines.Count >= 1, lines);
        Assert.EndsWith(" 285.2", lines[0].TrimEnd(), StringComparison.Ordinal);
        foreach (var e in new[] { 300.0, 310.0, 320.0 })
        {
            _energy.Set(new[] { e });
            // Match the value at the end of the line (the time stamp may contain the same digits).
            await WaitForAsync(() => lines.Any(l => l.TrimEnd().EndsWith(" " + e.ToString("F0", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)), lines);
        }

        monitor.Kill();
        await reading;
        Assert.Contains("285.2", lines[0], StringComparison.Ordinal);
        Assert.Equal(4, lines.Count);
    }

    private static async Task WaitForAsync(Func<bool> condition, List<string> lines)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                lock (lines)
                {
                    throw new TimeoutException("timed out waiting for camonitor; it printed: " + string.Join(" | ", lines));
                }
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
