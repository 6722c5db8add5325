using StxmWeb.Core.Plans;

namespace StxmWeb.Core.Scans;

/// <summary>The families scan types fall into: each family has one plan shape, one editor shape and one file shape.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<ScanFamily>))]
public enum ScanFamily
{
    /// <summary>A raster of two stage axes, at one or more energies (detector, OSA, sample, coarse, goniometer images and stacks).</summary>
    Image,

    /// <summary>A line × zone-plate Z (OSA focus, sample focus).</summary>
    Focus,

    /// <summary>Energy at fixed points.</summary>
    PointSpectrum,

    /// <summary>Energy × a line.</summary>
    LineSpectrum,

    /// <summary>One positioner.</summary>
    Generic,

    /// <summary>Two positioners.</summary>
    TwoVariable,

    /// <summary>Images at a series of angles.</summary>
    Tomography,

    /// <summary>An exposure pattern.</summary>
    Pattern,

    /// <summary>A raster with an area-detector frame per point.</summary>
    Ptychography,
}

/// <summary>What a scan type is: its label, family, the positioners it drives and the <c>stxm_scan_type</c> it writes.</summary>
/// <param name="Type">The type.</param>
/// <param name="Label">Name as the editor shows it (pyStxm's plugin names).</param>
/// <param name="Family">Plan, editor and file shape.</param>
/// <param name="StxmScanType">
/// The <c>stxm_scan_type</c> string of its files: pyStxm's (reference/PYSTXM.md section 5) where NXstxm's enumeration
/// has it; pattern generator and ptychography write "sample image" and two-variable images "generic scan", as the
/// definition asks for types it does not name (pyStxm's own "pattern gen", "ptychography" and "two variable image"
/// fail validation). The exact type is in <c>collection/scan_type</c> and the scan request.
/// </param>
/// <param name="X">Fast-axis positioner of images, focus lines and spectra (null where the request names it).</param>
/// <param name="Y">Slow-axis positioner.</param>
/// <param name="CanFly">Whether line (constant-velocity) mode is offered.</param>
/// <param name="MultiRegion">Whether several spatial regions may be given.</param>
/// <param name="UsesEnergies">Whether energy and polarization regions apply.</param>
public sealed record ScanTypeInfo(ScanType Type, string Label, ScanFamily Family, string StxmScanType, string? X, string? Y, bool CanFly, bool MultiRegion, bool UsesEnergies)
{
    /// <summary>The file name of an axis driven by <paramref name="positioner"/> (pyStxm: lower case, words joined by '_').</summary>
    public static string AxisName(string positioner) => positioner switch
    {
        Roles.SampleX => "sample_x",
        Roles.SampleY => "sample_y",
        Roles.Energy => "energy",
        Roles.ZonePlateZ => "zpz",
        _ => string.Concat(positioner.Select((c, i) => char.IsUpper(c) && i > 0 && !char.IsUpper(positioner[i - 1]) ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString())),
    };
}

/// <summary>The fifteen scan types of pyStxm and what each drives.</summary>
public static class ScanTypes
{
    private static readonly Dictionary<ScanType, ScanTypeInfo> Infos = new ScanTypeInfo[]
    {
        new(ScanType.DetectorImage, "Detector image", ScanFamily.Image, "detector image", Roles.DetectorX, Roles.DetectorY, false, false, false),
        new(ScanType.OsaImage, "OSA image", ScanFamily.Image, "osa image", Roles.OsaX, Roles.OsaY, false, false, false),
        new(ScanType.OsaFocus, "OSA focus", ScanFamily.Focus, "osa focus", Roles.OsaX, Roles.OsaY, false, false, false),
        new(ScanType.SampleFocus, "Sample focus", ScanFamily.Focus, "sample focus", Roles.SampleX, Roles.SampleY, true, false, false),
        new(ScanType.SamplePointSpectrum, "Point spectrum", ScanFamily.PointSpectrum, "sample point spectrum", Roles.SampleX, Roles.SampleY, false, false, true),
        new(ScanType.SampleLineSpectrum, "Line spectrum", ScanFamily.LineSpectrum, "sample line spectrum", Roles.SampleX, Roles.SampleY, true, false, true),
        new(ScanType.SampleImage, "Sample image", ScanFamily.Image, "sample image", Roles.SampleX, Roles.SampleY, true, true, false),
        new(ScanType.SampleImageStack, "Image stack", ScanFamily.Image, "sample image stack", Roles.SampleX, Roles.SampleY, true, true, true),
        new(ScanType.GenericScan, "Positioner scan", ScanFamily.Generic, "generic scan", null, null, false, false, false),
        new(ScanType.CoarseImage, "Coarse image", ScanFamily.Image, "sample image", Roles.CoarseX, Roles.CoarseY, false, false, false),
        new(ScanType.CoarseGoni, "Coarse goniometer", ScanFamily.Image, "sample image", Roles.GoniX, Roles.GoniY, false, false, false),
        new(ScanType.Tomography, "Tomography", ScanFamily.Tomography, "sample image", Roles.SampleX, Roles.SampleY, true, false, true),
        new(ScanType.PatternGen, "Pattern generator", ScanFamily.Pattern, "sample image", Roles.SampleX, Roles.SampleY, false, false, false),
        new(ScanType.Ptychography, "Ptychography", ScanFamily.Ptychography, "sample image", Roles.SampleX, Roles.SampleY, false, false, true),
        new(ScanType.TwoVariableImage, "Two-variable image", ScanFamily.TwoVariable, "generic scan", null, null, false, false, false),
    }.ToDictionary(i => i.Type);

    /// <summary>Every scan type, in pyStxm's order.</summary>
    public static IReadOnlyList<ScanTypeInfo> All { get; } = [.. Infos.Values.OrderBy(i => (int)i.Type)];

    /// <summary>What <paramref name="type"/> is.</summary>
    public static ScanTypeInfo Of(ScanType type) => Infos.TryGetValue(type, out var info)
        ? info
        : throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown scan type.");
}

/// <summary>The request each scan type's editor opens with, sensible on the simulated microscope.</summary>
public static class ScanDefaults
{
    private static readonly EnergyRegion[] CarbonEdge =
    [
        new(280, 284, 5, 20),
        new(284.5, 290, 23, 20),
        new(291, 310, 10, 20),
    ];

    /// <summary>The default request of <paramref name="type"/>.</summary>
    public static ScanRequest For(ScanType type) => type switch
    {
        ScanType.DetectorImage => Image(type, new(0, 1200, 41), new(0, 1200, 41), 2),
        ScanType.OsaImage => Image(type, new(0, 120, 41), new(0, 120, 41), 2),
        ScanType.CoarseImage => Image(type, new(0, 80, 41), new(0, 80, 41), 2),
        ScanType.CoarseGoni => Image(type, new(0, 80, 41), new(0, 80, 41), 2),
        ScanType.SampleImage => ScanRequest.SampleImage(new(0, 40, 100), new(0, 40, 100), 1, 285),
        ScanType.SampleImageStack => new ScanRequest
        {
            ScanType = type,
            Regions = [new SpatialRegion(new(0, 40, 60), new(0, 40, 60))],
            Energies = [new(280, 284, 3, 1), new(284.5, 290, 12, 1), new(291, 300, 4, 1)],
        },
        ScanType.OsaFocus => new ScanRequest
        {
            ScanType = type,
            Mode = AcquisitionMode.PointByPoint,
            Line = new LineRegion(-50, 0, 50, 0, 51),
            ZonePlateZ = new AxisRegion(-1379.2, 300, 31),
            DwellMs = 2,
        },
        ScanType.SampleFocus => new ScanRequest
        {
            ScanType = type,
            Line = new LineRegion(-16, 9.1, 0, 9.1, 80),
            ZonePlateZ = new AxisRegion(-1129.2, 60, 31),
            DwellMs = 1,
        },
        ScanType.SamplePointSpectrum => new ScanRequest
        {
            ScanType = type,
            Mode = AcquisitionMode.PointByPoint,
            Points = [new SamplePoint(0, 0), new SamplePoint(10, 10)],
            Energies = CarbonEdge,
        },
        ScanType.SampleLineSpectrum => new ScanRequest
        {
            ScanType = type,
            Line = new LineRegion(-20, 0, 20, 0, 80),
            Energies = [.. CarbonEdge.Select(r => r with { DwellMs = 2 })],
        },
        ScanType.GenericScan => new ScanRequest
        {
            ScanType = type,
            Mode = AcquisitionMode.PointByPoint,
            Primary = new PositionerAxis(Roles.OsaX, -60, 60, 61),
            DwellMs = 5,
        },
        ScanType.TwoVariableImage => new ScanRequest
        {
            ScanType = type,
            Mode = AcquisitionMode.PointByPoint,
            Primary = new PositionerAxis(Roles.OsaX, -50, 50, 31),
            Secondary = new PositionerAxis(Roles.OsaY, -50, 50, 31),
            DwellMs = 2,
        },
        ScanType.Tomography => new ScanRequest
        {
            ScanType = type,
            Regions = [new SpatialRegion(new(0, 40, 60), new(0, 40, 60))],
            Theta = new PositionerAxis(Roles.GoniTheta, -60, 60, 5),
        },
        ScanType.PatternGen => new ScanRequest
        {
            ScanType = type,
            Mode = AcquisitionMode.PointByPoint,
            Regions = [new SpatialRegion(new(-7.9, 6, 18), new(9.1, 6, 18))],
            EnergyEv = 285.15,
            Pattern = new PatternSpec(PatternKind.DoseSeries, 1000, 3),
        },
        ScanType.Ptychography => new ScanRequest
        {
            ScanType = type,
            Mode = AcquisitionMode.PointByPoint,
            Regions = [new SpatialRegion(new(0, 4, 8), new(0, 4, 8))],
            DwellMs = 300,
        },
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown scan type."),
    };

    private static ScanRequest Image(ScanType type, AxisRegion x, AxisRegion y, double dwellMs) => new()
    {
        ScanType = type,
        Mode = AcquisitionMode.PointByPoint,
        Regions = [new SpatialRegion(x, y)],
        DwellMs = dwellMs,
    };
}
