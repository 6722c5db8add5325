namespace StxmWeb.Core.Plans;

/// <summary>
/// The names of the positioners plans drive (pyStxm's DNM_ names without the prefix); every backend maps them to its
/// devices.
/// </summary>
public static class Roles
{
    /// <summary>Fine sample X (piezo), the fast axis of sample images.</summary>
    public const string SampleX = "SampleFineX";

    /// <summary>Fine sample Y (piezo).</summary>
    public const string SampleY = "SampleFineY";

    /// <summary>Coarse sample X (stepper).</summary>
    public const string CoarseX = "CoarseX";

    /// <summary>Coarse sample Y (stepper).</summary>
    public const string CoarseY = "CoarseY";

    /// <summary>Goniometer X.</summary>
    public const string GoniX = "GoniX";

    /// <summary>Goniometer Y.</summary>
    public const string GoniY = "GoniY";

    /// <summary>Goniometer rotation, degrees.</summary>
    public const string GoniTheta = "GoniTheta";

    /// <summary>Zone-plate Z, µm.</summary>
    public const string ZonePlateZ = "ZonePlateZ";

    /// <summary>OSA X.</summary>
    public const string OsaX = "OsaX";

    /// <summary>OSA Y.</summary>
    public const string OsaY = "OsaY";

    /// <summary>Detector X.</summary>
    public const string DetectorX = "DetectorX";

    /// <summary>Detector Y.</summary>
    public const string DetectorY = "DetectorY";

    /// <summary>Photon energy, eV.</summary>
    public const string Energy = "Energy";

    /// <summary>EPU polarization (the <see cref="Scans.Polarization"/> integer).</summary>
    public const string EpuPolarization = "EpuPolarization";

    /// <summary>EPU offset.</summary>
    public const string EpuOffset = "EpuOffset";

    /// <summary>EPU linear inclination angle, degrees.</summary>
    public const string EpuAngle = "EpuAngle";
}
