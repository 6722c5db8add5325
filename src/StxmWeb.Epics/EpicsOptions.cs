namespace StxmWeb.Epics;

/// <summary>The EPICS backend's configuration (section <c>Instrument:Epics</c>).</summary>
public sealed class EpicsOptions
{
    /// <summary>Where to search PVs, as EPICS_CA_ADDR_LIST ("host[:port] ..."); empty: the EPICS_CA_* environment.</summary>
    public string AddressList { get; set; } = "";

    /// <summary>Also broadcast searches (EPICS_CA_AUTO_ADDR_LIST).</summary>
    public bool AutoAddressList { get; set; }

    /// <summary>Default CA server port.</summary>
    public int ServerPort { get; set; } = 5064;

    /// <summary>Seconds to wait for connects, gets and puts.</summary>
    public double TimeoutSeconds { get; set; } = 5;

    /// <summary>Positioners: StxmWeb name to motor record; empty means the CLS 10ID-1 names (<see cref="Cls10Id1"/>).</summary>
    public List<EpicsPositionerOptions> Positioners { get; set; } = [];

    /// <summary>Prefix of the counter PVs (Dwell, Npts, Acquire, Counts, AcquireLine, Waveform_RBV).</summary>
    public string CounterPrefix { get; set; } = Cls10Id1.CounterPrefix;

    /// <summary>Storage-ring current PV.</summary>
    public string RingCurrentPv { get; set; } = Cls10Id1.RingCurrent;
}

/// <summary>One positioner on a motor record.</summary>
public sealed class EpicsPositionerOptions
{
    /// <summary>StxmWeb name (SampleFineX, Energy...).</summary>
    public string Name { get; set; } = "";

    /// <summary>Motor record name (e.g. IOC:m100).</summary>
    public string Pv { get; set; } = "";
}

/// <summary>PV names of the CLS 10ID-1 STXM, from the recorded pyStxm runs' <c>rev_lu_dct</c>.</summary>
public static class Cls10Id1
{
    /// <summary>Motor records by StxmWeb positioner name.</summary>
    public static IReadOnlyDictionary<string, string> MotorRecords { get; } = new Dictionary<string, string>
    {
        ["SampleFineX"] = "IOC:m100",
        ["SampleFineY"] = "IOC:m101",
        ["CoarseX"] = "IOC:m112",
        ["CoarseY"] = "IOC:m113",
        ["ZonePlateZ"] = "IOC:m111C",
        ["OsaX"] = "IOC:m104",
        ["OsaY"] = "IOC:m105",
        ["DetectorX"] = "IOC:m114",
        ["DetectorY"] = "IOC:m115",
        ["Energy"] = "BL1610-I10:ENERGY",
        ["EpuPolarization"] = "BL1610-I10:epuPolarization",
        ["EpuOffset"] = "BL1610-I10:epuOffset",
        ["EpuAngle"] = "BL1610-I10:epuAngle",
        ["GoniX"] = "IOC:m107",
        ["GoniY"] = "IOC:m108",
        ["GoniTheta"] = "IOC:m110",
    };

    /// <summary>Focus calibration PVs of the energy device (A0, ΔA0, Zpz adjust, defocus).</summary>
    public static IReadOnlyDictionary<string, string> FocusPvs { get; } = new Dictionary<string, string>
    {
        ["A0"] = "BL1610-I10:ENERGY:uhv:A0",
        ["DeltaA0"] = "BL1610-I10:ENERGY:uhv:delta_A0",
        ["ZpzAdjust"] = "BL1610-I10:ENERGY:uhv:zp:adjust_zpz",
        ["Defocus"] = "BL1610-I10:ENERGY:uhv:zp:defocus",
    };

    /// <summary>The counter (uhvCI:counter:Waveform_RBV is the line waveform pyStxm records).</summary>
    public const string CounterPrefix = "uhvCI:counter";

    /// <summary>Storage-ring current.</summary>
    public const string RingCurrent = "PCT1402-01:mA:fbk";
}
