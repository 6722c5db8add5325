// Messages the controller publishes on its PUB sockets (56561 status and data, 56563 file content): frame 0 the name,
// then JSON or plain-text frames. scanLineData is the one hot message: five frames, "outer img tile chan", "row col"
// (chunk start within the tile), "h w" (chunk shape) and the values as a JSON array, as pyStxm's
// pixelator_dcs_server_api reads them.
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace StxmWeb.Pixelator.Protocol;

/// <summary>A message the controller publishes.</summary>
public abstract record PublishedMessage
{
    /// <summary>Frame 0.</summary>
    [JsonIgnore] public abstract string Name { get; }

    /// <summary>Frames 1..n.</summary>
    protected abstract IEnumerable<string> Body();

    /// <summary>The message's frames.</summary>
    public string[] ToFrames() => [Name, .. Body()];

    /// <summary>Every published name this code knows (scanFileContent may carry a plugin number after its name).</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        PositionerStatusMessage.MessageName, ScanStatusMessage.MessageName, ScanStartedMessage.MessageName, ScanLineDataMessage.MessageName,
        ScanFinishedMessage.MessageName, ScanAbortedMessage.MessageName, FilenameMessage.MessageName, RecordedChannelsMessage.MessageName,
        DetectorValuesMessage.MessageName, ChartModeDetectorUpdateMessage.MessageName, BeamShutterStatusMessage.MessageName,
        FocalStatusMessage.MessageName, ZonePlateDefinitionMessage.MessageName, PositionerDefinitionMessage.MessageName,
        ScanFileContentMessage.MessageName, .. JsonPublication.KnownNames,
    ];

    /// <summary>Decodes a published message.</summary>
    /// <exception cref="PixelatorProtocolException">Unknown name, a missing frame or a malformed one.</exception>
    public static PublishedMessage Decode(IReadOnlyList<string> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        if (frames.Count == 0)
        {
            throw new PixelatorProtocolException("A published message needs at least one frame (its name).");
        }

        var name = frames[0];
        return name switch
        {
            PositionerStatusMessage.MessageName => new PositionerStatusMessage(PixelatorFraming.FromJson<List<PositionerState>>(frames, 1, name)),
            ScanStatusMessage.MessageName => new ScanStatusMessage(PixelatorFraming.FromJson<ScanStatus>(frames, 1, name)),
            ScanStartedMessage.MessageName => new ScanStartedMessage(PixelatorFraming.FromJson<PixelatorScanRequest>(frames, 1, name)),
            ScanLineDataMessage.MessageName => ScanLineDataMessage.Parse(frames),
            ScanFinishedMessage.MessageName => new ScanFinishedMessage(PixelatorFraming.FromJson<ScanFinished>(frames, 1, name)),
            ScanAbortedMessage.MessageName => new ScanAbortedMessage(PixelatorFraming.Has(frames, 1) ? PixelatorFraming.FromJson<ScanAborted>(frames, 1, name) : new ScanAborted()),
            FilenameMessage.MessageName => PixelatorFraming.Has(frames, 2)
                ? new FilenameMessage(frames[1], frames[2])
                : throw new PixelatorProtocolException($"'{name}' needs 3 frames (name, file, directory); got {frames.Count}."),
            RecordedChannelsMessage.MessageName => new RecordedChannelsMessage(PixelatorFraming.FromJson<List<string>>(frames, 1, name)),
            DetectorValuesMessage.MessageName => new DetectorValuesMessage(PixelatorFraming.FromJson<double[]>(frames, 1, name)),
            ChartModeDetectorUpdateMessage.MessageName => new ChartModeDetectorUpdateMessage(PixelatorFraming.FromJson<List<NamedValue>>(frames, 1, name)),
            BeamShutterStatusMessage.MessageName => new BeamShutterStatusMessage(PixelatorFraming.FromJson<string>(frames, 1, name)),
            FocalStatusMessage.MessageName => new FocalStatusMessage(PixelatorFraming.FromJson<FocalStatus>(frames, 1, name)),
            ZonePlateDefinitionMessage.MessageName => new ZonePlateDefinitionMessage(PixelatorFraming.FromJson<ZonePlateDefinition>(frames, 1, name)),
            PositionerDefinitionMessage.MessageName => new PositionerDefinitionMessage(PixelatorFraming.FromJson<List<PositionerDefinition>>(frames, 1, name)),
            _ when name.StartsWith(ScanFileContentMessage.MessageName, StringComparison.Ordinal) => ScanFileContentMessage.Parse(frames),
            _ when JsonPublication.KnownNames.Contains(name) => new JsonPublication(name, PixelatorFraming.FromJson<JsonElement>(frames, 1, name)),
            _ => throw new PixelatorProtocolException($"Unknown published message '{PixelatorRequest.Shorten(name)}'."),
        };
    }
}

/// <summary>Every positioner's position and status, in positionerDefinition order; published several times a second.</summary>
/// <param name="Positioners">The states.</param>
public sealed record PositionerStatusMessage(IReadOnlyList<PositionerState> Positioners) : PublishedMessage
{
    /// <summary>The name.</summary>
    public const string MessageName = "positionerStatus";

    /// <inheritdoc />
    public override string Name => MessageName;

    /// <inheritdoc />
    protected override IEnumerable<string> Body() => [PixelatorFraming.ToJson(Positioners)];
}

/// <summary>Counters of a scan's progress (current or total).</summary>
public sealed record ScanCounters
{
    /// <summary>Inner region.</summary>
    [JsonPropertyName("innerRegion")] public int? InnerRegion { get; init; }

    /// <summary>Line.</summary>
    [JsonPropertyName("line")] public int? Line { get; init; }

    /// <summary>Repetition of the line.</summary>
    [JsonPropertyName("lineRepetition")] public int? LineRepetition { get; init; }

    /// <summary>Outer region.</summary>
    [JsonPropertyName("outerRegion")] public int? OuterRegion { get; init; }

    /// <summary>Point.</summary>
    [JsonPropertyName("point")] public int? Point { get; init; }

    /// <summary>Polarization (null when the scan sets none).</summary>
    [JsonPropertyName("polarization")] public int? Polarization { get; init; }

    /// <summary>Time left, "00h 22m 46s" (current only).</summary>
    [JsonPropertyName("remainingTime")] public string? RemainingTime { get; init; }

    /// <summary>Time so far (current) or in all (total), "00h 02m 01s".</summary>
    [JsonPropertyName("time")] public string? Time { get; init; }
}

/// <summary>Where a scan stands: published during a scan, and the reply to "scanStatus".</summary>
public sealed record ScanStatus
{
    /// <summary>The running values.</summary>
    [JsonPropertyName("current")] public ScanCounters Current { get; init; } = new();

    /// <summary>The scan type's display name, e.g. "OSA Scan".</summary>
    [JsonPropertyName("scanType")] public string? ScanType { get; init; }

    /// <summary>"running", "paused" or "idle".</summary>
    [JsonPropertyName("status")] public string Status
    {
        get => _status ?? "idle";
        init => _status = value;
    }

    private readonly string? _status;

    /// <summary>The totals.</summary>
    [JsonPropertyName("total")] public ScanCounters Total { get; init; } = new();

    /// <summary>The controller's duration text: "00h 22m 46s".</summary>
    public static string FormatDuration(TimeSpan duration)
    {
        var seconds = (long)Math.Max(0, Math.Round(duration.TotalSeconds));
        return string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600:00}h {seconds / 60 % 60:00}m {seconds % 60:00}s");
    }

    /// <summary>Reads "00h 22m 46s" (hours, minutes, seconds in any subset); null when it is not such a text.</summary>
    public static TimeSpan? ParseDuration(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var total = 0.0;
        foreach (var part in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var unit = part[^1];
            if (!double.TryParse(part.AsSpan(0, part.Length - 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                return null;
            }

            total += unit switch
            {
                'h' => value * 3600,
                'm' => value * 60,
                's' => value,
                _ => double.NaN,
            };
        }

        return double.IsFinite(total) ? TimeSpan.FromSeconds(total) : null;
    }
}

/// <summary>The scan status.</summary>
/// <param name="Status">Its content.</param>
public sealed record ScanStatusMessage(ScanStatus Status) : PublishedMessage
{
    /// <summary>The name.</summary>
    public const string MessageName = "scanStatus";

    /// <inheritdoc />
    public override string Name => MessageName;

    /// <inheritdoc />
    protected override IEnumerable<string> Body() => [PixelatorFraming.ToJson(Status)];
}

/// <summary>A scan began; the echo of its scan request.</summary>
/// <param name="Scan">The request.</param>
public sealed record ScanStartedMessage(PixelatorScanRequest Scan) : PublishedMessage
{
    /// <summary>The name.</summary>
    public const string MessageName = "scanStarted";

    /// <inheritdoc />
    public override string Name => MessageName;

    /// <inheritdoc />
    protected override IEnumerable<string> Body() => [PixelatorFraming.ToJson(Scan)];
}

/// <summary>
/// A chunk of acquired data: <paramref name="Height"/> × <paramref name="Width"/> values starting at
/// (<paramref name="Row"/>, <paramref name="Column"/>) of tile <paramref name="Tile"/> of image <paramref name="Image"/> at
/// outer point <paramref name="Outer"/>, for channel <paramref name="Channel"/> (an index into recordedChannels).
/// </summary>
/// <param name="Outer">Outer point (energy) index.</param>
/// <param name="Image">Inner region (image, point, line) index.</param>
/// <param name="Tile">Tile index, 0 when not tiled.</param>
/// <param name="Channel">Detector channel index.</param>
/// <param name="Row">First row of the chunk within its tile.</param>
/// <param name="Column">First column of the chunk within its tile.</param>
/// <param name="Height">Rows of the chunk.</param>
/// <param name="Width">Columns of the chunk.</param>
/// <param name="Values">Height × Width values, row-major.</param>
public sealed record ScanLineDataMessage(int Outer, int Image, int Tile, int Channel, int Row, int Column, int Height, int Width, double[] Values) : PublishedMessage
{
    /// <summary>The name.</summary>
    public const string MessageName = "scanLineData";

    /// <inheritdoc />
    public override string Name => MessageName;

    /// <inheritdoc />
    protected override IEnumerable<string> Body()
    {
        var values = new StringBuilder(Values.Length * 8 + 2).Append('[');
        for (var i = 0; i < Values.Length; i++)
        {
            if (i > 0)
            {
                values.Append(',');
            }

            var v = Values[i];
            values.Append(double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : "NaN");
        }

        values.Append(']');
        return
        [
            string.Create(CultureInfo.InvariantCulture, $"{Outer} {Image} {Tile} {Channel} "),
            string.Create(CultureInfo.InvariantCulture, $"{Row} {Column} "),
            string.Create(CultureInfo.InvariantCulture, $"{Height} {Width} "),
            values.ToString(),
        ];
    }

    internal static ScanLineDataMessage Parse(IReadOnlyList<string> frames)
    {
        if (frames.Count != 5)
        {
            throw new PixelatorProtocolException($"'{MessageName}' has 5 frames (name, \"outer img tile chan\", \"row col\", \"h w\", values); got {frames.Count}.");
        }

        var indices = Integers(frames[1], 4, "outer img tile chan");
        var start = Integers(frames[2], 2, "row col");
        var shape = Integers(frames[3], 2, "h w");
        var values = ParseValues(frames[4]);

        if (indices.Any(i => i < 0) || start.Any(i => i < 0) || shape.Any(i => i < 0))
        {
            throw new PixelatorProtocolException($"'{MessageName}' indices, start and shape must not be negative.");
        }

        if ((long)shape[0] * shape[1] != values.Length)
        {
            throw new PixelatorProtocolException($"'{MessageName}' shape {shape[0]}×{shape[1]} holds {(long)shape[0] * shape[1]} values; the message has {values.Length}.");
        }

        return new ScanLineDataMessage(indices[0], indices[1], indices[2], indices[3], start[0], start[1], shape[0], shape[1], values);
    }

    /// <summary>
    /// The values frame, "[v,v,...]": read by hand rather than by a JSON reader, since it is the one frame that comes a
    /// thousand times a second, and the controller writes NaN (and pyStxm's own tools null) for missing values.
    /// </summary>
    private static double[] ParseValues(string frame)
    {
        var text = frame.AsSpan().Trim();
        if (text.Length < 2 || text[0] != '[' || text[^1] != ']')
        {
            throw new PixelatorProtocolException($"'{MessageName}' values (frame 4) are not a JSON array of numbers: \"{PixelatorRequest.Shorten(frame)}\".");
        }

        text = text[1..^1];
        if (text.Trim().IsEmpty)
        {
            return [];
        }

        // One value per comma-separated item (an empty item is an error below), read straight into the line's array.
        var values = new double[text.Count(',') + 1];
        var index = 0;
        foreach (var range in text.Split(','))
        {
            var item = text[range].Trim();
            if (item.SequenceEqual("null") || item.SequenceEqual("NaN"))
            {
                values[index++] = double.NaN;
            }
            else if (TryParsePlain(item, out var plain))
            {
                values[index++] = plain;
            }
            else if (item.Length > 0 && (char.IsAsciiDigit(item[0]) || item[0] is '-' or '+' or '.')
                && double.TryParse(item, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
            {
                values[index++] = v;
            }
            else
            {
                throw new PixelatorProtocolException($"'{MessageName}' values (frame 4) are not a JSON array of numbers: '{PixelatorRequest.Shorten(item.ToString())}' at index {index}.");
            }
        }

        return values;
    }

    /// <summary>Powers of ten that a double holds exactly (10^0 to 10^22).</summary>
    private static readonly double[] ExactPowersOfTen =
        [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

    /// <summary>
    /// Reads a plain decimal ("1234", "-20.94", ".0625": what a controller writes for counts) to exactly the double
    /// <see cref="double.Parse(string)"/> gives, without its general machinery: with at most 15 significant digits the
    /// significand is exact in a double, and so is a power of ten up to 10^22, so one division (or none) is the correctly
    /// rounded value (Clinger's fast path). Anything else (more digits, an exponent, a '+' sign) is left to
    /// <see cref="double.TryParse(ReadOnlySpan{char}, NumberStyles, IFormatProvider?, out double)"/>. A million values a
    /// second come this way: the general parse took a tenth of the server's CPU under the live load bench.
    /// </summary>
    private static bool TryParsePlain(ReadOnlySpan<char> item, out double value)
    {
        value = 0;
        var negative = item.Length > 0 && item[0] == '-';
        long significand = 0;
        int significant = 0, decimals = 0;
        bool digit = false, point = false;
        foreach (var c in negative ? item[1..] : item)
        {
            if (char.IsAsciiDigit(c))
            {
                if (significand != 0 || c != '0')
                {
                    significant++;
                }

                if (significant > 15)
                {
                    return false;
                }

                significand = (significand * 10) + (c - '0');
                decimals += point ? 1 : 0;
                digit = true;
            }
            else if (c == '.' && !point)
            {
                point = true;
            }
            else
            {
                return false;
            }
        }

        if (!digit || decimals >= ExactPowersOfTen.Length)
        {
            return false;
        }

        value = significand / ExactPowersOfTen[decimals];
        value = negative ? -value : value;
        return true;
    }

    private static int[] Integers(string frame, int count, string what)
    {
        var parts = frame.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != count)
        {
            throw new PixelatorProtocolException($"'{MessageName}' frame \"{what}\" needs {count} integers; got \"{PixelatorRequest.Shorten(frame)}\".");
        }

        var values = new int[count];
        for (var i = 0; i < count; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out values[i]))
            {
                throw new PixelatorProtocolException($"'{MessageName}' frame \"{what}\": '{PixelatorRequest.Shorten(parts[i])}' is not an integer.");
            }
        }

        return values;
    }
}

/// <summary>What "scanFinished" reports: the file and where the controller keeps its files.</summary>
public sealed record ScanFinished
{
    /// <summary>The data file, a path on the controller's host (under its discard directory until kept).</summary>
    [JsonPropertyName("filename")] public string Filename
    {
        get => _filename ?? "";
        init => _filename = value;
    }

    private readonly string? _filename;

    /// <summary>The controller's flag of how the scan ended (0 = complete, as the simulated controller writes it).</summary>
    [JsonPropertyName("flag"), JsonConverter(typeof(LooseString))] public string? Flag { get; init; }

    /// <summary>NeXusBaseDirectory of the controller's settings.</summary>
    [JsonPropertyName("neXusBaseDirectory")] public string? NeXusBaseDirectory { get; init; }

    /// <summary>NeXusDiscardSubDirectory.</summary>
    [JsonPropertyName("neXusDiscardSubDirectory")] public string? NeXusDiscardSubDirectory { get; init; }

    /// <summary>NeXusLocalBaseDirectory.</summary>
    [JsonPropertyName("neXusLocalBaseDirectory")] public string? NeXusLocalBaseDirectory { get; init; }
}

/// <summary>The scan ended and its file is written.</summary>
/// <param name="Finished">The file.</param>
public sealed record ScanFinishedMessage(ScanFinished Finished) : PublishedMessage
{
    /// <summary>The name.</summary>
    public const string MessageName = "scanFinished";

    /// <inheritdoc />
    public override string Name => MessageName;

    /// <inheritdoc />
    protected override IEnumerable<string> Body() => [PixelatorFraming.ToJson(Finished)];
}

/// <summary>Why and where a scan was aborted (the frame is optional: pyStxm only looks at the name).</summary>
public sealed record ScanAborted
{
    /// <summary>Why.</summary>
    [JsonPropertyName("message")] public string? Message { get; init; }

    /// <summary>The file of what was acquired.</summary>
    [JsonPropertyName("filename")] public string? Filename { get; init; }
}

/// <summary>The scan was aborted.</summary>
/// <param name="Aborted">Why, and the file.</param>
public sealed record ScanAbortedMessage(ScanAborted Aborted) : PublishedMessage
{
    /// <summary>The name.</summary>
    public const string MessageName = "scanAborted";

    /// <inheritdoc />
    public override string Name => MessageName;

    /// <inheritdoc />
    protected override IEnumerable<string> Body() => [PixelatorFraming.ToJson(Aborted)];
}

/// <summary>The data file of the scan under way: its name and directory, as plain-text frames.</summary>
/// <param name="File">File name.</param>
/// <param name="Directory">Directory.</param>
public sealed record FilenameMessage(string File, string Directory) : PublishedMessage
{
    /// <summary>The name.</summary>
    public const string MessageName = "filename";

    /// <inheritdoc />
    public override string Name => MessageName;

    /// <inheritdoc />
    protected override IEnumerable<string> Body() => [File, Directory];
}

/// <summary>The channels the controller records (scanLineData's channel index counts in this list).</summary>
/// <param name="Channels">Channel names.</param>
public sealed record RecordedChannelsMessage(IReadOnlyList<string> Channels) : PublishedMessage
{
    /// <summary>The name.</summary>
    public const string MessageName = "recordedChannels";

    /// <inheritdoc />
    public override string Name => MessageName;

    /// <inheritdoc />
    protected override IEnumerable<string> Body() => [PixelatorFraming.ToJson(Channels)];
}

/// <summary>Live detector values (oscilloscope), one per recorded channel.</summary>
/// <param name="Values">The values.</param>
public sealed record DetectorValuesMessage(double[] Values) : PublishedMessage
{
    /// <summary>The name.</summary>
    public const string MessageName = "detectorValues";

    /// <inheritdoc />
    public override string Name => MessageName;

    /// <inheritdoc />
    protected override IEnumerable<string> Body() => [PixelatorFraming.ToJson(Values)];
}

/// <summary>A named value.</summary>
/// <param name="Name">Name.</param>
/// <param name="Value">Value.</param>
public sealed record NamedValue([property: JsonPropertyName("name")] string Name, [property: JsonPropertyName("value")] double Value);

/// <summary>Chart-mode values by detector name.</summary>
/// <param name="Values">The values.</param>
public sealed record ChartModeDetectorUpdateMessage(IReadOnlyList<NamedValue> Values) : PublishedMessage
{
    /// <summary>The name.</summary>
    public const string MessageName = "chartmode_detector_update";

    /// <inheritdoc />
    public override string Name => MessageName;

    /// <inheritdoc />
    protected override IEnumerable<string> Body() => [PixelatorFraming.ToJson(Values)];
}

/// <summary>The beam shutter's state as a colour: "red" is closed, "green" open.</summary>
/// <param name="Colour">The colour.</param>
public sealed record BeamShutterStatusMessage(string Colour) : PublishedMessage
{
    /// <summary>The name.</summary>
    public const string MessageName = "beamShutterStatus";

    /// <inheritdoc />
    public override string Name => MessageName;

    /// <summary>Whether the shutter is closed.</summary>
    public bool IsClosed => Colour.Contains("red", StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc />
    protected override IEnumerable<string> Body() => [PixelatorFraming.ToJson(Colour)];
}

/// <summary>The focus state: the largest OSA–sample distance (pyStxm's A0).</summary>
/// <param name="MaxDOsa">µm.</param>
public sealed record FocalStatus([property: JsonPropertyName("maxDOsa")] double MaxDOsa);

/// <summary>The focus state.</summary>
/// <param name="Status">Its content.</param>
public sealed record FocalStatusMessage(FocalStatus Status) : PublishedMessage
{
    /// <summary>The name.</summary>
    public const string MessageName = "focalStatus";

    /// <inheritdoc />
    public override string Name => MessageName;

    /// <inheritdoc />
    protected override IEnumerable<string> Body() => [PixelatorFraming.ToJson(Status)];
}

/// <summary>The zone-plate definition changed.</summary>
/// <param name="Definition">The new definition.</param>
public sealed record ZonePlateDefinitionMessage(ZonePlateDefinition Definition) : PublishedMessage
{
    /// <summary>The name.</summary>
    public const string MessageName = "zonePlateDefinition";

    /// <inheritdoc />
    public override string Name => MessageName;

    /// <inheritdoc />
    protected override IEnumerable<string> Body() => [PixelatorFraming.ToJson(Definition)];
}

/// <summary>The positioner definitions changed (limits, offsets).</summary>
/// <param name="Positioners">The new definitions.</param>
public sealed record PositionerDefinitionMessage(IReadOnlyList<PositionerDefinition> Positioners) : PublishedMessage
{
    /// <summary>The name.</summary>
    public const string MessageName = "positionerDefinition";

    /// <inheritdoc />
    public override string Name => MessageName;

    /// <inheritdoc />
    protected override IEnumerable<string> Body() => [PixelatorFraming.ToJson(Positioners)];
}

/// <summary>What a loaded file holds, as the controller describes it.</summary>
public sealed record ScanFileContent
{
    /// <summary>Directory.</summary>
    [JsonPropertyName("directory")] public string Directory
    {
        get => _directory ?? "";
        init => _directory = value;
    }

    private readonly string? _directory;

    /// <summary>File name.</summary>
    [JsonPropertyName("filename")] public string Filename
    {
        get => _filename ?? "";
        init => _filename = value;
    }

    private readonly string? _filename;

    /// <summary>The controller's scan type of the file.</summary>
    [JsonPropertyName("scanType")] public string? ScanType { get; init; }

    /// <summary>The scan request stored in the file.</summary>
    [JsonPropertyName("scanRequest")] public JsonElement? ScanRequest { get; init; }

    /// <summary>pyStxm's loader's dictionary of the file, as a JSON text.</summary>
    [JsonPropertyName("pystxm_load")] public string? PystxmLoad { get; init; }

    /// <summary>Region profiles, scan data and the rest, kept as they came.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; init; }
}

/// <summary>A loaded file's content (on the file-content port 56563, or 56561), for the viewer <paramref name="PluginNumber"/>.</summary>
/// <param name="Content">The content.</param>
/// <param name="PluginNumber">The viewer that asked (PSI tools append it to the name), or null.</param>
public sealed record ScanFileContentMessage(ScanFileContent Content, int? PluginNumber = null) : PublishedMessage
{
    /// <summary>The name (without plugin number).</summary>
    public const string MessageName = "scanFileContent";

    /// <inheritdoc />
    public override string Name => PluginNumber is { } n ? string.Create(CultureInfo.InvariantCulture, $"{MessageName}{n}") : MessageName;

    /// <inheritdoc />
    protected override IEnumerable<string> Body() => [PixelatorFraming.ToJson(Content)];

    internal static ScanFileContentMessage Parse(IReadOnlyList<string> frames)
    {
        var suffix = frames[0][MessageName.Length..];
        int? plugin = null;
        if (suffix.Length > 0)
        {
            plugin = int.TryParse(suffix, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                ? n
                : throw new PixelatorProtocolException($"'{PixelatorRequest.Shorten(frames[0])}' is not scanFileContent followed by a plugin number.");
        }

        return new ScanFileContentMessage(PixelatorFraming.FromJson<ScanFileContent>(frames, 1, MessageName), plugin);
    }
}

/// <summary>
/// The other publications, each one JSON frame StxmWeb shows but does not interpret: moveStatus, userStatus, focusType,
/// scanTypeArchive, beamShutterMode, topupMode, topupStatus.
/// </summary>
/// <param name="PublishedName">The name.</param>
/// <param name="Content">The JSON frame.</param>
public sealed record JsonPublication(string PublishedName, JsonElement Content) : PublishedMessage
{
    /// <summary>The names.</summary>
    public static IReadOnlyList<string> KnownNames { get; } = ["moveStatus", "userStatus", "focusType", "scanTypeArchive", "beamShutterMode", "topupMode", "topupStatus"];

    /// <inheritdoc />
    public override string Name => PublishedName;

    /// <inheritdoc />
    protected override IEnumerable<string> Body() => [Content.GetRawText()];
}

/// <summary>Reads a string, number or boolean as text (fields whose type the controller does not fix).</summary>
public sealed class LooseString : JsonConverter<string?>
{
    /// <inheritdoc />
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Null => null,
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False => Encoding.UTF8.GetString(reader.ValueSpan),
        _ => throw new JsonException($"Expected a string, number or boolean; got {reader.TokenType}."),
    };

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, string? value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else if (long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n))
        {
            writer.WriteNumberValue(n);
        }
        else
        {
            writer.WriteStringValue(value);
        }
    }
}
