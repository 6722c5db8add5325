using StxmWeb.Core.Documents;

namespace StxmWeb.Live;

/// <summary>A rectangle in a stack's stage coordinates (the x and y axes' values), ends included.</summary>
public sealed record PlotRegion(double X0, double X1, double Y0, double Y1)
{
    /// <summary>The region of a centre and range.</summary>
    public static PlotRegion Around(double xCenter, double xRange, double yCenter, double yRange) =>
        new(xCenter - Math.Abs(xRange) / 2, xCenter + Math.Abs(xRange) / 2, yCenter - Math.Abs(yRange) / 2, yCenter + Math.Abs(yRange) / 2);
}

/// <summary>One curve: its name and points (NaN where nothing is known yet).</summary>
public sealed record SpectrumTrace(string Name, double[] X, double[] Y);

/// <summary>What the spectra panel plots: axis labels, curves and a note on how they were made.</summary>
public sealed record SpectraView(string XLabel, string YLabel, IReadOnlyList<SpectrumTrace> Traces, string Note);

/// <summary>
/// Spectra of the live run, computed on the server from the lines taken so far: the point spectra of a point-spectrum
/// run as they fill, and during a stack the optical density of a region drawn on the image, energy by energy:
/// OD(E) = −ln(I(E) / I0(E)), with I the mean counts of the region and I0 those of a background region the user picks
/// (without one, the region's transmitted counts are shown). No peer program shows this while acquiring.
/// </summary>
public static class LiveSpectra
{
    /// <summary>
    /// Whether a run of <paramref name="descriptor"/> has spectra to show: a point or line spectrum (a 1-D entry), or a
    /// stack with a region drawn. The panel asks this before it takes a copy of the run's lines.
    /// </summary>
    public static bool Shows(Descriptor descriptor, bool region)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        return Array.Exists(descriptor.Entries, IsSpectrum) || (region && Array.Exists(descriptor.Entries, IsStack));
    }

    /// <summary>The spectra of <paramref name="run"/>; null when it has none to show (an image without a region).</summary>
    public static SpectraView? Compute(LiveSnapshot run, PlotRegion? region, PlotRegion? background)
    {
        ArgumentNullException.ThrowIfNull(run);
        var entries = run.Descriptor.Entries;
        var spectra = new List<SpectrumTrace>();
        for (var i = 0; i < entries.Length; i++)
        {
            if (IsSpectrum(entries[i]))
            {
                spectra.Add(OneDimensional(run, i));
            }
        }

        if (spectra.Count > 0)
        {
            var axis = Array.Find(entries, IsSpectrum)!.Axes[0];
            return new SpectraView(Label(axis), run.Descriptor.Units, spectra, $"{spectra.Count} spectr{(spectra.Count == 1 ? "um" : "a")} of the run");
        }

        var stack = Array.FindIndex(entries, IsStack);
        if (stack < 0 || region is null)
        {
            return null;
        }

        var entry = entries[stack];
        var energies = entry.Axes[0].Values;
        var signal = RegionMeans(run, stack, region);
        if (background is null)
        {
            return new SpectraView(Label(entry.Axes[0]), $"mean {run.Descriptor.Units}", [new SpectrumTrace("region I", energies, signal)],
                "transmitted counts of the region; pick an I0 region for optical density");
        }

        var i0 = RegionMeans(run, stack, background);
        var od = new double[energies.Length];
        for (var p = 0; p < od.Length; p++)
        {
            od[p] = signal[p] > 0 && i0[p] > 0 ? -Math.Log(signal[p] / i0[p]) : double.NaN;
        }

        return new SpectraView(Label(entry.Axes[0]), "optical density", [new SpectrumTrace("OD", energies, od)],
            "OD = −ln(I / I0): region mean over the I0 region's mean, energy by energy");
    }

    /// <summary>A point or line spectrum: one value per energy.</summary>
    private static bool IsSpectrum(EntryDescriptor entry) => entry.Shape.Length == 1;

    private static bool IsStack(EntryDescriptor entry) => entry.Shape.Length == 3 && entry.Shape[0] > 1;

    private static string Label(Axis axis) => string.IsNullOrEmpty(axis.Units) ? axis.Name : $"{axis.Name} ({axis.Units})";

    /// <summary>A 1-D entry's values so far, against its axis.</summary>
    private static SpectrumTrace OneDimensional(LiveSnapshot run, int index)
    {
        var entry = run.Descriptor.Entries[index];
        var values = new double[entry.Shape[0]];
        Array.Fill(values, double.NaN);
        foreach (var frame in run.Frames)
        {
            if (frame.Entry != index)
            {
                continue;
            }

            // Flat index as the engine counts it: ((plane × rows) + row) × columns + column, one row for 1-D data.
            var start = ((frame.Plane + frame.Row) * values.Length) + frame.Column;
            for (var k = 0; k < frame.Values.Length && start + k >= 0 && start + k < values.Length; k++)
            {
                values[start + k] = frame.Values[k];
            }
        }

        var name = entry.Positions.Length >= 2 && entry.Positions[0].Values.Length > 0 && entry.Positions[1].Values.Length > 0
            ? $"{entry.Name} ({entry.Positions[0].Values[0]:0.###}, {entry.Positions[1].Values[0]:0.###})"
            : entry.Name;
        return new SpectrumTrace(name, entry.Axes[0].Values, values);
    }

    /// <summary>Per energy plane of a stack, the mean of the pixels inside <paramref name="region"/> taken so far (NaN: none yet).</summary>
    private static double[] RegionMeans(LiveSnapshot run, int index, PlotRegion region)
    {
        var entry = run.Descriptor.Entries[index];
        var (ys, xs) = (entry.Axes[1].Values, entry.Axes[2].Values);
        var rows = Inside(ys, region.Y0, region.Y1);
        var columns = Inside(xs, region.X0, region.X1);
        var sums = new double[entry.Shape[0]];
        var counts = new int[entry.Shape[0]];
        if (rows.Length > 0 && columns.Length > 0)
        {
            var (c0, c1) = (columns[0], columns[^1]);
            var (r0, r1) = (rows[0], rows[^1]);
            foreach (var frame in run.Frames)
            {
                if (frame.Entry != index || frame.Row < r0 || frame.Row > r1 || frame.Plane >= sums.Length)
                {
                    continue;
                }

                var from = Math.Max(c0, frame.Column);
                var to = Math.Min(c1, frame.Column + frame.Values.Length - 1);
                for (var c = from; c <= to; c++)
                {
                    var v = frame.Values[c - frame.Column];
                    if (double.IsFinite(v))
                    {
                        sums[frame.Plane] += v;
                        counts[frame.Plane]++;
                    }
                }
            }
        }

        return [.. sums.Select((s, p) => counts[p] > 0 ? s / counts[p] : double.NaN)];
    }

    /// <summary>The indices of the axis values between the ends (inclusive); the nearest one if the range holds none.</summary>
    private static int[] Inside(double[] values, double lo, double hi)
    {
        var inside = Enumerable.Range(0, values.Length).Where(i => values[i] >= lo && values[i] <= hi).ToArray();
        if (inside.Length > 0 || values.Length == 0)
        {
            return inside;
        }

        var centre = (lo + hi) / 2;
        return [Enumerable.Range(0, values.Length).MinBy(i => Math.Abs(values[i] - centre))];
    }
}
