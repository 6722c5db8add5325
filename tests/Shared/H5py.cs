using System.Diagnostics;
using System.Text.Json;

namespace StxmWeb.Testing;

/// <summary>
/// Reads HDF5 files with h5py, through Debian's python3 (an independent reader, as the field's analysis programs use).
/// Fails with a clear message when python3-h5py is missing: the test command installs it.
/// </summary>
public static class H5py
{
    private const string Python = "/usr/bin/python3";

    /// <summary>The file as JSON: root attrs and every item by path.</summary>
    public static async Task<JsonElement> ReadAsync(string path)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "h5read.py");
        if (!File.Exists(Python))
        {
            throw new InvalidOperationException($"{Python} is missing; run the README's test command, which installs python3-h5py.");
        }

        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(path);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            var error = await stderr;
            if (error.Contains("No module named 'h5py'", StringComparison.Ordinal))
            {
                throw new InvalidOperationException("python3-h5py is not installed; run the README's test command (it installs it).");
            }

            throw new InvalidOperationException($"h5py could not read {path}: {error}");
        }

        using var document = JsonDocument.Parse(await stdout);
        return document.RootElement.Clone();
    }

    /// <summary>An item by path (e.g. <c>/entry0/counter0/data</c>).</summary>
    public static JsonElement Item(this JsonElement file, string path) =>
        file.GetProperty("items").TryGetProperty(path, out var item) ? item : throw new KeyNotFoundException($"{path} is not in the file.");

    /// <summary>A dataset's value as a flat array of doubles (null → NaN).</summary>
    public static double[] Doubles(this JsonElement file, string path)
    {
        var values = new List<double>();
        Flatten(file.Item(path).GetProperty("value"), values);
        return [.. values];
    }

    /// <summary>A dataset's shape.</summary>
    public static int[] Shape(this JsonElement file, string path) =>
        [.. file.Item(path).GetProperty("shape").EnumerateArray().Select(e => e.GetInt32())];

    /// <summary>A string-valued dataset or attribute (first element when an array).</summary>
    public static string Text(this JsonElement value) =>
        value.ValueKind == JsonValueKind.Array ? string.Concat(value.EnumerateArray().Select(v => v.GetString())) : value.GetString()!;

    private static void Flatten(JsonElement element, List<double> into)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Array:
                foreach (var child in element.EnumerateArray())
                {
                    Flatten(child, into);
                }

                break;
            case JsonValueKind.Null:
                into.Add(double.NaN);
                break;
            default:
                into.Add(element.GetDouble());
                break;
        }
    }
}
