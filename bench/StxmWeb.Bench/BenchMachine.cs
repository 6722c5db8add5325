using System.Runtime.InteropServices;

namespace StxmWeb.Bench;

/// <summary>The machine line every result table starts with.</summary>
internal static class BenchMachine
{
    /// <summary>CPU model, cores, OS and .NET version.</summary>
    public static string Describe()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?"
            : "?";
        return $"{cpu}, {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}";
    }
}
