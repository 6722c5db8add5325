// Requests to the controller's REP socket (56562): frame 0 the command name, exactly as the controller spells it (some
// contain spaces: "OSA IN", "loadFile file", "modified positioner definition"), frame 1 the JSON argument where there is
// one. One record per command; Decode is the inverse of ToFrames, so the simulated controller reads what the backend
// writes through the same code, and a test round-trips every command found by reflection.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace StxmWeb.Pixelator.Protocol;

/// <summary>A request to the controller.</summary>
public abstract record PixelatorRequest
{
    /// <summary>The command name (frame 0).</summary>
    [JsonIgnore] public abstract string Command { get; }

    /// <summary>Whether sending it twice does no harm (a lost reply may then be retried on a new socket).</summary>
    [JsonIgnore] public virtual bool IsIdempotent => true;

    /// <summary>The JSON argument (frame 1), or null when the command has none.</summary>
    protected virtual string? Argument => null;

    /// <summary>The request's frames.</summary>
    public string[] ToFrames() => Argument is { } argument ? [Command, argument] : [Command];

    /// <summary>Every command name this code knows, for the controller's unknown-command reply.</summary>
    public static IReadOnlyList<string> Commands { get; } =
    [
        InitializeRequest.Name, GetSettingsRequest.Name, RecordedChannelsRequest.Name, StartScanRequest.Name, AbortScanRequest.Name,
        PauseScanRequest.Name, ResumeScanRequest.Name, MoveRequest.Name, ModifiedPositionerDefinitionRequest.Name,
        ModifiedZonePlateDefinitionRequest.Name, OscilloscopeDefinitionRequest.Name, FocusTypeRequest.Name, TopupModeRequest.Name,
        BeamShutterModeRequest.Name, .. MicroscopeCommandRequest.Names, LoadDirectoryRequest.Name, LoadFileRequest.OneName,
        LoadFileRequest.SeveralName, ListDirectoryRequest.Name, ZonePlateFocusRequest.Name, EstimatedTimeRequest.Name,
        ScanStatusRequest.Name, PositionerStatusRequest.Name, HomeRequest.Name, DetectorSettingsRequest.Name,
        .. OtherRequest.Names,
    ];

    /// <summary>Decodes a request from its frames.</summary>
    /// <exception cref="PixelatorProtocolException">Unknown command, a missing argument or a malformed one.</exception>
    public static PixelatorRequest Decode(IReadOnlyList<string> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        if (frames.Count == 0)
        {
            throw new PixelatorProtocolException("A request needs at least one frame (the command).");
        }

        var command = frames[0];
        return command switch
        {
            InitializeRequest.Name => new InitializeRequest(),
            GetSettingsRequest.Name => new GetSettingsRequest(),
            RecordedChannelsRequest.Name => new RecordedChannelsRequest(PixelatorFraming.FromJson<List<string>>(frames, 1, command)),
            StartScanRequest.Name => new StartScanRequest(PixelatorFraming.FromJson<PixelatorScanRequest>(frames, 1, command)),
            AbortScanRequest.Name => new AbortScanRequest(),
            PauseScanRequest.Name => new PauseScanRequest(),
            ResumeScanRequest.Name => new ResumeScanRequest(),
            MoveRequest.Name => MoveRequest.FromArgument(PixelatorFraming.FromJson<MoveRequest.Body>(frames, 1, command)),
            ModifiedPositionerDefinitionRequest.Name => ModifiedPositionerDefinitionRequest.FromArgument(PixelatorFraming.FromJson<JsonElement>(frames, 1, command)),
            ModifiedZonePlateDefinitionRequest.Name => new ModifiedZonePlateDefinitionRequest(PixelatorFraming.FromJson<ZonePlateDefinition>(frames, 1, command)),
            OscilloscopeDefinitionRequest.Name => new OscilloscopeDefinitionRequest(PixelatorFraming.FromJson<OscilloscopeDefinition>(frames, 1, command)),
            FocusTypeRequest.Name => new FocusTypeRequest(PixelatorFraming.FromJson<string>(frames, 1, command)),
            TopupModeRequest.Name => new TopupModeRequest(PixelatorFraming.FromJson<string>(frames, 1, command)),
            BeamShutterModeRequest.Name => new BeamShutterModeRequest(PixelatorFraming.FromJson<string>(frames, 1, command)),
            _ when MicroscopeCommandRequest.Names.Contains(command) => new MicroscopeCommandRequest(command),
            LoadDirectoryRequest.Name => new LoadDirectoryRequest(PixelatorFraming.FromJson<DirectoryQuery>(frames, 1, command)),
            LoadFileRequest.OneName => new LoadFileRequest(PixelatorFraming.FromJson<LoadFileQuery>(frames, 1, command), Several: false),
            LoadFileRequest.SeveralName => new LoadFileRequest(PixelatorFraming.FromJson<LoadFileQuery>(frames, 1, command), Several: true),
            ListDirectoryRequest.Name => new ListDirectoryRequest(PixelatorFraming.FromJson<DirectoryQuery>(frames, 1, command)),
            ZonePlateFocusRequest.Name => new ZonePlateFocusRequest(PixelatorFraming.FromJson<ZonePlateFocus>(frames, 1, command)),
            EstimatedTimeRequest.Name => new EstimatedTimeRequest(PixelatorFraming.FromJson<PixelatorScanRequest>(frames, 1, command)),
            ScanStatusRequest.Name => new ScanStatusRequest(),
            PositionerStatusRequest.Name => new PositionerStatusRequest(),
            HomeRequest.Name => new HomeRequest(PixelatorFraming.FromJson<HomeRequest.Body>(frames, 1, command).Positioners),
            DetectorSettingsRequest.Name => new DetectorSettingsRequest(),
            _ when OtherRequest.Names.Contains(command) => new OtherRequest(command, PixelatorFraming.Has(frames, 1) ? frames[1] : null),
            _ => throw new PixelatorProtocolException($"Unknown command '{Shorten(command)}'."),
        };
    }

    internal static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";
}

/// <summary>Connects: the controller answers with its positioners, detectors, oscilloscope, zone plates, file system and version.</summary>
public sealed record InitializeRequest : PixelatorRequest
{
    /// <summary>The command name.</summary>
    public const string Name = "initialize";

    /// <inheritdoc />
    public override string Command => Name;
}

/// <summary>Asks for the controller's settings (its settings.json and referenced files).</summary>
public sealed record GetSettingsRequest : PixelatorRequest
{
    /// <summary>The command name.</summary>
    public const string Name = "getSettings";

    /// <inheritdoc />
    public override string Command => Name;
}

/// <summary>Selects the detector channels the controller records.</summary>
/// <param name="Channels">Channel names, e.g. ["Counter0"].</param>
public sealed record RecordedChannelsRequest(IReadOnlyList<string> Channels) : PixelatorRequest
{
    /// <summary>The command name.</summary>
    public const string Name = "recordedChannels";

    /// <inheritdoc />
    public override string Command => Name;

    /// <inheritdoc />
    protected override string? Argument => PixelatorFraming.ToJson(Channels);
}

/// <summary>Starts a scan ("scanRequest").</summary>
/// <param name="Scan">The scan.</param>
public sealed record StartScanRequest(PixelatorScanRequest Scan) : PixelatorRequest
{
    /// <summary>The command name.</summary>
    public const string Name = "scanRequest";

    /// <inheritdoc />
    public override string Command => Name;

    /// <inheritdoc />
    public override bool IsIdempotent => false;

    /// <inheritdoc />
    protected override string? Argument => PixelatorFraming.ToJson(Scan);
}

/// <summary>Aborts the scan.</summary>
public sealed record AbortScanRequest : PixelatorRequest
{
    /// <summary>The command name.</summary>
    public const string Name = "abortScan";

    /// <inheritdoc />
    public override string Command => Name;
}

/// <summary>Pauses the scan.</summary>
public sealed record PauseScanRequest : PixelatorRequest
{
    /// <summary>The command name.</summary>
    public const string Name = "pauseScan";

    /// <inheritdoc />
    public override string Command => Name;
}

/// <summary>Resumes a paused scan.</summary>
public sealed record ResumeScanRequest : PixelatorRequest
{
    /// <summary>The command name.</summary>
    public const string Name = "resumeScan";

    /// <inheritdoc />
    public override string Command => Name;
}

/// <summary>Moves positioners: two parallel arrays, as the controller's MessageQueue reads them.</summary>
/// <param name="Positioners">Controller names.</param>
/// <param name="Positions">Targets, one per name.</param>
public sealed record MoveRequest(IReadOnlyList<string> Positioners, IReadOnlyList<double> Positions) : PixelatorRequest
{
    /// <summary>The command name.</summary>
    public const string Name = "moveRequest";

    /// <summary>A single-positioner move.</summary>
    public MoveRequest(string positioner, double position) : this([positioner], [position]) { }

    /// <inheritdoc />
    public override string Command => Name;

    /// <inheritdoc />
    public override bool IsIdempotent => false;

    /// <inheritdoc />
    protected override string? Argument => PixelatorFraming.ToJson(new Body([.. Positioners], [.. Positions]));

    /// <summary>The JSON argument.</summary>
    /// <param name="Positioners">Names.</param>
    /// <param name="Positions">Targets.</param>
    public sealed record Body(
        [property: JsonPropertyName("positioners")] List<string> Positioners,
        [property: JsonPropertyName("positions")] List<double> Positions);

    internal static MoveRequest FromArgument(Body body)
    {
        if (body.Positioners is null || body.Positions is null)
        {
            throw new PixelatorProtocolException("'moveRequest' needs \"positioners\" and \"positions\" arrays.");
        }

        if (body.Positioners.Count != body.Positions.Count)
        {
            throw new PixelatorProtocolException(
                $"'moveRequest' names {body.Positioners.Count} positioners but gives {body.Positions.Count} positions.");
        }

        return new MoveRequest(body.Positioners, body.Positions);
    }
}

/// <summary>Changes one field of a positioner's definition: a soft limit, the offset or the auto-off mode.</summary>
/// <param name="Positioner">Controller name.</param>
/// <param name="Field">"lowerSoftLimit", "upperSoftLimit", "positionOffset" or "autoOffMode".</param>
/// <param name="Value">The new value (a number, or the auto-off mode's name).</param>
public sealed record ModifiedPositionerDefinitionRequest(string Positioner, string Field, JsonElement Value) : PixelatorRequest
{
    /// <summary>The command name.</summary>
    public const string Name = "modified positioner definition";

    /// <summary>The fields that may be changed.</summary>
    public static IReadOnlyList<string> Fields { get; } = ["lowerSoftLimit", "upperSoftLimit", "positionOffset", "autoOffMode"];

    /// <inheritdoc />
    public override string Command => Name;

    /// <inheritdoc />
    protected override string? Argument
    {
        get
        {
            var body = new Dictionary<string, JsonElement> { ["name"] = JsonSerializer.SerializeToElement(Positioner), [Field] = Value };
            return PixelatorFraming.ToJson(body);
        }
    }

    /// <summary>A numeric field change.</summary>
    public static ModifiedPositionerDefinitionRequest Number(string positioner, string field, double value) =>
        new(positioner, field, JsonSerializer.SerializeToElement(value));

    internal static ModifiedPositionerDefinitionRequest FromArgument(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
        {
            throw new PixelatorProtocolException($"'{Name}' needs an object with a \"name\" string.");
        }

        var fields = body.EnumerateObject().Where(p => p.Name != "name").ToList();
        if (fields.Count != 1 || !Fields.Contains(fields[0].Name))
        {
            throw new PixelatorProtocolException($"'{Name}' changes one of {string.Join(", ", Fields)}; got {string.Join(", ", fields.Select(f => f.Name))}.");
        }

        return new ModifiedPositionerDefinitionRequest(name.GetString()!, fields[0].Name, fields[0].Value.Clone());
    }
}

/// <summary>Sends the whole zone-plate definition back with <c>"active": 1</c> on the chosen zone plate and OSA.</summary>
/// <param name="Definition">The definition.</param>
public sealed record ModifiedZonePlateDefinitionRequest(ZonePlateDefinition Definition) : PixelatorRequest
{
    /// <summary>The command name.</summary>
    public const string Name = "modified zonePlate definition";

    /// <inheritdoc />
    public override string Command => Name;

    /// <inheritdoc />
    protected override string? Argument => PixelatorFraming.ToJson(Definition);
}

/// <summary>Turns the oscilloscope (live detector values) on or off and sets its interval.</summary>
/// <param name="Definition">The definition.</param>
public sealed record OscilloscopeDefinitionRequest(OscilloscopeDefinition Definition) : PixelatorRequest
{
    /// <summary>The command name.</summary>
    public const string Name = "oscilloscopeDefinition";

    /// <inheritdoc />
    public override string Command => Name;

    /// <inheritdoc />
    protected override string? Argument => PixelatorFraming.ToJson(Definition);
}

/// <summary>Zone-plate focus: "Static" or "Auto" (follows the energy).</summary>
/// <param name="Type">The focus type.</param>
public sealed record FocusTypeRequest(string Type) : PixelatorRequest
{
    /// <summary>The command name.</summary>
    public const string Name = "focusType";

    /// <inheritdoc />
    public override string Command => Name;

    /// <inheritdoc />
    protected override string? Argument => PixelatorFraming.ToJson(Type);
}

/// <summary>Top-up gating of acquisitions.</summary>
/// <param name="Mode">The gating mode.</param>
public sealed record TopupModeRequest(string Mode) : PixelatorRequest
{
    /// <summary>The command name.</summary>
    public const string Name = "topupMode";

    /// <inheritdoc />
    public override string Command => Name;

    /// <inheritdoc />
    protected override string? Argument => PixelatorFraming.ToJson(Mode);
}

/// <summary>The beam shutter's mode: "Auto", "Open", "Closed" or "Auto Line".</summary>
/// <param name="Mode">The mode.</param>
public sealed record BeamShutterModeRequest(string Mode) : PixelatorRequest
{
    /// <summary>The command name.</summary>
    public const string Name = "beamShutterMode";

    /// <summary>The modes the controller knows.</summary>
    public static IReadOnlyList<string> Modes { get; } = ["Auto", "Open", "Closed", "Auto Line"];

    /// <inheritdoc />
    public override string Command => Name;

    /// <inheritdoc />
    protected override string? Argument => PixelatorFraming.ToJson(Mode);
}

/// <summary>
/// A microscope command without argument: "OSA IN", "OSA OUT", "ZonePlate IN", "ZonePlate OUT", "Sample OUT",
/// "resetInterferometer", "allMotorsOff".
/// </summary>
/// <param name="Name">The command.</param>
public sealed record MicroscopeCommandRequest(string Name) : PixelatorRequest
{
    /// <summary>The commands.</summary>
    public static IReadOnlyList<string> Names { get; } = ["OSA IN", "OSA OUT", "ZonePlate IN", "ZonePlate OUT", "Sample OUT", "resetInterferometer", "allMotorsOff"];

    /// <inheritdoc />
    public override string Command => Names.Contains(Name) ? Name : throw new PixelatorProtocolException($"'{Name}' is not a microscope command.");

    /// <inheritdoc />
    public override bool IsIdempotent => Name != "resetInterferometer";
}

/// <summary>A directory and file extension (the argument of "loadFile directory" and "listDirectory").</summary>
public sealed record DirectoryQuery
{
    /// <summary>Directory on the controller's file system.</summary>
    [JsonPropertyName("directory")] public string Directory
    {
        get => _directory ?? "";
        init => _directory = value;
    }

    private readonly string? _directory;

    /// <summary>1 to list hidden files.</summary>
    [JsonPropertyName("showHidden")] public int? ShowHidden { get; init; }

    /// <summary>Extension, ".hdf5".</summary>
    [JsonPropertyName("fileExtension")] public string FileExtension
    {
        get => _fileExtension ?? ".hdf5";
        init => _fileExtension = value;
    }

    private readonly string? _fileExtension;
}

/// <summary>Lists a directory: the reply carries its directories and files.</summary>
/// <param name="Query">What to list.</param>
public sealed record LoadDirectoryRequest(DirectoryQuery Query) : PixelatorRequest
{
    /// <summary>The command name.</summary>
    public const string Name = "loadFile directory";

    /// <inheritdoc />
    public override string Command => Name;

    /// <inheritdoc />
    protected override string? Argument => PixelatorFraming.ToJson(Query);
}

/// <summary>The argument of "loadFile file" and "loadFile files".</summary>
public sealed record LoadFileQuery
{
    /// <summary>Directory.</summary>
    [JsonPropertyName("directory")] public string Directory
    {
        get => _directory ?? "";
        init => _directory = value;
    }

    private readonly string? _directory;

    /// <summary>The (first) file, a path.</summary>
    [JsonPropertyName("file")] public string File
    {
        get => _file ?? "";
        init => _file = value;
    }

    private readonly string? _file;

    /// <summary>1 to list hidden files.</summary>
    [JsonPropertyName("showHidden")] public int ShowHidden { get; init; }

    /// <summary>Extension.</summary>
    [JsonPropertyName("fileExtension")] public string FileExtension
    {
        get => _fileExtension ?? ".hdf5";
        init => _fileExtension = value;
    }

    private readonly string? _fileExtension;

    /// <summary>Directories shown beside the files ("..", "discard").</summary>
    [JsonPropertyName("directories")] public List<string> Directories
    {
        get => _directories ?? ["..", "discard"];
        init => _directories = value;
    }

    private readonly List<string>? _directories;

    /// <summary>The files to load.</summary>
    [JsonPropertyName("files")] public List<string> Files
    {
        get => _files ?? [];
        init => _files = value;
    }

    private readonly List<string>? _files;

    /// <summary>Which viewer asks (the content comes back as scanFileContent).</summary>
    [JsonPropertyName("pluginNumber")] public int PluginNumber { get; init; }
}

/// <summary>Loads one file ("loadFile file") or several ("loadFile files"); the content arrives as published scanFileContent.</summary>
/// <param name="Query">Which files.</param>
/// <param name="Several">"loadFile files" rather than "loadFile file".</param>
public sealed record LoadFileRequest(LoadFileQuery Query, bool Several) : PixelatorRequest
{
    /// <summary>The one-file command name.</summary>
    public const string OneName = "loadFile file";

    /// <summary>The several-files command name.</summary>
    public const string SeveralName = "loadFile files";

    /// <inheritdoc />
    public override string Command => Several ? SeveralName : OneName;

    /// <inheritdoc />
    protected override string? Argument => PixelatorFraming.ToJson(Query);
}

/// <summary>Lists the dated sub-directories of a directory with their number of files.</summary>
/// <param name="Query">Which directory.</param>
public sealed record ListDirectoryRequest(DirectoryQuery Query) : PixelatorRequest
{
    /// <summary>The command name.</summary>
    public const string Name = "listDirectory";

    /// <inheritdoc />
    public override string Command => Name;

    /// <inheritdoc />
    protected override string? Argument => PixelatorFraming.ToJson(Query with { ShowHidden = null });
}

/// <summary>The argument of "zonePlateFocus" (the PSI focus tool).</summary>
public sealed record ZonePlateFocus
{
    /// <summary>"Sample" or "OSA".</summary>
    [JsonPropertyName("target")] public string Target
    {
        get => _target ?? "Sample";
        init => _target = value;
    }

    private readonly string? _target;

    /// <summary>"calibrate".</summary>
    [JsonPropertyName("action")] public string Action
    {
        get => _action ?? "calibrate";
        init => _action = value;
    }

    private readonly string? _action;

    /// <summary>The zone-plate Z the user picked as the focus, µm.</summary>
    [JsonPropertyName("cursorPosition")] public double CursorPosition { get; init; }

    /// <summary>1: also set the OSA–sample distance.</summary>
    [JsonPropertyName("setDOsa")] public int? SetDOsa { get; init; }
}

/// <summary>Calibrates the focus at a zone-plate Z picked from a focus scan.</summary>
/// <param name="Focus">Target, action and cursor.</param>
public sealed record ZonePlateFocusRequest(ZonePlateFocus Focus) : PixelatorRequest
{
    /// <summary>The command name.</summary>
    public const string Name = "zonePlateFocus";

    /// <inheritdoc />
    public override string Command => Name;

    /// <inheritdoc />
    public override bool IsIdempotent => false;

    /// <inheritdoc />
    protected override string? Argument => PixelatorFraming.ToJson(Focus);
}

/// <summary>Asks how long a scan would take; the reply's frame 1 is {"estimatedTime": seconds}.</summary>
/// <param name="Scan">The scan.</param>
public sealed record EstimatedTimeRequest(PixelatorScanRequest Scan) : PixelatorRequest
{
    /// <summary>The command name.</summary>
    public const string Name = "estimatedTime";

    /// <inheritdoc />
    public override string Command => Name;

    /// <inheritdoc />
    protected override string? Argument => PixelatorFraming.ToJson(Scan);
}

/// <summary>Asks for the current scan status (as published in scanStatus).</summary>
public sealed record ScanStatusRequest : PixelatorRequest
{
    /// <summary>The command name.</summary>
    public const string Name = "scanStatus";

    /// <inheritdoc />
    public override string Command => Name;
}

/// <summary>Asks for every positioner's state (as published in positionerStatus).</summary>
public sealed record PositionerStatusRequest : PixelatorRequest
{
    /// <summary>The command name.</summary>
    public const string Name = "positionerStatus";

    /// <inheritdoc />
    public override string Command => Name;
}

/// <summary>Homes positioners (finds their reference marks).</summary>
/// <param name="Positioners">Controller names.</param>
public sealed record HomeRequest(IReadOnlyList<string> Positioners) : PixelatorRequest
{
    /// <summary>The command name.</summary>
    public const string Name = "homeRequest";

    /// <inheritdoc />
    public override string Command => Name;

    /// <inheritdoc />
    public override bool IsIdempotent => false;

    /// <inheritdoc />
    protected override string? Argument => PixelatorFraming.ToJson(new Body([.. Positioners]));

    /// <summary>The JSON argument.</summary>
    /// <param name="Positioners">Names.</param>
    public sealed record Body([property: JsonPropertyName("positioners")] List<string> Positioners);
}

/// <summary>Asks for the detectors' settings; the reply's frame 1 lists the detector definitions.</summary>
public sealed record DetectorSettingsRequest : PixelatorRequest
{
    /// <summary>The command name.</summary>
    public const string Name = "detectorSettings";

    /// <inheritdoc />
    public override string Command => Name;
}

/// <summary>
/// Commands the controller's source lists that neither pyStxm nor StxmWeb uses (their arguments are not documented):
/// carried as raw text, so they can be sent and read without losing anything.
/// </summary>
/// <param name="Name">The command.</param>
/// <param name="RawArgument">Frame 1, as sent.</param>
public sealed record OtherRequest(string Name, string? RawArgument) : PixelatorRequest
{
    /// <summary>The commands.</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["updateDetectorSettings", "moveStatus", "scanTypeArchive", "localFileScanTypeArchive", "loadDefinition", "change user", "script info"];

    /// <inheritdoc />
    public override string Command => Name;

    /// <inheritdoc />
    public override bool IsIdempotent => false;

    /// <inheritdoc />
    protected override string? Argument => RawArgument;
}
