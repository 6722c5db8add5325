using System.Globalization;

namespace StxmWeb.Core.Scans;

/// <summary>A pattern read from a file: the region it covers, its exposure map and the brightest exposure.</summary>
/// <param name="Region">The pixel grid of the pattern, sample coordinates (µm).</param>
/// <param name="Pattern">A custom pattern: values 0..1 of <see cref="PatternSpec.ExposureMs"/>, rows (y) of columns (x).</param>
public sealed record LoadedPattern(SpatialRegion Region, PatternSpec Pattern);

/// <summary>
/// Reads pyStxm's pattern-generator files (<c>.xyt</c>): text lines of "x y t" (µm, µm, exposure ms), any other line
/// (a header, a comment) skipped. The points are put on the grid their spacing defines; a pixel without a point is not
/// exposed.
/// </summary>
public static class PatternFile
{
    /// <summary>Largest pattern, pixels per side.</summary>
    public const int MaxPixels = 256;

    /// <summary>Parses <paramref name="text"/>. Throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static LoadedPattern ParseXyt(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var points = new List<(double X, double Y, double T)>();
        foreach (var line in text.Split('\n'))
        {
            var fields = line.Split([' ', '\t', ',', ';'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 3
                && double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var x)
                && double.TryParse(fields[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var y)
                && double.TryParse(fields[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var t))
            {
                if (!double.IsFinite(x) || !double.IsFinite(y) || !double.IsFinite(t) || t < 0)
                {
                    throw new FormatException($"Line \"{line.Trim()}\": x and y must be finite and the exposure t zero or more.");
                }

                points.Add((x, y, t));
            }
        }

        if (points.Count == 0)
        {
            throw new FormatException("No \"x y t\" line was found: a pattern file lists one exposure per line, x and y in µm and t in ms.");
        }

        var tMax = points.Max(p => p.T);
        if (tMax <= 0)
        {
            throw new FormatException("Every exposure is zero: nothing would be exposed.");
        }

        var (x0, nx, dx) = Grid(points.Select(p => p.X), "x");
        var (y0, ny, dy) = Grid(points.Select(p => p.Y), "y");
        var values = new double[ny][];
        for (var r = 0; r < ny; r++)
        {
            values[r] = new double[nx];
        }

        foreach (var (x, y, t) in points)
        {
            var c = nx == 1 ? 0 : (int)Math.Round((x - x0) / dx);
            var r = ny == 1 ? 0 : (int)Math.Round((y - y0) / dy);
            values[r][c] = Math.Max(values[r][c], t / tMax);
        }

        var region = new SpatialRegion(AxisRegion.FromStartStop(x0, x0 + (dx * (nx - 1)), nx), AxisRegion.FromStartStop(y0, y0 + (dy * (ny - 1)), ny));
        return new LoadedPattern(region, new PatternSpec(PatternKind.Custom, tMax, 3, values));
    }

    /// <summary>The grid along one axis: first value, number of pixels and step (the smallest spacing of the points).</summary>
    private static (double First, int Count, double Step) Grid(IEnumerable<double> coordinates, string axis)
    {
        var sorted = coordinates.Select(v => Math.Round(v, 4)).Distinct().Order().ToArray();
        if (sorted.Length == 1)
        {
            return (sorted[0], 1, 0);
        }

        var step = sorted.Zip(sorted.Skip(1), (a, b) => b - a).Min();
        var count = (int)Math.Round((sorted[^1] - sorted[0]) / step) + 1;
        if (count > MaxPixels)
        {
            throw new FormatException(FormattableString.Invariant(
                $"The pattern is {count} pixels along {axis} (step {step:G4} µm over {sorted[^1] - sorted[0]:G4} µm); at most {MaxPixels}."));
        }

        return (sorted[0], count, step);
    }
}
