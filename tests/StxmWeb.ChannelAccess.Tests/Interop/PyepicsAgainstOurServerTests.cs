using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using StxmWeb.ChannelAccess.Protocol;
using StxmWeb.ChannelAccess.Server;

namespace StxmWeb.ChannelAccess.Tests.Interop;

/// <summary>Debian's libca (EPICS's C client library) through python3-pyepics, against StxmWeb's CA server.</summary>
[Trait("Category", "Interop")]
public sealed class PyepicsAgainstOurServerTests : IAsyncLifetime
{
    private readonly ProcessVariable _position = new("SIM:SampleFineX", DbrValue.Of(0.0) with { Units = "um", Precision = 3 });
    private readonly ProcessVariable _waveform = new("SIM:SPECTRUM", new DbrValue { Base = DbrBase.Float, Values = Enumerable.Range(0, 2000).Select(i => (float)Math.Sin(i / 100.0)).ToArray() });
    private CaServer? _server;

    public async ValueTask InitializeAsync()
    {
        // A put that completes only when the "motor" arrives, as a motor record's VAL does.
        var slow = new ProcessVariable("SIM:MOTOR", DbrValue.Of(0.0))
        {
            OnPut = async (value, ct) =>
            {
                await Task.Delay(300, ct);
                _position.Set(value.Values);
            },
        };
        _server = new CaServer([_position, _waveform, slow], NullLogger<CaServer>.Instance);
        await _server.StartAsync(IPAddress.Loopback);
    }

    private async Task<string> PythonAsync(string script)
    {
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        EpicsBase.Point(start, _server!.Port);
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        var error = await stderr;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(error.Contains("No module named 'epics'", StringComparison.Ordinal)
                ? "python3-pyepics is not installed; run the README's test command (it installs it)."
                : $"pyepics failed ({process.ExitCode}): {error}");
        }

        return (await stdout).Trim();
    }

    [Fact]
    public async Task Get_ReturnsValueAndCtrlMetadata()
    {
        var output = await PythonAsync("""
            import epics
            pv = epics.PV('SIM:SampleFineX')
            pv.wait_for_connection(5)
            ctrl = pv.get_ctrlvars()
            print(pv.get(), ctrl['units'], ctrl['precision'], pv.write_access)
            """);

        Assert.Equal("0.0 um 3 True", output);
    }

    [Fact]
    public async Task PutWait_ReturnsOnlyWhenTheMoveIsDone()
    {
        var output = await PythonAsync("""
            import epics, time
            t0 = time.time()
            epics.caput('SIM:MOTOR', 12.5, wait=True, timeout=10)
            print(round(time.time() - t0, 2), epics.caget('SIM:SampleFineX'))
            """);

        var parts = output.Split(' ');
        Assert.True(double.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture) >= 0.25, output);
        Assert.Equal("12.5", parts[1]);
    }

    [Fact]
    public async Task Monitor_ReceivesTheInitialValueAndUpdates()
    {
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("""
            import epics, time, sys
            seen = []
            pv = epics.PV('SIM:SampleFineX', callback=lambda value=None, **kw: seen.append(value))
            pv.wait_for_connection(10)
            t0 = time.time()
            while not seen and time.time() - t0 < 10:
                time.sleep(0.01)
            print('ready', flush=True)
            while len(seen) < 4 and time.time() - t0 < 20:
                time.sleep(0.02)
            print(' '.join(str(v) for v in seen), flush=True)
            """);
        EpicsBase.Point(start, _server!.Port);
        using var process = Process.Start(start)!;
        var ct = TestContext.Current.CancellationToken;

        // Change the value only once the monitor has its initial update, however slowly Python started.
        var ready = await process.StandardOutput.ReadLineAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(30), ct);
        Assert.Equal("ready", ready);
        foreach (var x in new[] { 1.0, 2.0, 3.0 })
        {
            _position.Set(new[] { x });
            await Task.Delay(200, ct);
        }

        var seen = await process.StandardOutput.ReadLineAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(30), ct);
        await process.WaitForExitAsync(ct);
        Assert.Equal("0.0 1.0 2.0 3.0", seen);
    }

    [Fact]
    public async Task Waveform_ArrivesWhole()
    {
        var output = await PythonAsync("""
            import epics
            v = epics.caget('SIM:SPECTRUM', timeout=5)
            print(len(v), round(float(v[150]), 4))
            """);

        Assert.Equal($"2000 {Math.Round(Math.Sin(1.5), 4).ToString(System.Globalization.CultureInfo.InvariantCulture)}", output);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
