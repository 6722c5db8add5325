// The definitions the controller hands out in its reply to "initialize" and publishes when they change
// (positionerDefinition, detectorDefinition, oscilloscopeDefinition, zonePlateDefinition, remoteFileSystemInfo).
// Field names are the controller's, spelled out; fields this code does not model are kept in Extra, so a definition sent
// back ("modified zonePlate definition") loses nothing.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace StxmWeb.Pixelator.Protocol;

/// <summary>One positioner as the controller defines it (a motor, the energy, a pseudo axis).</summary>
public sealed record PositionerDefinition
{
    /// <summary>Controller name, e.g. <c>SampleX</c>, <c>Zoneplate</c>, <c>OSAX</c>.</summary>
    [JsonPropertyName("name")] public string Name
    {
        get => _name ?? "";
        init => _name = value;
    }

    private readonly string? _name;

    /// <summary>Axis name.</summary>
    [JsonPropertyName("axisName")] public string? AxisName { get; init; }

    /// <summary>Description for panels.</summary>
    [JsonPropertyName("description")] public string? Description { get; init; }

    /// <summary>Unit as the controller writes it, in brackets: "(μm)", "(eV)".</summary>
    [JsonPropertyName("unit")] public string? Unit { get; init; }

    /// <summary>Velocity unit, e.g. "(μm/ms)".</summary>
    [JsonPropertyName("velocityUnit")] public string? VelocityUnit { get; init; }

    /// <summary>The coarse positioner of an abstract (coarse + fine) axis.</summary>
    [JsonPropertyName("coarsePositioner")] public string? CoarsePositioner { get; init; }

    /// <summary>The fine positioner of an abstract axis.</summary>
    [JsonPropertyName("finePositioner")] public string? FinePositioner { get; init; }

    /// <summary>Hardware units per unit.</summary>
    [JsonPropertyName("hardwareUnitFactor")] public double? HardwareUnitFactor { get; init; }

    /// <summary>How an abstract axis distributes a move over coarse and fine.</summary>
    [JsonPropertyName("distributionMode")] public string? DistributionMode { get; init; }

    /// <summary>Motor power management: Always, SlowAxis, Never, Manual or Disabled.</summary>
    [JsonPropertyName("autoOffMode")] public string? AutoOffMode { get; init; }

    /// <summary>User offset.</summary>
    [JsonPropertyName("positionOffset")] public double? PositionOffset { get; init; }

    /// <summary>Upper soft limit.</summary>
    [JsonPropertyName("upperSoftLimit")] public double UpperSoftLimit { get; init; }

    /// <summary>Lower soft limit.</summary>
    [JsonPropertyName("lowerSoftLimit")] public double LowerSoftLimit { get; init; }

    /// <summary>Largest velocity, in <see cref="VelocityUnit"/>.</summary>
    [JsonPropertyName("maxVelocity")] public double? MaxVelocity { get; init; }

    /// <summary>Whether the beamline (not the end station) controls it.</summary>
    [JsonPropertyName("beamlineControlPosition")] public int? BeamlineControlPosition { get; init; }

    /// <summary>How often "at position" is checked, s.</summary>
    [JsonPropertyName("atPositionCheckInterval")] public double? AtPositionCheckInterval { get; init; }

    /// <summary>How long a move may take before it fails, s.</summary>
    [JsonPropertyName("atPositionCheckTimeout")] public double? AtPositionCheckTimeout { get; init; }

    /// <summary>The last commanded destination.</summary>
    [JsonPropertyName("destination")] public double? Destination { get; init; }

    /// <summary>Fields not modelled here, kept as they came.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; init; }

    /// <summary>The unit without the controller's brackets: "(μm)" → "µm" (micro sign, as the rest of StxmWeb writes it).</summary>
    [JsonIgnore]
    public string PlainUnit => (Unit ?? "").Trim().TrimStart('(').TrimEnd(')').Replace('\u03bc', '\u00b5');
}

/// <summary>A detector channel: its name (<c>Counter0</c>) and unit.</summary>
/// <param name="Name">Channel name.</param>
/// <param name="Unit">Unit, e.g. "counts".</param>
public sealed record DetectorDefinition(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("unit")] string? Unit = null);

/// <summary>The oscilloscope (chart mode): live detector values at an interval.</summary>
/// <param name="Interval">Update interval, s.</param>
/// <param name="On">1 when running.</param>
/// <param name="CountRate">1 to show rates rather than counts.</param>
public sealed record OscilloscopeDefinition(
    [property: JsonPropertyName("interval")] double Interval = 0.1,
    [property: JsonPropertyName("on")] int On = 0,
    [property: JsonPropertyName("countRate")] int CountRate = 0);

/// <summary>An order-sorting aperture the controller knows.</summary>
public sealed record OsaDefinition
{
    /// <summary>Name, e.g. "OSA 60".</summary>
    [JsonPropertyName("name")] public string? Name { get; init; }

    /// <summary>Diameter, µm.</summary>
    [JsonPropertyName("diameter")] public double? Diameter { get; init; }

    /// <summary>1 for the OSA in use.</summary>
    [JsonPropertyName("active")] public int? Active { get; init; }

    /// <summary>Fields not modelled here.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; init; }
}

/// <summary>A zone plate the controller knows; <c>b[1]</c> is A1 (µm/eV, sign ignored).</summary>
public sealed record ZonePlateEntry
{
    /// <summary>Name.</summary>
    [JsonPropertyName("name")] public string? Name { get; init; }

    /// <summary>Focal-length coefficients: FL = |b[1]| · E.</summary>
    [JsonPropertyName("b")] public double[]? B { get; init; }

    /// <summary>Outer diameter, µm.</summary>
    [JsonPropertyName("outer_diameter")] public double? OuterDiameter { get; init; }

    /// <summary>Central stop diameter, µm.</summary>
    [JsonPropertyName("central_stop_diameter")] public double? CentralStopDiameter { get; init; }

    /// <summary>Outermost zone width, nm.</summary>
    [JsonPropertyName("outermost_zone_width")] public double? OutermostZoneWidth { get; init; }

    /// <summary>Fabrication note.</summary>
    [JsonPropertyName("fabrication")] public string? Fabrication { get; init; }

    /// <summary>1 for the zone plate in use.</summary>
    [JsonPropertyName("active")] public int? Active { get; init; }

    /// <summary>Materials, thicknesses, geometry: kept as they came.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; init; }

    /// <summary>A1, µm/eV (positive), or null when the entry has none.</summary>
    [JsonIgnore] public double? A1 => B is { Length: >= 2 } b ? Math.Abs(b[1]) : null;
}

/// <summary>Zone plates and OSAs, and the OSA–sample distance the controller keeps (dOsa, pyStxm's A0).</summary>
public sealed record ZonePlateDefinition
{
    /// <summary>The OSAs (trailing empty entries occur).</summary>
    [JsonPropertyName("OSAs")] public List<OsaDefinition> Osas
    {
        get => _osas ?? [];
        init => _osas = value;
    }

    private readonly List<OsaDefinition>? _osas;

    /// <summary>OSA–sample distance, µm.</summary>
    [JsonPropertyName("dOsa")] public double? DOsa { get; init; }

    /// <summary>The zone plates (trailing empty entries occur).</summary>
    [JsonPropertyName("zonePlates")] public List<ZonePlateEntry> ZonePlates
    {
        get => _zonePlates ?? [];
        init => _zonePlates = value;
    }

    private readonly List<ZonePlateEntry>? _zonePlates;

    /// <summary>Fields not modelled here.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; init; }

    /// <summary>The zone plate marked active, else the first named one.</summary>
    [JsonIgnore] public ZonePlateEntry? ActiveZonePlate => ZonePlates.FirstOrDefault(z => z.Active == 1) ?? ZonePlates.FirstOrDefault(z => z.Name is not null);

    /// <summary>The OSA marked active, else the first named one.</summary>
    [JsonIgnore] public OsaDefinition? ActiveOsa => Osas.FirstOrDefault(o => o.Active == 1) ?? Osas.FirstOrDefault(o => o.Name is not null);
}

/// <summary>A bookmark of the controller's file browser.</summary>
/// <param name="Label">Shown name.</param>
/// <param name="Target">Directory.</param>
public sealed record FileBookmark(
    [property: JsonPropertyName("label")] string Label,
    [property: JsonPropertyName("target")] string Target);

/// <summary>Where the controller writes files (its own file system, possibly another host's).</summary>
public sealed record RemoteFileSystemInfo
{
    /// <summary>Bookmarks.</summary>
    [JsonPropertyName("bookmarks")] public List<FileBookmark> Bookmarks
    {
        get => _bookmarks ?? [];
        init => _bookmarks = value;
    }

    private readonly List<FileBookmark>? _bookmarks;

    /// <summary>Base data directory.</summary>
    [JsonPropertyName("directory")] public string Directory
    {
        get => _directory ?? "";
        init => _directory = value;
    }

    private readonly string? _directory;

    /// <summary>Data file extension, ".hdf5".</summary>
    [JsonPropertyName("fileExtension")] public string FileExtension
    {
        get => _fileExtension ?? ".hdf5";
        init => _fileExtension = value;
    }

    private readonly string? _fileExtension;

    /// <summary>1 to list hidden files.</summary>
    [JsonPropertyName("showHidden")] public int ShowHidden { get; init; }
}

/// <summary>A positioner's state in a <c>positionerStatus</c> publication (list order = positionerDefinition order).</summary>
/// <param name="Name">Name, when the controller includes it.</param>
/// <param name="Position">Position; NaN when the controller has none (it sends NaN or null).</param>
/// <param name="Status">"ok" at rest, "moving", or a fault text.</param>
public sealed record PositionerState(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("position"), JsonConverter(typeof(NullableDoubleAsNaN))] double Position,
    [property: JsonPropertyName("status")] string Status)
{
    /// <summary>The status text of a positioner at rest.</summary>
    public const string Ok = "ok";

    /// <summary>The status text of a positioner under way.</summary>
    public const string Moving = "moving";

    /// <summary>Whether the positioner is moving.</summary>
    [JsonIgnore] public bool IsMoving => string.Equals(Status, Moving, StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether the status is a fault (neither at rest nor moving).</summary>
    [JsonIgnore] public bool IsFault => !IsMoving && !string.Equals(Status, Ok, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Reads a number, NaN or null (as NaN); writes a non-finite value as null (valid JSON, which pyStxm makes of the controller's NaN too).</summary>
public sealed class NullableDoubleAsNaN : JsonConverter<double>
{
    /// <inheritdoc />
    public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Null => double.NaN,
        JsonTokenType.Number => reader.GetDouble(),
        JsonTokenType.String when reader.GetString() is "NaN" or "nan" => double.NaN,
        _ => throw new JsonException($"A position must be a number, NaN or null; got {reader.TokenType}."),
    };

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}
