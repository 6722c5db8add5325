using System.Globalization;
using StxmWeb.Core.Plans;

namespace StxmWeb.Core.Scans;

/// <summary>One problem found in a request, with the path of the field it concerns (e.g. <c>regions[0].x.points</c>).</summary>
/// <param name="Field">JSON path of the field, camelCase, dot-separated, with [i] for list items.</param>
/// <param name="Message">What is wrong and what is allowed, in words a user understands.</param>
public sealed record FieldProblem(string Field, string Message);

/// <summary>Travel limits of one positioner, in its units.</summary>
/// <param name="Low">Lowest reachable position.</param>
/// <param name="High">Highest reachable position.</param>
public readonly record struct Limits(double Low, double High)
{
    /// <summary>Whether <paramref name="value"/> lies within the limits, both ends included.</summary>
    public bool Contains(double value) => value >= Low && value <= High;

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"[{Low:G6}, {High:G6}]");
}

/// <summary>What the validator must know of the instrument: every positioner's travel, the allowed dwell and sizes.</summary>
/// <param name="Positioners">Soft limits by positioner name.</param>
/// <param name="DwellMs">Dwell range, ms.</param>
/// <param name="MaxPointsPerAxis">Largest number of points along one axis.</param>
public sealed record InstrumentLimits(IReadOnlyDictionary<string, Limits> Positioners, Limits DwellMs, int MaxPointsPerAxis = 10_000)
{
    /// <summary>Limits of a sample-image instrument: fine X/Y and energy.</summary>
    public InstrumentLimits(Limits sampleX, Limits sampleY, Limits energy, Limits dwellMs, int maxPointsPerAxis = 10_000)
        : this(new Dictionary<string, Limits>(StringComparer.OrdinalIgnoreCase) { [Roles.SampleX] = sampleX, [Roles.SampleY] = sampleY, [Roles.Energy] = energy }, dwellMs, maxPointsPerAxis)
    {
    }

    /// <summary>Axis kinematics; when given, line mode is checked for velocity and run-up room.</summary>
    public PlanKinematics? Kinematics { get; init; }

    /// <summary>Most spatial regions, points or polarization rows in one scan.</summary>
    public int MaxListItems { get; init; } = 50;

    /// <summary>Widest tile of a tiled image, µm (what the fine stage covers with room to accelerate).</summary>
    public double TileUm { get; init; } = ScanPlanner.DefaultTileUm;

    /// <summary>Whether the instrument has an area detector (ptychography needs one).</summary>
    public bool HasAreaDetector { get; init; }

    /// <summary>Shortest dwell of a ptychography point (pyStxm's min_ptycho_dwell_ms).</summary>
    public double MinPtychographyDwellMs { get; init; } = 300;

    /// <summary>What the backend runs: scan types, polarizations, regions.</summary>
    public Devices.BackendCapabilities Capabilities { get; init; } = Devices.BackendCapabilities.All;

    /// <summary>Whether the beam can be defocused on purpose (a focus calibration to move the zone plate by).</summary>
    public bool CanDefocus { get; init; } = true;

    /// <summary>The limits of <paramref name="positioner"/>, or null when the instrument has no such positioner.</summary>
    public Limits? For(string positioner) => Positioners.TryGetValue(positioner, out var l) ? l : null;
}

/// <summary>
/// Checks a request against itself and the instrument. Returns every problem at once, each with its field path, so an
/// editor can show it beside the field and the API can return it as problem details. An empty list means valid; only
/// valid requests are planned.
/// </summary>
public static class ScanRequestValidator
{
    /// <summary>Every problem of <paramref name="request"/>; empty when it may run.</summary>
    public static IReadOnlyList<FieldProblem> Validate(ScanRequest? request, InstrumentLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var problems = new List<FieldProblem>();
        if (request is null)
        {
            problems.Add(new("", "A scan request is required."));
            return problems;
        }

        if (!Enum.IsDefined(request.ScanType))
        {
            problems.Add(new("scanType", "Unknown scan type."));
            return problems;
        }

        var v = new Checker(problems, limits);
        var info = ScanTypes.Of(request.ScanType);
        if (!limits.Capabilities.Runs(request.ScanType))
        {
            var runs = ScanTypes.All.Where(t => limits.Capabilities.Runs(t.Type)).Select(t => t.Label);
            problems.Add(new("scanType", $"{limits.Capabilities.Backend} does not run {info.Label} scans; it runs: {string.Join(", ", runs)}."));
            return problems;
        }

        if (!Enum.IsDefined(request.Mode))
        {
            problems.Add(new("mode", "Mode must be PointByPoint or Line."));
        }
        else if (request.Mode == AcquisitionMode.Line && !info.CanFly)
        {
            problems.Add(new("mode", $"{info.Label} runs point by point only."));
        }

        if (request.Meander && request.Mode == AcquisitionMode.Line && info.CanFly)
        {
            problems.Add(new("meander", "Meander applies to point-by-point rasters; lines fly left to right. Choose point by point or turn meander off."));
        }

        if (request.Tiling && info.Type is not (ScanType.SampleImage or ScanType.SampleImageStack))
        {
            problems.Add(new("tiling", $"Tiling applies to sample images and stacks, not to {info.Label}."));
        }

        if (request.Title is { } title && System.Text.Encoding.UTF8.GetByteCount(title) > 120)
        {
            problems.Add(new("title", "Title must be at most 120 characters (UTF-8 bytes)."));
        }

        switch (info.Family)
        {
            case ScanFamily.Image:
            case ScanFamily.Ptychography:
                v.Regions(request, info);
                v.EnergiesAndPolarizations(request, info);
                if (info.Family == ScanFamily.Ptychography)
                {
                    v.PtychographyDwell(request);
                    if (!limits.HasAreaDetector)
                    {
                        problems.Add(new("scanType", "Ptychography needs an area detector; this instrument has none."));
                    }
                }

                break;
            case ScanFamily.Focus:
                v.Line(request.Line, "line", info);
                v.Axis(request.ZonePlateZ, "zonePlateZ", Roles.ZonePlateZ);
                v.Energy(request.EnergyEv, "energyEv");
                v.Dwell(request.DwellMs, "dwellMs");
                break;
            case ScanFamily.PointSpectrum:
                v.Points(request.Points, info);
                v.EnergiesAndPolarizations(request, info);
                break;
            case ScanFamily.LineSpectrum:
                v.Line(request.Line, "line", info);
                v.EnergiesAndPolarizations(request, info);
                break;
            case ScanFamily.Generic:
                v.PositionerAxis(request.Primary, "primary");
                v.Energy(request.EnergyEv, "energyEv");
                v.Dwell(request.DwellMs, "dwellMs");
                break;
            case ScanFamily.TwoVariable:
                v.PositionerAxis(request.Primary, "primary");
                v.PositionerAxis(request.Secondary, "secondary");
                if (request.Primary is { } p && request.Secondary is { } s && string.Equals(p.Positioner, s.Positioner, StringComparison.OrdinalIgnoreCase))
                {
                    problems.Add(new("secondary.positioner", $"The two axes must be different positioners; both are {p.Positioner}."));
                }

                v.Energy(request.EnergyEv, "energyEv");
                v.Dwell(request.DwellMs, "dwellMs");
                break;
            case ScanFamily.Tomography:
                v.Regions(request, info, single: true);
                v.EnergiesAndPolarizations(request, info);
                v.PositionerAxis(request.Theta, "theta");
                if (request.Theta is { } theta && !string.Equals(theta.Positioner, Roles.GoniTheta, StringComparison.OrdinalIgnoreCase))
                {
                    problems.Add(new("theta.positioner", $"Tomography rotates {Roles.GoniTheta}; got {theta.Positioner}."));
                }

                v.FocusCorrection(request);
                break;
            case ScanFamily.Pattern:
                v.Regions(request, info, single: true);
                v.Energy(request.EnergyEv, "energyEv");
                v.Pattern(request);
                break;
        }

        v.Details(request, info);

        // Line-mode kinematics only make sense once every number is valid.
        if (problems.Count == 0)
        {
            if (info.Family is ScanFamily.Focus or ScanFamily.LineSpectrum)
            {
                v.FlyLine(request, info);
            }
            else if (request.Regions.Count > 0)
            {
                v.RegionsFly(request, info);
            }
        }

        return problems;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>The checks, each adding its problems with field paths.</summary>
    private sealed class Checker(List<FieldProblem> problems, InstrumentLimits limits)
    {
        public void Regions(ScanRequest request, ScanTypeInfo info, bool single = false)
        {
            if (request.UsesShortForm && request.Regions.Count == 0)
            {
                if (request.ShortX is null)
                {
                    problems.Add(new("x", "The x axis is required."));
                }

                if (request.ShortY is null)
                {
                    problems.Add(new("y", "The y axis is required."));
                }

                return;
            }

            if (request.Regions is not { Count: > 0 })
            {
                problems.Add(new("regions", "At least one spatial region is required."));
                return;
            }

            if ((single || !info.MultiRegion) && request.Regions.Count > 1)
            {
                problems.Add(new("regions", $"{info.Label} takes one spatial region; got {request.Regions.Count}."));
            }
            else if (request.Regions.Count > limits.Capabilities.MaxRegions)
            {
                problems.Add(new("regions", Invariant($"{limits.Capabilities.Backend} takes at most {limits.Capabilities.MaxRegions} spatial region(s) per scan; got {request.Regions.Count}.")));
            }
            else if (request.Regions.Count > limits.MaxListItems)
            {
                problems.Add(new("regions", Invariant($"At most {limits.MaxListItems} spatial regions; got {request.Regions.Count}.")));
            }

            for (var i = 0; i < request.Regions.Count; i++)
            {
                var region = request.Regions[i];
                var path = request.UsesShortForm ? "" : $"regions[{i}].";
                if (region is null)
                {
                    problems.Add(new($"regions[{i}]", "The region is empty."));
                    continue;
                }

                if (request.Tiling)
                {
                    // Tiles: the region lies anywhere the coarse and fine stages reach together.
                    Axis(region.X, $"{path}x", Roles.CoarseX, Combined(Roles.CoarseX, info.X!));
                    Axis(region.Y, $"{path}y", Roles.CoarseY, Combined(Roles.CoarseY, info.Y!));
                }
                else
                {
                    Axis(region.X, $"{path}x", info.X!);
                    Axis(region.Y, $"{path}y", info.Y!);
                }
            }
        }

        private Limits? Combined(string coarse, string fine) =>
            limits.For(coarse) is { } c && limits.For(fine) is { } f ? new Limits(c.Low + f.Low, c.High + f.High) : null;

        /// <summary>Line mode over each region: velocity and run-up room at every dwell (only once the rest is valid).</summary>
        public void RegionsFly(ScanRequest request, ScanTypeInfo info)
        {
            if (request.Mode != AcquisitionMode.Line || !info.CanFly || limits.Kinematics is not { } kinematics || info.Family == ScanFamily.Pattern)
            {
                return;
            }

            var fast = info.X!;
            for (var i = 0; i < request.Regions.Count; i++)
            {
                var region = request.Regions[i];
                var path = request.UsesShortForm ? "" : $"regions[{i}].";
                if (region.X.Points < 2)
                {
                    continue;
                }

                var x = region.X;
                if (request.Tiling)
                {
                    // Each tile flies the fine stage across its own part of the row, about its centre.
                    var setpoints = x.Setpoints();
                    var (first, end, centre) = ScanPlanner.Tiles(setpoints, limits.TileUm).MaxBy(t => t.End - t.First);
                    x = AxisRegion.FromStartStop(setpoints[first] - centre, setpoints[end - 1] - centre, end - first);
                    if (x.Points < 2)
                    {
                        continue;
                    }
                }

                FlyRoomAtEveryDwell(request, x, kinematics, fast, $"{path}x.range");
            }
        }

        private static bool Energies(ScanRequest request) => request.Energies.Count > 0;

        public void FlyLine(ScanRequest request, ScanTypeInfo info)
        {
            if (request.Mode != AcquisitionMode.Line || !info.CanFly || request.Line is not { } line || limits.Kinematics is not { } kinematics)
            {
                return;
            }

            if (!line.IsHorizontal || line.StopX <= line.StartX)
            {
                problems.Add(new("mode", "Line mode flies X from left to right; this line is inclined or reversed: use point by point, or make StartY equal StopY with StartX < StopX."));
                return;
            }

            FlyRoomAtEveryDwell(request, AxisRegion.FromStartStop(line.StartX, line.StopX, line.Points), kinematics, info.X!, "line");
        }

        /// <summary>Velocity and run-up room of a fly line over <paramref name="x"/> at each dwell of the request; the first problem is enough.</summary>
        private void FlyRoomAtEveryDwell(ScanRequest request, AxisRegion x, PlanKinematics kinematics, string positioner, string rangeField)
        {
            var before = problems.Count;
            foreach (var (_, dwell) in request.EnergySetpoints().Distinct())
            {
                var geometry = ScanPlanner.FlyGeometry(x, dwell, kinematics.For(positioner), request.Details.AccelerationDistanceUm);
                if (geometry is { } g && request.Details.AccelerationDistanceUm is { } runUp && runUp < g.Needed)
                {
                    problems.Add(new("details.accelerationDistanceUm", Invariant(
                        $"{positioner} needs {g.Needed:G4} µm to reach {g.Velocity:G4} µm/s at this step and dwell; the run-up is {runUp:G4} µm.")));
                    return;
                }

                FlyRoom(geometry, kinematics.For(positioner), positioner, rangeField, Energies(request) ? "energies" : "dwellMs");
                if (problems.Count > before)
                {
                    return;
                }
            }
        }

        private void FlyRoom(FlyLine? fly, AxisKinematics axis, string positioner, string rangeField, string dwellField)
        {
            if (fly is not { } f)
            {
                return;
            }

            if (f.Velocity > axis.Velocity)
            {
                problems.Add(new(dwellField, Invariant(
                    $"Line mode at this step and dwell needs {positioner} at {f.Velocity:G4} µm/s, above its {axis.Velocity:G4} µm/s; lengthen the dwell, add points or use point by point.")));
            }
            else if (limits.For(positioner) is { } travel && (!travel.Contains(f.RunUp) || !travel.Contains(f.RunOut)))
            {
                problems.Add(new(rangeField, Invariant(
                    $"Line mode needs room to accelerate: {positioner} would travel {f.RunUp:G6} to {f.RunOut:G6} µm, outside {travel} µm. Move the centre inward or use point by point.")));
            }
        }

        public void Axis(AxisRegion? axis, string name, string positioner, Limits? travel = null)
        {
            if (axis is null)
            {
                problems.Add(new(name, $"The {name} axis is required."));
                return;
            }

            Count(axis.Points, $"{name}.points");
            if (!double.IsFinite(axis.Center))
            {
                problems.Add(new($"{name}.center", "Centre must be a finite number."));
            }

            if (!double.IsFinite(axis.Range) || axis.Range < 0)
            {
                problems.Add(new($"{name}.range", "Range must be a finite number, zero or more."));
            }
            else if (axis.Points > 1 && axis.Range == 0)
            {
                problems.Add(new($"{name}.range", "Range must be greater than zero when there is more than one point."));
            }

            if (double.IsFinite(axis.Center) && double.IsFinite(axis.Range) && axis.Range >= 0)
            {
                if (travel is { } t)
                {
                    if (!t.Contains(axis.Start) || !t.Contains(axis.Stop))
                    {
                        problems.Add(new($"{name}.range", Invariant($"The scan reaches {axis.Start:G6} to {axis.Stop:G6} µm, outside what the coarse and fine stages reach together, {t}.")));
                    }
                }
                else
                {
                    Travel(positioner, axis.Start, axis.Stop, $"{name}.range");
                }
            }
        }

        public void PositionerAxis(PositionerAxis? axis, string name)
        {
            if (axis is null)
            {
                problems.Add(new(name, $"The {name} axis is required."));
                return;
            }

            if (string.IsNullOrWhiteSpace(axis.Positioner) || limits.For(axis.Positioner) is null)
            {
                problems.Add(new($"{name}.positioner", $"There is no positioner named '{axis.Positioner}'. Known: {string.Join(", ", limits.Positioners.Keys)}."));
                return;
            }

            Count(axis.Points, $"{name}.points");
            if (!double.IsFinite(axis.Start) || !double.IsFinite(axis.Stop))
            {
                problems.Add(new(name, "Start and stop must be finite numbers."));
                return;
            }

            if (axis.Points > 1 && axis.Start == axis.Stop)
            {
                problems.Add(new($"{name}.stop", "Stop must differ from start when there is more than one point."));
            }

            Travel(axis.Positioner, Math.Min(axis.Start, axis.Stop), Math.Max(axis.Start, axis.Stop), name);
        }

        public void Line(LineRegion? line, string name, ScanTypeInfo info)
        {
            if (line is null)
            {
                problems.Add(new(name, "The line (start, stop and points) is required."));
                return;
            }

            Count(line.Points, $"{name}.points");
            if (!double.IsFinite(line.StartX) || !double.IsFinite(line.StartY) || !double.IsFinite(line.StopX) || !double.IsFinite(line.StopY))
            {
                problems.Add(new(name, "Line ends must be finite numbers."));
                return;
            }

            if (line.Points > 1 && line.Length == 0)
            {
                problems.Add(new($"{name}.stopX", "The line has no length: start and stop are the same point."));
            }

            Travel(info.X!, Math.Min(line.StartX, line.StopX), Math.Max(line.StartX, line.StopX), $"{name}.startX");
            Travel(info.Y!, Math.Min(line.StartY, line.StopY), Math.Max(line.StartY, line.StopY), $"{name}.startY");
        }

        public void Points(IReadOnlyList<SamplePoint>? points, ScanTypeInfo info)
        {
            if (points is not { Count: > 0 })
            {
                problems.Add(new("points", "At least one point is required."));
                return;
            }

            if (points.Count > limits.MaxListItems)
            {
                problems.Add(new("points", Invariant($"At most {limits.MaxListItems} points; got {points.Count}.")));
            }

            for (var i = 0; i < points.Count; i++)
            {
                if (points[i] is not { } p || !double.IsFinite(p.X) || !double.IsFinite(p.Y))
                {
                    problems.Add(new($"points[{i}]", "A point needs finite x and y."));
                    continue;
                }

                Travel(info.X!, p.X, p.X, $"points[{i}].x");
                Travel(info.Y!, p.Y, p.Y, $"points[{i}].y");
            }
        }

        public void EnergiesAndPolarizations(ScanRequest request, ScanTypeInfo info)
        {
            if (request.Energies is not { Count: > 0 })
            {
                if (info.Type == ScanType.SampleImageStack)
                {
                    problems.Add(new("energies", "An image stack needs at least one energy region."));
                }

                Energy(request.EnergyEv, "energyEv");
                Dwell(request.DwellMs, "dwellMs");
            }
            else
            {
                if (request.Energies.Count > limits.MaxListItems)
                {
                    problems.Add(new("energies", Invariant($"At most {limits.MaxListItems} energy regions; got {request.Energies.Count}.")));
                }

                double? previousStop = null;
                for (var i = 0; i < request.Energies.Count; i++)
                {
                    var r = request.Energies[i];
                    var name = $"energies[{i}]";
                    if (r is null)
                    {
                        problems.Add(new(name, "The energy region is empty."));
                        continue;
                    }

                    Count(r.Points, $"{name}.points");
                    Energy(r.StartEv, $"{name}.startEv");
                    Energy(r.StopEv, $"{name}.stopEv");
                    Dwell(r.DwellMs, $"{name}.dwellMs");
                    if (double.IsFinite(r.StartEv) && double.IsFinite(r.StopEv))
                    {
                        if (r.StopEv < r.StartEv || (r.Points > 1 && r.StopEv == r.StartEv))
                        {
                            problems.Add(new($"{name}.stopEv", Invariant($"Stop ({r.StopEv:G6} eV) must be above start ({r.StartEv:G6} eV) when there is more than one point.")));
                        }
                        else if (previousStop is { } prev && r.StartEv <= prev)
                        {
                            problems.Add(new($"{name}.startEv", Invariant($"Energy regions go upward without overlap: this one starts at {r.StartEv:G6} eV, the one before stops at {prev:G6} eV.")));
                        }

                        previousStop = r.StopEv;
                    }
                }

                var total = request.Energies.Where(r => r is not null).Sum(r => (long)Math.Max(0, r.Points));
                if (total > limits.MaxPointsPerAxis)
                {
                    problems.Add(new("energies", Invariant($"At most {limits.MaxPointsPerAxis} energies in all; got {total}.")));
                }
            }

            if (!Enum.IsDefined(request.Order))
            {
                problems.Add(new("order", "Order must be EnergyThenPolarization or PolarizationThenEnergy."));
            }

            if (request.Polarizations.Count > limits.MaxListItems)
            {
                problems.Add(new("polarizations", Invariant($"At most {limits.MaxListItems} polarization rows; got {request.Polarizations.Count}.")));
            }
            else if (request.Polarizations.Count > limits.Capabilities.MaxPolarizations)
            {
                problems.Add(new("polarizations", Invariant($"{limits.Capabilities.Backend} takes at most {limits.Capabilities.MaxPolarizations} polarization(s) per scan; got {request.Polarizations.Count}.")));
            }

            for (var i = 0; i < request.Polarizations.Count; i++)
            {
                var p = request.Polarizations[i];
                if (p is null || !Enum.IsDefined(p.Mode))
                {
                    problems.Add(new($"polarizations[{i}].mode", "Polarization must be CircLeft, CircRight, LinHor, IncVert-, IncVert+ or LinInc."));
                    continue;
                }

                if (limits.Capabilities.Polarizations is { } modes && !modes.Contains(p.Mode))
                {
                    problems.Add(new($"polarizations[{i}].mode", $"{limits.Capabilities.Backend} does not set {Name(p.Mode)}; it sets {string.Join(", ", modes.Order().Select(Name))}."));
                }

                if (!limits.Capabilities.PolarizationOffset && p.Offset != 0)
                {
                    problems.Add(new($"polarizations[{i}].offset", $"{limits.Capabilities.Backend} sets the polarization by its Stokes vector and takes no EPU offset; move the EPU offset positioner instead."));
                }

                Travel(Roles.EpuOffset, p.Offset, p.Offset, $"polarizations[{i}].offset", optional: true);
                if (p.Mode == Polarization.LinInc)
                {
                    Travel(Roles.EpuAngle, p.Angle, p.Angle, $"polarizations[{i}].angle", optional: true);
                }
            }
        }

        /// <summary>The Scan Request Details: each number in its range, and only where the scan can use it.</summary>
        public void Details(ScanRequest request, ScanTypeInfo info)
        {
            var d = request.Details;
            var fly = request.Mode == AcquisitionMode.Line && info.CanFly;
            if (d.YAxisFast)
            {
                if (info.Family is not (ScanFamily.Image or ScanFamily.TwoVariable))
                {
                    problems.Add(new("details.yAxisFast", $"Y fast applies to image rasters, not to {info.Label}."));
                }
                else if (fly)
                {
                    problems.Add(new("details.yAxisFast", "Lines fly along X; a Y-fast raster runs point by point. Choose point by point or turn Y fast off."));
                }
                else if (request.Tiling)
                {
                    problems.Add(new("details.yAxisFast", "Tiles are rastered along X; turn tiling or Y fast off."));
                }
                else if (info.Family == ScanFamily.Ptychography)
                {
                    problems.Add(new("details.yAxisFast", "Ptychography rasters along X."));
                }
            }

            if (d.AccelerationDistanceUm is { } run)
            {
                if (!double.IsFinite(run) || run <= 0 || run > 1000)
                {
                    problems.Add(new("details.accelerationDistanceUm", Invariant($"The run-up is more than 0 and at most 1000 µm; got {run:G6}.")));
                }
                else if (!fly)
                {
                    problems.Add(new("details.accelerationDistanceUm", "A run-up applies to constant-velocity lines; this scan runs point by point."));
                }
            }

            foreach (var (value, field) in new[] { (d.TileDelayMs, "tileDelayMs"), (d.LineDelayMs, "lineDelayMs"), (d.PointDelayMs, "pointDelayMs") })
            {
                if (!double.IsFinite(value) || value < 0 || value > 60_000)
                {
                    problems.Add(new($"details.{field}", Invariant($"A delay is 0 to 60000 ms; got {value:G6}.")));
                }
            }

            if (d.TileDelayMs > 0 && !request.Tiling)
            {
                problems.Add(new("details.tileDelayMs", "A tile delay applies to tiled images; turn tiling on or set it to 0."));
            }

            if (d.PointDelayMs > 0 && fly)
            {
                problems.Add(new("details.pointDelayMs", "A point delay applies point by point; lines fly without stopping."));
            }

            if (d.LineRepetition is < 1 or > 100)
            {
                problems.Add(new("details.lineRepetition", Invariant($"Each line is acquired 1 to 100 times; got {d.LineRepetition}.")));
            }
            else if (d.LineRepetition > 1 && !fly)
            {
                problems.Add(new("details.lineRepetition", info.CanFly
                    ? "Line repetition repeats constant-velocity lines (their counts summed); point by point, lengthen the dwell instead."
                    : $"{info.Label} has no constant-velocity lines to repeat."));
            }

            if (!double.IsFinite(d.DefocusDiameterUm) || d.DefocusDiameterUm is < 0 or > 50)
            {
                problems.Add(new("details.defocusDiameterUm", Invariant($"The defocused spot is 0 (focused) to 50 µm; got {d.DefocusDiameterUm:G6}.")));
            }
            else if (d.DefocusDiameterUm > 0 && !limits.CanDefocus)
            {
                problems.Add(new("details.defocusDiameterUm", "This instrument has no focus calibration to defocus the beam by."));
            }
            else if (d.DefocusDiameterUm > 0 && info.Family == ScanFamily.Focus)
            {
                problems.Add(new("details.defocusDiameterUm", "A focus scan looks for the focus; it does not defocus."));
            }

            if (d.PositionPrecisionPercent is { } precision)
            {
                if (!double.IsFinite(precision) || precision <= 0 || precision > 100)
                {
                    problems.Add(new("details.positionPrecisionPercent", Invariant($"The precision is more than 0 and at most 100 % of a pixel; got {precision:G6}.")));
                }
                else if (!limits.Capabilities.AdaptsPositionPrecision)
                {
                    problems.Add(new("details.positionPrecisionPercent", $"{limits.Capabilities.Backend} moves the stages to their setpoints; adapting the position precision is the Pixelator controller's."));
                }
            }
        }

        /// <summary>A polarization as requests spell it ("IncVert+", not the enum's IncVertPlus).</summary>
        private static string Name(Polarization mode) => mode switch
        {
            Polarization.IncVertMinus => "IncVert-",
            Polarization.IncVertPlus => "IncVert+",
            _ => mode.ToString(),
        };

        public void Energy(double energy, string name)
        {
            if (!double.IsFinite(energy))
            {
                problems.Add(new(name, "Energy must be a finite number."));
                return;
            }

            Travel(Roles.Energy, energy, energy, name, what: "Energy", units: "eV");
        }

        public void Dwell(double dwellMs, string name)
        {
            if (!double.IsFinite(dwellMs) || !limits.DwellMs.Contains(dwellMs))
            {
                problems.Add(new(name, Invariant($"Dwell must be between {limits.DwellMs.Low:G6} and {limits.DwellMs.High:G6} ms; got {dwellMs:G6}.")));
            }
        }

        public void PtychographyDwell(ScanRequest request)
        {
            foreach (var (i, dwell) in request.Energies.Count == 0
                ? [(-1, request.DwellMs)]
                : request.Energies.Select((r, i) => (i, r?.DwellMs ?? 0)))
            {
                if (double.IsFinite(dwell) && dwell < limits.MinPtychographyDwellMs)
                {
                    problems.Add(new(i < 0 ? "dwellMs" : $"energies[{i}].dwellMs",
                        Invariant($"Ptychography needs at least {limits.MinPtychographyDwellMs:G6} ms per point for the area detector to read out; got {dwell:G6}.")));
                }
            }
        }

        public void FocusCorrection(ScanRequest request)
        {
            if (request.FocusCorrection is { } c && (!double.IsFinite(c.AtStart) || !double.IsFinite(c.AtCenter) || !double.IsFinite(c.AtStop)
                || new[] { c.AtStart, c.AtCenter, c.AtStop }.Any(v => Math.Abs(v) > 1000)))
            {
                problems.Add(new("focusCorrection", "Focus corrections must be finite and within ±1000 µm."));
            }
        }

        public void Pattern(ScanRequest request)
        {
            if (request.Pattern is not { } pattern)
            {
                problems.Add(new("pattern", "The pattern is required."));
                return;
            }

            if (!Enum.IsDefined(pattern.Kind))
            {
                problems.Add(new("pattern.kind", "Pattern kind must be DoseSeries or Custom."));
            }

            Dwell(pattern.ExposureMs, "pattern.exposureMs");
            if (pattern.Kind == PatternKind.DoseSeries && pattern.Pads is < 1 or > 5)
            {
                problems.Add(new("pattern.pads", Invariant($"A dose series has 1 to 5 pads per side; got {pattern.Pads}.")));
            }

            if (pattern.Kind == PatternKind.Custom && request.Regions is [{ } region, ..])
            {
                var values = pattern.Values;
                if (values is null || values.Length != region.Y.Points || values.Any(row => row is null || row.Length != region.X.Points))
                {
                    problems.Add(new("pattern.values", Invariant($"A custom pattern needs {region.Y.Points} rows of {region.X.Points} values (the region's points).")));
                }
                else if (values.Any(row => row.Any(x => !double.IsFinite(x) || x < 0 || x > 1)))
                {
                    problems.Add(new("pattern.values", "Pattern values are fractions of the exposure: 0 to 1."));
                }
            }
        }

        private void Count(int points, string name)
        {
            if (points < 1)
            {
                problems.Add(new(name, Invariant($"Number of points must be at least 1; got {points}.")));
            }
            else if (points > limits.MaxPointsPerAxis)
            {
                problems.Add(new(name, Invariant($"Number of points must be at most {limits.MaxPointsPerAxis}; got {points}.")));
            }
        }

        private void Travel(string positioner, double low, double high, string field, bool optional = false, string? what = null, string units = "µm")
        {
            if (limits.For(positioner) is not { } travel)
            {
                if (!optional)
                {
                    problems.Add(new(field, $"This instrument has no {positioner} positioner, which this scan drives."));
                }

                return;
            }

            if (!travel.Contains(low) || !travel.Contains(high))
            {
                problems.Add(new(field, what is null
                    ? (low == high
                        ? Invariant($"{low:G6} is outside the {positioner} limits {travel}.")
                        : Invariant($"The scan reaches {low:G6} to {high:G6}, outside the {positioner} limits {travel}."))
                    : Invariant($"{what} must be between {travel.Low:G6} and {travel.High:G6} {units}; got {low:G6}.")));
            }
        }
    }
}
