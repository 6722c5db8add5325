using StxmWeb.Core.Plans;
using StxmWeb.Core.Scans;

namespace StxmWeb.Components.Scan;

/// <summary>
/// The editor's mutable copy of a <see cref="ScanRequest"/>: rows the tables bind to. <see cref="ToRequest"/> builds the
/// immutable request with only the parts the scan type uses, so saved definitions stay clean.
/// </summary>
public sealed class ScanForm
{
    /// <summary>Scan type.</summary>
    public ScanType Type { get; set; } = ScanType.SampleImage;

    /// <summary>Title.</summary>
    public string? Title { get; set; }

    /// <summary>Point by point or line.</summary>
    public AcquisitionMode Mode { get; set; } = AcquisitionMode.Line;

    /// <summary>Dwell of single-energy scans, ms.</summary>
    public double DwellMs { get; set; } = 1;

    /// <summary>Energy of single-energy scans, eV.</summary>
    public double EnergyEv { get; set; } = 285;

    /// <summary>Point-by-point rows back and forth.</summary>
    public bool Meander { get; set; }

    /// <summary>Cut a large sample image into fine-stage tiles.</summary>
    public bool Tiling { get; set; }

    /// <summary>Whether an image or tomography uses energy regions rather than one energy.</summary>
    public bool UseEnergyRegions { get; set; }

    /// <summary>Spatial regions.</summary>
    public List<RegionRow> Regions { get; } = [];

    /// <summary>Energy regions.</summary>
    public List<EnergyRow> Energies { get; } = [];

    /// <summary>Polarization rows.</summary>
    public List<PolarizationRow> Polarizations { get; } = [];

    /// <summary>Loop order.</summary>
    public EnergyPolarizationOrder Order { get; set; }

    /// <summary>The line of focus scans and line spectra.</summary>
    public LineRow Line { get; set; } = new();

    /// <summary>Zone-plate Z of focus scans.</summary>
    public AxisRow ZonePlateZ { get; set; } = new();

    /// <summary>Points of a point spectrum.</summary>
    public List<PointRow> Points { get; } = [];

    /// <summary>Primary positioner axis.</summary>
    public PositionerRow Primary { get; set; } = new() { Positioner = Roles.OsaX };

    /// <summary>Secondary positioner axis.</summary>
    public PositionerRow Secondary { get; set; } = new() { Positioner = Roles.OsaY };

    /// <summary>Tomography angles.</summary>
    public PositionerRow Theta { get; set; } = new() { Positioner = Roles.GoniTheta, Start = -60, Stop = 60, Points = 5 };

    /// <summary>Tomography focus correction at the first, middle and last angle, µm.</summary>
    public double[] FocusCorrection { get; } = new double[3];

    /// <summary>Pattern kind.</summary>
    public PatternKind PatternKind { get; set; }

    /// <summary>Exposure of the brightest pattern pixel, ms.</summary>
    public double ExposureMs { get; set; } = 1000;

    /// <summary>Pads per side.</summary>
    public int Pads { get; set; } = 3;

    /// <summary>Custom pattern values, kept from a loaded definition.</summary>
    public double[][]? PatternValues { get; set; }

    /// <summary>The Scan Request Details (Pixelator's tab): Y fast, run-up, delays, line repetition, defocus, precision.</summary>
    public DetailsRow Details { get; set; } = new();

    /// <summary>What the type is.</summary>
    public ScanTypeInfo Info => ScanTypes.Of(Type);

    /// <summary>The form of a request.</summary>
    public static ScanForm From(ScanRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var form = new ScanForm
        {
            Type = request.ScanType,
            Title = request.Title,
            Mode = request.Mode,
            DwellMs = request.DwellMs,
            EnergyEv = request.EnergyEv,
            Order = request.Order,
            UseEnergyRegions = request.Energies.Count > 0,
            Meander = request.Meander,
            Tiling = request.Tiling,
            Details = DetailsRow.From(request.Details),
        };
        form.Regions.AddRange(request.Regions.Select(r => new RegionRow
        {
            XCenter = r.X.Center, XRange = r.X.Range, XPoints = r.X.Points, YCenter = r.Y.Center, YRange = r.Y.Range, YPoints = r.Y.Points,
        }));
        form.Energies.AddRange(request.Energies.Select(e => new EnergyRow { Start = e.StartEv, Stop = e.StopEv, Points = e.Points, DwellMs = e.DwellMs }));
        form.Polarizations.AddRange(request.Polarizations.Select(p => new PolarizationRow { Mode = p.Mode, Offset = p.Offset, Angle = p.Angle }));
        form.Points.AddRange(request.Points.Select(p => new PointRow { X = p.X, Y = p.Y }));
        if (request.Line is { } line)
        {
            form.Line = new LineRow { StartX = line.StartX, StartY = line.StartY, StopX = line.StopX, StopY = line.StopY, Points = line.Points };
        }

        if (request.ZonePlateZ is { } z)
        {
            form.ZonePlateZ = new AxisRow { Center = z.Center, Range = z.Range, Points = z.Points };
        }

        form.Primary = Row(request.Primary) ?? form.Primary;
        form.Secondary = Row(request.Secondary) ?? form.Secondary;
        form.Theta = Row(request.Theta) ?? form.Theta;
        if (request.FocusCorrection is { } c)
        {
            (form.FocusCorrection[0], form.FocusCorrection[1], form.FocusCorrection[2]) = (c.AtStart, c.AtCenter, c.AtStop);
        }

        if (request.Pattern is { } pattern)
        {
            (form.PatternKind, form.ExposureMs, form.Pads, form.PatternValues) = (pattern.Kind, pattern.ExposureMs, pattern.Pads, pattern.Values);
        }

        form.EnsureRows();
        return form;

        static PositionerRow? Row(PositionerAxis? axis) =>
            axis is null ? null : new PositionerRow { Positioner = axis.Positioner, Start = axis.Start, Stop = axis.Stop, Points = axis.Points };
    }

    /// <summary>Makes sure every table the type shows has at least one row.</summary>
    public void EnsureRows()
    {
        if (Regions.Count == 0)
        {
            Regions.Add(new RegionRow());
        }

        if (Energies.Count == 0)
        {
            Energies.Add(new EnergyRow { Start = EnergyEv, Stop = EnergyEv + 10, Points = 11, DwellMs = DwellMs });
        }

        if (Points.Count == 0)
        {
            Points.Add(new PointRow());
        }
    }

    /// <summary>The request the form describes, with the parts its type uses.</summary>
    public ScanRequest ToRequest()
    {
        var info = Info;
        var usesEnergyRegions = info.UsesEnergies && (UseEnergyRegions || info.Family is ScanFamily.PointSpectrum or ScanFamily.LineSpectrum || Type == ScanType.SampleImageStack);
        var request = new ScanRequest
        {
            ScanType = Type,
            Title = string.IsNullOrWhiteSpace(Title) ? null : Title.Trim(),
            Mode = info.CanFly ? Mode : AcquisitionMode.PointByPoint,
            DwellMs = DwellMs,
            EnergyEv = EnergyEv,
            Meander = Meander && info.Family is ScanFamily.Image or ScanFamily.Tomography or ScanFamily.Pattern or ScanFamily.Ptychography,
            Tiling = Tiling && Type is ScanType.SampleImage or ScanType.SampleImageStack,
            Details = Details.ToDetails(),
        };

        if (usesEnergyRegions)
        {
            request = request with
            {
                Energies = [.. Energies.Select(e => new EnergyRegion(e.Start, e.Stop, e.Points, e.DwellMs))],
                Polarizations = [.. Polarizations.Select(p => new PolarizationSetting(p.Mode, p.Offset, p.Angle))],
                Order = Order,
            };
        }
        else if (info.UsesEnergies)
        {
            request = request with { Polarizations = [.. Polarizations.Select(p => new PolarizationSetting(p.Mode, p.Offset, p.Angle))] };
        }

        var regions = Regions.Take(info.MultiRegion ? Regions.Count : 1)
            .Select(r => new SpatialRegion(new AxisRegion(r.XCenter, r.XRange, r.XPoints), new AxisRegion(r.YCenter, r.YRange, r.YPoints))).ToArray();
        return info.Family switch
        {
            ScanFamily.Image or ScanFamily.Ptychography => request with { Regions = regions },
            ScanFamily.Focus => request with { Line = Line.ToLine(), ZonePlateZ = new AxisRegion(ZonePlateZ.Center, ZonePlateZ.Range, ZonePlateZ.Points) },
            ScanFamily.PointSpectrum => request with { Points = [.. Points.Select(p => new SamplePoint(p.X, p.Y))] },
            ScanFamily.LineSpectrum => request with { Line = Line.ToLine() },
            ScanFamily.Generic => request with { Primary = Primary.ToAxis() },
            ScanFamily.TwoVariable => request with { Primary = Primary.ToAxis(), Secondary = Secondary.ToAxis() },
            ScanFamily.Tomography => request with
            {
                Regions = regions,
                Theta = Theta.ToAxis() with { Positioner = Roles.GoniTheta },
                FocusCorrection = FocusCorrection.Any(v => v != 0) ? new FocusCorrection(FocusCorrection[0], FocusCorrection[1], FocusCorrection[2]) : null,
            },
            ScanFamily.Pattern => request with
            {
                Regions = regions,
                Pattern = new PatternSpec(PatternKind, ExposureMs, Pads, PatternKind == PatternKind.Custom ? PatternValues : null),
            },
            _ => request,
        };
    }
}

/// <summary>The Scan Request Details as the editor edits them (a run-up of 0 and no precision mean "the stage's own").</summary>
public sealed class DetailsRow
{
    /// <summary>Y is the fast axis.</summary>
    public bool YAxisFast { get; set; }

    /// <summary>Run-up of fly lines, µm; 0: what the stage needs.</summary>
    public double AccelerationDistanceUm { get; set; }

    /// <summary>Wait before each tile, ms.</summary>
    public double TileDelayMs { get; set; }

    /// <summary>Wait before each line, ms.</summary>
    public double LineDelayMs { get; set; }

    /// <summary>Wait before each point, ms.</summary>
    public double PointDelayMs { get; set; }

    /// <summary>Times each line is flown.</summary>
    public int LineRepetition { get; set; } = 1;

    /// <summary>Defocused spot, µm; 0 focused.</summary>
    public double DefocusDiameterUm { get; set; }

    /// <summary>Whether the position precision is adapted.</summary>
    public bool AdaptPrecision { get; set; }

    /// <summary>The precision, % of a pixel.</summary>
    public double PrecisionPercent { get; set; } = 10;

    /// <summary>Whether any detail differs from the defaults (the editor then opens the section).</summary>
    public bool IsSet => !ToDetails().IsDefault;

    /// <summary>The row of <paramref name="details"/>.</summary>
    public static DetailsRow From(ScanDetails details)
    {
        ArgumentNullException.ThrowIfNull(details);
        return new DetailsRow
        {
            YAxisFast = details.YAxisFast,
            AccelerationDistanceUm = details.AccelerationDistanceUm ?? 0,
            TileDelayMs = details.TileDelayMs,
            LineDelayMs = details.LineDelayMs,
            PointDelayMs = details.PointDelayMs,
            LineRepetition = details.LineRepetition,
            DefocusDiameterUm = details.DefocusDiameterUm,
            AdaptPrecision = details.PositionPrecisionPercent is not null,
            PrecisionPercent = details.PositionPrecisionPercent ?? 10,
        };
    }

    /// <summary>The details.</summary>
    public ScanDetails ToDetails() => new(
        YAxisFast,
        AccelerationDistanceUm > 0 ? AccelerationDistanceUm : null,
        TileDelayMs,
        LineDelayMs,
        PointDelayMs,
        LineRepetition,
        DefocusDiameterUm,
        AdaptPrecision ? PrecisionPercent : null);
}

/// <summary>A spatial region row.</summary>
public sealed class RegionRow
{
    /// <summary>Centre X.</summary>
    public double XCenter { get; set; }

    /// <summary>Range X.</summary>
    public double XRange { get; set; } = 20;

    /// <summary>Points X.</summary>
    public int XPoints { get; set; } = 50;

    /// <summary>Centre Y.</summary>
    public double YCenter { get; set; }

    /// <summary>Range Y.</summary>
    public double YRange { get; set; } = 20;

    /// <summary>Points Y.</summary>
    public int YPoints { get; set; } = 50;
}

/// <summary>An energy region row.</summary>
public sealed class EnergyRow
{
    /// <summary>Start, eV.</summary>
    public double Start { get; set; }

    /// <summary>Stop, eV.</summary>
    public double Stop { get; set; }

    /// <summary>Points.</summary>
    public int Points { get; set; } = 1;

    /// <summary>Dwell, ms.</summary>
    public double DwellMs { get; set; } = 1;
}

/// <summary>A polarization row.</summary>
public sealed class PolarizationRow
{
    /// <summary>Mode.</summary>
    public Polarization Mode { get; set; }

    /// <summary>Offset.</summary>
    public double Offset { get; set; }

    /// <summary>Angle, degrees.</summary>
    public double Angle { get; set; }
}

/// <summary>A point row.</summary>
public sealed class PointRow
{
    /// <summary>X, µm.</summary>
    public double X { get; set; }

    /// <summary>Y, µm.</summary>
    public double Y { get; set; }
}

/// <summary>A line.</summary>
public sealed class LineRow
{
    /// <summary>Start X.</summary>
    public double StartX { get; set; } = -10;

    /// <summary>Start Y.</summary>
    public double StartY { get; set; }

    /// <summary>Stop X.</summary>
    public double StopX { get; set; } = 10;

    /// <summary>Stop Y.</summary>
    public double StopY { get; set; }

    /// <summary>Points.</summary>
    public int Points { get; set; } = 50;

    /// <summary>The line.</summary>
    public LineRegion ToLine() => new(StartX, StartY, StopX, StopY, Points);
}

/// <summary>A centre/range/points axis.</summary>
public sealed class AxisRow
{
    /// <summary>Centre.</summary>
    public double Center { get; set; }

    /// <summary>Range.</summary>
    public double Range { get; set; } = 100;

    /// <summary>Points.</summary>
    public int Points { get; set; } = 21;
}

/// <summary>A positioner axis.</summary>
public sealed class PositionerRow
{
    /// <summary>Positioner name.</summary>
    public string Positioner { get; set; } = "";

    /// <summary>Start.</summary>
    public double Start { get; set; } = -50;

    /// <summary>Stop.</summary>
    public double Stop { get; set; } = 50;

    /// <summary>Points.</summary>
    public int Points { get; set; } = 21;

    /// <summary>The axis.</summary>
    public PositionerAxis ToAxis() => new(Positioner, Start, Stop, Points);
}
