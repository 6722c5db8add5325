using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using StxmWeb.Core.Documents;
using StxmWeb.Core.Engine;
using StxmWeb.Core.Plans;
using StxmWeb.Core.Scans;
using StxmWeb.Nexus;
using StxmWeb.Services;
using StxmWeb.Simulation;

namespace StxmWeb.Bench;

/// <summary>
/// Time estimates against actual durations for every scan type: each runs on the simulated microscope in real time
/// (TimeProvider.System) through the engine, the document broadcaster and the NXstxm writer, and the wall time is
/// compared with the plan's estimate made before the start. Target: within 5 %. Usage: StxmWeb.Bench estimates [output.md]
/// </summary>
internal static class EstimateBench
{
    private static IEnumerable<ScanRequest> Requests()
    {
        yield return ScanRequest.Default(ScanType.DetectorImage) with { Regions = [new(new(0, 600, 9), new(0, 600, 9))] };
        yield return ScanRequest.Default(ScanType.OsaImage) with { Regions = [new(new(0, 100, 9), new(0, 100, 9))] };
        yield return ScanRequest.Default(ScanType.OsaFocus) with { Line = new LineRegion(-40, 0, 40, 0, 15), ZonePlateZ = new AxisRegion(-1379.2, 120, 7) };
        yield return ScanRequest.Default(ScanType.SampleFocus) with { ZonePlateZ = new AxisRegion(-1129.2, 40, 11) };
        yield return ScanRequest.Default(ScanType.SamplePointSpectrum) with { Energies = [new EnergyRegion(283, 292, 19, 20)] };
        yield return ScanRequest.Default(ScanType.SampleLineSpectrum) with { Line = new LineRegion(-20, 0, 20, 0, 40), Energies = [new EnergyRegion(283, 292, 19, 2)] };
        yield return ScanRequest.Default(ScanType.SampleImage) with { Regions = [new(new(0, 30, 60), new(0, 30, 60))] };
        yield return ScanRequest.Default(ScanType.SampleImageStack) with { Regions = [new(new(0, 30, 30), new(0, 30, 30))], Energies = [new EnergyRegion(284, 290, 5, 1)] };
        yield return ScanRequest.Default(ScanType.GenericScan) with { Primary = new PositionerAxis(Roles.OsaX, -60, 60, 31) };
        yield return ScanRequest.Default(ScanType.CoarseImage) with { Regions = [new(new(0, 40, 9), new(0, 40, 9))] };
        yield return ScanRequest.Default(ScanType.CoarseGoni) with { Regions = [new(new(0, 40, 9), new(0, 40, 9))] };
        yield return ScanRequest.Default(ScanType.Tomography) with { Regions = [new(new(0, 30, 30), new(0, 30, 30))], Theta = new PositionerAxis(Roles.GoniTheta, -20, 20, 2) };
        yield return ScanRequest.Default(ScanType.PatternGen) with { Regions = [new(new(-7.9, 4, 12), new(9.1, 4, 12))], Pattern = new PatternSpec(PatternKind.DoseSeries, 50, 3) };
        yield return ScanRequest.Default(ScanType.Ptychography) with { Regions = [new(new(0, 2, 4), new(0, 2, 4))] };
        yield return ScanRequest.Default(ScanType.TwoVariableImage) with
        {
            Primary = new PositionerAxis(Roles.OsaX, -40, 40, 9),
            Secondary = new PositionerAxis(Roles.OsaY, -40, 40, 9),
        };
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var output = args.Length > 0 ? args[0] : null;
        var directory = Directory.CreateTempSubdirectory("stxmweb-bench-estimates-").FullName;
        var rows = new List<string>();
        var worst = 0.0;
        foreach (var request in Requests())
        {
            var scope = new SimMicroscope(SimulationOptions.Standard(), TimeProvider.System);
            var engine = new ScanEngine(scope, TimeProvider.System, NullLogger<ScanEngine>.Instance);
            var kinematics = new PlanKinematics(scope.Positioners.ToDictionary(p => p.Name, p => p.Kinematics, StringComparer.OrdinalIgnoreCase));
            var limits = new InstrumentLimits(scope.Positioners.ToDictionary(p => p.Name, p => p.Limits, StringComparer.OrdinalIgnoreCase), new Limits(0.05, 10_000), 4096) { Kinematics = kinematics };
            var problems = ScanRequestValidator.Validate(request, limits);
            if (problems.Count > 0)
            {
                throw new InvalidOperationException($"{request.ScanType}: {string.Join("; ", problems.Select(p => $"{p.Field}: {p.Message}"))}");
            }

            var planned = ScanPlanner.Build(request, kinematics);
            var start = scope.Positioners.ToDictionary(p => p.Name, p => p.Status.Position, StringComparer.OrdinalIgnoreCase);
            var estimate = ScanPlanner.Estimate(planned.Plan, kinematics, start);
            var (path, number) = DataFileNaming.Reserve(directory, "B", DateOnly.FromDateTime(DateTime.Now));
            var id = Guid.NewGuid();
            var runStart = new RunStart(id, number, request, DateTimeOffset.UtcNow, "bench", path);
            var descriptor = new Descriptor(id, "counter0", "counts", request.ScanType, planned.Entries, estimate);
            await using var documents = new DocumentBroadcaster([new NxstxmWriter(NullLogger<NxstxmWriter>.Instance)], NullLogger<DocumentBroadcaster>.Instance);

            var clock = Stopwatch.StartNew();
            var stop = await engine.RunAsync(runStart, descriptor, planned.Plan, kinematics, documents);
            clock.Stop();
            await documents.DrainAsync();
            if (stop.Status != ExitStatus.Success)
            {
                throw new InvalidOperationException($"{request.ScanType} ended {stop.Status}: {stop.Reason}");
            }

            var error = (clock.Elapsed - estimate) / estimate;
            worst = Math.Max(worst, Math.Abs(error));
            var line = FormattableString.Invariant(
                $"| {ScanTypes.Of(request.ScanType).Label} | {request.Mode} | {planned.TotalPoints} | {estimate.TotalSeconds:F2} | {clock.Elapsed.TotalSeconds:F2} | {error * 100:+0.0;-0.0} % | {(Math.Abs(error) <= 0.05 ? "met" : "missed")} |");
            Console.WriteLine(line);
            rows.Add(line);
        }

        Directory.Delete(directory, recursive: true);
        var report = new StringBuilder()
            .AppendLine("# Time estimates against actual duration, every scan type")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"- Date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC")
            .AppendLine(CultureInfo.InvariantCulture, $"- Machine: {StxmWeb.Bench.BenchMachine.Describe()}")
            .AppendLine("- Command: `dotnet run -c Release --project bench/StxmWeb.Bench -- estimates bench/results/scan-time-estimates.md`")
            .AppendLine("- Each scan runs once on the simulated microscope in real time (TimeProvider.System), through the engine, the document broadcaster and the NXstxm writer on disk. Estimate = the plan's estimate before the start (moves, settles, dwells, fly-line run-up/run-out, the return to the start positions). Actual = wall time of the run. Target: |error| ≤ 5 %.")
            .AppendLine(CultureInfo.InvariantCulture, $"- Worst |error|: {worst * 100:F1} %; peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024):F0} MiB")
            .AppendLine()
            .AppendLine("| Scan type | Mode | Points | Estimate (s) | Actual (s) | Error | Target |")
            .AppendLine("|---|---|---:|---:|---:|---:|---|");
        foreach (var row in rows)
        {
            report.AppendLine(row);
        }

        await BenchMachine.PublishAsync(report.ToString(), output);

        return 0;
    }
}
