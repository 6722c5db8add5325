using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using StxmWeb.Core.Devices;
using StxmWeb.Services;
using StxmWeb.Testing;

namespace StxmWeb.Tests.Integration;

/// <summary>
/// StxmWeb with <c>Instrument:Backend=Epics</c> against the simulated IOC running as its own process (a real CA server
/// with motor records and the CLS 10ID-1 PV names).
/// </summary>
[Trait("Category", "Integration")]
public sealed class EpicsBackendTests : IAsyncLifetime
{
    private SimIocProcess? _ioc;

    private int _port => _ioc!.Port;

    public async ValueTask InitializeAsync() =>
        _ioc = await SimIocProcess.StartAsync(typeof(StxmWeb.Simulation.Ioc.SimIoc).Assembly.Location, TestContext.Current.CancellationToken);

    private StxmAppFactory App() => new(timeScale: 1, settings: new Dictionary<string, string>
    {
        ["Instrument:Backend"] = "Epics",
        ["Instrument:Epics:AddressList"] = $"127.0.0.1:{_port}",
        ["Instrument:Epics:TimeoutSeconds"] = "5",
    });

    private static object Request(int nx, int ny, double dwell) => new
    {
        x = new { center = 0, range = 10, points = nx },
        y = new { center = 0, range = 10, points = ny },
        dwellMs = dwell,
        energyEv = 285.2,
        mode = "Line",
        title = "over EPICS",
    };

    [Fact(Timeout = 180_000)]
    public async Task SampleImage_OverChannelAccess_FillsTheFile()
    {
        using var app = App();
        using var client = new HttpClient { BaseAddress = app.BaseAddress };
        var control = app.Services.GetRequiredService<ControlService>();
        Assert.Contains(control.Instrument.Positioners, p => p.Description.Contains("SampleFineX", StringComparison.Ordinal));

        var response = await client.PostAsJsonAsync("/api/scans", Request(20, 6, 2), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await control.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        var run = control.CurrentRun!;
        Assert.True(run.State == "success", $"{run.State}: {run.Reason}");
        var file = await H5py.ReadAsync(run.FilePath);
        Assert.Equal([1, 6, 20], file.Shape("/entry0/counter0/data"));
        Assert.All(file.Doubles("/entry0/counter0/data"), v => Assert.True(v > 100, $"counts {v}"));
        Assert.InRange(file.Doubles("/entry0/control/data")[0], 200, 221);
    }

    [Fact(Timeout = 180_000)]
    public async Task MotorPanelMove_GoesThroughTheMotorRecord()
    {
        using var app = App();
        using var client = new HttpClient { BaseAddress = app.BaseAddress };
        var osa = app.Services.GetRequiredService<IInstrument>().Find("OsaX")!;

        var move = await client.PostAsJsonAsync("/api/motors/OsaX/move", new { target = 150 }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, move.StatusCode);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Math.Abs(osa.Status.Position - 150) > 1e-6 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        Assert.Equal(150, osa.Status.Position, 6);
    }

    [Fact(Timeout = 180_000)]
    public async Task IocKilledMidScan_TheRunFailsWithTheReason_AndTheFileKeepsItsLines()
    {
        using var app = App();
        using var client = new HttpClient { BaseAddress = app.BaseAddress };
        var control = app.Services.GetRequiredService<ControlService>();

        var response = await client.PostAsJsonAsync("/api/scans", Request(20, 200, 2), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await Eventually.HoldsAsync(() => control.CurrentRun!.Progress.CompletedPixels >= 60,
            $"60 pixels over EPICS (run {control.CurrentRun!.State} {control.CurrentRun.Reason})", cancellationToken: TestContext.Current.CancellationToken);

        _ioc!.Process.Kill();
        await control.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        var run = control.CurrentRun!;
        Assert.Equal("failed", run.State);
        Assert.Matches("IOC:m1|counter|BL1610", run.Reason);
        var file = await H5py.ReadAsync(run.FilePath);
        var data = file.Doubles("/entry0/counter0/data");
        Assert.All(data[..60], v => Assert.False(double.IsNaN(v)));
        Assert.Equal("failed", file.Item("/entry0/collection/exit_status").GetProperty("value").Text());
    }

    [Fact(Timeout = 180_000)]
    public async Task UnreachableIoc_StopsStartUpNamingThePv()
    {
        _ioc!.Process.Kill();
        await _ioc.Process.WaitForExitAsync(TestContext.Current.CancellationToken);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        foreach (var arg in new[] { typeof(Program).Assembly.Location, "--Urls=http://127.0.0.1:0", "--Instrument:Backend=Epics",
            $"--Instrument:Epics:AddressList=127.0.0.1:{_port}", "--Instrument:Epics:TimeoutSeconds=1" })
        {
            start.ArgumentList.Add(arg);
        }

        using var server = Process.Start(start)!;
        var output = server.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var errors = server.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await server.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        Assert.Equal(3, server.ExitCode);
        var text = await output + await errors;
        Assert.Contains("cannot reach its IOC", text, StringComparison.Ordinal);
        Assert.Contains("IOC:m100", text, StringComparison.Ordinal);
    }

    public ValueTask DisposeAsync()
    {
        _ioc?.Dispose();
        return ValueTask.CompletedTask;
    }
}
