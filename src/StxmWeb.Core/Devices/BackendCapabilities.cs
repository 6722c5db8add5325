using StxmWeb.Core.Scans;

namespace StxmWeb.Core.Devices;

/// <summary>
/// What a backend can run, for the validator: a controller that plans its own scans (Pixelator) runs fewer scan types,
/// one polarization per scan and one spatial region; StxmWeb's own engine runs everything.
/// </summary>
/// <param name="Backend">The backend's name, for messages ("the Pixelator controller").</param>
/// <param name="ScanTypes">The scan types it runs; null: all.</param>
/// <param name="MaxPolarizations">Most polarization rows in one scan.</param>
/// <param name="Polarizations">The polarization modes it sets; null: all.</param>
/// <param name="PolarizationOffset">Whether a polarization row may carry an EPU offset.</param>
/// <param name="MaxRegions">Most spatial regions in one scan.</param>
/// <param name="HandlesDefocus">Whether the backend's controller defocuses the beam itself (else StxmWeb does, through the focus calibration).</param>
/// <param name="AdaptsPositionPrecision">Whether the backend's controller takes a position precision (Pixelator's "Adapt position precision").</param>
public sealed record BackendCapabilities(
    string Backend,
    IReadOnlySet<ScanType>? ScanTypes = null,
    int MaxPolarizations = int.MaxValue,
    IReadOnlySet<Polarization>? Polarizations = null,
    bool PolarizationOffset = true,
    int MaxRegions = int.MaxValue,
    bool HandlesDefocus = false,
    bool AdaptsPositionPrecision = false)
{
    /// <summary>Everything: StxmWeb's engine on the instrument's own devices.</summary>
    public static BackendCapabilities All { get; } = new("StxmWeb's engine");

    /// <summary>Whether <paramref name="type"/> can run.</summary>
    public bool Runs(ScanType type) => ScanTypes is null || ScanTypes.Contains(type);
}
