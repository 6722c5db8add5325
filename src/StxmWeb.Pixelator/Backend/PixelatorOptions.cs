using StxmWeb.Pixelator.Client;
using StxmWeb.Pixelator.Protocol;

namespace StxmWeb.Pixelator.Backend;

/// <summary>A StxmWeb positioner (role) and the controller's name for it.</summary>
public sealed class PixelatorPositionerOptions
{
    /// <summary>StxmWeb's name (SampleFineX, ZonePlateZ, ...).</summary>
    public string Name { get; set; } = "";

    /// <summary>The controller's name (SampleX, Zoneplate, ...).</summary>
    public string Pixelator { get; set; } = "";
}

/// <summary>The Pixelator backend: configuration section <c>Instrument:Pixelator</c>.</summary>
public sealed class PixelatorOptions
{
    /// <summary>Controller host (pyStxm's DCS_HOST).</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>Status/data publisher port (DCS_SUB_PORT).</summary>
    public int SubPort { get; set; } = 56561;

    /// <summary>Request port (DCS_REQ_PORT).</summary>
    public int ReqPort { get; set; } = 56562;

    /// <summary>File-content publisher host (DATA_SERVER_HOST); empty: <see cref="Host"/>.</summary>
    public string? DataHost { get; set; }

    /// <summary>File-content publisher port (DATA_SUB_PORT).</summary>
    public int DataPort { get; set; } = 56563;

    /// <summary>Seconds to wait for a reply before the request socket is replaced.</summary>
    public double TimeoutSeconds { get; set; } = 3;

    /// <summary>Times an idempotent request is sent before it fails.</summary>
    public int Attempts { get; set; } = 3;

    /// <summary>Seconds of silence on the status port after which the controller counts as gone.</summary>
    public double LivenessSeconds { get; set; } = 3;

    /// <summary>The detector channel recorded (recordedChannels) and written as <c>counter0</c>.</summary>
    public string Channel { get; set; } = "Counter0";

    /// <summary>The controller's positioner that reads the storage-ring current, mA (not shown as a motor).</summary>
    public string RingCurrent { get; set; } = "RingCurrent";

    /// <summary>StxmWeb's positioner names to the controller's; empty: PSI PolLux's names (<see cref="PixelatorNames.PolLux"/>).</summary>
    public List<PixelatorPositionerOptions> Positioners { get; set; } = [];

    /// <summary>The name map.</summary>
    public PixelatorNames Names => Positioners.Count == 0
        ? PixelatorNames.PolLux
        : new PixelatorNames(Positioners.Select(p => new KeyValuePair<string, string>(p.Name, p.Pixelator)));

    /// <summary>The client transport's options.</summary>
    public PixelatorClientOptions Client => new()
    {
        Host = Host,
        SubPort = SubPort,
        ReqPort = ReqPort,
        DataHost = string.IsNullOrWhiteSpace(DataHost) ? null : DataHost,
        DataPort = DataPort,
        RequestTimeout = TimeSpan.FromSeconds(TimeoutSeconds),
        Attempts = Attempts,
        Liveness = TimeSpan.FromSeconds(LivenessSeconds),
    };
}
