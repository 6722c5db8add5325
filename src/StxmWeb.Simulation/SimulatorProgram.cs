using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using StxmWeb.Simulation.Ioc;

namespace StxmWeb.Simulation;

/// <summary>
/// The simulators as their own processes, until Ctrl+C:
/// <c>dotnet run --project src/StxmWeb.Simulation -- ioc [--port 5064] [--address 0.0.0.0] [--time-scale 1]</c> serves
/// the simulated microscope over Channel Access; <c>-- pixelator [--address *] [--pub 56561] [--req 56562] [--data 56563]
/// [--data-dir DIR] [--time-scale 1]</c> serves it as a PixelatorController over ZeroMQ (ports also from pyStxm's
/// DCS_SUB_PORT, DCS_REQ_PORT and DATA_SUB_PORT, the data directory from DATA_DIR).
/// </summary>
public static class SimulatorProgram
{
    /// <summary>Entry point.</summary>
    public static async Task<int> Main(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length == 0 || args[0] is not ("ioc" or "pixelator"))
        {
            await Console.Error.WriteLineAsync("usage: StxmWeb.Simulation ioc [--port 5064] [--address 0.0.0.0] [--time-scale 1]\n" +
                "       StxmWeb.Simulation pixelator [--address *] [--pub 56561] [--req 56562] [--data 56563] [--data-dir DIR] [--time-scale 1]").ConfigureAwait(false);
            return 2;
        }

        if (args[0] == "pixelator")
        {
            return await RunPixelatorAsync(args).ConfigureAwait(false);
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
        await WaitForStopAsync().ConfigureAwait(false);
        return 0;
    }

    private static async Task<int> RunPixelatorAsync(string[] args)
    {
        static int Port(string[] args, string option, string variable, int fallback) =>
            int.Parse(Option(args, option) ?? Environment.GetEnvironmentVariable(variable) ?? fallback.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

        var scale = double.Parse(Option(args, "--time-scale") ?? "1", CultureInfo.InvariantCulture);
        var dataDir = Option(args, "--data-dir") ?? Environment.GetEnvironmentVariable("DATA_DIR")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), "PixelatorData");
        var options = new Pixelator.SimPixelatorOptions
        {
            DataDirectory = Path.GetFullPath(dataDir),
            Server = new StxmWeb.Pixelator.Server.PixelatorServerOptions
            {
                Address = Option(args, "--address") ?? "*",
                PublisherPort = Port(args, "--pub", "DCS_SUB_PORT", 56561),
                RequestPort = Port(args, "--req", "DCS_REQ_PORT", 56562),
                DataPublisherPort = Port(args, "--data", "DATA_SUB_PORT", 56563),
            },
        };
        using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
        var time = scale > 1 ? new AcceleratedTimeProvider(scale) : TimeProvider.System;
        var controller = new Pixelator.SimPixelatorController(new SimMicroscope(SimulationOptions.Standard(), time), options, loggers);
        await using (controller.ConfigureAwait(false))
        {
            var (pub, req, data) = controller.Ports;
            Console.WriteLine($"Simulated PixelatorController: requests on tcp://{options.Server.Address}:{req}, publishing on {pub}, files on {data}; writing to {options.DataDirectory}");
            await WaitForStopAsync().ConfigureAwait(false);
        }

        return 0;
    }

    private static async Task WaitForStopAsync()
    {
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
    }

    private static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
