using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using StxmWeb.Simulation.Ioc;

namespace StxmWeb.Simulation;

/// <summary>
/// The simulators as their own processes: <c>dotnet run --project src/StxmWeb.Simulation -- ioc [--port 5064]
/// [--address 0.0.0.0] [--time-scale 1]</c> serves the simulated microscope over Channel Access until Ctrl+C.
/// </summary>
public static class SimulatorProgram
{
    /// <summary>Entry point.</summary>
    public static async Task<int> Main(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length == 0 || args[0] != "ioc")
        {
            await Console.Error.WriteLineAsync("usage: StxmWeb.Simulation ioc [--port 5064] [--address 0.0.0.0] [--time-scale 1]").ConfigureAwait(false);
            return 2;
        }

        var port = int.Parse(Option(args, "--port") ?? Environment.GetEnvironmentVariable("EPICS_CA_SERVER_PORT") ?? "5064", CultureInfo.InvariantCulture);
        var address = IPAddress.Parse(Option(args, "--address") ?? "0.0.0.0");
        var scale = double.Parse(Option(args, "--time-scale") ?? "1", CultureInfo.InvariantCulture);
        using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
        var time = scale > 1 ? new AcceleratedTimeProvider(scale) : TimeProvider.System;
        var ioc = new SimIoc(new SimMicroscope(SimulationOptions.Standard(), time), loggers);
        await using var iocLifetime = ioc.ConfigureAwait(false);
        await ioc.StartAsync(address, port).ConfigureAwait(false);
        Console.WriteLine($"Simulated IOC serving {ioc.PvNames.Count()} PVs on {address}:{ioc.Port} (e.g. IOC:m100 = SampleFineX, BL1610-I10:ENERGY)");
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        return 0;
    }

    private static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
