namespace StxmWeb.Core.Focus;

/// <summary>A Fresnel zone plate: the lens of a STXM.</summary>
/// <param name="Name">Name as the beamline calls it.</param>
/// <param name="A1">Focal-length coefficient, µm/eV: FL = |A1| · E (pyStxm's A1; its sign is ignored).</param>
/// <param name="DiameterUm">Outer diameter, µm.</param>
/// <param name="CentralStopUm">Central stop diameter, µm.</param>
/// <param name="OutermostZoneNm">Outermost zone width, nm (sets the resolution).</param>
public sealed record ZonePlate(string Name, double A1, double DiameterUm, double CentralStopUm, double OutermostZoneNm);

/// <summary>An order-sorting aperture.</summary>
/// <param name="Name">Name.</param>
/// <param name="DiameterUm">Diameter, µm.</param>
public sealed record Osa(string Name, double DiameterUm);

/// <summary>
/// Zone-plate focus geometry as pyStxm computes it (reference/PYSTXM.md section 2; bcm/devices/sim/energy_dev.py).
/// Units: µm and eV. Pure functions, pinned by unit tests against hand-computed values.
/// </summary>
public static class FocusGeometry
{
    /// <summary>hc in eV·nm: λ(nm) = 1239.842 / E(eV).</summary>
    public const double HcEvNm = 1239.84198;

    /// <summary>Focal length FL = |A1| · E, µm.</summary>
    public static double FocalLength(double a1, double energyEv) => Math.Abs(a1) * energyEv;

    /// <summary>A1 of a zone plate from its geometry: FL = D·Δr/λ, so A1 = D·Δr/(hc) (µm/eV).</summary>
    public static double A1FromGeometry(double diameterUm, double outermostZoneNm) => diameterUm * outermostZoneNm / HcEvNm;

    /// <summary>Zone-plate Z with the OSA focused: −|FL + defocus|.</summary>
    public static double ZpzOsaFocused(double a1, double energyEv, double defocusUm = 0) => -Math.Abs(FocalLength(a1, energyEv) + defocusUm);

    /// <summary>Zone-plate Z with the sample focused: −|FL + defocus + zpzAdjust| + (A0 + ΔA0).</summary>
    public static double ZpzSampleFocused(double a1, double energyEv, double a0, double deltaA0 = 0, double defocusUm = 0, double zpzAdjust = 0) =>
        -Math.Abs(FocalLength(a1, energyEv) + defocusUm + zpzAdjust) + (a0 + deltaA0);

    /// <summary>Largest OSA–sample distance that still blocks the zero order: A0max = D_OSA · FL / D_ZP.</summary>
    public static double A0Max(double osaDiameterUm, double a1, double energyEv, double zonePlateDiameterUm) =>
        osaDiameterUm * FocalLength(a1, energyEv) / zonePlateDiameterUm;

    /// <summary>Defocus (µm) that gives a spot of <paramref name="spotUm"/>: spot · Δr · E / 1239.8 (pyStxm's formula; Δr in nm).</summary>
    public static double DefocusForSpot(double spotUm, double outermostZoneNm, double energyEv) => spotUm * outermostZoneNm * energyEv / 1239.8;

    /// <summary>Diffraction-limited spot (Rayleigh), µm: 1.22 Δr.</summary>
    public static double FocusedSpotUm(double outermostZoneNm) => 1.22 * outermostZoneNm / 1000.0;

    /// <summary>Numerical aperture D / (2 FL).</summary>
    public static double NumericalAperture(double diameterUm, double focalLengthUm) => diameterUm / (2 * focalLengthUm);

    /// <summary>
    /// Beam FWHM at <paramref name="defocusUm"/> from focus, µm: the focused spot and the geometric cone (2 NA · dz)
    /// added in quadrature.
    /// </summary>
    public static double SpotAtDefocusUm(ZonePlate zonePlate, double energyEv, double defocusUm)
    {
        ArgumentNullException.ThrowIfNull(zonePlate);
        var fl = FocalLength(zonePlate.A1, energyEv);
        var cone = 2 * NumericalAperture(zonePlate.DiameterUm, fl) * Math.Abs(defocusUm);
        var focused = FocusedSpotUm(zonePlate.OutermostZoneNm);
        return Math.Sqrt(focused * focused + cone * cone);
    }
}

/// <summary>Whether the zone plate is focused on the OSA plane or on the sample (pyStxm's "Focal length mode").</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<FocusMode>))]
public enum FocusMode
{
    /// <summary>Focus on the sample: Zpz = −|FL + defocus + adjust| + (A0 + ΔA0).</summary>
    SampleFocused,

    /// <summary>Focus on the OSA plane: Zpz = −|FL + defocus + adjust|.</summary>
    OsaFocused,
}

/// <summary>
/// The focus calibration the energy device applies on every energy move ("FL change with Energy"): the OSA–sample
/// distance A0 and its correction ΔA0, the zone-plate Z calibration (adjust), the mode and a deliberate defocus (a
/// spot size, for damage-sensitive samples).
/// </summary>
/// <param name="A0">OSA–sample distance, µm (pyStxm limits 100..5000).</param>
/// <param name="DeltaA0">Correction to A0, µm.</param>
/// <param name="ZpzAdjust">Zone-plate Z calibration, µm: set by an OSA focus scan.</param>
/// <param name="Mode">Sample or OSA focused.</param>
/// <param name="DefocusSpotUm">Wanted spot size, µm; 0 for the focused spot.</param>
public sealed record FocusSettings(double A0 = 250, double DeltaA0 = 0, double ZpzAdjust = 0, FocusMode Mode = FocusMode.SampleFocused, double DefocusSpotUm = 0)
{
    /// <summary>pyStxm's A0 limits, µm.</summary>
    public static Scans.Limits A0Limits { get; } = new(100, 5000);

    /// <summary>Zone-plate Z that puts the focus where this calibration says, at <paramref name="energyEv"/>.</summary>
    public double Zpz(ZonePlate zonePlate, double energyEv)
    {
        ArgumentNullException.ThrowIfNull(zonePlate);
        var defocus = DefocusSpotUm > 0 ? FocusGeometry.DefocusForSpot(DefocusSpotUm, zonePlate.OutermostZoneNm, energyEv) : 0;
        return Mode == FocusMode.OsaFocused
            ? FocusGeometry.ZpzOsaFocused(zonePlate.A1, energyEv, defocus + ZpzAdjust)
            : FocusGeometry.ZpzSampleFocused(zonePlate.A1, energyEv, A0, DeltaA0, defocus, ZpzAdjust);
    }

    /// <summary>
    /// pyStxm's "Set Focus" on an OSA focus scan: the row clicked (<paramref name="zpzAtFocus"/>) is where the OSA is in
    /// focus, so the calibration is adjusted until −|FL + adjust| equals it.
    /// </summary>
    public FocusSettings WithOsaFocusAt(ZonePlate zonePlate, double energyEv, double zpzAtFocus)
    {
        ArgumentNullException.ThrowIfNull(zonePlate);
        return this with { ZpzAdjust = -zpzAtFocus - FocusGeometry.FocalLength(zonePlate.A1, energyEv) };
    }

    /// <summary>
    /// pyStxm's "Set A0 to cursor" on a sample focus scan: Δ = clicked Zpz − the calibrated sample focus; A0 += Δ. The
    /// defocus is left out, so the clicked row is taken as the true focus.
    /// </summary>
    public FocusSettings WithSampleFocusAt(ZonePlate zonePlate, double energyEv, double zpzAtFocus)
    {
        ArgumentNullException.ThrowIfNull(zonePlate);
        var focused = this with { Mode = FocusMode.SampleFocused, DefocusSpotUm = 0 };
        return this with { A0 = A0 + (zpzAtFocus - focused.Zpz(zonePlate, energyEv)) };
    }
}

/// <summary>An instrument's focus calibration: read it, and apply a new one (the zone plate moves to the new focus).</summary>
public interface IFocusControl
{
    /// <summary>The zone plate in the beam.</summary>
    ZonePlate ZonePlate { get; }

    /// <summary>The OSA in the beam.</summary>
    Osa Osa { get; }

    /// <summary>The calibration in force.</summary>
    FocusSettings Settings { get; }

    /// <summary>Applies <paramref name="settings"/> and moves the zone plate to its focus at the current energy.</summary>
    Task ApplyAsync(FocusSettings settings, CancellationToken cancellationToken = default);
}
