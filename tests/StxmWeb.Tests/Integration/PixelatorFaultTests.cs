using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using StxmWeb.Core.Scans;
using StxmWeb.Services;
using StxmWeb.Testing;

namespace StxmWeb.Tests.Integration;

/// <summary>
/// The Pixelator backend when its controller dies: the run ends as failed with the reason and keeps what it received,
/// the API never hangs, and when the controller comes back (a restart on the same ports) the backend works again.
/// </summary>
[Trait("Category", "Integration")]
public sealed class PixelatorFaultTests
{
    [Fact(Timeout = 180_000)]
    public async Task ControllerKilledMidScan_FailsTheRunWithTheReason_KeepsTheLines_AndTheBackendWorksWhenItReturns()
    {
        var ct = TestContext.Current.CancellationToken;
        var controller = await SimPixelatorProcess.StartAsync(ct, timeScale: 2);
        try
        {
            using var app = new StxmAppFactory(timeScale: 1, settings: PixelatorBackendTests.Settings(controller.Ports));
            using var client = new HttpClient { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
            var control = app.Services.GetRequiredService<ControlService>();
            var post = await client.PostAsJsonAsync("/api/scans", ScanRequest.SampleImage(new(0, 20, 40), new(0, 20, 300), 5, 285.2, AcquisitionMode.PointByPoint), ScanDefinitionStore.Json, ct);
            Assert.Equal(HttpStatusCode.Accepted, post.StatusCode);
            await Eventually.HoldsAsync(() => control.CurrentRun!.Progress.CompletedPixels >= 120, "lines before the crash", cancellationToken: ct);

            await controller.KillAsync();
            var killedAt = control.CurrentRun!.Progress.CompletedPixels;

            // The API answers at once all along (no request waits on the dead controller).
            var watch = Stopwatch.StartNew();
            while (!control.CurrentRun!.IsFinished && watch.Elapsed < TimeSpan.FromSeconds(30))
            {
                var asked = Stopwatch.StartNew();
                var motors = await client.GetAsync("/api/motors", ct);
                Assert.Equal(HttpStatusCode.OK, motors.StatusCode);
                Assert.True(asked.Elapsed < TimeSpan.FromSeconds(2), $"GET /api/motors took {asked.Elapsed}");
                await Task.Delay(100, ct);
            }

            await control.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(30), ct);
            var run = control.CurrentRun!;
            Assert.Equal("failed", run.State);
            Assert.Contains("fell silent", run.Reason, StringComparison.Ordinal);
            Assert.Contains($"tcp://127.0.0.1:{controller.Ports.Request}", run.Reason, StringComparison.Ordinal);
            var file = await H5py.ReadAsync(run.FilePath);
            Assert.Equal("failed", file.Item("/entry0/collection/exit_status").GetProperty("value").Text());
            Assert.All(file.Doubles("/entry0/counter0/data")[..(int)killedAt], v => Assert.False(double.IsNaN(v)));
            await Eventually.HoldsAsync(() => control.Instrument.Positioners.All(p => p.Status.Fault is not null), "every positioner to show the fault", cancellationToken: ct);

            // A move while the controller is away: accepted by the panel, then failed with the reason (its REQ socket
            // is left waiting for a reply that never comes, and must be replaced for anything to work again).
            Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsJsonAsync("/api/motors/OsaX/move", new { target = 10 }, ct)).StatusCode);
            await Task.Delay(500, ct);

            controller = await SimPixelatorProcess.StartAsync(ct, controller.Ports, controller.DataDirectory, timeScale: 2);
            await Eventually.HoldsAsync(() => control.Instrument.Positioners.All(p => p.Status.Fault is null && !p.Status.IsMoving),
                "the backend to hear the controller again", TimeSpan.FromSeconds(60), ct);
            await control.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(30), ct);
            await Eventually.HoldsAsync(async () =>
            {
                var again = await client.PostAsJsonAsync("/api/scans", ScanRequest.SampleImage(new(0, 10, 20), new(0, 10, 5), 2, 285.2), ScanDefinitionStore.Json, ct);
                return again.StatusCode == HttpStatusCode.Accepted;
            }, "a scan to be taken after the return", TimeSpan.FromSeconds(30), ct);
            await control.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(60), ct);
            Assert.True(control.CurrentRun!.State == "success", $"{control.CurrentRun.State}: {control.CurrentRun.Reason}");
        }
        finally
        {
            controller.Dispose();
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task NoController_StopsStartUpNamingTheEndpoint()
    {
        var ports = PixelatorPorts.Free();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        foreach (var arg in new[] { typeof(Program).Assembly.Location, "--Urls=http://127.0.0.1:0", "--Instrument:Backend=Pixelator",
            $"--Instrument:Pixelator:ReqPort={ports.Request}", $"--Instrument:Pixelator:SubPort={ports.Publisher}", $"--Instrument:Pixelator:DataPort={ports.Data}",
            "--Instrument:Pixelator:TimeoutSeconds=0.5", "--Instrument:Pixelator:Attempts=2" })
        {
            start.ArgumentList.Add(arg);
        }

        using var server = Process.Start(start)!;
        var output = server.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var errors = server.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await server.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        var text = await output + await errors;
        Assert.Equal(3, server.ExitCode);
        Assert.Contains("cannot use its controller", text, StringComparison.Ordinal);
        Assert.Contains($"tcp://127.0.0.1:{ports.Request}", text, StringComparison.Ordinal);
        Assert.Contains("'initialize'", text, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public void BadPixelatorSettings_StopStartUpNamingTheKey()
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        foreach (var arg in new[] { typeof(Program).Assembly.Location, "--Urls=http://127.0.0.1:0", "--Instrument:Backend=Pixelator", "--Instrument:Pixelator:ReqPort=70000" })
        {
            start.ArgumentList.Add(arg);
        }

        using var server = Process.Start(start)!;
        var text = server.StandardError.ReadToEnd() + server.StandardOutput.ReadToEnd();
        server.WaitForExit(30_000);

        Assert.Equal(2, server.ExitCode);
        Assert.Contains("Instrument:Pixelator:ReqPort: must be a TCP port, 1 to 65535; got 70000.", text, StringComparison.Ordinal);
    }
}
