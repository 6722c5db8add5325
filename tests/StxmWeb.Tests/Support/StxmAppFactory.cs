using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace StxmWeb.Testing;

/// <summary>
/// StxmWeb on Kestrel at a free loopback port (real sockets), on the simulated microscope with an accelerated clock and
/// a temporary data directory. When the app is disposed, every NeXus file it wrote there (runs, imports; not users'
/// uploads) is checked with StxmWeb's validator and the NIAC's: a test whose files do not conform fails.
/// </summary>
public sealed class StxmAppFactory : WebApplicationFactory<Program>
{
    /// <summary>Creates the app; <paramref name="timeScale"/> speeds up the simulated microscope.</summary>
    public StxmAppFactory(double timeScale = 10, IReadOnlyDictionary<string, string>? settings = null, string? dataDir = null)
    {
        TimeScale = timeScale;
        DataDir = dataDir ?? Directory.CreateTempSubdirectory("stxmweb-test-data-").FullName;
        _ownsDataDir = dataDir is null;
        Settings = settings ?? new Dictionary<string, string>();
        UseKestrel(0);
        StartServer();
    }

    /// <summary>Where the app writes its files.</summary>
    public string DataDir { get; }

    private readonly bool _ownsDataDir;

    /// <summary>The clock speed-up.</summary>
    public double TimeScale { get; }

    private IReadOnlyDictionary<string, string> Settings { get; }

    /// <summary>The server's address, e.g. http://127.0.0.1:41234/.</summary>
    public Uri BaseAddress => ClientOptions.BaseAddress;

    /// <inheritdoc />
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.UseSetting("Instrument:DataDir", DataDir);
        builder.UseSetting("Instrument:TimeScale", TimeScale.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Urls", "http://127.0.0.1:0");
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && _ownsDataDir && Directory.Exists(DataDir))
        {
            var nonconforming = Nonconforming();
            Directory.Delete(DataDir, recursive: true);
            if (nonconforming.Count > 0)
            {
                throw new InvalidOperationException($"Files the app wrote do not conform to NXstxm:\n{string.Join("\n", nonconforming)}");
            }
        }
    }

    /// <summary>The app's NeXus files (uploads aside) that either validator refuses, each with why.</summary>
    private List<string> Nonconforming()
    {
        var uploads = Path.Combine(DataDir, "uploads") + Path.DirectorySeparatorChar;
        var problems = new List<string>();
        foreach (var path in Directory.EnumerateFiles(DataDir, "*.hdf5", SearchOption.AllDirectories).Where(p => !p.StartsWith(uploads, StringComparison.Ordinal)))
        {
            var ours = StxmWeb.Nexus.Validation.NxdlValidator.Validate(path, StxmWeb.Nexus.Validation.NxdlLibrary.Embedded);
            if (!ours.IsValid)
            {
                problems.Add($"{path}: StxmWeb's validator: {ours.Summary}: {string.Join("; ", ours.Errors)}");
            }

            var niac = NexusValidator.ValidateAsync(path).GetAwaiter().GetResult();
            if (!(niac.StartsWith("0 errors", StringComparison.Ordinal) || niac.Contains("passed validation", StringComparison.Ordinal)))
            {
                problems.Add($"{path}: cnxvalidate: {niac}");
            }
        }

        return problems;
    }
}
