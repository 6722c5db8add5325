using System.Globalization;
using Microsoft.Extensions.Options;
using StxmWeb.Core.Focus;
using StxmWeb.Nexus;
using StxmWeb.Simulation;

namespace StxmWeb.Options;

/// <summary>The instrument this server drives: configuration section <c>Instrument</c> (appsettings + beamline profile).</summary>
public sealed class InstrumentOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Instrument";

    /// <summary>Beamline name shown in the title bar.</summary>
    public string Beamline { get; set; } = "Simulated STXM";

    /// <summary>The acquisition backend: Simulated (the embedded default), Epics or Pixelator.</summary>
    public string Backend { get; set; } = "Simulated";

    /// <summary>Root of the data files (pyStxm's DATA_DIR). A leading <c>~</c> is the user's home; other relative paths are taken from the working directory.</summary>
    public string DataDir { get; set; } = "~/StxmWebData";

    /// <summary>First letter(s) of file names (pyStxm's datafile_prefix).</summary>
    public string FilePrefix { get; set; } = "A";

    /// <summary>The simulated microscope's clock speed-up (1 = real time). Simulated backend only.</summary>
    public double TimeScale { get; set; } = 1;

    /// <summary>Smallest allowed dwell, ms.</summary>
    public double MinDwellMs { get; set; } = 0.05;

    /// <summary>Largest allowed dwell, ms.</summary>
    public double MaxDwellMs { get; set; } = 10_000;

    /// <summary>Largest number of points along one axis.</summary>
    public int MaxPointsPerAxis { get; set; } = 4096;

    /// <summary>The zone plate in use.</summary>
    public ZonePlateOptions ZonePlate { get; set; } = new();

    /// <summary>The OSA in use.</summary>
    public OsaOptions Osa { get; set; } = new();

    /// <summary>The EPICS backend: where the IOCs are and which PVs to use.</summary>
    public StxmWeb.Epics.EpicsOptions Epics { get; set; } = new();

    /// <summary>The Pixelator backend: where the PixelatorController is and how StxmWeb's names map to its own.</summary>
    public StxmWeb.Pixelator.Backend.PixelatorOptions Pixelator { get; set; } = new();

    /// <summary>How a run's final file stores its data: Deflate (chunked, gzip, as pyStxm), Chunked or Contiguous.</summary>
    public StxmWeb.Nexus.NxstxmCompression FileCompression { get; set; } = StxmWeb.Nexus.NxstxmCompression.Deflate;

    /// <summary>How saved files are validated.</summary>
    public ValidationOptions Validation { get; set; } = new();

    /// <summary>Whether the backend is the EPICS one.</summary>
    public bool IsEpics => string.Equals(Backend, "Epics", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether the backend is the Pixelator one.</summary>
    public bool IsPixelator => string.Equals(Backend, "Pixelator", StringComparison.OrdinalIgnoreCase);

    /// <summary>Positioners of the simulated microscope, in panel order.</summary>
    public List<SimPositionerOptions> Positioners { get; set; } = [];

    /// <summary>The data directory as an absolute path.</summary>
    public string DataDirectory => Path.GetFullPath(DataDir.StartsWith('~')
        ? Path.Join(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), DataDir[1..].TrimStart('/', '\\'))
        : DataDir);
}

/// <summary>
/// Validation of every saved file: always by StxmWeb's own validator; also by the NIAC's cnxvalidate when its path is
/// set (pyStxm's PATH_TO_CNXVALIDATE). Section <c>Instrument:Validation</c>.
/// </summary>
public sealed class ValidationOptions
{
    /// <summary>The application definition files are checked against.</summary>
    public string Definition { get; set; } = "NXstxm";

    /// <summary>A NeXus definitions directory (PATH_TO_NX_DEFINITIONS); empty: StxmWeb's embedded copy.</summary>
    public string DefinitionsPath { get; set; } = "";

    /// <summary>The NIAC's nxvalidate program (PATH_TO_CNXVALIDATE); empty: not run.</summary>
    public string Cnxvalidate { get; set; } = "";
}

/// <summary>A zone plate definition (pyStxm's [ZP_DEFS] entry).</summary>
public sealed class ZonePlateOptions
{
    /// <summary>Name.</summary>
    public string Name { get; set; } = "ZP 240/25";

    /// <summary>A1, µm/eV; 0 = derive from diameter and outermost zone.</summary>
    public double A1 { get; set; }

    /// <summary>Outer diameter, µm.</summary>
    public double DiameterUm { get; set; } = 240;

    /// <summary>Central stop diameter, µm.</summary>
    public double CentralStopUm { get; set; } = 90;

    /// <summary>Outermost zone width, nm.</summary>
    public double OutermostZoneNm { get; set; } = 25;

    /// <summary>The core record.</summary>
    public ZonePlate ToZonePlate() =>
        new(Name, A1 != 0 ? A1 : FocusGeometry.A1FromGeometry(DiameterUm, OutermostZoneNm), DiameterUm, CentralStopUm, OutermostZoneNm);
}

/// <summary>An OSA definition (pyStxm's [OSA_DEFS] entry).</summary>
public sealed class OsaOptions
{
    /// <summary>Name.</summary>
    public string Name { get; set; } = "OSA 60";

    /// <summary>Diameter, µm.</summary>
    public double DiameterUm { get; set; } = 60;

    /// <summary>OSA X "in" (in the beam), µm (pyStxm's [OSA] osa_x_in).</summary>
    public double InX { get; set; }

    /// <summary>OSA Y "in", µm (osa_y_in).</summary>
    public double InY { get; set; }

    /// <summary>OSA X "out" (out of the beam, for detector scans), µm (osa_x_out).</summary>
    public double OutX { get; set; }

    /// <summary>OSA Y "out", µm (osa_y_out).</summary>
    public double OutY { get; set; } = 2500;
}

/// <summary>
/// Checks the instrument configuration at start-up. Each failure names its configuration key, so a bad value stops the
/// server with one clear message.
/// </summary>
public sealed class InstrumentOptionsValidator : IValidateOptions<InstrumentOptions>
{
    private static readonly string[] Backends = ["Simulated", "Epics", "Pixelator"];
    private static readonly string[] RequiredPositioners = ["SampleFineX", "SampleFineY", "Energy", "ZonePlateZ"];

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, InstrumentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        void Fail(string key, string message) => failures.Add($"{InstrumentOptions.Section}:{key}: {message}");

        if (!Backends.Contains(options.Backend, StringComparer.OrdinalIgnoreCase))
        {
            Fail("Backend", $"'{options.Backend}' is not available in this build; use one of: {string.Join(", ", Backends)}.");
        }

        if (!DataFileNaming.IsValidPrefix(options.FilePrefix))
        {
            Fail("FilePrefix", $"must be 1 to 8 letters; got '{options.FilePrefix}'.");
        }

        if (string.IsNullOrWhiteSpace(options.DataDir))
        {
            Fail("DataDir", "must name a directory.");
        }
        else
        {
            try
            {
                _ = Path.GetFullPath(options.DataDir);
            }
            catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
            {
                Fail("DataDir", $"'{options.DataDir}' is not a valid path ({ex.Message}).");
            }
        }

        if (!(options.TimeScale >= 1 && options.TimeScale <= 10_000))
        {
            Fail("TimeScale", $"must be between 1 and 10000; got {Format(options.TimeScale)}.");
        }

        if (!(options.MinDwellMs > 0 && options.MaxDwellMs >= options.MinDwellMs))
        {
            Fail("MinDwellMs", $"must be positive and not above MaxDwellMs; got {Format(options.MinDwellMs)} and {Format(options.MaxDwellMs)}.");
        }

        if (options.MaxPointsPerAxis < 1)
        {
            Fail("MaxPointsPerAxis", $"must be at least 1; got {options.MaxPointsPerAxis}.");
        }

        if (!(options.ZonePlate.DiameterUm > 0) || !(options.ZonePlate.OutermostZoneNm > 0))
        {
            Fail("ZonePlate", "DiameterUm and OutermostZoneNm must be positive.");
        }

        if (new[] { options.Osa.InX, options.Osa.InY, options.Osa.OutX, options.Osa.OutY }.Any(v => !double.IsFinite(v)))
        {
            Fail("Osa:InX, InY, OutX, OutY", "must be finite numbers, the OSA positions in µm.");
        }

        if (!(options.Osa.DiameterUm > 0))
        {
            Fail("Osa:DiameterUm", $"must be positive; got {Format(options.Osa.DiameterUm)}.");
        }

        for (var i = 0; i < options.Positioners.Count; i++)
        {
            var p = options.Positioners[i];
            var key = $"Positioners:{i}";
            if (string.IsNullOrWhiteSpace(p.Name))
            {
                Fail($"{key}:Name", "is required.");
            }

            if (!(p.High > p.Low))
            {
                Fail($"{key}:High", $"must be above Low for {p.Name}; got Low {Format(p.Low)}, High {Format(p.High)}.");
            }
            else if (!(p.Initial >= p.Low && p.Initial <= p.High))
            {
                Fail($"{key}:Initial", $"must lie within [{Format(p.Low)}, {Format(p.High)}] for {p.Name}; got {Format(p.Initial)}.");
            }

            if (!(p.Velocity > 0))
            {
                Fail($"{key}:Velocity", $"must be positive for {p.Name}; got {Format(p.Velocity)}.");
            }

            if (!(p.Acceleration > 0))
            {
                Fail($"{key}:Acceleration", $"must be positive for {p.Name}; got {Format(p.Acceleration)}.");
            }
        }

        var duplicate = options.Positioners.GroupBy(p => p.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            Fail("Positioners", $"the name {duplicate.Key} is used twice.");
        }

        if (options.Validation.DefinitionsPath is { Length: > 0 } definitions && !Directory.Exists(definitions))
        {
            Fail("Validation:DefinitionsPath", $"'{definitions}' is not a directory of NeXus definitions (PATH_TO_NX_DEFINITIONS).");
        }

        if (options.Validation.Cnxvalidate is { Length: > 0 } cnxvalidate && !File.Exists(cnxvalidate) && !File.Exists(Path.Combine(cnxvalidate, "nxvalidate")))
        {
            Fail("Validation:Cnxvalidate", $"'{cnxvalidate}' is not the NIAC's nxvalidate program (PATH_TO_CNXVALIDATE).");
        }

        if (options.IsPixelator)
        {
            if (options.TimeScale != 1)
            {
                Fail("TimeScale", "must be 1 with the Pixelator backend (the controller keeps its own time).");
            }

            var pixelator = options.Pixelator;
            if (string.IsNullOrWhiteSpace(pixelator.Host))
            {
                Fail("Pixelator:Host", "must name the controller's host (pyStxm's DCS_HOST).");
            }

            foreach (var (port, key) in new[] { (pixelator.SubPort, "SubPort"), (pixelator.ReqPort, "ReqPort"), (pixelator.DataPort, "DataPort") })
            {
                if (port is < 1 or > 65535)
                {
                    Fail($"Pixelator:{key}", $"must be a TCP port, 1 to 65535; got {port}.");
                }
            }

            if (!(pixelator.TimeoutSeconds > 0) || !(pixelator.LivenessSeconds > 0))
            {
                Fail("Pixelator:TimeoutSeconds", $"TimeoutSeconds and LivenessSeconds must be positive; got {Format(pixelator.TimeoutSeconds)} and {Format(pixelator.LivenessSeconds)}.");
            }

            if (pixelator.Attempts < 1)
            {
                Fail("Pixelator:Attempts", $"must be at least 1; got {pixelator.Attempts}.");
            }

            for (var i = 0; i < pixelator.Positioners.Count; i++)
            {
                if (string.IsNullOrWhiteSpace(pixelator.Positioners[i].Name) || string.IsNullOrWhiteSpace(pixelator.Positioners[i].Pixelator))
                {
                    Fail($"Pixelator:Positioners:{i}", "needs Name (StxmWeb's) and Pixelator (the controller's).");
                }
            }

            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }

        if (options.IsEpics)
        {
            if (options.TimeScale != 1)
            {
                Fail("TimeScale", "must be 1 with the Epics backend (real hardware runs in real time).");
            }

            if (!(options.Epics.TimeoutSeconds > 0))
            {
                Fail("Epics:TimeoutSeconds", $"must be positive; got {Format(options.Epics.TimeoutSeconds)}.");
            }

            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }

        foreach (var required in RequiredPositioners)
        {
            if (!options.Positioners.Any(p => string.Equals(p.Name, required, StringComparison.OrdinalIgnoreCase)))
            {
                Fail("Positioners", $"a positioner named {required} is required.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static string Format(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
