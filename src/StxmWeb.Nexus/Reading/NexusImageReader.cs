using System.Globalization;
using PureHDF;
using PureHDF.Selections;

namespace StxmWeb.Nexus.Reading;

/// <summary>An axis of an entry's data: its dataset name, units and one value per index of its dimension.</summary>
/// <param name="Name">Dataset name (e.g. <c>sample_x</c>), or <c>index</c> when the file names none.</param>
/// <param name="Units">Its <c>units</c> attribute, empty when none.</param>
/// <param name="Values">One value per index.</param>
public sealed record DataAxis(string Name, string Units, double[] Values);

/// <summary>
/// One entry of a file as the viewer shows it: where its signal is, its shape (slowest first, rank 1 to 3), the axes of
/// each dimension, the energies, scan type, title, start time and rotation angle, and what the reader had to guess.
/// </summary>
public sealed record ViewableEntry(
    string Name, string DataPath, int[] Shape, DataAxis[] Axes, double[] Energy, string StxmScanType, string Title, string StartTime,
    double? RotationAngle, string Units, IReadOnlyList<string> Notes)
{
    /// <summary>Planes of the first dimension of 3-D data (energies of a stack), else 1.</summary>
    public int Planes => Shape.Length == 3 ? Shape[0] : 1;

    /// <summary>Values per plane (rows × columns of 3-D data; all values otherwise).</summary>
    public long PlaneSize => Shape.Length == 3 ? (long)Shape[1] * Shape[2] : Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>A NeXus file opened for viewing: its entries with data to show, and the default one.</summary>
/// <param name="Path">The file.</param>
/// <param name="Entries">Entries that have data (NXdata with a signal of rank 1 to 3).</param>
/// <param name="DefaultEntry">The root's <c>default</c>, or the first entry.</param>
/// <param name="Skipped">Entries that could not be shown, each with why.</param>
public sealed record ViewableFile(string Path, IReadOnlyList<ViewableEntry> Entries, string DefaultEntry, IReadOnlyList<string> Skipped);

/// <summary>
/// Reads NXstxm files for the viewer: StxmWeb's own, pyStxm's (gzip-compressed, <c>default</c> attributes, signal
/// <c>"1"</c>), the PolLux/Pixelator controller's and hand-made h5py files. It follows NeXus as readers of the field
/// do: root <c>default</c> → entry → the entry's <c>default</c> NXdata (else its NXdata groups, <c>counter0</c>
/// first) → the group's <c>signal</c> (else a dataset with a <c>signal</c> attribute, else <c>data</c>) → the group's
/// <c>axes</c> (an array, or one string; else the signal's legacy <c>axes</c> "a:b:c"), each axis a 1-D dataset as
/// long as its dimension (bin edges give their centres; anything else, indices). Integer and single-precision data are
/// widened to double. Only the plane asked for is read.
/// </summary>
public static class NexusImageReader
{
    /// <summary>Opens a file and describes its entries.</summary>
    /// <exception cref="InvalidDataException">The file is not HDF5, or holds no entry with data; the message says which.</exception>
    public static ViewableFile Open(string path)
    {
        using var file = OpenFile(path);
        var entries = new List<ViewableEntry>();
        var skipped = new List<string>();
        var groups = file.Children().OfType<IH5Group>()
            .Where(g => ClassOf(g) == "NXentry" || (ClassOf(g) is null && g.Name.StartsWith("entry", StringComparison.Ordinal)))
            .OrderBy(g => EntryNumber(g.Name)).ThenBy(g => g.Name, StringComparer.Ordinal)
            .ToList();
        foreach (var group in groups)
        {
            try
            {
                entries.Add(Entry(group));
            }
            catch (InvalidDataException ex)
            {
                skipped.Add($"{group.Name}: {ex.Message}");
            }
        }

        if (entries.Count == 0)
        {
            var why = groups.Count == 0 ? "it has no NXentry group" : string.Join("; ", skipped);
            throw new InvalidDataException($"{System.IO.Path.GetFileName(path)} has nothing to show: {why}.");
        }

        var @default = Text(file, "default") is { } d && entries.Any(e => e.Name == d) ? d : entries[0].Name;
        return new ViewableFile(path, entries, @default, skipped);
    }

    /// <summary>
    /// One plane of an entry's data, flat, row-major: plane <paramref name="plane"/> of 3-D data (an energy of a stack),
    /// or all of 1-D and 2-D data.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The plane is not in the data.</exception>
    /// <exception cref="InvalidDataException">The file cannot be read.</exception>
    public static double[] ReadPlane(string path, ViewableEntry entry, int plane)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentOutOfRangeException.ThrowIfNegative(plane);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(plane, entry.Planes);
        using var file = OpenFile(path);
        var dataset = file.Dataset(entry.DataPath);
        if (entry.Shape.Length != 3)
        {
            return Doubles(dataset, null, null);
        }

        var rows = (ulong)entry.Shape[1];
        var columns = (ulong)entry.Shape[2];
        var selection = new HyperslabSelection(3, [(ulong)plane, 0, 0], [1, rows, columns]);
        return Doubles(dataset, selection, [rows * columns]);
    }

    private static PureHDF.VOL.Native.NativeFile OpenFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"{path}: no such file.");
        }

        try
        {
            return H5File.OpenRead(path);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new InvalidDataException($"{System.IO.Path.GetFileName(path)} cannot be read as HDF5 ({ex.Message}).", ex);
        }
    }

    private static ViewableEntry Entry(IH5Group entry)
    {
        var notes = new List<string>();
        var data = DataGroup(entry) ?? throw new InvalidDataException("no NXdata group");
        var signalName = SignalName(data);
        if (!data.LinkExists(signalName) || data.Get(signalName) is not IH5Dataset signal)
        {
            throw new InvalidDataException($"{data.Name} has no signal dataset '{signalName}'");
        }

        if (signal.Type.Class is not (H5DataTypeClass.FloatingPoint or H5DataTypeClass.FixedPoint))
        {
            throw new InvalidDataException($"{data.Name}/{signalName} is not numeric ({signal.Type.Class})");
        }

        var shape = signal.Space.Dimensions.Select(d => checked((int)d)).ToArray();
        if (shape.Length is < 1 or > 3)
        {
            throw new InvalidDataException($"{data.Name}/{signalName} has rank {shape.Length}; the viewer shows rank 1 (spectra), 2 and 3 (images, stacks)");
        }

        var names = AxisNames(data, signal, shape.Length, notes);
        var axes = new DataAxis[shape.Length];
        for (var i = 0; i < shape.Length; i++)
        {
            axes[i] = Axis(data, names[i], shape[i], notes);
        }

        var energy = OneD(data, "energy") ?? (entry.LinkExists("instrument/monochromator/energy") ? OneD(entry.Group("instrument/monochromator"), "energy") : null) ?? [];
        var scanType = data.LinkExists("stxm_scan_type") && data.Get("stxm_scan_type") is IH5Dataset st ? Strings(st).FirstOrDefault() ?? "" : "";
        var title = entry.LinkExists("title") && entry.Get("title") is IH5Dataset t ? string.Concat(Strings(t)) : "";
        var start = entry.LinkExists("start_time") && entry.Get("start_time") is IH5Dataset s ? Strings(s).FirstOrDefault() ?? "" : "";
        double? angle = entry.LinkExists("sample/rotation_angle") && entry.Get("sample/rotation_angle") is IH5Dataset a && a.Type.Class is H5DataTypeClass.FloatingPoint or H5DataTypeClass.FixedPoint
            ? Doubles((IH5Dataset)entry.Get("sample/rotation_angle"), null, null).FirstOrDefault() : null;
        var units = Text(signal, "units") ?? "counts";
        return new ViewableEntry(entry.Name, $"/{entry.Name}/{data.Name}/{signalName}", shape, axes, energy, scanType, title, start, angle, units, notes);
    }

    /// <summary>The entry's default NXdata, else its NXdata groups (counter0 first, then by name).</summary>
    private static IH5Group? DataGroup(IH5Group entry)
    {
        if (Text(entry, "default") is { } name && entry.LinkExists(name) && entry.Get(name) is IH5Group chosen)
        {
            return chosen;
        }

        return entry.Children().OfType<IH5Group>().Where(g => ClassOf(g) == "NXdata")
            .OrderBy(g => g.Name == "counter0" ? 0 : 1).ThenBy(g => g.Name, StringComparer.Ordinal).FirstOrDefault();
    }

    private static string SignalName(IH5Group data)
    {
        if (Text(data, "signal") is { } name && !int.TryParse(name, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
        {
            return name;
        }

        // NeXus' older convention: the signal dataset carries signal=1.
        var marked = data.Children().OfType<IH5Dataset>().FirstOrDefault(d => d.AttributeExists("signal"));
        return marked?.Name ?? "data";
    }

    private static string[] AxisNames(IH5Group data, IH5Dataset signal, int rank, List<string> notes)
    {
        var names = Strings(data, "axes");
        if (names.Length == 1 && rank > 1 && names[0].Contains(':', StringComparison.Ordinal))
        {
            names = names[0].Split(':');
        }

        if (names.Length == 0 && Strings(signal, "axes") is [var legacy])
        {
            // NeXus before 2014: the signal's own axes attribute, "energy:sample_y:sample_x".
            names = legacy.Split(':', ',');
        }

        if (names.Length != rank)
        {
            if (names.Length > 0)
            {
                notes.Add($"{names.Length} axes named for rank-{rank} data; indices used");
            }

            return [.. Enumerable.Repeat(".", rank)];
        }

        return [.. names.Select(n => n.Trim())];
    }

    private static DataAxis Axis(IH5Group data, string name, int length, List<string> notes)
    {
        var indices = Enumerable.Range(0, length).Select(i => (double)i).ToArray();
        if (name is "." or "")
        {
            return new DataAxis("index", "", indices);
        }

        var values = data.LinkExists(name) && data.Get(name) is IH5Dataset d ? OneD(data, name) : null;
        if (values is null)
        {
            notes.Add($"axis {name} has no dataset; indices used");
            return new DataAxis(name, "", indices);
        }

        var units = Text((IH5Dataset)data.Get(name), "units") ?? "";
        if (values.Length == length)
        {
            return new DataAxis(name, units, values);
        }

        if (values.Length == length + 1)
        {
            return new DataAxis(name, units, [.. Enumerable.Range(0, length).Select(i => (values[i] + values[i + 1]) / 2)]);
        }

        if (values.Length == 1)
        {
            // A single position (a point's sample_x): the same value along the dimension is no axis.
            notes.Add($"axis {name} holds 1 value for {length} points; indices used");
            return new DataAxis(name, units, indices);
        }

        notes.Add($"axis {name} holds {values.Length} values for {length} points; indices used");
        return new DataAxis(name, units, indices);
    }

    /// <summary>A numeric dataset of the group read as a flat double array (a scalar as one value), or null.</summary>
    private static double[]? OneD(IH5Group group, string name) =>
        group.LinkExists(name) && group.Get(name) is IH5Dataset d && d.Type.Class is H5DataTypeClass.FloatingPoint or H5DataTypeClass.FixedPoint
            ? Doubles(d, null, null)
            : null;

    /// <summary>A numeric dataset (or a selection of it) widened to double, whatever its stored type.</summary>
    private static double[] Doubles(IH5Dataset dataset, Selection? selection, ulong[]? memoryDims)
    {
        var type = dataset.Type;
        return (type.Class, type.Size, type.Class == H5DataTypeClass.FixedPoint && type.FixedPoint.IsSigned) switch
        {
            (H5DataTypeClass.FloatingPoint, 8, _) => dataset.Read<double[]>(selection, null, memoryDims),
            (H5DataTypeClass.FloatingPoint, 4, _) => Widen(dataset.Read<float[]>(selection, null, memoryDims), v => v),
            (H5DataTypeClass.FixedPoint, 1, true) => Widen(dataset.Read<sbyte[]>(selection, null, memoryDims), v => v),
            (H5DataTypeClass.FixedPoint, 1, false) => Widen(dataset.Read<byte[]>(selection, null, memoryDims), v => v),
            (H5DataTypeClass.FixedPoint, 2, true) => Widen(dataset.Read<short[]>(selection, null, memoryDims), v => v),
            (H5DataTypeClass.FixedPoint, 2, false) => Widen(dataset.Read<ushort[]>(selection, null, memoryDims), v => v),
            (H5DataTypeClass.FixedPoint, 4, true) => Widen(dataset.Read<int[]>(selection, null, memoryDims), v => v),
            (H5DataTypeClass.FixedPoint, 4, false) => Widen(dataset.Read<uint[]>(selection, null, memoryDims), v => v),
            (H5DataTypeClass.FixedPoint, 8, true) => Widen(dataset.Read<long[]>(selection, null, memoryDims), v => v),
            (H5DataTypeClass.FixedPoint, 8, false) => Widen(dataset.Read<ulong[]>(selection, null, memoryDims), v => v),
            _ => throw new InvalidDataException($"{dataset.Name}: a {type.Size}-byte {type.Class} value is not read"),
        };
    }

    private static double[] Widen<T>(T[] values, Func<T, double> widen)
    {
        var result = new double[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            result[i] = widen(values[i]);
        }

        return result;
    }

    private static string? ClassOf(IH5Object item) => Text(item, "NX_class");

    /// <summary>A string attribute (the first element of a string array), or null.</summary>
    private static string? Text(IH5Object item, string name) => Strings(item, name) is [var first, ..] ? first : null;

    private static string[] Strings(IH5Object item, string name)
    {
        if (!item.AttributeExists(name))
        {
            return [];
        }

        var attribute = item.Attribute(name);
        if (IsText(attribute.Type))
        {
            return attribute.Space.Rank == 0 ? [attribute.Read<string>()] : attribute.Read<string[]>();
        }

        return attribute.Type.Class == H5DataTypeClass.FixedPoint ? [attribute.Read<long[]>() is [var n, ..] ? n.ToString(CultureInfo.InvariantCulture) : ""] : [];
    }

    /// <summary>Fixed-length strings, and variable-length ones (h5py's <c>str</c>, which HDF5 types as a sequence).</summary>
    private static bool IsText(IH5DataType type) => type.Class is H5DataTypeClass.String or H5DataTypeClass.VariableLength;

    private static string[] Strings(IH5Dataset dataset) =>
        !IsText(dataset.Type) ? [] : dataset.Space.Rank == 0 ? [dataset.Read<string>()] : dataset.Read<string[]>();

    private static int EntryNumber(string name) =>
        name.StartsWith("entry", StringComparison.Ordinal) && int.TryParse(name.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : int.MaxValue;
}
