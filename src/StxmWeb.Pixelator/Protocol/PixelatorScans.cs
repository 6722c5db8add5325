// StxmWeb's ScanRequest ↔ the controller's scan request, both ways and pure. The backend writes what pyStxm's
// gen_scan_req and templates write (Detector/OSA: image axes [Y, X] with an outer region of only the dwell; Sample: energy
// outer regions and [Y, X] inner axes, one inner region per point of a point spectrum, a {length, angle} axis for a line;
// Focus and OSA Focus: [Zoneplate, line]; Motor: one axis; Motor2D: [Y, X]). The simulated controller reads it back into
// a ScanRequest and runs it. Times are seconds on the wire and milliseconds in StxmWeb.
using System.Globalization;
using StxmWeb.Core.Plans;
using StxmWeb.Core.Scans;

namespace StxmWeb.Pixelator.Protocol;

/// <summary>StxmWeb's positioner names (roles) ↔ the controller's names.</summary>
public sealed class PixelatorNames
{
    private readonly Dictionary<string, string> _toController;
    private readonly Dictionary<string, string> _toRole;

    /// <summary>Creates the map; roles without an entry keep their own name on the controller.</summary>
    public PixelatorNames(IEnumerable<KeyValuePair<string, string>> roleToController)
    {
        ArgumentNullException.ThrowIfNull(roleToController);
        _toController = new(roleToController, StringComparer.OrdinalIgnoreCase);
        _toRole = _toController.ToDictionary(p => p.Value, p => p.Key, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>
    /// The names of PSI PolLux's controller (pyStxm's bl_configs/sls_x07da_polLux devs.py): the abstract sample stage
    /// SampleX/SampleY (the controller shares a move between coarse and fine), Zoneplate, OSAX/OSAY, Polarization, ID1Off.
    /// </summary>
    public static PixelatorNames PolLux { get; } = new(new Dictionary<string, string>
    {
        [Roles.SampleX] = "SampleX",
        [Roles.SampleY] = "SampleY",
        [Roles.CoarseX] = "CoarseX",
        [Roles.CoarseY] = "CoarseY",
        [Roles.ZonePlateZ] = "Zoneplate",
        [Roles.OsaX] = "OSAX",
        [Roles.OsaY] = "OSAY",
        [Roles.DetectorX] = "DetectorX",
        [Roles.DetectorY] = "DetectorY",
        [Roles.Energy] = "Energy",
        [Roles.EpuPolarization] = "Polarization",
        [Roles.EpuOffset] = "ID1Off",
    });

    /// <summary>The controller's name of <paramref name="role"/>.</summary>
    public string ToController(string role) => _toController.TryGetValue(role, out var name) ? name : role;

    /// <summary>StxmWeb's name (role) of the controller's <paramref name="name"/>.</summary>
    public string ToRole(string name) => _toRole.TryGetValue(name, out var role) ? role : name;

    /// <summary>The pairs (role, controller name).</summary>
    public IReadOnlyDictionary<string, string> Pairs => _toController;
}

/// <summary>Translations between StxmWeb's scan requests and the controller's.</summary>
public static class PixelatorScans
{
    /// <summary>The scan types the controller runs (pyStxm's pixelator_common plugins).</summary>
    public static IReadOnlySet<ScanType> Supported { get; } = new HashSet<ScanType>
    {
        ScanType.DetectorImage, ScanType.OsaImage, ScanType.OsaFocus, ScanType.SampleFocus, ScanType.SamplePointSpectrum,
        ScanType.SampleLineSpectrum, ScanType.SampleImage, ScanType.SampleImageStack, ScanType.CoarseImage, ScanType.GenericScan,
        ScanType.TwoVariableImage,
    };

    /// <summary>The polarizations the controller takes (by Stokes vector): circular left and right, linear at any angle.</summary>
    public static IReadOnlySet<Polarization> SupportedPolarizations { get; } = new HashSet<Polarization>
    {
        Polarization.CircLeft, Polarization.CircRight, Polarization.LinHor, Polarization.LinInc,
    };

    /// <summary>
    /// Whether the scan's energy is part of the controller's request (Sample scans carry energy regions); for the other
    /// types the backend moves the energy before it sends the request.
    /// </summary>
    public static bool CarriesEnergy(ScanType type) =>
        type is ScanType.SampleImage or ScanType.SampleImageStack or ScanType.CoarseImage or ScanType.SamplePointSpectrum or ScanType.SampleLineSpectrum;

    /// <summary>
    /// The controller's request for <paramref name="request"/> (valid, and of a <see cref="Supported"/> type with at most one
    /// polarization of <see cref="SupportedPolarizations"/>).
    /// </summary>
    public static PixelatorScanRequest ToPixelator(ScanRequest request, PixelatorNames names)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(names);
        if (!Supported.Contains(request.ScanType))
        {
            throw new ArgumentException($"The Pixelator controller does not run {ScanTypes.Of(request.ScanType).Label} scans.", nameof(request));
        }

        var info = ScanTypes.Of(request.ScanType);
        var dwellOnly = new List<PixelatorRegion> { new() { DwellTime = request.DwellMs / 1000 } };
        var (scanType, spatial, outer, inner) = info.Family switch
        {
            ScanFamily.Image when request.ScanType is ScanType.DetectorImage or ScanType.OsaImage =>
                (request.ScanType == ScanType.DetectorImage ? "Detector" : "OSA", "Image", dwellOnly, [ImageRegion(request.Regions[0], info, names)]),
            ScanFamily.Image => ("Sample", "Image", EnergyRegions(request, names), [ImageRegion(request.Regions[0], info, names)]),
            ScanFamily.Focus => (request.ScanType == ScanType.OsaFocus ? "OSA Focus" : "Focus", "Image", dwellOnly,
                [new PixelatorRegion { Axes = [Centred(request.ZonePlateZ!, names.ToController(Roles.ZonePlateZ)), LineAxis(request.Line!, info, names)] }]),
            ScanFamily.PointSpectrum => ("Sample", "Point", EnergyRegions(request, names),
                request.Points.Select(p => new PixelatorRegion { Axes = [PointAxis(p, info, names)] }).ToList()),
            ScanFamily.LineSpectrum => ("Sample", "Line", EnergyRegions(request, names),
                [new PixelatorRegion { Axes = [LineAxis(request.Line!, info, names)] }]),
            ScanFamily.Generic => ("Motor", "Point", dwellOnly, [new PixelatorRegion { Axes = [Span(request.Primary!, names)] }]),
            ScanFamily.TwoVariable => ("Motor2D", "Image", dwellOnly,
                [new PixelatorRegion { Axes = [Span(request.Secondary!, names), Span(request.Primary!, names)] }]),
            _ => throw new ArgumentException($"No Pixelator request for {info.Label}.", nameof(request)),
        };

        var details = request.Details;
        var pol = request.Polarizations.Count > 0 ? request.Polarizations[0] : null;
        return new PixelatorScanRequest
        {
            ScanType = scanType,
            SpatialType = spatial,
            Meander = request.Meander ? 1 : 0,
            YAxisFast = details.YAxisFast ? 1 : 0,
            OsaInFocus = request.ScanType == ScanType.OsaFocus ? 1 : 0,
            LineMode = request.Mode == AcquisitionMode.Line && info.CanFly ? PixelatorScanRequest.ConstantVelocity : PixelatorScanRequest.PointByPoint,
            Tiling = request.Tiling ? 1 : 0,
            AccelerationDistance = details.AccelerationDistanceUm,
            TileDelay = details.TileDelayMs / 1000,
            LineDelay = details.LineDelayMs / 1000,
            PointDelay = details.PointDelayMs / 1000,
            LineRepetition = details.LineRepetition,
            OuterRegions = outer,
            InnerRegions = inner,
            NOuterRegions = outer.Count,
            NInnerRegions = inner.Count,
            SingleOuterRegionValue = spatial is "Point" or "Line" ? 0 : null,
            DisplayedAxes = scanType switch
            {
                "Motor" => new DisplayedAxes(new DisplayedAxis("inner", 0), new DisplayedAxis("none")),
                _ when spatial is "Point" or "Line" => new DisplayedAxes(new DisplayedAxis("outer", -1), new DisplayedAxis("inner", 0)),
                _ => new DisplayedAxes(new DisplayedAxis("inner", 1), new DisplayedAxis("inner", 0)),
            },
            PositionPrecision = details.PositionPrecisionPercent is { } precision ? new PositionPrecision(precision) : null,
            Defocus = new DefocusSpec(details.DefocusDiameterUm),
            Polarization = pol is null ? new PolarizationSpec { Active = 0 } : ToSpec(pol),
        };
    }

    /// <summary>
    /// The StxmWeb request the controller's <paramref name="scan"/> describes, for a controller whose energy stands at
    /// <paramref name="energyEv"/> (used by scans without energy regions).
    /// </summary>
    /// <exception cref="PixelatorProtocolException">A field the request needs is missing or makes no sense; the message names it.</exception>
    public static ScanRequest ToScanRequest(PixelatorScanRequest scan, PixelatorNames names, double energyEv)
    {
        ArgumentNullException.ThrowIfNull(scan);
        ArgumentNullException.ThrowIfNull(names);
        NoNullItems(scan.OuterRegions, "outerRegions");
        NoNullItems(scan.InnerRegions, "innerRegions");
        var dwellMs = Dwell(scan) * 1000;
        var line = scan.LineMode switch
        {
            PixelatorScanRequest.PointByPoint => AcquisitionMode.PointByPoint,
            PixelatorScanRequest.ConstantVelocity => AcquisitionMode.Line,
            _ => throw new PixelatorProtocolException($"lineMode: '{scan.LineMode}' is neither \"{PixelatorScanRequest.PointByPoint}\" nor \"{PixelatorScanRequest.ConstantVelocity}\"."),
        };
        var inner = Inner(scan);
        var request = new ScanRequest
        {
            Mode = line,
            DwellMs = dwellMs,
            EnergyEv = energyEv,
            Meander = scan.Meander == 1,
            Tiling = scan.Tiling == 1,
            Polarizations = FromSpec(scan.Polarization),
            Details = new ScanDetails(
                YAxisFast: scan.YAxisFast == 1,
                AccelerationDistanceUm: scan.AccelerationDistance is > 0 ? scan.AccelerationDistance : null,
                TileDelayMs: (scan.TileDelay ?? 0) * 1000,
                LineDelayMs: (scan.LineDelay ?? 0) * 1000,
                PointDelayMs: (scan.PointDelay ?? 0) * 1000,
                LineRepetition: scan.LineRepetition is > 0 ? scan.LineRepetition.Value : 1,
                DefocusDiameterUm: scan.Defocus?.Diameter ?? 0,
                PositionPrecisionPercent: scan.PositionPrecision?.Precision),
        };

        switch (scan.ScanType)
        {
            case "Detector" or "OSA":
                return request with { ScanType = scan.ScanType == "Detector" ? ScanType.DetectorImage : ScanType.OsaImage, Regions = [Image(inner[0], names)] };
            case "Focus" or "OSA Focus":
            {
                var axes = Axes(inner[0], 2, "innerRegions[0]");
                return request with
                {
                    ScanType = scan.ScanType == "Focus" ? ScanType.SampleFocus : ScanType.OsaFocus,
                    ZonePlateZ = Axis(axes[0], "innerRegions[0].axes[0]"),
                    Line = Line(axes[1], "innerRegions[0].axes[1]"),
                };
            }

            case "Motor":
                return request with { ScanType = ScanType.GenericScan, Primary = Span(Axes(inner[0], 1, "innerRegions[0]")[0], names, "innerRegions[0].axes[0]") };
            case "Motor2D":
            {
                var axes = Axes(inner[0], 2, "innerRegions[0]");
                return request with
                {
                    ScanType = ScanType.TwoVariableImage,
                    Secondary = Span(axes[0], names, "innerRegions[0].axes[0]"),
                    Primary = Span(axes[1], names, "innerRegions[0].axes[1]"),
                };
            }

            case "Sample":
                break;
            default:
                throw new PixelatorProtocolException($"scanType: '{scan.ScanType}' is not one of {string.Join(", ", PixelatorScanRequest.ScanTypes)}.");
        }

        var energies = Energies(scan);
        request = request with { Energies = energies, EnergyEv = energies.Count > 0 ? energies[0].StartEv : energyEv, DwellMs = energies.Count > 0 ? energies[0].DwellMs : dwellMs };
        switch (scan.SpatialType)
        {
            case "Point":
                return request with
                {
                    ScanType = ScanType.SamplePointSpectrum,
                    Points = [.. inner.Select((region, i) => Point(Axes(region, 1, $"innerRegions[{i}]")[0], $"innerRegions[{i}].axes[0]"))],
                };
            case "Line":
                return request with { ScanType = ScanType.SampleLineSpectrum, Line = Line(Axes(inner[0], 1, "innerRegions[0]")[0], "innerRegions[0].axes[0]") };
            case "Image":
            {
                var region = Image(inner[0], names);
                var coarse = inner[0].Axes!.Any(a => a.Trajectories.Any(t => names.ToRole(t.PositionerName) == Roles.CoarseX));
                var type = coarse ? ScanType.CoarseImage : energies.Count == 1 && energies[0].Points == 1 ? ScanType.SampleImage : ScanType.SampleImageStack;
                return request with
                {
                    ScanType = type,
                    Regions = [region],
                    Energies = type == ScanType.SampleImageStack ? energies : [],
                };
            }

            default:
                throw new PixelatorProtocolException($"spatialType: '{scan.SpatialType}' is not Image, Point or Line.");
        }
    }

    /// <summary>The Stokes vector of a polarization (S1, S2, S3): linear at angle θ is (cos 2θ, sin 2θ, 0).</summary>
    public static PolarizationSpec ToSpec(PolarizationSetting setting)
    {
        ArgumentNullException.ThrowIfNull(setting);
        var (type, stokes) = setting.Mode switch
        {
            Polarization.CircLeft => ("circ. left", new[] { 0.0, 0, -1 }),
            Polarization.CircRight => ("circ. right", new[] { 0.0, 0, 1 }),
            Polarization.LinHor => ("linear", new[] { 1.0, 0, 0 }),
            Polarization.LinInc => ("linear", new[] { Math.Round(Math.Cos(2 * setting.Angle * Math.PI / 180), 12), Math.Round(Math.Sin(2 * setting.Angle * Math.PI / 180), 12), 0 }),
            _ => throw new ArgumentException($"The Pixelator controller sets no {setting.Mode} polarization (it takes circular left/right and linear).", nameof(setting)),
        };
        return new PolarizationSpec { Active = 1, Types = [type], Stokes = [stokes] };
    }

    private static List<PolarizationSetting> FromSpec(PolarizationSpec? spec)
    {
        if (spec is not { Active: 1 } || spec.Types is not { Count: > 0 } types)
        {
            return [];
        }

        if (types.Count > 1)
        {
            throw new PixelatorProtocolException($"polarization.types: one polarization per scan; got {types.Count}.");
        }

        var stokes = spec.Stokes is { Count: > 0 } s ? s[0] : null;
        return [types[0] switch
        {
            "circ. left" => new PolarizationSetting(Polarization.CircLeft),
            "circ. right" => new PolarizationSetting(Polarization.CircRight),
            "linear" when stokes is { Length: >= 2 } v && Math.Abs(v[1]) > 1e-9 =>
                new PolarizationSetting(Polarization.LinInc, Angle: Math.Round(Math.Atan2(v[1], v[0]) * 90 / Math.PI, 9)),
            "linear" => new PolarizationSetting(Polarization.LinHor),
            var other => throw new PixelatorProtocolException($"polarization.types[0]: '{other}' is not \"circ. left\", \"circ. right\" or \"linear\"."),
        }];
    }

    private static List<PixelatorRegion> EnergyRegions(ScanRequest request, PixelatorNames names)
    {
        var energy = names.ToController(Roles.Energy);
        var regions = request.Energies.Count > 0 ? request.Energies : [new EnergyRegion(request.EnergyEv, request.EnergyEv, 1, request.DwellMs)];
        return [.. regions.Select(r => new PixelatorRegion
        {
            DwellTime = r.DwellMs / 1000,
            Axes = [new PixelatorAxis
            {
                NPoints = r.Points,
                Trajectories = [new PixelatorTrajectory { Start = r.StartEv, End = r.StopEv, Range = r.StopEv - r.StartEv, Step = r.StepEv, PositionerName = energy }],
            }],
        })];
    }

    private static PixelatorRegion ImageRegion(SpatialRegion region, ScanTypeInfo info, PixelatorNames names) => new()
    {
        Axes = [Centred(region.Y, names.ToController(info.Y!)), Centred(region.X, names.ToController(info.X!))],
    };

    private static PixelatorAxis Centred(AxisRegion axis, string positioner) => new()
    {
        NPoints = axis.Points,
        Trajectories = [new PixelatorTrajectory { Start = axis.Start, End = axis.Stop, Center = axis.Center, Range = axis.Range, Step = axis.Step, PositionerName = positioner }],
    };

    private static PixelatorAxis Span(PositionerAxis axis, PixelatorNames names)
    {
        var step = axis.Points > 1 ? (axis.Stop - axis.Start) / (axis.Points - 1) : 0;
        return new PixelatorAxis
        {
            NPoints = axis.Points,
            Trajectories = [new PixelatorTrajectory { Start = axis.Start, End = axis.Stop, Range = axis.Stop - axis.Start, Step = step, PositionerName = names.ToController(axis.Positioner) }],
        };
    }

    private static PixelatorAxis LineAxis(LineRegion line, ScanTypeInfo info, PixelatorNames names) => new()
    {
        NPoints = line.Points,
        Length = line.Length,
        Angle = Math.Atan2(line.StopY - line.StartY, line.StopX - line.StartX) * 180 / Math.PI,
        Step = line.Points > 1 ? line.Length / (line.Points - 1) : 0,
        Trajectories =
        [
            new PixelatorTrajectory { Center = (line.StartX + line.StopX) / 2, PositionerName = names.ToController(info.X!) },
            new PixelatorTrajectory { Center = (line.StartY + line.StopY) / 2, PositionerName = names.ToController(info.Y!) },
        ],
    };

    private static PixelatorAxis PointAxis(SamplePoint point, ScanTypeInfo info, PixelatorNames names) => new()
    {
        NPoints = 1,
        Trajectories =
        [
            new PixelatorTrajectory { Center = point.X, Range = 0, PositionerName = names.ToController(info.X!) },
            new PixelatorTrajectory { Center = point.Y, Range = 0, PositionerName = names.ToController(info.Y!) },
        ],
    };

    /// <summary>JSON may hold null where a region, an axis or a trajectory belongs; each is named.</summary>
    private static void NoNullItems(List<PixelatorRegion> regions, string path)
    {
        for (var i = 0; i < regions.Count; i++)
        {
            var axes = regions[i]?.Axes ?? (regions[i] is null ? throw new PixelatorProtocolException($"{path}[{i}]: a region is required, not null.") : []);
            for (var a = 0; a < axes.Count; a++)
            {
                if (axes[a] is not { } axis)
                {
                    throw new PixelatorProtocolException($"{path}[{i}].axes[{a}]: an axis is required, not null.");
                }

                if (axis.Trajectories.Any(t => t is null))
                {
                    throw new PixelatorProtocolException($"{path}[{i}].axes[{a}].trajectories: a trajectory is required, not null.");
                }
            }
        }
    }

    private static double Dwell(PixelatorScanRequest scan)
    {
        if (scan.OuterRegions is not { Count: > 0 } outer || outer[0].DwellTime is not { } dwell)
        {
            throw new PixelatorProtocolException("outerRegions[0].dwellTime: every scan needs a dwell time (s).");
        }

        return double.IsFinite(dwell) && dwell > 0 ? dwell : throw new PixelatorProtocolException(
            string.Create(CultureInfo.InvariantCulture, $"outerRegions[0].dwellTime: must be a positive number of seconds; got {dwell}."));
    }

    private static List<PixelatorRegion> Inner(PixelatorScanRequest scan) => scan.InnerRegions is { Count: > 0 } inner
        ? inner
        : throw new PixelatorProtocolException("innerRegions: at least one inner (spatial) region is required.");

    private static List<PixelatorAxis> Axes(PixelatorRegion region, int count, string path) =>
        region.Axes is { } axes && axes.Count == count
            ? axes
            : throw new PixelatorProtocolException($"{path}.axes: {count} axes are required; got {region.Axes?.Count ?? 0}.");

    private static List<EnergyRegion> Energies(PixelatorScanRequest scan)
    {
        var regions = new List<EnergyRegion>();
        for (var i = 0; i < scan.OuterRegions.Count; i++)
        {
            var outer = scan.OuterRegions[i];
            var path = $"outerRegions[{i}]";
            if (outer.DwellTime is not { } dwell || !(dwell > 0))
            {
                throw new PixelatorProtocolException($"{path}.dwellTime: a positive dwell (s) is required.");
            }

            var axis = Axes(outer, 1, path)[0];
            var t = Trajectory(axis, $"{path}.axes[0]");
            regions.Add(new EnergyRegion(t.First, t.Last, Points(axis, $"{path}.axes[0]"), dwell * 1000));
        }

        return regions;
    }

    private static SpatialRegion Image(PixelatorRegion region, PixelatorNames names)
    {
        var axes = Axes(region, 2, "innerRegions[0]");
        return new SpatialRegion(Axis(axes[1], "innerRegions[0].axes[1]"), Axis(axes[0], "innerRegions[0].axes[0]"));
    }

    private static AxisRegion Axis(PixelatorAxis axis, string path)
    {
        var t = Trajectory(axis, path);
        return AxisRegion.FromStartStop(t.First, t.Last, Points(axis, path));
    }

    private static PositionerAxis Span(PixelatorAxis axis, PixelatorNames names, string path)
    {
        var t = Trajectory(axis, path);
        return new PositionerAxis(names.ToRole(t.PositionerName), t.First, t.Last, Points(axis, path));
    }

    private static LineRegion Line(PixelatorAxis axis, string path)
    {
        if (axis.Length is not { } length || axis.Trajectories.Count != 2)
        {
            throw new PixelatorProtocolException($"{path}: a line needs \"length\" and two trajectories (X and Y centres).");
        }

        var cx = axis.Trajectories[0].Center ?? 0;
        var cy = axis.Trajectories[1].Center ?? 0;
        var angle = (axis.Angle ?? 0) * Math.PI / 180;
        var (dx, dy) = (length / 2 * Math.Cos(angle), length / 2 * Math.Sin(angle));
        return new LineRegion(Round(cx - dx), Round(cy - dy), Round(cx + dx), Round(cy + dy), Points(axis, path));
    }

    private static SamplePoint Point(PixelatorAxis axis, string path) => axis.Trajectories.Count == 2
        ? new SamplePoint(axis.Trajectories[0].Center ?? 0, axis.Trajectories[1].Center ?? 0)
        : throw new PixelatorProtocolException($"{path}: a point needs two trajectories (X and Y centres).");

    private static PixelatorTrajectory Trajectory(PixelatorAxis axis, string path) => axis.Trajectories is { Count: > 0 } t
        ? t[0]
        : throw new PixelatorProtocolException($"{path}.trajectories: a trajectory is required.");

    private static int Points(PixelatorAxis axis, string path) => axis.NPoints >= 1
        ? axis.NPoints
        : throw new PixelatorProtocolException($"{path}.nPoints: at least 1; got {axis.NPoints}.");

    /// <summary>Removes the rounding noise of cos/sin from line ends (1e-9 µm is far below any stage's resolution).</summary>
    private static double Round(double value) => Math.Round(value, 9);
}
