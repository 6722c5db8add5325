using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace StxmWeb.Testing;

/// <summary>
/// The simulated IOC as its own process (<c>StxmWeb.Simulation ioc</c>) on a free loopback port, started and waited for
/// until it announces itself; disposing kills it.
/// </summary>
public sealed class SimIocProcess : IDisposable
{
    private SimIocProcess(Process process, int port)
    {
        Process = process;
        Port = port;
    }

    /// <summary>The CA port.</summary>
    public int Port { get; }

    /// <summary>The process (to kill it mid-test).</summary>
    public Process Process { get; }

    /// <summary>A TCP port free on loopback now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts the IOC from the simulation assembly at <paramref name="assemblyPath"/>.</summary>
    public static async Task<SimIocProcess> StartAsync(string assemblyPath, CancellationToken cancellationToken)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { assemblyPath, "ioc", "--port", port.ToString(CultureInfo.InvariantCulture), "--address", "127.0.0.1" })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        string? line;
        do
        {
            line = await process.StandardOutput.ReadLineAsync(cancellationToken);
        }
        while (line is not null && !line.Contains("Simulated IOC serving", StringComparison.Ordinal));

        if (line is null)
        {
            throw new InvalidOperationException($"The simulated IOC exited: {await process.StandardError.ReadToEndAsync(cancellationToken)}");
        }

        // Keep draining its output so its logging never blocks on a full pipe.
        _ = process.StandardOutput.ReadToEndAsync(cancellationToken);
        _ = process.StandardError.ReadToEndAsync(cancellationToken);
        return new SimIocProcess(process, port);
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
