namespace StxmWeb.Core.Focus;

/// <summary>Finds the focus in a focus scan: the zone-plate Z row where the edges along the line are sharpest.</summary>
public static class FocusAnalysis
{
    /// <summary>
    /// The sharpest row of a (rows × columns) focus scan: the row with the largest sum of squared neighbour differences,
    /// divided by the row's squared mean so that intensity changes between rows do not count as sharpness. NaN values
    /// (not yet acquired) are skipped; returns −1 when no row has two neighbouring values.
    /// </summary>
    public static int SharpestRow(ReadOnlySpan<double> data, int rows, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        if ((long)rows * columns > data.Length)
        {
            throw new ArgumentException($"{rows} × {columns} values are needed; got {data.Length}.", nameof(data));
        }

        var best = -1;
        var bestScore = double.NegativeInfinity;
        for (var r = 0; r < rows; r++)
        {
            var row = data.Slice(r * columns, columns);
            double sum = 0, gradient = 0;
            var n = 0;
            for (var c = 0; c < columns; c++)
            {
                if (double.IsFinite(row[c]))
                {
                    sum += row[c];
                    n++;
                }

                if (c > 0 && double.IsFinite(row[c]) && double.IsFinite(row[c - 1]))
                {
                    var d = row[c] - row[c - 1];
                    gradient += d * d;
                }
            }

            if (n < 2 || sum == 0)
            {
                continue;
            }

            var mean = sum / n;
            var score = gradient / (mean * mean);
            if (score > bestScore)
            {
                (best, bestScore) = (r, score);
            }
        }

        return best;
    }
}
