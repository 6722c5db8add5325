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

    /// <summary>Loads <paramref name="request"/> into the editor.</summary>
    public void Load(ScanRequest request) => LoadRequested?.Invoke(request);
}
