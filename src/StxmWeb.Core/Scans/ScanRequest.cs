using System.Text.Json.Serialization;

namespace StxmWeb.Core.Scans;

/// <summary>The scan types of pyStxm (reference/PYSTXM.md section 1), in pyStxm's integer order.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ScanType>))]
public enum ScanType
{
    /// <summary>Raster of the detector stage: finds the beam.</summary>
    DetectorImage = 0,

    /// <summary>Raster of the OSA: shows the aperture.</summary>
    OsaImage = 1,

    /// <summary>OSA line × zone-plate Z: finds the OSA focus.</summary>
    OsaFocus = 2,

    /// <summary>Sample line × zone-plate Z: finds the sample focus.</summary>
    SampleFocus = 3,

    /// <summary>Energy scan at fixed sample points, an NXentry per point.</summary>
    SamplePointSpectrum = 4,

    /// <summary>Energy × a line across the sample.</summary>
    SampleLineSpectrum = 5,

    /// <summary>Raster of the fine sample stage at one energy.</summary>
    SampleImage = 6,

    /// <summary>Sample images at many energies.</summary>
    SampleImageStack = 7,

    /// <summary>Any one positioner against the counter.</summary>
    GenericScan = 8,

    /// <summary>Raster of the coarse sample stage.</summary>
    CoarseImage = 9,

    /// <summary>Raster of the goniometer X/Y.</summary>
    CoarseGoni = 10,

    /// <summary>Sample images at a series of goniometer angles.</summary>
    Tomography = 11,

    /// <summary>Exposes a pattern into the sample (a dose per pixel).</summary>
    PatternGen = 12,

    /// <summary>Raster with an area-detector frame per point.</summary>
    Ptychography = 13,

    /// <summary>Any two positioners against the counter.</summary>
    TwoVariableImage = 14,
}

/// <summary>How the fast axis is acquired: stop at every pixel, or fly at constant velocity and bin in time.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AcquisitionMode>))]
public enum AcquisitionMode
{
    /// <summary>Move, settle, count, for every pixel (pyStxm "Point by Point").</summary>
    PointByPoint,

    /// <summary>Constant-velocity line, one dwell-long time bin per pixel (pyStxm "Line_Unidir", Pixelator "Constant Velocity").</summary>
    Line,
}

/// <summary>EPU polarization, in pyStxm's combo order (its integer is the EPU polarization positioner's value).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Polarization>))]
public enum Polarization
{
    /// <summary>Circular left.</summary>
    CircLeft = 0,

    /// <summary>Circular right.</summary>
    CircRight = 1,

    /// <summary>Linear horizontal.</summary>
    LinHor = 2,

    /// <summary>Inclined vertical, minus.</summary>
    [JsonStringEnumMemberName("IncVert-")] IncVertMinus = 3,

    /// <summary>Inclined vertical, plus.</summary>
    [JsonStringEnumMemberName("IncVert+")] IncVertPlus = 4,

    /// <summary>Linear inclined at an angle.</summary>
    LinInc = 5,
}

/// <summary>Which loop is outside when a scan has several energies and polarizations (pyStxm EV_POL_ORDER).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<EnergyPolarizationOrder>))]
public enum EnergyPolarizationOrder
{
    /// <summary>For each energy, every polarization.</summary>
    EnergyThenPolarization,

    /// <summary>For each polarization, every energy.</summary>
    PolarizationThenEnergy,
}

/// <summary>The built-in exposure patterns of the pattern generator.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PatternKind>))]
public enum PatternKind
{
    /// <summary>A grid of square pads, each exposed longer than the last (pyStxm's PAD1..PAD9): a dose series.</summary>
    DoseSeries,

    /// <summary>Exposure values given pixel by pixel (0..1 of the brightest pixel's exposure).</summary>
    Custom,
}

/// <summary>
/// One axis of a region, as pyStxm's ROI dicts hold it: centre, full range and number of points.
/// Setpoints are <c>linspace(center - range/2, center + range/2, points)</c>, endpoints included.
/// </summary>
/// <param name="Center">Centre of the axis.</param>
/// <param name="Range">Full width (0 for a single point).</param>
/// <param name="Points">Number of points, at least 1.</param>
public sealed record AxisRegion(double Center, double Range, int Points)
{
    /// <summary>First setpoint.</summary>
    [JsonIgnore] public double Start => Center - Range / 2;

    /// <summary>Last setpoint.</summary>
    [JsonIgnore] public double Stop => Center + Range / 2;

    /// <summary>Distance between neighbouring setpoints (0 for one point).</summary>
    [JsonIgnore] public double Step => Points > 1 ? Range / (Points - 1) : 0;

    /// <summary>The region from its first and last setpoints.</summary>
    public static AxisRegion FromStartStop(double start, double stop, int points) => new((start + stop) / 2, Math.Abs(stop - start), points);

    /// <summary>The setpoints, endpoints included.</summary>
    public double[] Setpoints()
    {
        var values = new double[Math.Max(Points, 0)];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = Points == 1 ? Center : Start + i * Step;
        }

        return values;
    }
}

/// <summary>A rectangular spatial region: the fast (x) and slow (y) axes.</summary>
/// <param name="X">Fast axis.</param>
/// <param name="Y">Slow axis.</param>
public sealed record SpatialRegion(AxisRegion X, AxisRegion Y)
{
    /// <summary>Pixels in the region.</summary>
    [JsonIgnore] public long PixelCount => (long)X.Points * Y.Points;
}

/// <summary>An energy region: start, stop, number of points (endpoints included) and the dwell at each.</summary>
/// <param name="StartEv">First energy, eV.</param>
/// <param name="StopEv">Last energy, eV.</param>
/// <param name="Points">Number of energies.</param>
/// <param name="DwellMs">Dwell per pixel at these energies, ms.</param>
public sealed record EnergyRegion(double StartEv, double StopEv, int Points, double DwellMs)
{
    /// <summary>Step between energies, eV (0 for one point).</summary>
    [JsonIgnore] public double StepEv => Points > 1 ? (StopEv - StartEv) / (Points - 1) : 0;

    /// <summary>The energies, endpoints included.</summary>
    public double[] Setpoints()
    {
        var values = new double[Math.Max(Points, 0)];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = Points == 1 ? StartEv : StartEv + i * StepEv;
        }

        return values;
    }
}

/// <summary>A polarization row: the EPU mode, its offset and (for LinInc) the angle.</summary>
/// <param name="Mode">Polarization.</param>
/// <param name="Offset">EPU offset (gap/phase offset), as pyStxm's OFF column.</param>
/// <param name="Angle">Linear inclination angle, degrees (LinInc).</param>
public sealed record PolarizationSetting(Polarization Mode, double Offset = 0, double Angle = 0);

/// <summary>A straight line across the sample (or OSA): start and end points and the number of points on it.</summary>
/// <param name="StartX">Start X, µm.</param>
/// <param name="StartY">Start Y, µm.</param>
/// <param name="StopX">End X, µm.</param>
/// <param name="StopY">End Y, µm.</param>
/// <param name="Points">Number of points, endpoints included.</param>
public sealed record LineRegion(double StartX, double StartY, double StopX, double StopY, int Points)
{
    /// <summary>Length of the line, µm.</summary>
    [JsonIgnore] public double Length => Math.Sqrt((StopX - StartX) * (StopX - StartX) + (StopY - StartY) * (StopY - StartY));

    /// <summary>Whether the line runs along X only (it can then be flown at constant velocity).</summary>
    [JsonIgnore] public bool IsHorizontal => StartY == StopY;

    /// <summary>X of each point.</summary>
    public double[] Xs() => Interpolate(StartX, StopX);

    /// <summary>Y of each point.</summary>
    public double[] Ys() => Interpolate(StartY, StopY);

    /// <summary>Distance of each point from the start, µm (pyStxm's <c>line_position</c>).</summary>
    public double[] Positions()
    {
        var values = new double[Math.Max(Points, 0)];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = Points == 1 ? 0 : Length * i / (Points - 1);
        }

        return values;
    }

    private double[] Interpolate(double a, double b)
    {
        var values = new double[Math.Max(Points, 0)];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = Points == 1 ? a : a + (b - a) * i / (Points - 1);
        }

        return values;
    }
}

/// <summary>A point on the sample, µm.</summary>
/// <param name="X">X.</param>
/// <param name="Y">Y.</param>
public sealed record SamplePoint(double X, double Y);

/// <summary>A positioner and the span it is scanned over (generic, two-variable and tomography scans).</summary>
/// <param name="Positioner">Positioner name.</param>
/// <param name="Start">First setpoint.</param>
/// <param name="Stop">Last setpoint.</param>
/// <param name="Points">Number of setpoints, endpoints included.</param>
public sealed record PositionerAxis(string Positioner, double Start, double Stop, int Points)
{
    /// <summary>The setpoints, endpoints included.</summary>
    public double[] Setpoints()
    {
        var values = new double[Math.Max(Points, 0)];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = Points == 1 ? Start : Start + (Stop - Start) * i / (Points - 1);
        }

        return values;
    }
}

/// <summary>
/// Zone-plate Z corrections of a tomography series (pyStxm: focus correction at start, centre and stop angle): the
/// focus found at those angles, µm relative to the focus at the first angle; interpolated linearly in between.
/// </summary>
/// <param name="AtStart">Correction at the first angle.</param>
/// <param name="AtCenter">Correction at the middle angle.</param>
/// <param name="AtStop">Correction at the last angle.</param>
public sealed record FocusCorrection(double AtStart, double AtCenter, double AtStop);

/// <summary>What the pattern generator exposes, over the first spatial region's pixel grid.</summary>
/// <param name="Kind">Dose series of pads, or a custom map.</param>
/// <param name="ExposureMs">Exposure of the brightest pixel, ms.</param>
/// <param name="Pads">Pads per side of a dose series (pyStxm: 3, PAD1..PAD9).</param>
/// <param name="Values">Custom map, rows (y) of columns (x), each 0..1 of <paramref name="ExposureMs"/>.</param>
public sealed record PatternSpec(PatternKind Kind = PatternKind.DoseSeries, double ExposureMs = 200, int Pads = 3, double[][]? Values = null);

/// <summary>
/// The "Scan Request Details" of a Pixelator scan plugin (reference/PYSTXM.md section 1), which every backend honours:
/// Y as the fast axis, a set run-up distance for constant-velocity lines, waits before each tile, line and point, lines
/// acquired several times (their counts summed), a defocused beam, and the position precision the stages must reach.
/// </summary>
/// <param name="YAxisFast">Rasters run along Y first (columns rather than rows); point by point only.</param>
/// <param name="AccelerationDistanceUm">Run-up before and after each constant-velocity line, µm; null: what the stage needs.</param>
/// <param name="TileDelayMs">Wait before each tile, ms.</param>
/// <param name="LineDelayMs">Wait before each line, ms.</param>
/// <param name="PointDelayMs">Wait before each point, ms (point by point).</param>
/// <param name="LineRepetition">Times each line is acquired; the counts of the repetitions are summed.</param>
/// <param name="DefocusDiameterUm">Beam spot at the sample, µm; 0 is focused (Pixelator's Defocus "Diameter").</param>
/// <param name="PositionPrecisionPercent">
/// "Adapt position precision": a point is counted once the stage is within this share of a pixel of its target; null
/// keeps the stages' own tolerance.
/// </param>
public sealed record ScanDetails(
    bool YAxisFast = false,
    double? AccelerationDistanceUm = null,
    double TileDelayMs = 0,
    double LineDelayMs = 0,
    double PointDelayMs = 0,
    int LineRepetition = 1,
    double DefocusDiameterUm = 0,
    double? PositionPrecisionPercent = null)
{
    /// <summary>No details: the defaults of every field.</summary>
    public static ScanDetails None { get; } = new();

    /// <summary>Whether every field has its default.</summary>
    [JsonIgnore] public bool IsDefault => this == None;
}

/// <summary>
/// A scan request of any type: data (immutable, serialisable as JSON, savable as a scan definition), validated by
/// <see cref="ScanRequestValidator"/> before anything moves. Like pyStxm's "wdg_com", one shape holds every scan type;
/// each type reads the parts it needs (the validator names the parts a type needs and refuses what is missing).
/// </summary>
public sealed record ScanRequest
{
    /// <summary>The scan type, as written in files and run metadata.</summary>
    public ScanType ScanType { get; init; } = ScanType.SampleImage;

    /// <summary>Free text the user gives the scan; written as the NXentry title.</summary>
    public string? Title { get; init; }

    /// <summary>Point by point, or constant-velocity lines (where the scan type can fly).</summary>
    public AcquisitionMode Mode { get; init; } = AcquisitionMode.Line;

    /// <summary>Dwell per point, ms, for scans without energy regions.</summary>
    public double DwellMs { get; init; } = 1;

    /// <summary>The energy, eV, of scans without energy regions.</summary>
    public double EnergyEv { get; init; } = 285;

    /// <summary>
    /// Spatial regions (image, stack, tomography, pattern, ptychography scans), each its own NXentry. A request may
    /// instead give one region as top-level <c>x</c> and <c>y</c> (the short form of a single image).
    /// </summary>
    public IReadOnlyList<SpatialRegion> Regions
    {
        get => _regions.Count == 0 && ShortX is { } x && ShortY is { } y ? [new SpatialRegion(x, y)] : _regions;
        init => _regions = value ?? [];
    }

    private readonly IReadOnlyList<SpatialRegion> _regions = [];

    /// <summary>Short form: the fast axis of a single region (used when <see cref="Regions"/> is not given).</summary>
    [JsonPropertyName("x"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public AxisRegion? ShortX { get; init; }

    /// <summary>Short form: the slow axis of a single region.</summary>
    [JsonPropertyName("y"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public AxisRegion? ShortY { get; init; }

    /// <summary>Whether the request gave its region in the short form (problems are then reported as <c>x.…</c>, <c>y.…</c>).</summary>
    [JsonIgnore] public bool UsesShortForm => _regions.Count == 0 && (ShortX is not null || ShortY is not null);

    /// <summary>Energy regions; empty means the single <see cref="EnergyEv"/> at <see cref="DwellMs"/>.</summary>
    public IReadOnlyList<EnergyRegion> Energies { get; init; } = [];

    /// <summary>Polarization rows; empty leaves the EPU as it is. Each row is its own NXentry.</summary>
    public IReadOnlyList<PolarizationSetting> Polarizations { get; init; } = [];

    /// <summary>Energy loop outside polarization, or the reverse.</summary>
    public EnergyPolarizationOrder Order { get; init; } = EnergyPolarizationOrder.EnergyThenPolarization;

    /// <summary>The line of focus scans and line spectra.</summary>
    public LineRegion? Line { get; init; }

    /// <summary>The zone-plate Z axis of focus scans (centre, range, points), µm.</summary>
    public AxisRegion? ZonePlateZ { get; init; }

    /// <summary>The points of a point spectrum, each its own NXentry.</summary>
    public IReadOnlyList<SamplePoint> Points { get; init; } = [];

    /// <summary>The scanned positioner of a generic scan; the fast (x) one of a two-variable image.</summary>
    public PositionerAxis? Primary { get; init; }

    /// <summary>The slow (y) positioner of a two-variable image.</summary>
    public PositionerAxis? Secondary { get; init; }

    /// <summary>The angles of a tomography series (positioner GoniTheta, degrees).</summary>
    public PositionerAxis? Theta { get; init; }

    /// <summary>Zone-plate Z correction across a tomography series.</summary>
    public FocusCorrection? FocusCorrection { get; init; }

    /// <summary>
    /// Point-by-point rasters go back and forth (odd rows right to left), saving the return move (Pixelator's Meander).
    /// </summary>
    public bool Meander { get; init; }

    /// <summary>
    /// A sample image larger than the fine stage's travel is cut into tiles: the coarse stage moves to each tile's centre
    /// and the fine stage rasters the tile (Pixelator's Tiling). Region coordinates are then sample coordinates (coarse +
    /// fine), limited by the coarse stage.
    /// </summary>
    public bool Tiling { get; init; }

    /// <summary>The Pixelator "Scan Request Details": Y fast, run-up, delays, line repetition, defocus, position precision.</summary>
    public ScanDetails Details
    {
        get => _details ?? ScanDetails.None;
        init => _details = value;
    }

    private readonly ScanDetails? _details;

    /// <summary>The pattern of a pattern-generator scan.</summary>
    public PatternSpec? Pattern { get; init; }

    /// <summary>The first spatial region's fast axis (the one region of a single image).</summary>
    [JsonIgnore] public AxisRegion X => Regions[0].X;

    /// <summary>The first spatial region's slow axis.</summary>
    [JsonIgnore] public AxisRegion Y => Regions[0].Y;

    /// <summary>A sample image: one region at one energy.</summary>
    public static ScanRequest SampleImage(AxisRegion x, AxisRegion y, double dwellMs, double energyEv, AcquisitionMode mode = AcquisitionMode.Line) => new()
    {
        ScanType = ScanType.SampleImage,
        Regions = [new SpatialRegion(x, y)],
        DwellMs = dwellMs,
        EnergyEv = energyEv,
        Mode = mode,
    };

    /// <summary>Every energy of the scan in order, with its dwell (ms).</summary>
    public (double EnergyEv, double DwellMs)[] EnergySetpoints() => Energies.Count == 0
        ? [(EnergyEv, DwellMs)]
        : [.. Energies.SelectMany(r => r.Setpoints().Select(e => (e, r.DwellMs)))];

    /// <summary>The polarization rows, or a single null row meaning "leave the EPU as it is".</summary>
    public PolarizationSetting?[] PolarizationRows() => Polarizations.Count == 0 ? [null] : [.. Polarizations];

    /// <summary>The default request the editor opens with for <paramref name="type"/>: sensible for the simulated microscope.</summary>
    public static ScanRequest Default(ScanType type) => ScanDefaults.For(type);
}
