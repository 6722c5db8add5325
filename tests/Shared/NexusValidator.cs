using System.Diagnostics;

namespace StxmWeb.Testing;

/// <summary>
/// The NIAC's own NeXus validator (cnxvalidate), built from ../shared/tools/cnxvalidate into artifacts/cnxvalidate,
/// run against ../shared/nexus-definitions. It exits 0 even on errors, so its last line is read.
/// </summary>
public static class NexusValidator
{
    private static readonly Lazy<string> Executable = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// Asserts that <paramref name="path"/> conforms to NXstxm by both validators: the NIAC's cnxvalidate (its verdict
    /// line) and StxmWeb's own (<see cref="StxmWeb.Nexus.Validation.NxdlValidator"/>, no errors).
    /// </summary>
    public static async Task AssertConformsAsync(string path, string what = "")
    {
        var verdict = await ValidateAsync(path);
        Assert.True(verdict.StartsWith("0 errors", StringComparison.Ordinal) || verdict.Contains("passed validation", StringComparison.Ordinal),
            $"{what} cnxvalidate: {verdict}");
        var ours = StxmWeb.Nexus.Validation.NxdlValidator.Validate(path, StxmWeb.Nexus.Validation.NxdlLibrary.Embedded);
        Assert.True(ours.IsValid, $"{what} StxmWeb's validator: {ours.Summary}\n{string.Join("\n", ours.Errors)}");
    }

    /// <summary>The NIAC's nxvalidate, built on first use.</summary>
    public static string Program => Executable.Value;

    /// <summary>Validates <paramref name="path"/> as NXstxm; returns the validator's verdict line.</summary>
    public static async Task<string> ValidateAsync(string path)
    {
        var definitions = Path.Combine(Root, "..", "shared", "nexus-definitions");
        var start = new ProcessStartInfo(Executable.Value) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-l", definitions, "-a", "NXstxm", path })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output.Trim().Split('\n')[^1];
    }

    /// <summary>The shared directory beside the repository (../shared: NeXus definitions, recorded runs, tools).</summary>
    public static string SharedDirectory => Path.GetFullPath(Path.Combine(Root, "..", "shared"));

    private static string Root
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

    private static string Build()
    {
        var output = Path.Combine(Root, "artifacts", "cnxvalidate");
        var executable = Path.Combine(output, "nxvalidate");
        if (File.Exists(executable))
        {
            return executable;
        }

        var script = Path.GetFullPath(Path.Combine(Root, "..", "shared", "tools", "cnxvalidate", "build.sh"));
        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"{script} is missing: the NIAC validator's sources are expected in ../shared/tools/cnxvalidate.");
        }

        Directory.CreateDirectory(Path.Combine(Root, "artifacts"));
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(output);
        using var process = Process.Start(start)!;
        var log = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0 || !File.Exists(executable))
        {
            throw new InvalidOperationException($"Building cnxvalidate failed ({process.ExitCode}): {log}");
        }

        return executable;
    }
}
