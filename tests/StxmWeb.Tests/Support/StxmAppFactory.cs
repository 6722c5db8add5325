using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace StxmWeb.Testing;

/// <summary>
/// StxmWeb on Kestrel at a free loopback port (real sockets), on the simulated microscope with an accelerated clock and
/// a temporary data directory.
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
            Directory.Delete(DataDir, recursive: true);
        }
    }
}
