using FsCheck;
using FsCheck.Fluent;
using StxmWeb.Core.Plans;
using StxmWeb.Core.Scans;
using StxmWeb.Simulation;

namespace StxmWeb.Core.Tests;

/// <summary>
/// Properties of requests and plans over generated requests of every scan type (FsCheck): a request the validator
/// accepts plans to setpoints within every positioner's limits, acquires each value of each entry exactly once (so the
/// count equals the product of the axes), and visits energies, polarizations and rows in the requested order.
/// </summary>
public sealed class PlanPropertyTests
{
    private static readonly SimulationOptions Sim = SimulationOptions.Standard();

    private static readonly InstrumentLimits Limits = new(
        Sim.Positioners.ToDictionary(p => p.Name, p => new Limits(p.Low, p.High), StringComparer.OrdinalIgnoreCase), new Limits(0.05, 10_000), 4096)
    {
        Kinematics = Kinematics,
        HasAreaDetector = true,
    };

    private static PlanKinematics Kinematics => new(Sim.Positioners.ToDictionary(
        p => p.Name, p => new AxisKinematics(p.Velocity, p.Acceleration, TimeSpan.FromMilliseconds(p.SettleMs)), StringComparer.OrdinalIgnoreCase));

    private static Gen<AxisRegion> Axis(double halfTravel) =>
        from centre in Gen.Choose(-100, 100)
        from range in Gen.Choose(0, 100)
        from points in Gen.Choose(1, 9)
        select new AxisRegion(centre / 400.0 * halfTravel, points == 1 ? 0 : range / 200.0 * halfTravel + 0.5, points);

    private static Gen<EnergyRegion[]> Energies =>
        from count in Gen.Choose(0, 3)
        from widths in Gen.ArrayOf(Gen.Choose(0, 40), count)
        from points in Gen.ArrayOf(Gen.Choose(1, 4), count)
        from dwell in Gen.Choose(1, 5)
        select widths.Select((w, i) => (w, i)).Aggregate(new List<EnergyRegion>(), (list, x) =>
        {
            var start = (list.Count == 0 ? 280.0 : list[^1].StopEv + 0.5);
            var stop = points[x.i] == 1 ? start : start + 0.5 + x.w / 4.0;
            list.Add(new EnergyRegion(start, stop, points[x.i], dwell));
            return list;
        }).ToArray();

    private static Gen<PolarizationSetting[]> Polarizations =>
        from count in Gen.Choose(0, 2)
        from modes in Gen.ArrayOf(Gen.Elements(Enum.GetValues<Polarization>()), count)
        select modes.Select(m => new PolarizationSetting(m, 0, m == Polarization.LinInc ? 30 : 0)).ToArray();

    private static Gen<ScanRequest> Requests =>
        from type in Gen.Elements(Enum.GetValues<ScanType>())
        from regions in Gen.ArrayOf(Gen.Zip(Axis(1), Axis(1)), 3)
        from energies in Energies
        from pols in Polarizations
        from order in Gen.Elements(Enum.GetValues<EnergyPolarizationOrder>())
        from fly in Gen.Elements(true, false)
        from dwell in Gen.Choose(1, 5)
        from linePoints in Gen.Choose(1, 12)
        from zPoints in Gen.Choose(1, 6)
        from angles in Gen.Choose(1, 4)
        from meander in Gen.Elements(true, false)
        from tiling in Gen.Elements(true, false)
        select Build(type, regions, energies, pols, order, fly, dwell, linePoints, zPoints, angles) is var r
            ? Extras(r, meander, tiling)
            : null;

    /// <summary>Meander for point-by-point rasters; tiling for sample images and stacks, with regions up to 3 tiles wide.</summary>
    private static ScanRequest Extras(ScanRequest request, bool meander, bool tiling)
    {
        if (meander && request.Mode == AcquisitionMode.PointByPoint)
        {
            request = request with { Meander = true };
        }

        if (tiling && request.ScanType is ScanType.SampleImage or ScanType.SampleImageStack)
        {
            request = request with
            {
                Tiling = true,
                Regions = [.. request.Regions.Select(r => new SpatialRegion(r.X with { Center = r.X.Center * 4, Range = r.X.Range * 6, Points = r.X.Points * 20 }, r.Y with { Range = r.Y.Range * 3 }))],
            };
        }

        return request;
    }

    /// <summary>A request of <paramref name="type"/> from generated parts, scaled to the type's positioners.</summary>
    private static ScanRequest Build(ScanType type, (AxisRegion X, AxisRegion Y)[] regions, EnergyRegion[] energies, PolarizationSetting[] pols,
        EnergyPolarizationOrder order, bool fly, int dwell, int linePoints, int zPoints, int angles)
    {
        var info = ScanTypes.Of(type);
        double Half(string? positioner) => positioner is null ? 1 : Limits.For(positioner)!.Value.High;
        AxisRegion Scale(AxisRegion a, string? p) => a with { Center = a.Center * Half(p), Range = a.Range * Half(p) };
        var scaled = regions.Select(r => new SpatialRegion(Scale(r.X, info.X), Scale(r.Y, info.Y))).ToArray();
        var request = ScanRequest.Default(type) with
        {
            Mode = fly && info.CanFly ? AcquisitionMode.Line : AcquisitionMode.PointByPoint,
            DwellMs = type == ScanType.Ptychography ? 300 : dwell,
            Order = order,
        };
        if (info.UsesEnergies)
        {
            request = request with { Polarizations = pols, Energies = type == ScanType.SampleImageStack && energies.Length == 0 ? [new(285, 290, 3, dwell)] : energies };
            if (type == ScanType.Ptychography)
            {
                request = request with { Energies = [.. request.Energies.Select(e => e with { DwellMs = 300 })] };
            }
        }

        var half = Half(info.X) / 2;
        return info.Family switch
        {
            ScanFamily.Image or ScanFamily.Ptychography => request with { Regions = info.MultiRegion ? scaled : scaled[..1] },
            ScanFamily.Tomography => request with { Regions = scaled[..1], Theta = new PositionerAxis(Roles.GoniTheta, -45, 45, angles) },
            ScanFamily.Pattern => request with { Regions = scaled[..1] },
            ScanFamily.Focus => request with
            {
                Line = new LineRegion(-half, 0, half, fly ? 0 : half / 3, Math.Max(2, linePoints)),
                ZonePlateZ = new AxisRegion(-1200, 100, zPoints),
            },
            ScanFamily.LineSpectrum => request with { Line = new LineRegion(-half, 1, half, fly ? 1 : -1, Math.Max(2, linePoints)) },
            ScanFamily.PointSpectrum => request with { Points = [.. scaled.Select(r => new SamplePoint(r.X.Center, r.Y.Center))] },
            ScanFamily.Generic => request with { Primary = new PositionerAxis(Roles.OsaX, -40, 40, linePoints) },
            ScanFamily.TwoVariable => request with { Primary = new PositionerAxis(Roles.OsaX, -40, 40, linePoints), Secondary = new PositionerAxis(Roles.DetectorY, 10, -10, zPoints) },
            _ => request,
        };
    }

    private static bool WithinLimits(ScanRequest request)
    {
        foreach (var msg in ScanPlanner.Build(request, Kinematics).Plan)
        {
            IEnumerable<(string Name, double Value)> targets = msg switch
            {
                MoveMsg move => move.Targets.Select(t => (t.Positioner, t.Target)),
                FlyLineMsg f => [(f.Positioner, f.RunUp), (f.Positioner, f.RunOut)],
                _ => [],
            };
            if (targets.Any(t => Limits.For(t.Name) is not { } l || !l.Contains(t.Value)))
            {
                return false;
            }
        }

        return true;
    }

    private static bool EveryValueOnce(ScanRequest request)
    {
        var planned = ScanPlanner.Build(request, Kinematics);
        var seen = new HashSet<(int, int, int, int)>();
        foreach (var msg in planned.Plan)
        {
            IEnumerable<(int E, int P, int R, int C)> cells = msg switch
            {
                AcquirePointMsg p => [(p.Entry, p.Plane, p.Row, p.Column)],
                FlyLineMsg f => Enumerable.Range(0, f.Bins).Select(c => (f.Entry, f.Plane, f.Row, f.Column + c)),
                _ => [],
            };
            foreach (var cell in cells)
            {
                var shape = planned.Entries[cell.E].Shape;
                var (planes, rows, columns) = shape.Length switch { 3 => (shape[0], shape[1], shape[2]), 2 => (1, shape[0], shape[1]), _ => (1, 1, shape[0]) };
                if (cell.P >= planes || cell.R >= rows || cell.C >= columns || !seen.Add(cell))
                {
                    return false;
                }
            }
        }

        // Every value of every entry, and the count is the product of the axes.
        return seen.Count == planned.TotalPoints
            && planned.Entries.All(e => e.Size == e.Axes.Aggregate(1L, (n, a) => n * a.Values.Length));
    }

    private static bool InRequestedOrder(ScanRequest request)
    {
        var planned = ScanPlanner.Build(request, Kinematics);
        var info = ScanTypes.Of(request.ScanType);
        if (!info.UsesEnergies || info.Family == ScanFamily.Tomography)
        {
            return true;
        }

        // Energy index of each acquisition: the plane of images, the row of line spectra, the column of point spectra.
        var sequence = planned.Plan.SelectMany(msg => msg switch
        {
            AcquirePointMsg p => [(p.Entry, Energy: info.Family == ScanFamily.PointSpectrum ? p.Column : info.Family == ScanFamily.LineSpectrum ? p.Row : p.Plane)],
            FlyLineMsg f => new[] { (f.Entry, Energy: info.Family == ScanFamily.LineSpectrum ? f.Row : f.Plane) },
            _ => [],
        }).ToList();
        var pols = request.PolarizationRows().Length;
        var keys = sequence.Select(s => request.Order == EnergyPolarizationOrder.EnergyThenPolarization
            ? (s.Energy, s.Entry % pols)
            : (s.Entry % pols, s.Energy)).ToList();
        return keys.Zip(keys.Skip(1)).All(p => p.First.CompareTo(p.Second) <= 0);
    }

    [Fact]
    public void ValidRequests_PlanWithinEveryPositionersLimits()
    {
        var valid = 0;
        Prop.ForAll(Requests.ToArbitrary(), request =>
        {
            if (ScanRequestValidator.Validate(request, Limits).Count > 0)
            {
                return true;
            }

            valid++;
            return WithinLimits(request);
        }).QuickCheckThrowOnFailure();
        Assert.True(valid > 30, $"only {valid} of the generated requests were valid: the generator must produce mostly valid requests");
    }

    [Fact]
    public void ValidRequests_AcquireEveryValueOfEveryEntryOnce()
    {
        Prop.ForAll(Requests.ToArbitrary(), request =>
            ScanRequestValidator.Validate(request, Limits).Count > 0 || EveryValueOnce(request)).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void ValidRequests_VisitEnergiesAndPolarizationsInTheRequestedOrder()
    {
        Prop.ForAll(Requests.ToArbitrary(), request =>
            ScanRequestValidator.Validate(request, Limits).Count > 0 || InRequestedOrder(request)).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Requests_RoundTripThroughJson_AsScanDefinitions()
    {
        var json = new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web);
        Prop.ForAll(Requests.ToArbitrary(), request =>
        {
            var text = System.Text.Json.JsonSerializer.Serialize(request, json);
            var again = System.Text.Json.JsonSerializer.Deserialize<ScanRequest>(text, json)!;
            return System.Text.Json.JsonSerializer.Serialize(again, json) == text
                && ScanPlanner.Build(again, Kinematics).TotalPoints == ScanPlanner.Build(request, Kinematics).TotalPoints;
        }).QuickCheckThrowOnFailure();
    }
}
