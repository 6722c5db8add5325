// Where a scanLineData chunk belongs, both ways. The wire addresses a chunk by (outer, img, tile, chan) and its start and
// shape within the tile; StxmWeb's documents address a line segment by (entry, plane, row, column). Per scan family, as
// pyStxm's pixelator_dcs_server_api places them:
//   images (Detector, OSA, Sample, coarse):  outer = energy index, img = region, chunk (1 × n) at (row, col) in the tile;
//   focus, Motor2D:                           outer 0, img 0, chunk (1 × n) at (Zpz or Y row, col);
//   Motor:                                    outer 0, img 0, chunk (1 × n) at (0, col);
//   point spectra:                            outer = energy index, img = point, chunk (1 × 1);
//   line spectra:                             outer = energy index, img 0, chunk (n × 1) at (first line point, 0).
// Tiles come in row-major order and each is finished before the next begins; the client places tile k where tile k−1
// ended, wrapping to the next band of tiles at the image's width (pyStxm's tile_shapes rule). Tile numbers restart at 0
// for every image (outer, img).
using StxmWeb.Core.Documents;
using StxmWeb.Core.Scans;

namespace StxmWeb.Pixelator.Protocol;

/// <summary>How the controller cuts an image into tiles: row spans × column spans, numbered row-major.</summary>
/// <param name="Rows">Row spans [first, end).</param>
/// <param name="Columns">Column spans [first, end).</param>
public sealed record TileGrid(IReadOnlyList<(int First, int End)> Rows, IReadOnlyList<(int First, int End)> Columns)
{
    /// <summary>One tile covering <paramref name="rows"/> × <paramref name="columns"/>.</summary>
    public static TileGrid Whole(int rows, int columns) => new([(0, rows)], [(0, columns)]);

    /// <summary>The tile holding (<paramref name="row"/>, <paramref name="column"/>), and the position within it.</summary>
    public (int Tile, int Row, int Column, int ColumnsLeft) Locate(int row, int column)
    {
        var tr = Index(Rows, row);
        var tc = Index(Columns, column);
        var (c0, c1) = Columns[tc];
        return (tr * Columns.Count + tc, row - Rows[tr].First, column - c0, c1 - column);
    }

    private static int Index(IReadOnlyList<(int First, int End)> spans, int i)
    {
        for (var k = 0; k < spans.Count; k++)
        {
            if (i >= spans[k].First && i < spans[k].End)
            {
                return k;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(i), i, "Outside every tile.");
    }
}

/// <summary>A line segment of a run, as StxmWeb's documents address it.</summary>
/// <param name="Entry">Entry index.</param>
/// <param name="Plane">Plane (energy) index.</param>
/// <param name="Row">Row.</param>
/// <param name="Column">First column.</param>
/// <param name="Values">Values.</param>
public sealed record PlacedSegment(int Entry, int Plane, int Row, int Column, double[] Values);

/// <summary>Our frames → the controller's scanLineData messages (used by the simulated controller).</summary>
public static class PixelatorLineData
{
    /// <summary>
    /// The scanLineData messages of <paramref name="frame"/> of a <paramref name="type"/> scan on channel
    /// <paramref name="channel"/>; <paramref name="tiles"/> cuts image rows into tiles (null: untiled).
    /// </summary>
    public static IEnumerable<ScanLineDataMessage> ToWire(ScanType type, Frame frame, TileGrid? tiles = null, int channel = 0)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var values = frame.Values;
        switch (ScanTypes.Of(type).Family)
        {
            case ScanFamily.Image:
                if (tiles is null)
                {
                    yield return new ScanLineDataMessage(frame.Plane, frame.Entry, 0, channel, frame.Row, frame.Column, 1, values.Length, values);
                    yield break;
                }

                // A segment that crosses a tile's edge is cut there.
                var done = 0;
                while (done < values.Length)
                {
                    var (tile, row, column, left) = tiles.Locate(frame.Row, frame.Column + done);
                    var n = Math.Min(left, values.Length - done);
                    yield return new ScanLineDataMessage(frame.Plane, frame.Entry, tile, channel, row, column, 1, n, values[done..(done + n)]);
                    done += n;
                }

                break;
            case ScanFamily.PointSpectrum:
                for (var i = 0; i < values.Length; i++)
                {
                    yield return new ScanLineDataMessage(frame.Column + i, frame.Entry, 0, channel, 0, 0, 1, 1, [values[i]]);
                }

                break;
            case ScanFamily.LineSpectrum:
                yield return new ScanLineDataMessage(frame.Row, frame.Entry, 0, channel, frame.Column, 0, values.Length, 1, values);
                break;
            case ScanFamily.Focus or ScanFamily.Generic or ScanFamily.TwoVariable:
                yield return new ScanLineDataMessage(0, 0, 0, channel, frame.Row, frame.Column, 1, values.Length, values);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "Not a Pixelator scan type.");
        }
    }
}

/// <summary>
/// Places the controller's scanLineData chunks into a run's entries (used by the backend). Keeps the tile origins of each
/// image as its tiles arrive. Not thread-safe: one instance per run, fed in arrival order.
/// </summary>
public sealed class LineDataAssembler
{
    private readonly ScanFamily _family;
    private readonly EntryDescriptor[] _entries;
    private readonly Dictionary<(int Outer, int Image), List<int[]>> _tiles = [];

    /// <summary>Creates an assembler for a <paramref name="type"/> run with <paramref name="entries"/>.</summary>
    public LineDataAssembler(ScanType type, EntryDescriptor[] entries)
    {
        _family = ScanTypes.Of(type).Family;
        _entries = entries ?? throw new ArgumentNullException(nameof(entries));
    }

    /// <summary>
    /// The segments of <paramref name="message"/>, or a <see cref="PixelatorProtocolException"/> saying why it does not fit
    /// the run (an entry, energy, row or column the run does not have; a tile that skips one).
    /// </summary>
    public IReadOnlyList<PlacedSegment> Place(ScanLineDataMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        List<PlacedSegment> segments = [];
        switch (_family)
        {
            case ScanFamily.Image:
            {
                var (y0, x0) = TileOrigin(message);
                for (var r = 0; r < message.Height; r++)
                {
                    segments.Add(new PlacedSegment(message.Image, message.Outer, y0 + message.Row + r, x0 + message.Column,
                        message.Values[(r * message.Width)..((r + 1) * message.Width)]));
                }

                break;
            }

            case ScanFamily.PointSpectrum:
                for (var i = 0; i < message.Values.Length; i++)
                {
                    segments.Add(new PlacedSegment(message.Image, 0, 0, message.Outer + i, [message.Values[i]]));
                }

                break;
            case ScanFamily.LineSpectrum:
                if (message.Width != 1)
                {
                    throw new PixelatorProtocolException($"A line-spectrum chunk is a column (n × 1); got {message.Height} × {message.Width}.");
                }

                segments.Add(new PlacedSegment(message.Image, 0, message.Outer, message.Row, message.Values));
                break;
            default:
                for (var r = 0; r < message.Height; r++)
                {
                    segments.Add(new PlacedSegment(0, 0, message.Row + r, message.Column, message.Values[(r * message.Width)..((r + 1) * message.Width)]));
                }

                break;
        }

        foreach (var s in segments)
        {
            Check(s, message);
        }

        return segments;
    }

    private (int Y0, int X0) TileOrigin(ScanLineDataMessage m)
    {
        if (!_tiles.TryGetValue((m.Outer, m.Image), out var tiles))
        {
            tiles = [];
            _tiles[(m.Outer, m.Image)] = tiles;
        }

        if (m.Tile > tiles.Count)
        {
            throw new PixelatorProtocolException($"Tile {m.Tile} of image {m.Image} arrived before tile {tiles.Count}; its place is unknown.");
        }

        if (m.Tile == tiles.Count)
        {
            var width = Width(m.Image);
            int[] tile = [0, 0, 0, 0]; // Y0, X0, H, W
            if (tiles.Count > 0)
            {
                var previous = tiles[^1];
                var (wraps, x) = Math.DivRem(previous[1] + previous[3], width);
                tile[0] = previous[0] + previous[2] * wraps;
                tile[1] = x;
            }

            tiles.Add(tile);
        }

        var current = tiles[m.Tile];
        current[2] = Math.Max(current[2], m.Row + m.Height);
        current[3] = Math.Max(current[3], m.Column + m.Width);
        return (current[0], current[1]);
    }

    private int Width(int image) => image >= 0 && image < _entries.Length
        ? _entries[image].Shape[^1]
        : throw new PixelatorProtocolException($"Image {image} is not part of this run ({_entries.Length} entries).");

    private void Check(PlacedSegment s, ScanLineDataMessage m)
    {
        if (s.Entry < 0 || s.Entry >= _entries.Length)
        {
            throw new PixelatorProtocolException($"scanLineData for image {s.Entry}: this run has {_entries.Length} entries.");
        }

        var shape = _entries[s.Entry].Shape;
        var planes = shape.Length == 3 ? shape[0] : 1;
        var rows = shape.Length >= 2 ? shape[^2] : 1;
        var columns = shape[^1];
        if (s.Plane >= planes || s.Row >= rows || s.Column + s.Values.Length > columns)
        {
            throw new PixelatorProtocolException(
                $"scanLineData {m.Outer} {m.Image} {m.Tile} at ({m.Row}, {m.Column}) × ({m.Height}, {m.Width}) lies outside entry {s.Entry} of shape ({string.Join(", ", shape)}).");
        }
    }
}
