using StxmWeb.Core.Documents;
using StxmWeb.Core.Scans;

namespace StxmWeb.Core.Plans;

/// <summary>A planned scan: its NXentries (shapes and axes) and the lazy sequence of messages that acquires them.</summary>
/// <param name="Entries">The entries, in file order.</param>
/// <param name="Plan">The messages; enumerating it twice yields the same messages.</param>
public sealed record PlannedScan(EntryDescriptor[] Entries, IEnumerable<Msg> Plan)
{
    /// <summary>Values acquired by the whole plan.</summary>
    public long TotalPoints => Entries.Sum(e => e.Size);
}

/// <summary>
/// Turns a validated <see cref="ScanRequest"/> of any type into its entries and a pure plan of <see cref="Msg"/>s (no
/// device is touched here). Loops, outermost first: energy and polarization (in the requested order), then the spatial
/// regions, then rows; a checkpoint (pause/abort point) starts every row. Energy moves let the instrument's focus
/// tracking move the zone plate (pyStxm's "FL change with Energy").
/// </summary>
public static class ScanPlanner
{
    /// <summary>Widest tile of a tiled image, µm: what the fine stage covers with room left to accelerate.</summary>
    public const double DefaultTileUm = 80;

    /// <summary>
    /// Plans <paramref name="request"/>, which must have passed <see cref="ScanRequestValidator"/>. Tiled images are cut
    /// into tiles at most <paramref name="tileUm"/> wide and high.
    /// </summary>
    public static PlannedScan Build(ScanRequest request, PlanKinematics kinematics, double tileUm = DefaultTileUm)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(kinematics);
        var info = ScanTypes.Of(request.ScanType);
        return info.Family switch
        {
            ScanFamily.Image or ScanFamily.Ptychography => Images(request, info, kinematics, tileUm),
            ScanFamily.Focus => Focus(request, info, kinematics),
            ScanFamily.PointSpectrum => PointSpectrum(request, info),
            ScanFamily.LineSpectrum => LineSpectrum(request, info, kinematics),
            ScanFamily.Generic => Generic(request, info),
            ScanFamily.TwoVariable => TwoVariable(request, info),
            ScanFamily.Tomography => Tomography(request, info, kinematics),
            ScanFamily.Pattern => Pattern(request, info),
            _ => throw new ArgumentOutOfRangeException(nameof(request), request.ScanType, "No plan for this scan type."),
        };
    }

    /// <summary>Estimated duration of a plan, given where the axes stand before it.</summary>
    public static TimeSpan Estimate(IEnumerable<Msg> plan, PlanKinematics kinematics, IReadOnlyDictionary<string, double>? start = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var tracker = new EstimateTracker(kinematics, start);
        var total = TimeSpan.Zero;
        foreach (var msg in plan)
        {
            total += tracker.Cost(msg);
        }

        return total + tracker.ReturnCost();
    }

    /// <summary>
    /// Fly-line geometry of a constant-velocity line over <paramref name="x"/> at <paramref name="dwellMs"/> per pixel, or
    /// null when the line has a single pixel (then points are used). Pixel i is counted while the beam crosses
    /// [x_i − step/2, x_i + step/2]; the stage starts an acceleration distance before the first edge.
    /// </summary>
    public static FlyLine? FlyGeometry(AxisRegion x, double dwellMs, AxisKinematics kinematics, double? runUpUm = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(kinematics);
        if (x.Points < 2)
        {
            return null;
        }

        var step = x.Step;
        var velocity = step / (dwellMs / 1000.0);
        var needed = kinematics.AccelerationDistance(velocity);

        // A run-up longer than the stage needs (Pixelator's acceleration distance) is cruised at speed before the first pixel.
        var runUp = runUpUm is { } given && given > needed ? given : needed;
        var toFirstPixel = kinematics.AccelerationTime(velocity) + TimeSpan.FromSeconds((runUp - needed) / velocity);
        return new FlyLine(x.Start - step / 2 - runUp, x.Stop + step / 2 + runUp, velocity, toFirstPixel) { Needed = needed };
    }

    /// <summary>The relative exposure (0..1) of every pixel of a pattern, rows (y) of columns (x).</summary>
    public static double[][] PatternValues(PatternSpec pattern, int rows, int columns)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        if (pattern.Kind == PatternKind.Custom)
        {
            return pattern.Values ?? [];
        }

        // pyStxm's pads: a grid of squares, pad k exposed (k + 1) / pads² of the brightest; a gap of a third of a cell between pads.
        var values = new double[rows][];
        var pads = Math.Max(1, pattern.Pads);
        for (var r = 0; r < rows; r++)
        {
            values[r] = new double[columns];
            for (var c = 0; c < columns; c++)
            {
                var (pr, fr) = Cell(r, rows, pads);
                var (pc, fc) = Cell(c, columns, pads);
                var inside = fr is >= 1.0 / 6 and < 5.0 / 6 && fc is >= 1.0 / 6 and < 5.0 / 6;
                values[r][c] = inside ? (pr * pads + pc + 1) / (double)(pads * pads) : 0;
            }
        }

        return values;

        static (int Pad, double Fraction) Cell(int i, int n, int pads)
        {
            var position = (i + 0.5) / n * pads;
            var pad = Math.Min(pads - 1, (int)position);
            return (pad, position - pad);
        }
    }

    /// <summary>The request's energies and the dwell at each, in order.</summary>
    private static (double[] Energies, double[] Dwells) EnergyAxes(ScanRequest request)
    {
        var setpoints = request.EnergySetpoints();
        return ([.. setpoints.Select(x => x.EnergyEv)], [.. setpoints.Select(x => x.DwellMs)]);
    }

    private static IEnumerable<(int E, int P)> EnergyPolarization(int energies, int polarizations, EnergyPolarizationOrder order)
    {
        if (order == EnergyPolarizationOrder.PolarizationThenEnergy)
        {
            for (var p = 0; p < polarizations; p++)
            {
                for (var e = 0; e < energies; e++)
                {
                    yield return (e, p);
                }
            }
        }
        else
        {
            for (var e = 0; e < energies; e++)
            {
                for (var p = 0; p < polarizations; p++)
                {
                    yield return (e, p);
                }
            }
        }
    }

    /// <summary>
    /// Sets the beam for each step of the energy/polarization loop: the energy always (it also re-focuses the zone
    /// plate), the EPU only when the polarization row changes.
    /// </summary>
    private sealed class Beam
    {
        private PolarizationSetting? _polarization;

        public IEnumerable<Msg> To(double energyEv, PolarizationSetting? polarization)
        {
            yield return new MoveMsg(Roles.Energy, energyEv);
            if (polarization is not null && polarization != _polarization)
            {
                yield return PolarizationMove(polarization);
                _polarization = polarization;
            }
        }
    }

    private static MoveMsg PolarizationMove(PolarizationSetting setting)
    {
        List<MoveTarget> targets = [new(Roles.EpuPolarization, (int)setting.Mode), new(Roles.EpuOffset, setting.Offset)];
        if (setting.Mode == Polarization.LinInc)
        {
            targets.Add(new(Roles.EpuAngle, setting.Angle));
        }

        return new MoveMsg(targets);
    }

    private static string EntryName(int index) => $"entry{index}";

    private static Axis EnergyAxis(double[] energies) => new("energy", "eV", energies);

    private static Axis StageAxis(string positioner, double[] values) =>
        new(ScanTypeInfo.AxisName(positioner), positioner is Roles.GoniTheta or Roles.EpuAngle ? "degree" : positioner == Roles.Energy ? "eV" : "µm", values);

    /// <summary>Images and stacks, and ptychography's raster: an entry per region and polarization, data (nE, ny, nx).</summary>
    private static PlannedScan Images(ScanRequest request, ScanTypeInfo info, PlanKinematics kinematics, double tileUm)
    {
        var (e, dwell) = EnergyAxes(request);
        var pols = request.PolarizationRows();
        var entries = new List<EntryDescriptor>();
        for (var r = 0; r < request.Regions.Count; r++)
        {
            foreach (var pol in pols)
            {
                var region = request.Regions[r];
                entries.Add(new EntryDescriptor(EntryName(entries.Count), [e.Length, region.Y.Points, region.X.Points],
                    [EnergyAxis(e), StageAxis(info.Y!, region.Y.Setpoints()), StageAxis(info.X!, region.X.Setpoints())], e, CountTimes(dwell, request, info), info.StxmScanType)
                { Polarization = pol });
            }
        }

        return new PlannedScan([.. entries], Iterate());

        IEnumerable<Msg> Iterate()
        {
            var done = 0L;
            var beam = new Beam();
            foreach (var (ei, pi) in EnergyPolarization(e.Length, pols.Length, request.Order))
            {
                foreach (var msg in beam.To(e[ei], pols[pi]))
                {
                    yield return msg;
                }

                for (var r = 0; r < request.Regions.Count; r++)
                {
                    var fly = request.Mode == AcquisitionMode.Line && info.CanFly;
                    var raster = request.Tiling
                        ? TiledRaster(r * pols.Length + pi, ei, request.Regions[r], dwell[ei], fly, request.Meander, kinematics, done, tileUm, request.Details)
                        : Raster(r * pols.Length + pi, ei, request.Regions[r], info.X!, info.Y!, dwell[ei], fly, kinematics, done, meander: request.Meander, details: request.Details);
                    foreach (var msg in raster)
                    {
                        // Ptychography: the area detector takes a frame at every point, during the counter's dwell.
                        yield return info.Family == ScanFamily.Ptychography && msg is AcquirePointMsg point ? point with { WithFrame = true } : msg;
                    }

                    done += request.Regions[r].PixelCount;
                }
            }

            yield return new CheckpointMsg(done);
        }
    }

    /// <summary>
    /// One raster of a region: a checkpoint per row, then a fly line or a row of points; with Y fast (point by point), a
    /// checkpoint per column and the points down it. Line and point delays wait before each line and point.
    /// </summary>
    private static IEnumerable<Msg> Raster(int entry, int plane, SpatialRegion region, string xName, string yName, double dwellMs,
        bool fly, PlanKinematics kinematics, long doneBefore, Func<int, int, double>? dwellOf = null, bool meander = false, ScanDetails? details = null)
    {
        details ??= ScanDetails.None;
        var xs = region.X.Setpoints();
        var ys = region.Y.Setpoints();
        var dwell = TimeSpan.FromMilliseconds(dwellMs);
        var line = fly ? FlyGeometry(region.X, dwellMs, kinematics.For(xName), details.AccelerationDistanceUm) : null;
        if (details.YAxisFast && line is null)
        {
            for (var col = 0; col < xs.Length; col++)
            {
                yield return new CheckpointMsg(doneBefore + (long)col * ys.Length);
                foreach (var wait in Delay(details.LineDelayMs))
                {
                    yield return wait;
                }

                for (var k = 0; k < ys.Length; k++)
                {
                    // Meander: odd columns run top to bottom.
                    var row = meander && col % 2 == 1 ? ys.Length - 1 - k : k;
                    yield return k == 0 ? new MoveMsg([new MoveTarget(xName, xs[col]), new MoveTarget(yName, ys[row])]) : new MoveMsg(yName, ys[row]);
                    foreach (var wait in Delay(details.PointDelayMs))
                    {
                        yield return wait;
                    }

                    yield return new AcquirePointMsg(entry, plane, row, col, dwellOf is null ? dwell : TimeSpan.FromMilliseconds(dwellOf(row, col)));
                }
            }

            yield break;
        }

        for (var row = 0; row < ys.Length; row++)
        {
            yield return new CheckpointMsg(doneBefore + (long)row * xs.Length);
            foreach (var wait in Delay(details.LineDelayMs))
            {
                yield return wait;
            }

            if (line is { } f)
            {
                yield return new MoveMsg([new MoveTarget(yName, ys[row]), new MoveTarget(xName, f.RunUp)]);
                yield return new FlyLineMsg(entry, plane, row, xName, f.RunUp, f.RunOut, f.Velocity, f.AccelerationTime, xs.Length, dwell) { Repetitions = details.LineRepetition };
                continue;
            }

            var moved = false;
            for (var k = 0; k < xs.Length; k++)
            {
                // Meander: odd rows run right to left.
                var col = meander && row % 2 == 1 ? xs.Length - 1 - k : k;
                var pixelDwell = dwellOf is null ? dwell : TimeSpan.FromMilliseconds(dwellOf(row, col));
                if (pixelDwell <= TimeSpan.Zero)
                {
                    // Nothing to expose here: record zero without moving.
                    yield return new AcquirePointMsg(entry, plane, row, col, TimeSpan.Zero);
                    continue;
                }

                yield return moved ? new MoveMsg(xName, xs[col]) : new MoveMsg([new MoveTarget(yName, ys[row]), new MoveTarget(xName, xs[col])]);
                moved = true;
                foreach (var wait in Delay(details.PointDelayMs))
                {
                    yield return wait;
                }

                yield return new AcquirePointMsg(entry, plane, row, col, pixelDwell);
            }
        }
    }

    /// <summary>A wait of <paramref name="ms"/>, or nothing.</summary>
    private static IEnumerable<Msg> Delay(double ms) => ms > 0 ? [new DelayMsg(TimeSpan.FromMilliseconds(ms))] : [];

    /// <summary>
    /// The count time of each energy as the file states it: the dwell, times the line repetitions when lines are flown
    /// (their counts are summed).
    /// </summary>
    private static double[] CountTimes(double[] dwells, ScanRequest request, ScanTypeInfo info) =>
        request.Mode == AcquisitionMode.Line && info.CanFly && request.Details.LineRepetition > 1
            ? [.. dwells.Select(d => d * request.Details.LineRepetition)]
            : dwells;

    /// <summary>
    /// A region larger than the fine stage's travel, cut into tiles (Pixelator's Tiling): for each tile the coarse stage
    /// moves to the tile's centre and the fine stage rasters the tile's part of each row, relative to that centre. The
    /// data keep the region's sample coordinates; each fly line is stored from its tile's first column.
    /// </summary>
    private static IEnumerable<Msg> TiledRaster(int entry, int plane, SpatialRegion region, double dwellMs, bool fly, bool meander,
        PlanKinematics kinematics, long doneBefore, double tileUm, ScanDetails details)
    {
        var xs = region.X.Setpoints();
        var ys = region.Y.Setpoints();
        var dwell = TimeSpan.FromMilliseconds(dwellMs);
        var done = doneBefore;
        foreach (var (r0, r1, cy) in Tiles(ys, tileUm))
        {
            foreach (var (c0, c1, cx) in Tiles(xs, tileUm))
            {
                yield return new CheckpointMsg(done);
                yield return new MoveMsg([new MoveTarget(Roles.CoarseX, cx), new MoveTarget(Roles.CoarseY, cy)]);
                foreach (var wait in Delay(details.TileDelayMs))
                {
                    yield return wait;
                }

                var width = c1 - c0;
                var line = fly && width > 1
                    ? FlyGeometry(AxisRegion.FromStartStop(xs[c0] - cx, xs[c1 - 1] - cx, width), dwellMs, kinematics.For(Roles.SampleX), details.AccelerationDistanceUm)
                    : null;
                for (var row = r0; row < r1; row++)
                {
                    if (row > r0)
                    {
                        yield return new CheckpointMsg(done);
                    }

                    foreach (var wait in Delay(details.LineDelayMs))
                    {
                        yield return wait;
                    }

                    if (line is { } f)
                    {
                        yield return new MoveMsg([new MoveTarget(Roles.SampleY, ys[row] - cy), new MoveTarget(Roles.SampleX, f.RunUp)]);
                        yield return new FlyLineMsg(entry, plane, row, Roles.SampleX, f.RunUp, f.RunOut, f.Velocity, f.AccelerationTime, width, dwell)
                        {
                            Column = c0,
                            Repetitions = details.LineRepetition,
                        };
                    }
                    else
                    {
                        for (var k = 0; k < width; k++)
                        {
                            var col = meander && (row - r0) % 2 == 1 ? c1 - 1 - k : c0 + k;
                            yield return k == 0
                                ? new MoveMsg([new MoveTarget(Roles.SampleY, ys[row] - cy), new MoveTarget(Roles.SampleX, xs[col] - cx)])
                                : new MoveMsg(Roles.SampleX, xs[col] - cx);
                            foreach (var wait in Delay(details.PointDelayMs))
                            {
                                yield return wait;
                            }

                            yield return new AcquirePointMsg(entry, plane, row, col, dwell);
                        }
                    }

                    done += width;
                }
            }
        }
    }

    /// <summary>Splits setpoints into consecutive tiles at most <paramref name="tileUm"/> wide: (first, end, centre).</summary>
    public static IEnumerable<(int First, int End, double Centre)> Tiles(double[] setpoints, double tileUm)
    {
        ArgumentNullException.ThrowIfNull(setpoints);
        if (setpoints.Length == 0)
        {
            yield break;
        }

        var span = setpoints[^1] - setpoints[0];
        var count = Math.Max(1, (int)Math.Ceiling(span / tileUm - 1e-9));
        var first = 0;
        for (var t = 0; t < count; t++)
        {
            var end = t == count - 1 ? setpoints.Length : first;
            while (t < count - 1 && end < setpoints.Length && setpoints[end] - setpoints[0] < span * (t + 1) / count)
            {
                end++;
            }

            if (end > first)
            {
                yield return (first, end, Math.Round((setpoints[first] + setpoints[end - 1]) / 2, 3));
            }

            first = end;
        }
    }

    /// <summary>A line (points, or a fly line when horizontal and allowed) stored as row <paramref name="row"/>.</summary>
    private static IEnumerable<Msg> LineAcquisition(int entry, int row, LineRegion line, string xName, string yName, double dwellMs, bool fly, PlanKinematics kinematics, ScanDetails details)
    {
        var dwell = TimeSpan.FromMilliseconds(dwellMs);
        foreach (var wait in Delay(details.LineDelayMs))
        {
            yield return wait;
        }

        if (fly && line.IsHorizontal && line.Points > 1
            && FlyGeometry(AxisRegion.FromStartStop(Math.Min(line.StartX, line.StopX), Math.Max(line.StartX, line.StopX), line.Points), dwellMs, kinematics.For(xName), details.AccelerationDistanceUm) is { } f
            && line.StopX > line.StartX)
        {
            yield return new MoveMsg([new MoveTarget(yName, line.StartY), new MoveTarget(xName, f.RunUp)]);
            yield return new FlyLineMsg(entry, 0, row, xName, f.RunUp, f.RunOut, f.Velocity, f.AccelerationTime, line.Points, dwell) { Repetitions = details.LineRepetition };
            yield break;
        }

        var xs = line.Xs();
        var ys = line.Ys();
        for (var k = 0; k < xs.Length; k++)
        {
            yield return new MoveMsg([new MoveTarget(xName, xs[k]), new MoveTarget(yName, ys[k])]);
            foreach (var wait in Delay(details.PointDelayMs))
            {
                yield return wait;
            }

            yield return new AcquirePointMsg(entry, 0, row, k, dwell);
        }
    }

    /// <summary>OSA or sample focus: data (nZ, nLine), axes [zpz, line_position].</summary>
    private static PlannedScan Focus(ScanRequest request, ScanTypeInfo info, PlanKinematics kinematics)
    {
        var line = request.Line!;
        var zs = request.ZonePlateZ!.Setpoints();
        var entry = new EntryDescriptor(EntryName(0), [zs.Length, line.Points],
            [new Axis("zpz", "µm", zs), new Axis("line_position", "µm", line.Positions())], [request.EnergyEv], CountTimes([request.DwellMs], request, info), info.StxmScanType)
        {
            Positions = [StageAxis(info.X!, line.Xs()), StageAxis(info.Y!, line.Ys())],
        };
        return new PlannedScan([entry], Iterate());

        IEnumerable<Msg> Iterate()
        {
            yield return new MoveMsg(Roles.Energy, request.EnergyEv);
            for (var row = 0; row < zs.Length; row++)
            {
                yield return new CheckpointMsg((long)row * line.Points);
                yield return new MoveMsg(Roles.ZonePlateZ, zs[row]);
                foreach (var msg in LineAcquisition(0, row, line, info.X!, info.Y!, request.DwellMs, request.Mode == AcquisitionMode.Line && info.CanFly, kinematics, request.Details))
                {
                    yield return msg;
                }
            }

            yield return new CheckpointMsg((long)zs.Length * line.Points);
        }
    }

    /// <summary>Point spectra: an entry per point and polarization, data (nE).</summary>
    private static PlannedScan PointSpectrum(ScanRequest request, ScanTypeInfo info)
    {
        var (e, dwell) = EnergyAxes(request);
        var pols = request.PolarizationRows();
        var entries = new List<EntryDescriptor>();
        foreach (var point in request.Points)
        {
            foreach (var pol in pols)
            {
                entries.Add(new EntryDescriptor(EntryName(entries.Count), [e.Length], [EnergyAxis(e)], e, dwell, info.StxmScanType)
                {
                    Positions = [StageAxis(info.X!, [point.X]), StageAxis(info.Y!, [point.Y])],
                    Polarization = pol,
                });
            }
        }

        return new PlannedScan([.. entries], Iterate());

        IEnumerable<Msg> Iterate()
        {
            var done = 0L;
            var beam = new Beam();
            foreach (var (ei, pi) in EnergyPolarization(e.Length, pols.Length, request.Order))
            {
                yield return new CheckpointMsg(done);
                foreach (var msg in beam.To(e[ei], pols[pi]))
                {
                    yield return msg;
                }

                for (var k = 0; k < request.Points.Count; k++)
                {
                    var point = request.Points[k];
                    yield return new MoveMsg([new MoveTarget(info.X!, point.X), new MoveTarget(info.Y!, point.Y)]);
                    yield return new AcquirePointMsg(k * pols.Length + pi, 0, 0, ei, TimeSpan.FromMilliseconds(dwell[ei]));
                }

                done += request.Points.Count;
            }

            yield return new CheckpointMsg(done);
        }
    }

    /// <summary>Line spectrum: an entry per polarization, data (nE, nLine), axes [energy, line_position].</summary>
    private static PlannedScan LineSpectrum(ScanRequest request, ScanTypeInfo info, PlanKinematics kinematics)
    {
        var line = request.Line!;
        var (e, dwell) = EnergyAxes(request);
        var pols = request.PolarizationRows();
        var entries = pols.Select((pol, i) => new EntryDescriptor(EntryName(i), [e.Length, line.Points],
            [EnergyAxis(e), new Axis("line_position", "µm", line.Positions())], e, CountTimes(dwell, request, info), info.StxmScanType)
        {
            Positions = [StageAxis(info.X!, line.Xs()), StageAxis(info.Y!, line.Ys())],
            Polarization = pol,
        }).ToArray();
        return new PlannedScan(entries, Iterate());

        IEnumerable<Msg> Iterate()
        {
            var done = 0L;
            var beam = new Beam();
            foreach (var (ei, pi) in EnergyPolarization(e.Length, pols.Length, request.Order))
            {
                yield return new CheckpointMsg(done);
                foreach (var msg in beam.To(e[ei], pols[pi]))
                {
                    yield return msg;
                }

                foreach (var msg in LineAcquisition(pi, ei, line, info.X!, info.Y!, dwell[ei], request.Mode == AcquisitionMode.Line && info.CanFly, kinematics, request.Details))
                {
                    yield return msg;
                }

                done += line.Points;
            }

            yield return new CheckpointMsg(done);
        }
    }

    /// <summary>Positioner scan: data (n), axis named after the positioner.</summary>
    private static PlannedScan Generic(ScanRequest request, ScanTypeInfo info)
    {
        var axis = request.Primary!;
        var values = axis.Setpoints();
        var entry = new EntryDescriptor(EntryName(0), [values.Length], [StageAxis(axis.Positioner, values)], [request.EnergyEv], [request.DwellMs], info.StxmScanType);
        return new PlannedScan([entry], Iterate());

        IEnumerable<Msg> Iterate()
        {
            var dwell = TimeSpan.FromMilliseconds(request.DwellMs);
            if (!string.Equals(axis.Positioner, Roles.Energy, StringComparison.OrdinalIgnoreCase))
            {
                yield return new MoveMsg(Roles.Energy, request.EnergyEv);
            }

            for (var i = 0; i < values.Length; i++)
            {
                yield return new CheckpointMsg(i);
                yield return new MoveMsg(axis.Positioner, values[i]);
                yield return new AcquirePointMsg(0, 0, 0, i, dwell);
            }

            yield return new CheckpointMsg(values.Length);
        }
    }

    /// <summary>Two positioners: data (ny, nx), axes [secondary, primary].</summary>
    private static PlannedScan TwoVariable(ScanRequest request, ScanTypeInfo info)
    {
        var x = request.Primary!;
        var y = request.Secondary!;
        var xs = x.Setpoints();
        var ys = y.Setpoints();
        var entry = new EntryDescriptor(EntryName(0), [ys.Length, xs.Length], [StageAxis(y.Positioner, ys), StageAxis(x.Positioner, xs)],
            [request.EnergyEv], [request.DwellMs], info.StxmScanType);
        return new PlannedScan([entry], Iterate());

        IEnumerable<Msg> Iterate()
        {
            var dwell = TimeSpan.FromMilliseconds(request.DwellMs);
            if (!string.Equals(x.Positioner, Roles.Energy, StringComparison.OrdinalIgnoreCase) && !string.Equals(y.Positioner, Roles.Energy, StringComparison.OrdinalIgnoreCase))
            {
                yield return new MoveMsg(Roles.Energy, request.EnergyEv);
            }

            for (var row = 0; row < ys.Length; row++)
            {
                yield return new CheckpointMsg((long)row * xs.Length);
                yield return new MoveMsg([new MoveTarget(y.Positioner, ys[row]), new MoveTarget(x.Positioner, xs[0])]);
                for (var col = 0; col < xs.Length; col++)
                {
                    if (col > 0)
                    {
                        yield return new MoveMsg(x.Positioner, xs[col]);
                    }

                    yield return new AcquirePointMsg(0, 0, row, col, dwell);
                }
            }

            yield return new CheckpointMsg((long)ys.Length * xs.Length);
        }
    }

    /// <summary>Tomography: an entry per angle and polarization, data (nE, ny, nx), the angle as sample/rotation_angle.</summary>
    private static PlannedScan Tomography(ScanRequest request, ScanTypeInfo info, PlanKinematics kinematics)
    {
        var angles = request.Theta!.Setpoints();
        var region = request.Regions[0];
        var (e, dwell) = EnergyAxes(request);
        var pols = request.PolarizationRows();
        var entries = new List<EntryDescriptor>();
        foreach (var angle in angles)
        {
            foreach (var pol in pols)
            {
                entries.Add(new EntryDescriptor(EntryName(entries.Count), [e.Length, region.Y.Points, region.X.Points],
                    [EnergyAxis(e), StageAxis(info.Y!, region.Y.Setpoints()), StageAxis(info.X!, region.X.Setpoints())], e, CountTimes(dwell, request, info), info.StxmScanType)
                { Polarization = pol, RotationAngle = angle });
            }
        }

        return new PlannedScan([.. entries], Iterate());

        IEnumerable<Msg> Iterate()
        {
            var done = 0L;
            var beam = new Beam();
            for (var a = 0; a < angles.Length; a++)
            {
                yield return new CheckpointMsg(done);
                yield return new MoveMsg(Roles.GoniTheta, angles[a]);
                foreach (var (ei, pi) in EnergyPolarization(e.Length, pols.Length, request.Order))
                {
                    // The energy move puts the zone plate at the calibrated focus; the series' correction is added to it.
                    foreach (var msg in beam.To(e[ei], pols[pi]))
                    {
                        yield return msg;
                    }

                    if (FocusCorrectionAt(request.FocusCorrection, angles, a) is var correction && correction != 0)
                    {
                        yield return new MoveByMsg(Roles.ZonePlateZ, correction);
                    }

                    var fly = request.Mode == AcquisitionMode.Line && info.CanFly;
                    foreach (var msg in Raster(a * pols.Length + pi, ei, region, info.X!, info.Y!, dwell[ei], fly, kinematics, done, details: request.Details))
                    {
                        yield return msg;
                    }

                    done += region.PixelCount;
                }
            }

            yield return new CheckpointMsg(done);
        }
    }

    /// <summary>The zone-plate correction at angle <paramref name="index"/>: piecewise linear through start, centre and stop.</summary>
    public static double FocusCorrectionAt(FocusCorrection? correction, double[] angles, int index)
    {
        ArgumentNullException.ThrowIfNull(angles);
        if (correction is null || angles.Length < 2)
        {
            return correction?.AtStart ?? 0;
        }

        var t = (double)index / (angles.Length - 1);
        return t <= 0.5
            ? correction.AtStart + (correction.AtCenter - correction.AtStart) * (t / 0.5)
            : correction.AtCenter + (correction.AtStop - correction.AtCenter) * ((t - 0.5) / 0.5);
    }

    /// <summary>Pattern generator: point by point, each pixel exposed for its share of the brightest pixel's exposure.</summary>
    private static PlannedScan Pattern(ScanRequest request, ScanTypeInfo info)
    {
        var region = request.Regions[0];
        var pattern = request.Pattern!;
        var values = PatternValues(pattern, region.Y.Points, region.X.Points);
        var entry = new EntryDescriptor(EntryName(0), [1, region.Y.Points, region.X.Points],
            [EnergyAxis([request.EnergyEv]), StageAxis(info.Y!, region.Y.Setpoints()), StageAxis(info.X!, region.X.Setpoints())],
            [request.EnergyEv], [pattern.ExposureMs], info.StxmScanType);
        return new PlannedScan([entry], Iterate());

        IEnumerable<Msg> Iterate()
        {
            yield return new MoveMsg(Roles.Energy, request.EnergyEv);
            foreach (var msg in Raster(0, 0, region, info.X!, info.Y!, pattern.ExposureMs, fly: false, new PlanKinematics(new Dictionary<string, AxisKinematics>()), 0,
                (row, col) => values[row][col] * pattern.ExposureMs, details: request.Details with { YAxisFast = false }))
            {
                yield return msg;
            }

            yield return new CheckpointMsg(region.PixelCount);
        }
    }
}

/// <summary>Run-up, run-out, velocity and acceleration time of a constant-velocity line.</summary>
/// <param name="RunUp">Start position of the fly move.</param>
/// <param name="RunOut">End position of the fly move.</param>
/// <param name="Velocity">Velocity while counting.</param>
/// <param name="AccelerationTime">Time to reach it.</param>
public readonly record struct FlyLine(double RunUp, double RunOut, double Velocity, TimeSpan AccelerationTime)
{
    /// <summary>The run-up the stage needs to reach the velocity, µm.</summary>
    public double Needed { get; init; }
}

/// <summary>
/// Follows where the axes stand message by message and prices each message in time: the plan's estimate before the
/// run, and the engine's time left during it.
/// </summary>
public sealed class EstimateTracker
{
    private readonly PlanKinematics _kinematics;
    private readonly Dictionary<string, double> _positions;
    private readonly Dictionary<string, double> _start;

    /// <summary>Creates a tracker with the axes at <paramref name="start"/> (unknown axes are assumed at their first target).</summary>
    public EstimateTracker(PlanKinematics kinematics, IReadOnlyDictionary<string, double>? start = null)
    {
        _kinematics = kinematics ?? throw new ArgumentNullException(nameof(kinematics));
        _positions = start is null ? new(StringComparer.OrdinalIgnoreCase) : new(start, StringComparer.OrdinalIgnoreCase);
        _start = new(_positions, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Time for the engine to put the moved positioners back where they started (after the plan): the energy first,
    /// then the others together.
    /// </summary>
    public TimeSpan ReturnCost()
    {
        TimeSpan Back(string name) => _start.TryGetValue(name, out var from) && _positions.TryGetValue(name, out var at)
            ? _kinematics.For(name).MoveTime(from - at)
            : TimeSpan.Zero;

        var others = _positions.Keys.Where(k => !string.Equals(k, Roles.Energy, StringComparison.OrdinalIgnoreCase)).Select(Back).DefaultIfEmpty(TimeSpan.Zero).Max();
        return Back(Roles.Energy) + others;
    }

    /// <summary>The estimated duration of <paramref name="msg"/>, and the axes' positions after it.</summary>
    public TimeSpan Cost(Msg msg)
    {
        switch (msg)
        {
            case MoveMsg move:
                var longest = TimeSpan.Zero;
                foreach (var (name, target) in move.Targets)
                {
                    var from = _positions.TryGetValue(name, out var p) ? p : target;
                    var time = _kinematics.For(name).MoveTime(target - from);
                    longest = time > longest ? time : longest;
                    _positions[name] = target;
                }

                return longest;
            case MoveByMsg by:
                if (_positions.TryGetValue(by.Positioner, out var at))
                {
                    _positions[by.Positioner] = at + by.Delta;
                }

                return _kinematics.For(by.Positioner).MoveTime(by.Delta);
            case AcquirePointMsg point:
                return point.Dwell;
            case FlyLineMsg fly:
                _positions[fly.Positioner] = fly.RunOut;

                // Accelerate, count every bin, decelerate: the run-out mirrors the run-up. Repeated lines return to the run-up.
                var axis = _kinematics.For(fly.Positioner);
                var flight = (2 * fly.AccelerationTime) + (fly.Bins * fly.Dwell) + axis.Settle;
                var reps = Math.Max(1, fly.Repetitions);
                return (reps * flight) + ((reps - 1) * axis.MoveTime(fly.RunOut - fly.RunUp));
            case DelayMsg delay:
                return delay.Duration;
            default:
                return TimeSpan.Zero;
        }
    }
}
