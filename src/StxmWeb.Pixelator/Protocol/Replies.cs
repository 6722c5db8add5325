// Replies from the controller's REP socket: every frame is JSON; frame 0 is {"status":"ok"} or
// {"status":"error","message":"..."}; what follows depends on the command (initialize: six definitions; loadFile
// directory: the listing; ...). The typed views below read those payloads and fail with the frame that is wrong.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace StxmWeb.Pixelator.Protocol;

/// <summary>Frame 0 of every reply.</summary>
/// <param name="Status">"ok", or what went wrong ("error", "busy"...).</param>
/// <param name="Message">Why, when not ok.</param>
public sealed record ReplyStatus(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("message")] string? Message = null)
{
    /// <summary>Whether the command was accepted.</summary>
    [JsonIgnore] public bool IsOk => string.Equals(Status, "ok", StringComparison.OrdinalIgnoreCase);
}

/// <summary>A reply: its status and its JSON payload frames (1..n).</summary>
/// <param name="Status">Frame 0.</param>
/// <param name="Payload">Frames 1..n, JSON text.</param>
public sealed record PixelatorReply(ReplyStatus Status, IReadOnlyList<string> Payload)
{
    /// <summary>An "ok" reply with <paramref name="payload"/> (JSON texts).</summary>
    public static PixelatorReply Ok(params string[] payload) => new(new ReplyStatus("ok"), payload);

    /// <summary>An error reply.</summary>
    public static PixelatorReply Error(string message) => new(new ReplyStatus("error", message), []);

    /// <summary>The reply's frames.</summary>
    public string[] ToFrames() => [PixelatorFraming.ToJson(Status), .. Payload];

    /// <summary>Decodes a reply.</summary>
    /// <exception cref="PixelatorProtocolException">No frame, or frame 0 is not a status object.</exception>
    public static PixelatorReply Decode(IReadOnlyList<string> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        var status = PixelatorFraming.FromJson<ReplyStatus>(frames, 0, "reply");
        if (string.IsNullOrEmpty(status.Status))
        {
            throw new PixelatorProtocolException("Reply frame 0 has no \"status\".");
        }

        return new PixelatorReply(status, [.. frames.Skip(1)]);
    }

    /// <summary>Payload frame <paramref name="index"/> (1-based, as in the multipart message) as <typeparamref name="T"/>.</summary>
    public T Read<T>(int index, string command) =>
        PixelatorFraming.FromJson<T>([PixelatorFraming.ToJson(Status), .. Payload], index, $"{command} reply");

    /// <summary>Throws <see cref="PixelatorCommandException"/> naming <paramref name="command"/> when the reply is not ok.</summary>
    public PixelatorReply EnsureOk(string command) => Status.IsOk
        ? this
        : throw new PixelatorCommandException(command, Status.Message is { Length: > 0 } m ? $"{Status.Status}: {m}" : Status.Status);
}

/// <summary>The controller refused a command; the message names the command and gives the controller's reason.</summary>
public sealed class PixelatorCommandException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PixelatorCommandException(string command, string reason) : base($"The Pixelator controller refused '{command}': {reason}")
    {
        Command = command;
        Reason = reason;
    }

    /// <summary>Creates the exception.</summary>
    public PixelatorCommandException() : this("?", "refused") { }

    /// <summary>Creates the exception.</summary>
    public PixelatorCommandException(string message) : this("?", message) { }

    /// <summary>Creates the exception.</summary>
    public PixelatorCommandException(string message, Exception innerException) : base(message, innerException)
    {
        Command = "?";
        Reason = message;
    }

    /// <summary>The command.</summary>
    public string Command { get; } = "?";

    /// <summary>The controller's reason.</summary>
    public string Reason { get; } = "";
}

/// <summary>The reply to "initialize": what the controller drives and where it writes.</summary>
/// <param name="Positioners">positionerDefinition (frame 1), in the order positionerStatus lists them.</param>
/// <param name="Detectors">detectorDefinition (frame 2).</param>
/// <param name="Oscilloscope">oscilloscopeDefinition (frame 3).</param>
/// <param name="ZonePlates">zonePlateDefinition (frame 4).</param>
/// <param name="FileSystem">remoteFileSystemInfo (frame 5).</param>
/// <param name="ServerVersion">serverVersion (frame 6).</param>
public sealed record InitializeReply(
    IReadOnlyList<PositionerDefinition> Positioners,
    IReadOnlyList<DetectorDefinition> Detectors,
    OscilloscopeDefinition Oscilloscope,
    ZonePlateDefinition ZonePlates,
    RemoteFileSystemInfo FileSystem,
    string ServerVersion)
{
    /// <summary>The reply's payload frames (1..6).</summary>
    public PixelatorReply ToReply() => PixelatorReply.Ok(
        PixelatorFraming.ToJson(Positioners), PixelatorFraming.ToJson(Detectors), PixelatorFraming.ToJson(Oscilloscope),
        PixelatorFraming.ToJson(ZonePlates), PixelatorFraming.ToJson(FileSystem), PixelatorFraming.ToJson(ServerVersion));

    /// <summary>Reads an ok reply to "initialize".</summary>
    public static InitializeReply From(PixelatorReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        reply.EnsureOk(InitializeRequest.Name);
        var version = reply.Read<JsonElement>(6, InitializeRequest.Name);
        return new InitializeReply(
            reply.Read<List<PositionerDefinition>>(1, InitializeRequest.Name),
            reply.Read<List<DetectorDefinition>>(2, InitializeRequest.Name),
            reply.Read<OscilloscopeDefinition>(3, InitializeRequest.Name),
            reply.Read<ZonePlateDefinition>(4, InitializeRequest.Name),
            reply.Read<RemoteFileSystemInfo>(5, InitializeRequest.Name),
            version.ValueKind == JsonValueKind.String ? version.GetString()! : version.GetRawText());
    }
}

/// <summary>A directory's content (the reply to "loadFile directory").</summary>
public sealed record DirectoryListing
{
    /// <summary>Sub-directories.</summary>
    [JsonPropertyName("directories")] public List<string> Directories
    {
        get => _directories ?? [];
        init => _directories = value;
    }

    private readonly List<string>? _directories;

    /// <summary>The directory listed.</summary>
    [JsonPropertyName("directory")] public string Directory
    {
        get => _directory ?? "";
        init => _directory = value;
    }

    private readonly string? _directory;

    /// <summary>Extension filter.</summary>
    [JsonPropertyName("fileExtension")] public string FileExtension
    {
        get => _fileExtension ?? ".hdf5";
        init => _fileExtension = value;
    }

    private readonly string? _fileExtension;

    /// <summary>Files with that extension.</summary>
    [JsonPropertyName("files")] public List<string> Files
    {
        get => _files ?? [];
        init => _files = value;
    }

    private readonly List<string>? _files;

    /// <summary>Hidden files shown.</summary>
    [JsonPropertyName("showHidden")] public int ShowHidden { get; init; }
}

/// <summary>A dated data directory and its number of files.</summary>
/// <param name="Name">"YYYY-MM-DD".</param>
/// <param name="Files">Number of .hdf5 files.</param>
public sealed record SubDirectory(
    [property: JsonPropertyName("sub_dir")] string Name,
    [property: JsonPropertyName("num_h5_files")] int Files);

/// <summary>The reply to "listDirectory".</summary>
/// <param name="SubDirectories">The dated sub-directories.</param>
public sealed record SubDirectoryListing([property: JsonPropertyName("sub_directories")] List<SubDirectory> SubDirectories);

/// <summary>The reply to "estimatedTime".</summary>
/// <param name="Seconds">Estimated duration, s.</param>
public sealed record EstimatedTime([property: JsonPropertyName("estimatedTime")] double Seconds);
