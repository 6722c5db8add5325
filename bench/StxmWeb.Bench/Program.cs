using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using StxmWeb.Core.Engine;
using StxmWeb.Core.Plans;
using StxmWeb.Core.Scans;
using StxmWeb.Nexus;
using StxmWeb.Services;
using StxmWeb.Simulation;
using StxmWeb.Core.Documents;

// Engine overhead: a simulated 100 x 100 sample image at 1 ms dwell, in real time, through the whole document path
// (engine -> broadcaster -> NXstxm writer on disk). Overhead = wall time / (pixels x dwell + moves), where the moves
// (and the line run-up/run-out) are priced by the plan's kinematics. Usage: StxmWeb.Bench [runs] [output.md]
// Channel Access: StxmWeb.Bench ca [output.md] (see CaBench). Time estimates of every scan type: StxmWeb.Bench estimates [output.md].
// The Pixelator live path: StxmWeb.Bench pixelator [output.md] (see PixelatorBench).
// NXstxm writing beside h5py: StxmWeb.Bench writer [runs] [output.md] (see WriterBench).
// The live path under load (1, 20, 100 clients and a browser at 1 Mpx/s): StxmWeb.Bench load [output.md] (see LoadBench).
if (args.Length > 0 && args[0] == "estimates")
{
    return await StxmWeb.Bench.EstimateBench.RunAsync(args.Skip(1).ToArray());
}

if (args.Length > 0 && args[0] == "pixelator")
{
    return await StxmWeb.Bench.PixelatorBench.RunAsync(args.Skip(1).ToArray());
}

if (args.Length > 0 && args[0] == "writer")
{
    return await StxmWeb.Bench.WriterBench.RunAsync(args.Skip(1).ToArray());
}

if (args.Length > 0 && args[0] == "load")
{
    return await StxmWeb.Bench.LoadBench.RunAsync(args.Skip(1).ToArray());
}

if (args.Length > 2 && args[0] == "ca-producer")
{
    // The CA bench's producer, run as a process of its own: ca-producer <server port> <puts per second>.
    return await StxmWeb.Bench.CaBench.ProduceAsync(int.Parse(args[1], CultureInfo.InvariantCulture), int.Parse(args[2], CultureInfo.InvariantCulture));
}

if (args.Length > 0 && args[0] == "ca")
{
    return await StxmWeb.Bench.CaBench.RunAsync(args.Skip(1).ToArray());
}

var runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 3;
var output = args.Length > 1 ? args[1] : null;
var rows = new List<string>();
var directory = Directory.CreateTempSubdirectory("stxmweb-bench-").FullName;

foreach (var mode in new[] { AcquisitionMode.Line, AcquisitionMode.PointByPoint })
{
    var ratios = new List<double>();
    double wallSeconds = 0, idealSeconds = 0, dwellSeconds = 0;
    for (var run = 0; run < runs; run++)
    {
        var scope = new SimMicroscope(SimulationOptions.Standard(), TimeProvider.System);
        var engine = new ScanEngine(scope, TimeProvider.System, NullLogger<ScanEngine>.Instance);
        var kinematics = new PlanKinematics(scope.SampleX.Kinematics, scope.SampleY.Kinematics, scope.Energy.Kinematics);
        var request = ScanRequest.SampleImage(new AxisRegion(0, 40, 100), new AxisRegion(0, 40, 100), 1.0, 285, mode);
        var start = scope.Positioners.ToDictionary(p => p.Name, p => p.Status.Position);
        var ideal = ScanPlanner.Estimate(ScanPlanner.Build(request, kinematics).Plan, kinematics, start);
        var (path, number) = DataFileNaming.Reserve(directory, "B", DateOnly.FromDateTime(DateTime.Now));
        var id = Guid.NewGuid();
        var runStart = new RunStart(id, number, request, DateTimeOffset.UtcNow, "bench", path);
        var descriptor = new Descriptor(id, "counter0", "counts", request.ScanType, ScanPlanner.Build(request, kinematics).Entries, ideal);
        await using var documents = new DocumentBroadcaster([new NxstxmWriter(NullLogger<NxstxmWriter>.Instance)], NullLogger<DocumentBroadcaster>.Instance);

        var clock = Stopwatch.StartNew();
        var stop = await engine.RunAsync(runStart, descriptor, ScanPlanner.Build(request, kinematics).Plan, kinematics, documents);
        clock.Stop();
        await documents.DrainAsync();
        if (stop.Status != ExitStatus.Success)
        {
            throw new InvalidOperationException($"The run ended {stop.Status}: {stop.Reason}");
        }

        ratios.Add(clock.Elapsed / ideal);
        wallSeconds += clock.Elapsed.TotalSeconds;
        idealSeconds += ideal.TotalSeconds;
        dwellSeconds += request.Regions[0].PixelCount * request.DwellMs / 1000;
        Console.WriteLine(FormattableString.Invariant($"{mode,-12} run {run + 1}: wall {clock.Elapsed.TotalSeconds:F3} s, ideal {ideal.TotalSeconds:F3} s, ratio {clock.Elapsed / ideal:F4}"));
    }

    ratios.Sort();
    rows.Add(FormattableString.Invariant(
        $"| {mode} | 100 x 100 | 1 ms | {dwellSeconds / runs:F2} | {idealSeconds / runs:F3} | {wallSeconds / runs:F3} | {ratios[ratios.Count / 2]:F4} | {ratios[^1]:F4} | {(ratios[ratios.Count / 2] <= 1.02 ? "met" : "missed")} |"));
}

Directory.Delete(directory, recursive: true);
var report = new StringBuilder()
    .AppendLine("# Engine overhead: simulated 100 x 100 sample image at 1 ms dwell")
    .AppendLine()
    .AppendLine(CultureInfo.InvariantCulture, $"- Date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC")
    .AppendLine(CultureInfo.InvariantCulture, $"- Machine: {StxmWeb.Bench.BenchMachine.Describe()}")
    .AppendLine(CultureInfo.InvariantCulture, $"- Command: `dotnet run -c Release --project bench/StxmWeb.Bench -- {runs} bench/results/engine-overhead.md`")
    .AppendLine(CultureInfo.InvariantCulture, $"- Runs per mode: {runs}; the simulated microscope in real time (TimeProvider.System); documents go through the broadcaster to the NXstxm writer on disk.")
    .AppendLine("- Ideal = pixels x dwell + moves, run-up/run-out and settle times as the plan prices them (same kinematics as the simulated stages). Target: ratio <= 1.02.")
    .AppendLine(CultureInfo.InvariantCulture, $"- Peak working set of the process: {Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024):F0} MiB")
    .AppendLine()
    .AppendLine("| mode | image | dwell | pixels x dwell (s) | ideal (s) | wall (s), mean | ratio, median | ratio, worst | target |")
    .AppendLine("|---|---|---|---|---|---|---|---|---|");
foreach (var row in rows)
{
    report.AppendLine(row);
}

await StxmWeb.Bench.BenchMachine.PublishAsync(report.ToString(), output);

return 0;
