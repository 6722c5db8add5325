using System.Globalization;
using System.Reflection;
using System.Text.Json;
using PureHDF;
using StxmWeb.Core.Documents;

namespace StxmWeb.Nexus;

/// <summary>
/// The NXstxm layout of one run (nexus-definitions/applications/NXstxm.nxdl.xml; pyStxm's writer, reference/PYSTXM.md
/// section 5): <c>/entry0</c> with title, times, definition, the <c>counter0</c> NXdata (data, energy, sample_y,
/// sample_x, count_time, stxm_scan_type; <c>signal</c> and <c>axes</c> in data order), the instrument (source,
/// monochromator, detector, zone plate), the sample and the ring-current monitor <c>control</c>.
/// </summary>
internal static class NxstxmLayout
{
    public const string Entry = "entry0";

    /// <summary>Paths of the datasets filled in place while acquiring.</summary>
    public static string DataPath(Descriptor d) => $"/{Entry}/{d.Detector}/data";

    public const string ControlDataPath = "/" + Entry + "/control/data";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Builds the file's content. <paramref name="data"/> and <paramref name="ring"/> are flat, in data order.</summary>
    public static H5File Build(RunStart start, Descriptor d, double[] data, double[] ring, DateTimeOffset endTime, string exitStatus, string reason)
    {
        var dims = d.Shape.Select(n => (ulong)n).ToArray();
        var axisNames = d.Axes.Select(a => a.Name).ToArray();

        var counter = Group("NXdata");
        counter.Attributes["signal"] = "data";
        counter.Attributes["axes"] = axisNames;
        counter["data"] = WithAttributes(new H5Dataset(data, fileDims: dims), ("signal", 1), ("units", d.Units));
        foreach (var axis in d.Axes)
        {
            counter[axis.Name] = WithAttributes(new H5Dataset(axis.Values), ("units", axis.Units));
        }

        counter["count_time"] = WithAttributes(new H5Dataset(d.EnergyEv.Select(_ => d.DwellMs / 1000.0).ToArray()), ("units", "s"));
        counter["stxm_scan_type"] = new[] { "sample image" };

        var control = Group("NXmonitor");
        control.Attributes["signal"] = "data";
        control.Attributes["axes"] = axisNames;
        control["data"] = WithAttributes(new H5Dataset(ring, fileDims: dims), ("units", "mA"));
        foreach (var axis in d.Axes)
        {
            control[axis.Name] = WithAttributes(new H5Dataset(axis.Values), ("units", axis.Units));
        }

        var source = Group("NXsource");
        source["type"] = "Synchrotron X-ray Source";
        source["name"] = "StxmWeb simulated storage ring";
        source["probe"] = "x-ray";

        var monochromator = Group("NXmonochromator");
        monochromator["energy"] = WithAttributes(new H5Dataset(d.EnergyEv), ("units", "eV"));

        var detector = Group("NXdetector");
        detector["data"] = new H5SoftLink(DataPath(d));
        detector["count_time"] = new H5SoftLink($"/{Entry}/{d.Detector}/count_time");
        detector["unit"] = d.Units;

        var instrument = Group("NXinstrument");
        instrument["source"] = source;
        instrument["monochromator"] = monochromator;
        instrument[d.Detector] = detector;

        var sample = Group("NXsample");
        sample["rotation_angle"] = WithAttributes(new H5Dataset(0.0), ("units", "degree"));

        var collection = Group("NXcollection");
        collection["scan_request"] = JsonSerializer.Serialize(start.Request, Json);
        collection["exit_status"] = exitStatus;
        collection["exit_reason"] = reason;
        collection["user"] = start.User;
        collection["run_uid"] = start.RunId.ToString();

        var entry = Group("NXentry");
        entry.Attributes["default"] = d.Detector;
        entry["title"] = string.IsNullOrWhiteSpace(start.Request.Title) ? "NeXus sample" : start.Request.Title;
        entry["start_time"] = Iso(start.Time);
        entry["end_time"] = Iso(endTime);
        entry["definition"] = new[] { "NXstxm" };
        entry["version"] = "1.0";
        entry["instrument"] = instrument;
        entry["sample"] = sample;
        entry["control"] = control;
        entry["collection"] = collection;
        entry[d.Detector] = counter;

        var file = new H5File { [Entry] = entry };
        file.Attributes["default"] = Entry;
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

    /// <summary>
    /// Write options for <paramref name="file"/>: contiguous datasets (so acquired lines can be written in place at
    /// their offsets) and fixed-length strings, as pyStxm stores them and as MANTiS, aXis2000 and pyStxm's loader read
    /// them (definition, stxm_scan_type, axes...). PureHDF takes one string length per write, so every string gets the
    /// length of the longest (in UTF-8 bytes, plus a NUL): nothing is cut.
    /// </summary>
    public static H5WriteOptions WriteOptions(H5File file) =>
        new(PreferCompactDatasetLayout: false, DefaultStringLength: LongestString(file) + 1);

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
    public static long ContiguousOffset(string path, string datasetPath)
    {
        using var file = H5File.OpenRead(path);
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
