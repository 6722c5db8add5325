using System.Globalization;
using System.Reflection;
using System.Text.Json;
using PureHDF;
using PureHDF.Filters;
using PureHDF.VOL.Native;
using StxmWeb.Core.Documents;
using StxmWeb.Core.Scans;

namespace StxmWeb.Nexus;

/// <summary>
/// The NXstxm layout of one run (nexus-definitions/applications/NXstxm.nxdl.xml; pyStxm's writer, reference/PYSTXM.md
/// section 5): <c>/entry0</c> with title, times, definition, the <c>counter0</c> NXdata (data, energy, sample_y,
/// sample_x, count_time, stxm_scan_type; <c>signal</c> and <c>axes</c> in data order), the instrument (source,
/// monochromator, detector, zone plate), the sample and the ring-current monitor <c>control</c>.
/// </summary>
internal static class NxstxmLayout
{
    /// <summary>Path of an entry's detector data, filled in place while acquiring.</summary>
    public static string DataPath(Descriptor d, EntryDescriptor e) => $"/{e.Name}/{d.Detector}/data";

    /// <summary>Path of an entry's ring-current monitor data.</summary>
    public static string ControlDataPath(EntryDescriptor e) => $"/{e.Name}/control/data";

    /// <summary>Path of an entry's area-detector frames.</summary>
    public static string FramesPath(EntryDescriptor e) => $"/{e.Name}/instrument/{e.Frames!.Detector}/data";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Builds the file's content: one NXentry per <see cref="EntryDescriptor"/>. <paramref name="data"/> and
    /// <paramref name="ring"/> hold each entry's values, flat, in data order.
    /// </summary>
    /// <remarks>
    /// <paramref name="storage"/> says how the data are stored: contiguous for the live file (written in place, line by
    /// line), chunked and compressed for the final copy when the writer is set to.
    /// </remarks>
    public static H5File Build(RunStart start, Descriptor d, double[][] data, double[][] ring, float[]?[] frames, DateTimeOffset endTime, string exitStatus, string reason,
        NxstxmCompression storage = NxstxmCompression.Contiguous)
    {
        var file = new H5File();
        for (var i = 0; i < d.Entries.Length; i++)
        {
            file[d.Entries[i].Name] = Entry(start, d, d.Entries[i], data[i], ring[i], frames[i], endTime, exitStatus, reason, storage);
        }

        file.Attributes["default"] = d.Entries[0].Name;
        file.Attributes["NX_class"] = "NXroot";
        file.Attributes["file_name"] = Path.GetFileName(start.FilePath);
        file.Attributes["file_time"] = Iso(start.Time);
        file.Attributes["NeXus_version"] = "4.3.0";

        // NXroot's HDF5_Version names the library that wrote the file; here that is PureHDF, not the HDF5 C library.
        file.Attributes["HDF5_Version"] = "PureHDF " + typeof(H5File).Assembly.GetName().Version?.ToString(3);
        file.Attributes["creator"] = "StxmWeb";
        file.Attributes["scan_uid"] = start.RunId.ToString();
        return file;
    }

    private static H5Group Entry(RunStart start, Descriptor d, EntryDescriptor e, double[] data, double[] ring, float[]? frames, DateTimeOffset endTime, string exitStatus, string reason,
        NxstxmCompression storage)
    {
        var dims = e.Shape.Select(n => (ulong)n).ToArray();
        var axisNames = e.Axes.Select(a => a.Name).ToArray();

        var counter = Group("NXdata");
        counter.Attributes["signal"] = "data";
        counter.Attributes["axes"] = axisNames;
        counter["data"] = WithAttributes(Stored(data, dims, sizeof(double), storage), ("signal", 1), ("units", d.Units));
        AddAxes(counter, e);
        counter["count_time"] = WithAttributes(new H5Dataset(e.DwellMs.Select(ms => ms / 1000.0).ToArray()), ("units", "s"));
        counter["stxm_scan_type"] = new[] { e.StxmScanType };
        if (e.Polarization is { } pol)
        {
            counter["epu_polarization"] = WithAttributes(new H5Dataset(new[] { (double)(int)pol.Mode }), ("long_name", PolarizationName(pol.Mode)));
            counter["epu_offset"] = new H5Dataset(new[] { pol.Offset });
        }

        var control = Group("NXmonitor");
        control.Attributes["signal"] = "data";
        control.Attributes["axes"] = axisNames;
        control["data"] = WithAttributes(Stored(ring, dims, sizeof(double), storage), ("units", "mA"));
        AddAxes(control, e);

        var source = Group("NXsource");
        source["type"] = "Synchrotron X-ray Source";
        source["name"] = "StxmWeb simulated storage ring";
        source["probe"] = "x-ray";

        // NXstxm sizes the monochromator's energy and the detector's first dimension with one symbol (nP): the energy
        // at each step of the data's first dimension (the energies of a stack or spectrum; the one energy, repeated, of
        // a focus or positioner scan).
        var monochromator = Group("NXmonochromator");
        var steps = e.Shape[0];
        var energies = e.EnergyEv.Length == steps ? e.EnergyEv : [.. Enumerable.Repeat(e.EnergyEv.Length > 0 ? e.EnergyEv[0] : double.NaN, steps)];
        monochromator["energy"] = WithAttributes(new H5Dataset(energies), ("units", "eV"));

        var detector = Group("NXdetector");
        detector["data"] = new H5SoftLink(DataPath(d, e));
        detector["count_time"] = new H5SoftLink($"/{e.Name}/{d.Detector}/count_time");
        detector["unit"] = d.Units;

        var instrument = Group("NXinstrument");
        instrument["source"] = source;
        instrument["monochromator"] = monochromator;
        instrument[d.Detector] = detector;
        if (e.Frames is { } stream && frames is not null)
        {
            // One frame per point, in the data's order: (…data shape, rows, columns).
            var camera = Group("NXdetector");
            camera["data"] = WithAttributes(Stored(frames, [.. dims, (ulong)stream.Height, (ulong)stream.Width], sizeof(float), storage), ("units", "counts"));
            camera["count_time"] = new H5SoftLink($"/{e.Name}/{d.Detector}/count_time");
            camera["description"] = "area detector, one frame per scan point";
            instrument[stream.Detector] = camera;
        }

        if (e.Polarization is { } polarization)
        {
            var epu = Group("NXinsertion_device");
            // NXinsertion_device's type is one of undulator, wiggler, wavelength_shifter; that it is elliptically
            // polarizing is said by its mode (pyStxm writes the phrase as the type, which the base class refuses).
            epu["type"] = "undulator";
            epu["mode"] = PolarizationName(polarization.Mode);
            epu["gap_offset"] = new H5Dataset(polarization.Offset);
            epu["linear_inclined_angle"] = WithAttributes(new H5Dataset(polarization.Angle), ("units", "degree"));
            instrument["epu"] = epu;
        }

        var sample = Group("NXsample");
        sample["rotation_angle"] = WithAttributes(new H5Dataset(e.RotationAngle), ("units", "degree"));

        var collection = Group("NXcollection");
        collection["scan_request"] = LongText(JsonSerializer.Serialize(start.Request, Json));
        collection["scan_type"] = d.ScanType.ToString();
        collection["exit_status"] = exitStatus;
        collection["exit_reason"] = LongText(reason);
        collection["user"] = LongText(start.User);
        collection["run_uid"] = start.RunId.ToString();

        var entry = Group("NXentry");
        entry.Attributes["default"] = d.Detector;
        entry["title"] = LongText(string.IsNullOrWhiteSpace(start.Request.Title) ? "NeXus sample" : start.Request.Title);
        entry["start_time"] = Iso(start.Time);
        entry["end_time"] = Iso(endTime);
        entry["definition"] = new[] { "NXstxm" };
        entry["version"] = "1.0";
        entry["instrument"] = instrument;
        entry["sample"] = sample;
        entry["control"] = control;
        entry["collection"] = collection;
        entry[d.Detector] = counter;
        return entry;
    }

    /// <summary>
    /// Largest chunk of the final copy's data: 64 KiB (a plane of a 90 x 90 stack in float64; 8 lines of 1000 pixels),
    /// within HDF5's advice of 10 KiB to 1 MiB. PureHDF holds three buffers of a chunk's size while it writes one (the
    /// chunk, its shuffled and its deflated bytes): at 64 KiB they are short-lived small objects, where 1 MiB chunks made
    /// them large-object garbage that the server's memory kept until a full collection (about 145 MB for each 3 Mpx image
    /// written under the live load bench; bench/results/live-load.md).
    /// </summary>
    public const int MaxChunkBytes = 64 * 1024;

    /// <summary>
    /// A data array as stored: contiguous, or chunked (whole rows, the last dimensions first, up to
    /// <see cref="MaxChunkBytes"/>; a stack's plane is one chunk when it fits) and, for <see cref="NxstxmCompression.Deflate"/>,
    /// shuffled and deflated at level 1 (pyStxm gzips its arrays; level 1 packs counts nearly as well as 9, several
    /// times faster).
    /// </summary>
    private static H5Dataset Stored(Array values, ulong[] dims, int elementSize, NxstxmCompression storage)
    {
        if (storage == NxstxmCompression.Contiguous || dims.Any(n => n == 0))
        {
            return new H5Dataset(values, fileDims: dims);
        }

        var chunks = new uint[dims.Length];
        long bytes = elementSize;
        for (var i = dims.Length - 1; i >= 0; i--)
        {
            var fit = Math.Max(1, MaxChunkBytes / bytes);
            chunks[i] = (uint)Math.Min((long)dims[i], fit);
            bytes *= chunks[i];
        }

        List<H5Filter> filters = storage == NxstxmCompression.Deflate
            ? [ShuffleFilter.Id, new H5Filter(DeflateFilter.Id, new Dictionary<string, object> { [DeflateFilter.COMPRESSION_LEVEL] = 1 })]
            : [];
        return new H5Dataset(values, chunks: chunks, fileDims: dims, datasetCreation: new H5DatasetCreation(Filters: filters));
    }

    /// <summary>Longest fixed-length string written, in UTF-8 bytes (see <see cref="LongText"/>).</summary>
    public const int MaxStringBytes = 120;

    /// <summary>
    /// A text that may be long (the scan request, an error message). Fixed-length strings share one length per file,
    /// and the NIAC validator reads NX_class attributes into 132-byte buffers: a file whose strings are longer crashes
    /// it. So a text longer than <see cref="MaxStringBytes"/> is written as a 1-D array of pieces, in order, to be
    /// concatenated (attribute <c>pieces</c> says so); shorter texts are plain strings.
    /// </summary>
    public static H5Object LongText(string text)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(text) <= MaxStringBytes)
        {
            return new H5Dataset(text);
        }

        var pieces = new List<string>();
        var start = 0;
        while (start < text.Length)
        {
            var length = Math.Min(text.Length - start, MaxStringBytes);
            while (System.Text.Encoding.UTF8.GetByteCount(text.AsSpan(start, length)) > MaxStringBytes || (length < text.Length - start && char.IsHighSurrogate(text[start + length - 1])))
            {
                length--;
            }

            pieces.Add(text.Substring(start, length));
            start += length;
        }

        return WithAttributes(new H5Dataset(pieces.ToArray()), ("pieces", "concatenate the elements in order"));
    }

    /// <summary>The dimension axes, then the fixed positions, then energy (NXstxm requires energy, sample_x and sample_y).</summary>
    private static void AddAxes(H5Group group, EntryDescriptor e)
    {
        foreach (var axis in e.Axes.Concat(e.Positions))
        {
            if (!group.ContainsKey(axis.Name))
            {
                group[axis.Name] = WithAttributes(new H5Dataset(axis.Values), ("units", axis.Units));
            }
        }

        if (!group.ContainsKey("energy"))
        {
            group["energy"] = WithAttributes(new H5Dataset(e.EnergyEv), ("units", "eV"));
        }
    }

    /// <summary>The EPU mode as pyStxm writes it.</summary>
    private static string PolarizationName(Polarization mode) => mode switch
    {
        Polarization.CircLeft => "cir. left, point of view of source",
        Polarization.CircRight => "cir. right, point of view of source",
        Polarization.LinHor => "linear horizontal",
        Polarization.IncVertMinus => "linear inclined, vertical minus",
        Polarization.IncVertPlus => "linear inclined, vertical plus",
        _ => "linear inclined",
    };

    /// <summary>
    /// Write options for <paramref name="file"/>: contiguous datasets (so acquired lines can be written in place at
    /// their offsets) and fixed-length strings, as pyStxm stores them and as MANTiS, aXis2000 and pyStxm's loader read
    /// them (definition, stxm_scan_type, axes...). PureHDF takes one string length per write, so every string gets
    /// <see cref="MaxStringBytes"/> + 1 bytes; longer texts are stored in pieces (<see cref="LongText"/>): nothing is cut.
    /// </summary>
    public static H5WriteOptions WriteOptions(H5File file) =>
        LongestString(file) <= MaxStringBytes
            ? new(PreferCompactDatasetLayout: false, DefaultStringLength: MaxStringBytes + 1)
            : throw new InvalidOperationException($"A string of the layout is longer than {MaxStringBytes} bytes; write it with LongText.");

    private static int LongestString(H5Object node)
    {
        var longest = node.Attributes?.Values.Select(LongestValue).DefaultIfEmpty(0).Max() ?? 0;

        if (node is H5Group group)
        {
            foreach (var child in group.Values)
            {
                longest = Math.Max(longest, child is H5Object o ? LongestString(o) : LongestValue(child));
            }
        }

        return longest;
    }

    private static int LongestValue(object? value) => value switch
    {
        string text => System.Text.Encoding.UTF8.GetByteCount(text),
        string[] texts => texts.Select(t => System.Text.Encoding.UTF8.GetByteCount(t)).DefaultIfEmpty(0).Max(),
        _ => 0,
    };

    /// <summary>
    /// The byte offset of a contiguous dataset's data in a file. PureHDF 2.2.0 has no public API for it; its reader keeps
    /// the layout message internally, so it is read by reflection. The version is pinned, and a test checks the offset
    /// against h5py's <c>dset.id.get_offset()</c>.
    /// </summary>
    public static long ContiguousOffset(string path, string datasetPath) => ContiguousOffsets(path, [datasetPath])[0];

    /// <summary>The byte offsets of several contiguous datasets, reading the file once.</summary>
    public static long[] ContiguousOffsets(string path, string[] datasetPaths)
    {
        using var file = H5File.OpenRead(path);
        return [.. datasetPaths.Select(p => ContiguousOffset(file, p))];
    }

    private static long ContiguousOffset(PureHDF.VOL.Native.NativeFile file, string datasetPath)
    {
        var dataset = file.Dataset(datasetPath);
        const BindingFlags flags = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;
        var layout = dataset.GetType().GetProperty("InternalDataLayout", flags)?.GetValue(dataset)
            ?? throw new InvalidOperationException("PureHDF's internal data layout was not found; is PureHDF still 2.2.0?");
        var properties = layout.GetType().GetProperty("Properties", flags)?.GetValue(layout);
        if (properties is null || !properties.GetType().Name.StartsWith("Contiguous", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{datasetPath} is not stored contiguously ({properties?.GetType().Name}).");
        }

        var address = properties.GetType().GetProperty("Address", flags)?.GetValue(properties);
        return Convert.ToInt64(address, CultureInfo.InvariantCulture);
    }

    private static string Iso(DateTimeOffset time) => time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'+00:00'", CultureInfo.InvariantCulture);

    private static H5Group Group(string nxClass)
    {
        var group = new H5Group();
        group.Attributes["NX_class"] = nxClass;
        return group;
    }

    private static H5Dataset WithAttributes(H5Dataset dataset, params (string Name, object Value)[] attributes)
    {
        dataset.Attributes = [];
        foreach (var (name, value) in attributes)
        {
            dataset.Attributes[name] = value;
        }

        return dataset;
    }
}

/// <summary>Reads back what StxmWeb wrote: the data and axes of an entry (for focus analysis and reloading).</summary>
public static class NxstxmReader
{
    /// <summary>An entry's detector data (flat, slowest first), its shape and its axes by name.</summary>
    /// <param name="Data">Values.</param>
    /// <param name="Shape">Shape.</param>
    /// <param name="Axes">Axis values by dataset name, in data order.</param>
    public sealed record EntryData(double[] Data, int[] Shape, IReadOnlyList<(string Name, double[] Values)> Axes);

    /// <summary>Reads <c>/entry/detector/data</c> and its axes from <paramref name="path"/>.</summary>
    public static EntryData Read(string path, string entry = "entry0", string detector = "counter0")
    {
        using var file = H5File.OpenRead(path);
        var group = file.Group($"/{entry}/{detector}");
        var dataset = group.Dataset("data");
        var shape = dataset.Space.Dimensions.Select(d => checked((int)d)).ToArray();
        var data = dataset.Read<double[]>();
        var axes = group.Attribute("axes").Read<string[]>();
        return new EntryData(data, shape, [.. axes.Select(a => (a, group.Dataset(a).Read<double[]>()))]);
    }

    /// <summary>The NXentry groups of <paramref name="path"/> (entry0, entry1, ...), in file order, and the default one.</summary>
    public static (IReadOnlyList<string> Entries, string Default) Entries(string path)
    {
        using var file = H5File.OpenRead(path);
        var entries = file.Children().OfType<IH5Group>().Select(g => g.Name).Where(n => n.StartsWith("entry", StringComparison.Ordinal))
            .OrderBy(n => int.TryParse(n.AsSpan(5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var i) ? i : int.MaxValue)
            .ToList();
        var fallback = entries.Count > 0 ? entries[0] : "entry0";
        var @default = file.Attributes().FirstOrDefault(a => a.Name == "default")?.Read<string>() ?? fallback;
        return (entries, @default);
    }

    /// <summary>The <c>stxm_scan_type</c> of an entry's detector data.</summary>
    public static string StxmScanType(string path, string entry = "entry0", string detector = "counter0")
    {
        using var file = H5File.OpenRead(path);
        var dataset = file.Dataset($"/{entry}/{detector}/stxm_scan_type");
        return dataset.Space.Rank == 0 ? dataset.Read<string>() : dataset.Read<string[]>()[0];
    }

    /// <summary>
    /// The scan request StxmWeb stored in <paramref name="path"/> (<c>/entry/collection/scan_request</c>, a JSON text,
    /// long texts joined from their pieces). Throws <see cref="InvalidDataException"/> when the file has none.
    /// </summary>
    public static string ScanRequestJson(string path, string? entry = null)
    {
        using var file = H5File.OpenRead(path);
        entry ??= file.Attributes().FirstOrDefault(a => a.Name == "default")?.Read<string>() ?? "entry0";
        try
        {
            var dataset = file.Dataset($"/{entry}/collection/scan_request");
            return dataset.Space.Rank == 0 ? dataset.Read<string>() : string.Concat(dataset.Read<string[]>());
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new InvalidDataException($"{Path.GetFileName(path)} has no /{entry}/collection/scan_request: it was not written by StxmWeb.", ex);
        }
    }
}
