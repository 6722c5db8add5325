using System.Runtime.InteropServices;

namespace StxmWeb.Bench;

/// <summary>The machine line every result table starts with, and where the table goes.</summary>
internal static class BenchMachine
{
    /// <summary>Prints the report and, when an output path is given, writes it there (its directory created).</summary>
    public static async Task PublishAsync(string report, string? output)
    {
        Console.WriteLine();
        Console.WriteLine(report);
        if (output is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
            await File.WriteAllTextAsync(output, report);
        }
    }

    /// <summary>CPU model, cores, OS and .NET version.</summary>
    public static string Describe()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?"
            : "?";
        return $"{cpu}, {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}";
    }
}
