// The controller's scan request, the JSON argument of "scanRequest" (and the echo in "scanStarted"). Outer regions are
// energies (each with its dwell), inner regions are spatial: an image's axes are [Y, X], a line is one axis with
// {length, angle} and two centre trajectories (X and Y), a point is one axis with nPoints 1 and X/Y centres. Detector,
// OSA, focus and motor scans give only {"dwellTime"} as their outer region. Field names as pyStxm's templates
// (bcm/devices/zmq/pixelator/scan_reqs) write them.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace StxmWeb.Pixelator.Protocol;

/// <summary>One positioner's path along an axis.</summary>
public sealed record PixelatorTrajectory
{
    /// <summary>First setpoint.</summary>
    [JsonPropertyName("start")] public double? Start { get; init; }

    /// <summary>Last setpoint.</summary>
    [JsonPropertyName("end")] public double? End { get; init; }

    /// <summary>End − start.</summary>
    [JsonPropertyName("range")] public double? Range { get; init; }

    /// <summary>Distance between setpoints.</summary>
    [JsonPropertyName("step")] public double? Step { get; init; }

    /// <summary>Centre.</summary>
    [JsonPropertyName("center")] public double? Center { get; init; }

    /// <summary>The controller's name of the positioner.</summary>
    [JsonPropertyName("positionerName")] public string PositionerName
    {
        get => _positionerName ?? "";
        init => _positionerName = value;
    }

    private readonly string? _positionerName;

    /// <summary>First setpoint, from start or from centre and range.</summary>
    [JsonIgnore] public double First => Start ?? (Center ?? 0) - (Range ?? 0) / 2;

    /// <summary>Last setpoint, from end or from centre and range.</summary>
    [JsonIgnore] public double Last => End ?? (Center ?? 0) + (Range ?? 0) / 2;
}

/// <summary>An axis of a region: its number of points and the trajectories moved along it (a line moves two).</summary>
public sealed record PixelatorAxis
{
    /// <summary>Points along the axis.</summary>
    [JsonPropertyName("nPoints")] public int NPoints { get; init; }

    /// <summary>Line length, µm (line axes only).</summary>
    [JsonPropertyName("length")] public double? Length { get; init; }

    /// <summary>Line angle from the X axis, degrees (line axes only).</summary>
    [JsonPropertyName("angle")] public double? Angle { get; init; }

    /// <summary>Step along a line, µm (line axes only).</summary>
    [JsonPropertyName("step")] public double? Step { get; init; }

    /// <summary>The trajectories.</summary>
    [JsonPropertyName("trajectories")] public List<PixelatorTrajectory> Trajectories
    {
        get => _trajectories ?? [];
        init => _trajectories = value;
    }

    private readonly List<PixelatorTrajectory>? _trajectories;

    /// <summary>Whether this is a line axis (a length and an angle).</summary>
    [JsonIgnore] public bool IsLine => Length is not null;
}

/// <summary>A region: outer regions carry the dwell and the energy axis, inner regions the spatial axes.</summary>
public sealed record PixelatorRegion
{
    /// <summary>Dwell per point, s (outer regions).</summary>
    [JsonPropertyName("dwellTime")] public double? DwellTime { get; init; }

    /// <summary>The axes (inner: [Y, X] of an image; outer: [Energy]).</summary>
    [JsonPropertyName("axes")] public List<PixelatorAxis>? Axes { get; init; }
}

/// <summary>Which region and axis the viewer shows along x or y.</summary>
/// <param name="Region">"inner", "outer" or "none".</param>
/// <param name="Index">Axis index, −1 for the outer (energy) axis.</param>
public sealed record DisplayedAxis(
    [property: JsonPropertyName("region")] string Region,
    [property: JsonPropertyName("index")] int? Index = null);

/// <summary>The displayed axes of a scan.</summary>
/// <param name="X">Horizontal.</param>
/// <param name="Y">Vertical.</param>
public sealed record DisplayedAxes(
    [property: JsonPropertyName("x")] DisplayedAxis X,
    [property: JsonPropertyName("y")] DisplayedAxis Y);

/// <summary>"Adapt position precision": the allowed position error, % of the pixel size.</summary>
/// <param name="Precision">Percent of a pixel.</param>
public sealed record PositionPrecision([property: JsonPropertyName("precision")] double Precision);

/// <summary>A defocused beam: the spot diameter at the sample, µm (0 = focused).</summary>
/// <param name="Diameter">Spot diameter, µm.</param>
public sealed record DefocusSpec([property: JsonPropertyName("diameter")] double Diameter);

/// <summary>The polarization of a scan: its type names and Stokes vectors (circ. left [0,0,−1], right [0,0,1], linear [1,0,0]).</summary>
public sealed record PolarizationSpec
{
    /// <summary>1 when the controller sets the polarization.</summary>
    [JsonPropertyName("active")] public int Active { get; init; }

    /// <summary>Type names: "circ. left", "circ. right", "linear".</summary>
    [JsonPropertyName("types")] public List<string>? Types { get; init; }

    /// <summary>One Stokes vector (S1, S2, S3) per type. pyStxm sends a single vector unnested; both forms are read.</summary>
    [JsonPropertyName("stokes"), JsonConverter(typeof(StokesListConverter))] public List<double[]>? Stokes { get; init; }
}

/// <summary>A scan request as the controller takes it.</summary>
public sealed record PixelatorScanRequest
{
    /// <summary>"Detector", "OSA", "OSA Focus", "Focus", "Sample", "Motor" or "Motor2D".</summary>
    [JsonPropertyName("scanType")] public string ScanType
    {
        get => _scanType ?? "";
        init => _scanType = value;
    }

    private readonly string? _scanType;

    /// <summary>"Image", "Point" or "Line".</summary>
    [JsonPropertyName("spatialType")] public string SpatialType
    {
        get => _spatialType ?? "Image";
        init => _spatialType = value;
    }

    private readonly string? _spatialType;

    /// <summary>1: rows go back and forth.</summary>
    [JsonPropertyName("meander")] public int Meander { get; init; }

    /// <summary>1: Y is the fast axis.</summary>
    [JsonPropertyName("yAxisFast")] public int YAxisFast { get; init; }

    /// <summary>1: the OSA is in focus (focus scans).</summary>
    [JsonPropertyName("osaInFocus")] public int? OsaInFocus { get; init; }

    /// <summary>"Point by Point" or "Constant Velocity".</summary>
    [JsonPropertyName("lineMode")] public string LineMode
    {
        get => _lineMode ?? PointByPoint;
        init => _lineMode = value;
    }

    private readonly string? _lineMode;

    /// <summary>1: an image larger than the fine stage is cut into tiles.</summary>
    [JsonPropertyName("tiling")] public int? Tiling { get; init; }

    /// <summary>Run-up distance of constant-velocity lines, µm.</summary>
    [JsonPropertyName("accelerationDistance")] public double? AccelerationDistance { get; init; }

    /// <summary>Wait before each tile, s.</summary>
    [JsonPropertyName("tileDelay")] public double? TileDelay { get; init; }

    /// <summary>Wait before each line, s.</summary>
    [JsonPropertyName("lineDelay")] public double? LineDelay { get; init; }

    /// <summary>Wait before each point, s.</summary>
    [JsonPropertyName("pointDelay")] public double? PointDelay { get; init; }

    /// <summary>How many times each line is acquired.</summary>
    [JsonPropertyName("lineRepetition")] public int? LineRepetition { get; init; }

    /// <summary>Energy regions (or only the dwell).</summary>
    [JsonPropertyName("outerRegions")] public List<PixelatorRegion> OuterRegions
    {
        get => _outerRegions ?? [];
        init => _outerRegions = value;
    }

    private readonly List<PixelatorRegion>? _outerRegions;

    /// <summary>Spatial regions.</summary>
    [JsonPropertyName("innerRegions")] public List<PixelatorRegion> InnerRegions
    {
        get => _innerRegions ?? [];
        init => _innerRegions = value;
    }

    private readonly List<PixelatorRegion>? _innerRegions;

    /// <summary>Number of outer regions.</summary>
    [JsonPropertyName("nOuterRegions")] public int? NOuterRegions { get; init; }

    /// <summary>Number of inner regions.</summary>
    [JsonPropertyName("nInnerRegions")] public int? NInnerRegions { get; init; }

    /// <summary>Index of the single outer value shown (spectra).</summary>
    [JsonPropertyName("singleOuterRegionValue")] public int? SingleOuterRegionValue { get; init; }

    /// <summary>What the viewer shows.</summary>
    [JsonPropertyName("displayedAxes")] public DisplayedAxes? DisplayedAxes { get; init; }

    /// <summary>Position precision.</summary>
    [JsonPropertyName("positionPrecision")] public PositionPrecision? PositionPrecision { get; init; }

    /// <summary>Defocus.</summary>
    [JsonPropertyName("defocus")] public DefocusSpec? Defocus { get; init; }

    /// <summary>Polarization.</summary>
    [JsonPropertyName("polarization")] public PolarizationSpec? Polarization { get; init; }

    /// <summary>Fields not modelled here, kept as they came (the scan request is echoed into the file).</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; init; }

    /// <summary>The point-by-point line mode's name.</summary>
    public const string PointByPoint = "Point by Point";

    /// <summary>The constant-velocity line mode's name.</summary>
    public const string ConstantVelocity = "Constant Velocity";

    /// <summary>The scan types the controller takes.</summary>
    public static IReadOnlyList<string> ScanTypes { get; } = ["Detector", "OSA", "OSA Focus", "Focus", "Sample", "Motor", "Motor2D"];
}

/// <summary>Reads Stokes vectors as a list of vectors, or a single unnested vector (as pyStxm sends it).</summary>
public sealed class StokesListConverter : JsonConverter<List<double[]>>
{
    /// <inheritdoc />
    public override List<double[]>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        if (root.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (root.ValueKind != JsonValueKind.Array)
        {
            throw new JsonException("stokes must be an array.");
        }

        if (root.GetArrayLength() > 0 && root[0].ValueKind == JsonValueKind.Number)
        {
            return [Vector(root)];
        }

        return [.. root.EnumerateArray().Select(Vector)];

        static double[] Vector(JsonElement e) => e.ValueKind == JsonValueKind.Array
            ? [.. e.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN)]
            : throw new JsonException("A Stokes vector must be an array of numbers.");
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, List<double[]> value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStartArray();
        foreach (var vector in value)
        {
            writer.WriteStartArray();
            foreach (var v in vector)
            {
                writer.WriteNumberValue(v);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndArray();
    }
}
