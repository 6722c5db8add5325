using System.Diagnostics;

namespace StxmWeb.Testing;

/// <summary>
/// A small real filesystem (tmpfs) mounted for one test, to fill up or make read-only. Needs root (CI runs as root); a
/// machine where mounting is not allowed fails the test with a clear message rather than skipping it.
/// </summary>
public sealed class TmpfsMount : IDisposable
{
    /// <summary>Mounts a tmpfs of <paramref name="sizeKb"/> KiB, read-only if asked.</summary>
    public TmpfsMount(int sizeKb, bool readOnly = false)
    {
        Path = Directory.CreateTempSubdirectory("stxmweb-tmpfs-").FullName;
        Run("mount", "-t", "tmpfs", "-o", $"size={sizeKb}k{(readOnly ? ",ro" : "")}", "tmpfs", Path);
    }

    /// <summary>The mount point.</summary>
    public string Path { get; }

    /// <summary>Fills the filesystem until no byte is left.</summary>
    public void Fill()
    {
        var buffer = new byte[64 * 1024];
        using var filler = new FileStream(System.IO.Path.Combine(Path, "filler"), FileMode.Create, FileAccess.Write, FileShare.None, 1);
        try
        {
            while (true)
            {
                filler.Write(buffer);
                filler.Flush();
            }
        }
        catch (IOException)
        {
            // Full.
        }

        // Fill the last partial block too.
        try
        {
            while (true)
            {
                filler.Write(buffer, 0, 512);
                filler.Flush();
            }
        }
        catch (IOException)
        {
        }
    }

    public void Dispose()
    {
        Run("umount", "-l", Path);
        Directory.Delete(Path);
    }

    private static void Run(string command, params string[] args)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"'{command} {string.Join(' ', args)}' failed ({process.StandardError.ReadToEnd().Trim()}): these tests need root to mount a small tmpfs.");
        }
    }
}
