using System.Diagnostics;

namespace StxmWeb.ChannelAccess.Tests.Interop;

/// <summary>
/// EPICS Base, the reference CA implementation, built once from ../shared/tools/epics-base into artifacts/epics-base
/// (about a minute the first time). Its tools run against our server with the environment that points them at it.
/// </summary>
public static class EpicsBase
{
    private static readonly Lazy<string> Bin = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The folder of softIoc, caget, caput, camonitor, cainfo, catime.</summary>
    public static string BinDirectory => Bin.Value;

    /// <summary>The repository root (the folder holding StxmWeb.sln).</summary>
    public static string RepositoryRoot
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "StxmWeb.sln")))
            {
                directory = directory.Parent;
            }

            return directory?.FullName ?? throw new InvalidOperationException("StxmWeb.sln not found above the test binaries.");
        }
    }

    /// <summary>Runs an EPICS tool against a server on <paramref name="port"/>; returns exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(int port, string tool, params string[] args)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var start = new ProcessStartInfo(Path.Combine(BinDirectory, tool)) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        Point(start, port);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>Starts a long-running tool (camonitor); the caller kills it.</summary>
    public static Process Start(int port, string tool, params string[] args)
    {
        var start = new ProcessStartInfo(Path.Combine(BinDirectory, tool)) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        Point(start, port);
        return Process.Start(start)!;
    }

    /// <summary>Points a CA client process at one server on this host.</summary>
    public static void Point(ProcessStartInfo start, int port)
    {
        ArgumentNullException.ThrowIfNull(start);
        start.Environment["EPICS_CA_ADDR_LIST"] = "127.0.0.1";
        start.Environment["EPICS_CA_AUTO_ADDR_LIST"] = "NO";
        start.Environment["EPICS_CA_SERVER_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static FileStream AcquireLock(string path)
    {
        var deadline = DateTime.UtcNow.AddMinutes(10);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(500);
            }
        }
    }

    private static string Build()
    {
        var script = Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "tools", "epics-base", "build.sh"));
        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"{script} is missing: the EPICS Base sources are expected in ../shared/tools/epics-base.");
        }

        var output = Path.Combine(RepositoryRoot, "artifacts", "epics-base");
        Directory.CreateDirectory(Path.Combine(RepositoryRoot, "artifacts"));

        // Test assemblies run in parallel processes: one builds, the others wait on the lock file.
        using var buildLock = AcquireLock(Path.Combine(RepositoryRoot, "artifacts", "epics-base.lock"));
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(output);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEnd();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        var bin = Path.Combine(output, "bin", "linux-x86_64");
        if (process.ExitCode != 0 || !File.Exists(Path.Combine(bin, "caget")))
        {
            throw new InvalidOperationException($"Building EPICS Base failed ({process.ExitCode}): {stdout}{stderr}");
        }

        return bin;
    }
}
