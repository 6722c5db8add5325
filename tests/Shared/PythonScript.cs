using System.Diagnostics;

namespace StxmWeb.Testing;

/// <summary>
/// Runs the tests' Python scripts (Python/*.py beside the test binaries) with Debian's python3, whose h5py and numpy
/// the test command installs: files made by another program, checks made by an independent reader.
/// </summary>
public static class PythonScript
{
    private const string Python = "/usr/bin/python3";

    /// <summary>Runs Python/<paramref name="script"/> with arguments; its exit code and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string script, params string[] args)
    {
        if (!File.Exists(Python))
        {
            throw new InvalidOperationException($"{Python} is missing; run the README's test command, which installs python3-h5py.");
        }

        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Python", script));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, ((await stdout) + (await stderr)).Trim());
    }

    /// <summary>Runs a script that writes files into <paramref name="directory"/>; fails with its output when it fails.</summary>
    public static void MakeFiles(string script, string directory)
    {
        var (code, output) = RunAsync(script, directory).GetAwaiter().GetResult();
        if (code != 0)
        {
            throw new InvalidOperationException($"{script} failed (python3-h5py is installed by tests/run): {output}");
        }
    }
}

/// <summary>
/// Files a Python script writes into a temporary directory, made once for a test class (an xunit class fixture) and
/// deleted with it; a file is found by its name without <c>.hdf5</c>.
/// </summary>
public abstract class PythonMadeFiles : IDisposable
{
    /// <summary>Runs Python/<paramref name="script"/> DIR in a new temporary directory.</summary>
    protected PythonMadeFiles(string script)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("stxmweb-" + Path.GetFileNameWithoutExtension(script) + "-").FullName;
        PythonScript.MakeFiles(script, Directory);
    }

    /// <summary>Where the files are.</summary>
    public string Directory { get; }

    /// <summary>The file NAME.hdf5.</summary>
    public string this[string name] => Path.Combine(Directory, name + ".hdf5");

    /// <inheritdoc />
    public void Dispose()
    {
        System.IO.Directory.Delete(Directory, recursive: true);
        GC.SuppressFinalize(this);
    }
}
