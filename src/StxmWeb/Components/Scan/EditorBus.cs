using StxmWeb.Core.Scans;

namespace StxmWeb.Components.Scan;

/// <summary>
/// Per-browser link between the panels and the scan editor: the run history and the queue hand a request to the editor
/// ("reload this scan's parameters") through it.
/// </summary>
public sealed class EditorBus
{
    /// <summary>Raised when a request should be loaded into the editor.</summary>
    public event Action<ScanRequest>? LoadRequested;

    /// <summary>Raised when a picked point should change the editor (a tool of the image viewer).</summary>
    public event Action<EditorTool, string, double, double>? ToolApplied;

    /// <summary>Raised when a drawn rectangle should become the next scan's region: fast axis, centres and ranges.</summary>
    public event Action<string, double, double, double, double>? RegionApplied;

    /// <summary>Makes a rectangle drawn on the image whose fast axis is <paramref name="xAxis"/> the next scan's region.</summary>
    public void ApplyRegion(string xAxis, double xCenter, double xRange, double yCenter, double yRange) =>
        RegionApplied?.Invoke(xAxis, xCenter, xRange, yCenter, yRange);

    /// <summary>Loads <paramref name="request"/> into the editor.</summary>
    public void Load(ScanRequest request) => LoadRequested?.Invoke(request);

    /// <summary>Applies <paramref name="tool"/> at (<paramref name="x"/>, <paramref name="y"/>) of the image whose fast axis is <paramref name="xAxis"/>.</summary>
    public void Apply(EditorTool tool, string xAxis, double x, double y) => ToolApplied?.Invoke(tool, xAxis, x, y);
}

/// <summary>What a point picked on a sample image does to the scan editor (pyStxm's plot tools).</summary>
public enum EditorTool
{
    /// <summary>Add a point to a point spectrum (the point tool).</summary>
    AddSpectrumPoint,

    /// <summary>Start of the line of a line spectrum or focus scan (the line tool).</summary>
    LineStart,

    /// <summary>End of that line.</summary>
    LineEnd,

    /// <summary>Centre the image region here (pyStxm's "Set Center to Cursor" of detector and OSA scans).</summary>
    CentreRegion,
}
