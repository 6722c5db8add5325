using System.Text.Json.Serialization;

namespace StxmWeb.Core.Scans;

/// <summary>The scan types of pyStxm (reference/PYSTXM.md section 1), in pyStxm's integer order.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ScanType>))]
public enum ScanType
{
    DetectorImage = 0,
    OsaImage = 1,
    OsaFocus = 2,
    SampleFocus = 3,
    SamplePointSpectrum = 4,
    SampleLineSpectrum = 5,
    SampleImage = 6,
    SampleImageStack = 7,
    GenericScan = 8,
    CoarseImage = 9,
    CoarseGoni = 10,
    Tomography = 11,
    PatternGen = 12,
    Ptychography = 13,
    TwoVariableImage = 14,
}

/// <summary>How the fast axis is acquired: stop at every pixel, or fly at constant velocity and bin in time.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AcquisitionMode>))]
public enum AcquisitionMode
{
    /// <summary>Move, settle, count, for every pixel (pyStxm "Point by Point").</summary>
    PointByPoint,

    /// <summary>Constant-velocity line, one dwell-long time bin per pixel (pyStxm "Line_Unidir", Pixelator "Constant Velocity").</summary>
    Line,
}

/// <summary>
/// One axis of a spatial region, as pyStxm's ROI dicts hold it: centre, full range and number of points.
/// Setpoints are <c>linspace(center - range/2, center + range/2, points)</c>, endpoints included.
/// </summary>
/// <param name="Center">Centre of the axis, µm.</param>
/// <param name="Range">Full width, µm (0 for a single point).</param>
/// <param name="Points">Number of points, at least 1.</param>
public sealed record AxisRegion(double Center, double Range, int Points)
{
    /// <summary>First setpoint, µm.</summary>
    [JsonIgnore] public double Start => Center - Range / 2;

    /// <summary>Last setpoint, µm.</summary>
    [JsonIgnore] public double Stop => Center + Range / 2;

    /// <summary>Distance between neighbouring setpoints, µm (0 for one point).</summary>
    [JsonIgnore] public double Step => Points > 1 ? Range / (Points - 1) : 0;

    /// <summary>The setpoints, endpoints included.</summary>
    public double[] Setpoints()
    {
        var values = new double[Math.Max(Points, 0)];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = Points == 1 ? Center : Start + i * Step;
        }

        return values;
    }
}

/// <summary>
/// A sample image: a raster of the fine sample stage at one energy (pyStxm scan type 6, "sample image").
/// Requests are data: immutable, serialisable, validated by <see cref="ScanRequestValidator"/> before anything moves.
/// </summary>
/// <param name="X">The fast (horizontal) axis.</param>
/// <param name="Y">The slow (vertical) axis.</param>
/// <param name="DwellMs">Dwell per pixel, milliseconds.</param>
/// <param name="EnergyEv">Photon energy, eV.</param>
/// <param name="Mode">Point by point, or constant-velocity lines.</param>
public sealed record SampleImageRequest(AxisRegion X, AxisRegion Y, double DwellMs, double EnergyEv, AcquisitionMode Mode = AcquisitionMode.Line)
{
    /// <summary>The scan type, as written in files and run metadata.</summary>
    public ScanType ScanType { get; init; } = ScanType.SampleImage;

    /// <summary>Free text the user gives the scan; written as the NXentry title.</summary>
    public string? Title { get; init; }

    /// <summary>Total number of pixels.</summary>
    [JsonIgnore] public long PixelCount => (long)X.Points * Y.Points;

    /// <summary>The default request the editor opens with: a 40 µm field at the carbon edge.</summary>
    public static SampleImageRequest Default { get; } =
        new(new AxisRegion(0, 40, 100), new AxisRegion(0, 40, 100), 1.0, 285.0);
}
