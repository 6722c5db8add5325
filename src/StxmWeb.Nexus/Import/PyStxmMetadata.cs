using System.Globalization;
using System.Text.Json;
using StxmWeb.Core.Scans;

namespace StxmWeb.Nexus.Import;

/// <summary>
/// An axis of a pyStxm region (its <c>X</c>, <c>Y</c>, <c>ZP.Z</c>, <c>GONI.T</c>...): start, stop, centre, the number
/// of points, the positioner's device name and, when pyStxm computed them, the setpoints.
/// </summary>
public sealed record PyStxmAxis(double? Start, double? Stop, double? Center, int Points, string? Positioner, double[] Setpoints)
{
    /// <summary>The axis's <paramref name="count"/> values: its setpoints when there are that many, else evenly spaced from start to stop.</summary>
    public double[] Values(int count)
    {
        if (Setpoints.Length == count)
        {
            return Setpoints;
        }

        var start = Start ?? Center ?? 0;
        var stop = Stop ?? start;
        var values = new double[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = count == 1 ? start : start + (stop - start) * i / (count - 1);
        }

        return values;
    }
}

/// <summary>One of a region's energy ranges (pyStxm's EV_ROIS): setpoints, dwell (ms) and polarizations.</summary>
public sealed record PyStxmEnergyRange(double Start, double Stop, int Points, double DwellMs, double[] Setpoints, PolarizationSetting?[] Polarizations);

/// <summary>A pyStxm spatial region of a scan (one entry of <c>metadata.rois</c>).</summary>
public sealed record PyStxmRegion(int Id, PyStxmAxis X, PyStxmAxis Y, PyStxmAxis? ZonePlateZ, PyStxmAxis? Theta, IReadOnlyList<PyStxmEnergyRange> Energies)
{
    /// <summary>The first energy range, or null.</summary>
    public PyStxmEnergyRange? FirstEnergies => Energies.Count > 0 ? Energies[0] : null;

    /// <summary>Every energy of the region, in order, each with its dwell.</summary>
    public (double Ev, double DwellMs)[] EnergySetpoints() =>
        [.. Energies.SelectMany(r => (r.Setpoints.Length == r.Points ? r.Setpoints : new PyStxmAxis(r.Start, r.Stop, null, r.Points, null, []).Values(r.Points)).Select(e => (e, r.DwellMs)))];
}

/// <summary>Where a run's data goes in pyStxm's file (<c>metadata.img_idx_map</c>): the entry, energy and polarization index.</summary>
public sealed record PyStxmImageIndex(string Entry, int EnergyIndex, int PolarizationIndex, int RegionId, double? RotationAngle);

/// <summary>
/// The pyStxm metadata of a run: <c>start.metadata</c>, a JSON string (reference/PYSTXM.md, the recorded runs'
/// README): scan type, dwell, primary detector, the regions (<c>rois</c>), the region ids in scan order
/// (<c>sp_id_lst</c>), where the run's data goes (<c>img_idx_map</c>) and the device → PV map (<c>rev_lu_dct</c>).
/// </summary>
public sealed record PyStxmMetadata(
    ScanType ScanType,
    double DwellMs,
    string PrimaryDetector,
    PyStxmImageIndex Index,
    IReadOnlyList<int> RegionIds,
    IReadOnlyDictionary<int, PyStxmRegion> Regions,
    IReadOnlyDictionary<string, string> DevicePvs)
{
    /// <summary>The region the run scanned (its <c>img_idx_map.sp_id</c>).</summary>
    public PyStxmRegion Region => Regions[Index.RegionId];

    /// <summary>The device name pyStxm gives the PV <paramref name="pv"/> (IOC:m107 → GoniX), or null.</summary>
    public string? DeviceOf(string pv) => DevicePvs.FirstOrDefault(p => p.Value == pv).Key;

    /// <summary>Reads the metadata of a run's start document.</summary>
    /// <exception cref="BlueskyImportException">A field is missing or malformed; the message names it.</exception>
    public static PyStxmMetadata Of(BlueskyRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var where = $"run {run.ShortUid}: start.metadata";
        if (!run.Start.TryGetProperty("metadata", out var raw))
        {
            throw new BlueskyImportException($"run {run.ShortUid}: the start document has no 'metadata' (not a pyStxm run).");
        }

        var md = Nested(raw, where);
        var typeNumber = Json.Int(md, "scan_type", where);
        if (!Enum.IsDefined((ScanType)typeNumber))
        {
            throw new BlueskyImportException($"{where}.scan_type: {typeNumber} is not one of pyStxm's scan types (0-{Enum.GetValues<ScanType>().Max():D}).");
        }

        var indexWhere = where + ".img_idx_map";
        var idx = Nested(Json.Required(md, "img_idx_map", where), indexWhere);
        var index = new PyStxmImageIndex(
            Json.Text(idx, "entry", indexWhere),
            Json.Int(idx, "e_idx", indexWhere),
            idx.TryGetProperty("pol_idx", out _) ? Json.Int(idx, "pol_idx", indexWhere) : 0,
            Json.Int(idx, "sp_id", indexWhere),
            idx.TryGetProperty("rotation_angle", out var angle) && angle.ValueKind == JsonValueKind.Number ? angle.GetDouble() : null);

        var roisWhere = where + ".rois";
        var rois = Nested(Json.Required(md, "rois", where), roisWhere);
        if (rois.ValueKind != JsonValueKind.Object)
        {
            throw new BlueskyImportException($"{roisWhere}: not an object of regions.");
        }

        var regions = new Dictionary<int, PyStxmRegion>();
        foreach (var region in rois.EnumerateObject())
        {
            if (!int.TryParse(region.Name, NumberStyles.Integer, CultureInfo.InvariantCulture, out var id))
            {
                throw new BlueskyImportException($"{roisWhere}: region key '{region.Name}' is not a region id.");
            }

            regions[id] = ParseRegion(id, region.Value, $"{roisWhere}.{region.Name}");
        }

        if (!regions.ContainsKey(index.RegionId))
        {
            throw new BlueskyImportException($"{indexWhere}.sp_id: region {index.RegionId} is not in start.metadata.rois ({string.Join(", ", regions.Keys)}).");
        }

        var ids = md.TryGetProperty("sp_id_lst", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Select(v => v.GetInt32()).ToArray()
            : [index.RegionId];
        foreach (var id in ids.Where(id => !regions.ContainsKey(id)))
        {
            throw new BlueskyImportException($"{where}.sp_id_lst: region {id} is not in start.metadata.rois.");
        }

        var pvs = new Dictionary<string, string>();
        if (md.TryGetProperty("rev_lu_dct", out var lu) && lu.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in lu.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String))
            {
                pvs[p.Name] = p.Value.GetString()!;
            }
        }

        var dwell = md.TryGetProperty("dwell", out var d) && d.ValueKind == JsonValueKind.Number ? d.GetDouble() : regions[index.RegionId].FirstEnergies?.DwellMs ?? 1;
        var detector = md.TryGetProperty("primary_det", out var det) && det.ValueKind == JsonValueKind.String ? det.GetString()! : "counter0";
        return new PyStxmMetadata((ScanType)typeNumber, dwell, detector, index, ids, regions, pvs);
    }

    /// <summary>A value that pyStxm may have stored as a JSON string of JSON.</summary>
    private static JsonElement Nested(JsonElement value, string where)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return value;
        }

        try
        {
            using var doc = JsonDocument.Parse(value.GetString()!);
            return doc.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new BlueskyImportException($"{where}: a string that is not JSON ({ex.Message}).");
        }
    }

    private static PyStxmRegion ParseRegion(int id, JsonElement r, string where)
    {
        var x = Axis(Json.Required(r, "X", where), where + ".X");
        var y = Axis(Json.Required(r, "Y", where), where + ".Y");
        var zpz = r.TryGetProperty("ZP", out var zp) && zp.ValueKind == JsonValueKind.Object && zp.TryGetProperty("Z", out var z) && z.ValueKind == JsonValueKind.Object
            ? Axis(z, where + ".ZP.Z") : null;
        var theta = r.TryGetProperty("GONI", out var goni) && goni.ValueKind == JsonValueKind.Object && goni.TryGetProperty("T", out var t) && t.ValueKind == JsonValueKind.Object
            ? Axis(t, where + ".GONI.T") : null;
        var energies = new List<PyStxmEnergyRange>();
        if (r.TryGetProperty("EV_ROIS", out var evs) && evs.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var ev in evs.EnumerateArray())
            {
                var evWhere = $"{where}.EV_ROIS[{i++}]";
                var start = Json.Number(ev, "START", evWhere) ?? Json.Number(ev, "CENTER", evWhere) ?? throw new BlueskyImportException($"{evWhere}: no START.");
                var stop = Json.Number(ev, "STOP", evWhere) ?? start;
                var points = (int)(Json.Number(ev, "NPOINTS", evWhere) ?? 1);
                var dwell = Json.Number(ev, "DWELL", evWhere) ?? 1;
                var pols = new List<PolarizationSetting?>();
                if (ev.TryGetProperty("POL_ROIS", out var polRois) && polRois.ValueKind == JsonValueKind.Array)
                {
                    foreach (var pol in polRois.EnumerateArray())
                    {
                        var mode = (int)(Json.Number(pol, "POL", evWhere + ".POL_ROIS") ?? -1);
                        pols.Add(mode >= 0 && Enum.IsDefined((Polarization)mode)
                            ? new PolarizationSetting((Polarization)mode, Json.Number(pol, "OFF", evWhere) ?? 0, Json.Number(pol, "ANGLE", evWhere) ?? 0)
                            : null);
                    }
                }

                energies.Add(new PyStxmEnergyRange(start, stop, points, dwell, Json.Numbers(ev, "SETPOINTS"), [.. pols]));
            }
        }

        return new PyStxmRegion(id, x, y, zpz, theta, energies);
    }

    private static PyStxmAxis Axis(JsonElement a, string where) => new(
        Json.Number(a, "START", where), Json.Number(a, "STOP", where), Json.Number(a, "CENTER", where),
        (int)(Json.Number(a, "NPOINTS", where) ?? 0),
        a.TryGetProperty("POSITIONER", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null,
        Json.Numbers(a, "SETPOINTS"));
}

/// <summary>Small readers of JSON fields that name the field when it is wrong.</summary>
internal static class Json
{
    public static JsonElement Required(JsonElement o, string name, string where) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) ? v : throw new BlueskyImportException($"{where}: no '{name}'.");

    public static string Text(JsonElement o, string name, string where) => Required(o, name, where) is { ValueKind: JsonValueKind.String } v
        ? v.GetString()!
        : throw new BlueskyImportException($"{where}.{name}: not a string.");

    public static int Int(JsonElement o, string name, string where) => Required(o, name, where) is { ValueKind: JsonValueKind.Number } v && v.TryGetDouble(out var d) && d == Math.Floor(d)
        ? (int)d
        : throw new BlueskyImportException($"{where}.{name}: not a whole number.");

    /// <summary>A number, or null when absent or JSON null; throws when present but not a number.</summary>
    public static double? Number(JsonElement o, string name, string where)
    {
        if (o.ValueKind != JsonValueKind.Object || !o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw new BlueskyImportException($"{where}.{name}: not a number.");
    }

    /// <summary>An array of numbers (non-numbers skipped), empty when absent.</summary>
    public static double[] Numbers(JsonElement o, string name) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
            ? [.. v.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Number).Select(e => e.GetDouble())]
            : [];
}
