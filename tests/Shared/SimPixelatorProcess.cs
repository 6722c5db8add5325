using System.Diagnostics;
using System.Globalization;

namespace StxmWeb.Testing;

/// <summary>The controller's three ports.</summary>
/// <param name="Publisher">Status/data publisher (56561 at a beamline).</param>
/// <param name="Request">Requests (56562).</param>
/// <param name="Data">File content (56563).</param>
public sealed record PixelatorPorts(int Publisher, int Request, int Data)
{
    /// <summary>Three TCP ports free on loopback now.</summary>
    public static PixelatorPorts Free() => new(SimIocProcess.FreePort(), SimIocProcess.FreePort(), SimIocProcess.FreePort());
}

/// <summary>
/// The simulated PixelatorController as its own process (<c>StxmWeb.Simulation pixelator</c>) on loopback, started and
/// waited for until it announces itself; disposing kills it. Starting again on the same ports and data directory is a
/// controller that restarted.
/// </summary>
public sealed class SimPixelatorProcess : IDisposable
{
    private SimPixelatorProcess(Process process, PixelatorPorts ports, string dataDirectory)
    {
        Process = process;
        Ports = ports;
        DataDirectory = dataDirectory;
    }

    /// <summary>The ports.</summary>
    public PixelatorPorts Ports { get; }

    /// <summary>Where the controller writes its files.</summary>
    public string DataDirectory { get; }

    /// <summary>The process (to kill it mid-test).</summary>
    public Process Process { get; }

    /// <summary>The simulation assembly, beside the test's own.</summary>
    public static string Assembly => typeof(StxmWeb.Simulation.Pixelator.SimPixelatorController).Assembly.Location;

    /// <summary>Starts the controller; new free ports and a new data directory unless given.</summary>
    public static async Task<SimPixelatorProcess> StartAsync(CancellationToken cancellationToken, PixelatorPorts? ports = null, string? dataDirectory = null, double timeScale = 1)
    {
        ports ??= PixelatorPorts.Free();
        dataDirectory ??= Directory.CreateTempSubdirectory("pixelator-sim-").FullName;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[]
        {
            Assembly, "pixelator", "--address", "127.0.0.1",
            "--pub", ports.Publisher.ToString(CultureInfo.InvariantCulture),
            "--req", ports.Request.ToString(CultureInfo.InvariantCulture),
            "--data", ports.Data.ToString(CultureInfo.InvariantCulture),
            "--data-dir", dataDirectory, "--time-scale", timeScale.ToString(CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        string? line;
        do
        {
            line = await process.StandardOutput.ReadLineAsync(cancellationToken);
        }
        while (line is not null && !line.Contains("Simulated PixelatorController", StringComparison.Ordinal));

        if (line is null)
        {
            throw new InvalidOperationException($"The simulated PixelatorController exited: {await process.StandardError.ReadToEndAsync(cancellationToken)}");
        }

        // Keep draining its output so its logging never blocks on a full pipe.
        _ = process.StandardOutput.ReadToEndAsync(cancellationToken);
        _ = process.StandardError.ReadToEndAsync(cancellationToken);
        return new SimPixelatorProcess(process, ports, dataDirectory);
    }

    /// <summary>Kills the controller at once (a crash) and waits until it is gone.</summary>
    public async Task KillAsync()
    {
        if (!Process.HasExited)
        {
            Process.Kill();
        }

        await Process.WaitForExitAsync();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill();
        }

        Process.Dispose();
    }
}
