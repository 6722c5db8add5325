using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using StxmWeb.Testing;

namespace StxmWeb.Pixelator.Tests;

/// <summary>
/// The simulated PixelatorController (its own process) checked by an independent client: a Python script on Debian's
/// python3-zmq (tests/StxmWeb.Pixelator.Tests/Python/check_controller.py), written from the protocol description.
/// </summary>
[Trait("Category", "Interop")]
public sealed class PythonPeerTests
{
    private const string Python = "/usr/bin/python3";

    [Fact(Timeout = 180_000)]
    public async Task APythonZmqClient_DrivesTheSimulatedController_AndEveryFrameChecksOut()
    {
        await RequireAsync("import zmq, h5py", "python3-zmq and python3-h5py");
        using var controller = await SimPixelatorProcess.StartAsync(TestContext.Current.CancellationToken, timeScale: 5);
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "Python", "check_controller.py"), "127.0.0.1",
            controller.Ports.Publisher.ToString(CultureInfo.InvariantCulture), controller.Ports.Request.ToString(CultureInfo.InvariantCulture),
            controller.Ports.Data.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }

        using var script = Process.Start(start)!;
        var output = script.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var errors = script.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await script.WaitForExitAsync(TestContext.Current.CancellationToken);

        var text = await output;
        Assert.True(script.ExitCode == 0, $"check_controller.py failed ({script.ExitCode}):\n{text}\n{await errors}");
        using var summary = JsonDocument.Parse(text.Trim().Split('\n')[^1]);
        Assert.True(summary.RootElement.GetProperty("passed").GetInt32() > 40, text);
    }

    /// <summary>Fails with what to install when the Debian packages the check needs are missing (tests/run installs them).</summary>
    private static async Task RequireAsync(string import, string packages)
    {
        var start = new ProcessStartInfo(Python, ["-c", import]) { RedirectStandardError = true };
        using var probe = Process.Start(start) ?? throw new InvalidOperationException($"{Python} cannot be started; run tests/run, which installs {packages}.");
        await probe.WaitForExitAsync();
        Assert.True(probe.ExitCode == 0, $"{Python} lacks {packages} ({await probe.StandardError.ReadToEndAsync()}); run tests/run, which installs them.");
    }
}
