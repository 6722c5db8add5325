using System.Globalization;
using System.Text.Json;
using StxmWeb.Core.Documents;
using StxmWeb.Core.Plans;
using StxmWeb.Core.Scans;

namespace StxmWeb.Nexus.Import;

/// <summary>
/// A scan rebuilt from recorded Bluesky runs as StxmWeb's own document stream: the request it ran, what its file holds
/// (<see cref="Descriptor"/>), every value as <see cref="Frame"/>s, how it ended, and what the import noticed.
/// </summary>
/// <param name="RunId">A new run id for the file (the pyStxm run uids are in <see cref="SourceRuns"/>).</param>
/// <param name="ScanId">pyStxm's <c>scan_id</c> of the first run.</param>
/// <param name="Request">The scan as a StxmWeb request (written as the file's <c>scan_request</c>).</param>
/// <param name="StartTime">The first run's start.</param>
/// <param name="StopTime">The last run's stop.</param>
/// <param name="User">Who ran it (the start document's <c>user</c>).</param>
/// <param name="Descriptor">Entries, shapes and axes.</param>
/// <param name="Frames">The data, one frame per event (a line of a waveform, or one point).</param>
/// <param name="Status">How the scan ended (from the runs' stop documents).</param>
/// <param name="Reason">Why, when it did not succeed.</param>
/// <param name="SourceRuns">The uids of the runs the scan is made of, in acquisition order.</param>
/// <param name="Notes">What the import noticed and how it resolved it (a short waveform, missing events...).</param>
public sealed record ImportedScan(
    Guid RunId, int ScanId, ScanRequest Request, DateTimeOffset StartTime, DateTimeOffset StopTime, string User,
    Descriptor Descriptor, IReadOnlyList<Frame> Frames, ExitStatus Status, string Reason, IReadOnlyList<string> SourceRuns, IReadOnlyList<string> Notes)
{
    /// <summary>The documents that write this scan's file at <paramref name="filePath"/>: start, descriptor, frames, stop.</summary>
    public IEnumerable<Document> Documents(string filePath)
    {
        yield return new RunStart(RunId, ScanId, Request, StartTime, User, filePath);
        yield return Descriptor;
        foreach (var frame in Frames)
        {
            yield return frame;
        }

        yield return new RunStop(RunId, Status, Reason, StopTime, Frames.Count);
    }
}

/// <summary>
/// Turns pyStxm's recorded Bluesky runs into NXstxm scans. The shapes and axes come from each run's own documents: a
/// grid scan's <c>shape</c>, <c>extents</c>, <c>motors</c> and <c>snaking</c>; otherwise the region of
/// <c>metadata.rois</c> the run scanned (<c>img_idx_map.sp_id</c>: X, Y, ZP.Z, GONI.T and the energy ranges, with
/// their setpoints), and where the run's data goes (<c>img_idx_map</c>: entry, energy index, rotation angle). A scan
/// of several runs (a stack: one run per energy; a tomogram: one per angle and energy) is the runs of one file with the
/// same scan type and regions, ordered by start time.
/// <list type="bullet">
/// <item>Images (detector, OSA, sample, coarse, goniometer, stack, tomography): an entry per <c>img_idx_map.entry</c>,
/// data (energies, rows, columns). A grid scan's events are points in <c>seq_num</c> order, row by row; a line-by-line
/// scan's events are rows, each the counter's waveform, of which the region's X points are taken (the waveform buffer,
/// the descriptor's shape, is longer).</item>
/// <item>Focus (OSA, sample): data (zone-plate z, line position), z from the region's ZP.Z setpoints.</item>
/// <item>Line spectrum: data (energies, line position), one waveform per energy.</item>
/// <item>Point spectra: an entry per point (<c>sp_id_lst</c> order), data (energies); the events go point by point
/// within each energy, as pyStxm's point-by-point plan moves (the events themselves do not record the position).</item>
/// <item>Positioner (generic) scan: data (points), the axis the motor's recorded setpoints, named after its device.</item>
/// </list>
/// Planned values with no event stay NaN, as in a file of an aborted scan.
/// </summary>
public static class PyStxmImporter
{
    private const string Micrometre = "µm";

    /// <summary>Converts every scan of a file's runs.</summary>
    /// <exception cref="BlueskyImportException">A run lacks what its scan type needs; the message names the run and field.</exception>
    public static IReadOnlyList<ImportedScan> Convert(IReadOnlyList<BlueskyRun> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var parsed = runs.Select(r => (Run: r, Meta: PyStxmMetadata.Of(r))).ToArray();
        var groups = parsed
            .GroupBy(p => (p.Meta.ScanType, Rois: RoisKey(p.Run)))
            .Select(g => g.OrderBy(p => p.Run.StartTime).ToArray())
            .OrderBy(g => g[0].Run.StartTime);
        return [.. groups.Select(g => Scan([.. g.Select(p => new PyStxmRun(p.Run, p.Meta))]))];
    }

    private static string RoisKey(BlueskyRun run)
    {
        var md = run.Start.GetProperty("metadata");
        var text = md.ValueKind == JsonValueKind.String ? md.GetString()! : md.GetRawText();
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.TryGetProperty("rois", out var rois) ? rois.ToString() : "";
    }

    private sealed record PyStxmRun(BlueskyRun Run, PyStxmMetadata Meta)
    {
        public string Where => $"run {Run.ShortUid}";
    }

    private static ImportedScan Scan(PyStxmRun[] runs)
    {
        var first = runs[0];
        var type = first.Meta.ScanType;
        var info = ScanTypes.Of(type);
        var notes = new List<string>();
        var runId = Guid.NewGuid();
        var frames = new FrameSink(runId);
        foreach (var twice in runs.GroupBy(r => (r.Meta.Index.Entry, r.Meta.Index.EnergyIndex, r.Meta.Index.PolarizationIndex)).Where(g => g.Count() > 1))
        {
            throw new BlueskyImportException($"runs {string.Join(" and ", twice.Select(r => r.Run.ShortUid))} both hold {twice.Key.Entry}, energy {twice.Key.EnergyIndex}, polarization {twice.Key.PolarizationIndex}: not one scan.");
        }

        var (entries, request) = info.Family switch
        {
            ScanFamily.Image or ScanFamily.Tomography => Images(runs, info, frames, notes),
            ScanFamily.Focus => Focus(first, info, frames, notes),
            ScanFamily.LineSpectrum => LineSpectrum(first, info, frames, notes),
            ScanFamily.PointSpectrum => PointSpectra(first, info, frames, notes),
            ScanFamily.Generic => Generic(first, info, frames, notes),
            _ => throw new BlueskyImportException($"{first.Where}: scan type {type} ({(int)type}) has no import."),
        };

        entries = WithSamplePosition(entries, runs, notes);
        var (status, reason) = Outcome(runs);
        var start = first.Run.StartTime;
        var stop = runs.Max(r => r.Run.StopTime);
        var title = $"pyStxm scan {ScanIdOf(first.Run)} ({PlanName(first.Run)}), imported";
        request = request with { ScanType = type, Title = title };
        var descriptor = new Descriptor(runId, first.Meta.PrimaryDetector, "counts", type, [.. entries], stop > start ? stop - start : TimeSpan.Zero);
        var user = first.Run.Start.TryGetProperty("user", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString()! : "pyStxm";
        return new ImportedScan(runId, ScanIdOf(first.Run), request, start, stop, user, descriptor, frames.Frames, status, reason, [.. runs.Select(r => r.Run.Uid)], notes);
    }

    private static int ScanIdOf(BlueskyRun run) => run.Start.TryGetProperty("scan_id", out var id) && id.TryGetInt32(out var n) ? n : 0;

    private static string PlanName(BlueskyRun run) => run.Start.TryGetProperty("plan_name", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString()! : "plan";

    private static (ExitStatus, string) Outcome(PyStxmRun[] runs)
    {
        foreach (var r in runs)
        {
            if (r.Run.Stop is not { } stop)
            {
                return (ExitStatus.Failed, $"{r.Where} has no stop document: it did not finish");
            }

            var exit = stop.TryGetProperty("exit_status", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString()! : "success";
            var reason = stop.TryGetProperty("reason", out var why) && why.ValueKind == JsonValueKind.String ? why.GetString()! : "";
            switch (exit)
            {
                case "abort":
                    return (ExitStatus.Aborted, string.IsNullOrEmpty(reason) ? $"{r.Where} was aborted" : reason);
                case "fail":
                    return (ExitStatus.Failed, string.IsNullOrEmpty(reason) ? $"{r.Where} failed" : reason);
            }
        }

        return (ExitStatus.Success, "");
    }

    // ----- images, stacks, tomography -------------------------------------------------------------------------------

    private static (List<EntryDescriptor>, ScanRequest) Images(PyStxmRun[] runs, ScanTypeInfo info, FrameSink frames, List<string> notes)
    {
        var first = runs[0];
        var region = first.Meta.Region;
        var energies = region.EnergySetpoints();
        var planes = runs.Max(r => r.Meta.Index.EnergyIndex) + 1;
        if (energies.Length < planes)
        {
            notes.Add($"The region plans {energies.Length} energies but the runs hold energy index {planes - 1}; the energies are taken from the runs' baseline readings.");
            energies = [.. Enumerable.Range(0, planes).Select(i => (runs.FirstOrDefault(r => r.Meta.Index.EnergyIndex == i) is { } r ? BaselineEnergy(r) ?? double.NaN : double.NaN, first.Meta.DwellMs))];
        }

        if (energies.Length == 0)
        {
            energies = [(BaselineEnergy(first) ?? double.NaN, first.Meta.DwellMs)];
        }

        // Rows and columns: a grid scan says them in its start document; a line-by-line scan's region says them.
        int ny, nx;
        double[] ys, xs;
        var grid = first.Run.Start.TryGetProperty("shape", out var shape) && shape.ValueKind == JsonValueKind.Array && shape.GetArrayLength() == 2;
        if (grid)
        {
            ny = shape[0].GetInt32();
            nx = shape[1].GetInt32();
            ys = Extent(first, 0, ny);
            xs = Extent(first, 1, nx);
            if (region.X.Points != nx || region.Y.Points != ny)
            {
                notes.Add($"The grid's shape ({ny} x {nx}) differs from its region's points ({region.Y.Points} x {region.X.Points}); the grid's is used.");
            }
        }
        else
        {
            ny = region.Y.Points;
            nx = region.X.Points;
            ys = region.Y.Values(ny);
            xs = region.X.Values(nx);
        }

        if (nx <= 0 || ny <= 0)
        {
            throw new BlueskyImportException($"{first.Where}: the image has {ny} rows of {nx} points (start.metadata.rois.{region.Id}.X/Y NPOINTS).");
        }

        var entryNames = runs.Select(r => r.Meta.Index.Entry).Distinct().OrderBy(EntryOrder).ToArray();
        var entries = new List<EntryDescriptor>();
        var e = energies.Select(p => p.Ev).ToArray();
        var dwell = energies.Select(p => p.DwellMs).ToArray();
        foreach (var name in entryNames)
        {
            var entryRuns = runs.Where(r => r.Meta.Index.Entry == name).ToArray();
            var index = entries.Count;
            var polarization = PolarizationOf(region, entryRuns[0].Meta.Index.PolarizationIndex);
            entries.Add(new EntryDescriptor($"entry{index}", [e.Length, ny, nx],
                [new Axis("energy", "eV", e), new Axis(ScanTypeInfo.AxisName(info.Y!), Micrometre, ys), new Axis(ScanTypeInfo.AxisName(info.X!), Micrometre, xs)], e, dwell, info.StxmScanType)
            {
                Polarization = polarization,
                RotationAngle = entryRuns[0].Meta.Index.RotationAngle ?? region.Theta?.Center ?? 0,
            });
            if (name != $"entry{index}")
            {
                notes.Add($"pyStxm's {name} is written as entry{index}.");
            }

            foreach (var run in entryRuns)
            {
                var plane = run.Meta.Index.EnergyIndex;
                var events = run.Run.Stream("primary");
                var ring = RingCurrent(run);
                var counter = CounterKey(run);
                if (grid)
                {
                    var snake = run.Run.Start.TryGetProperty("snaking", out var s) && s.ValueKind == JsonValueKind.Array && s.GetArrayLength() == 2 && s[1].ValueKind == JsonValueKind.True;
                    foreach (var ev in events)
                    {
                        var i = ev.SeqNum - 1;
                        if (i < 0 || i >= nx * ny)
                        {
                            notes.Add($"{run.Where}: event {ev.SeqNum} lies beyond the {ny} x {nx} grid; left out.");
                            continue;
                        }

                        var row = i / nx;
                        var column = snake && row % 2 == 1 ? nx - 1 - i % nx : i % nx;
                        frames.Add(index, plane, row, column, [Value(ev, counter, run)], ev, ring(ev));
                    }

                    CountCheck(run, events.Count, nx * ny, "points", notes);
                }
                else
                {
                    Rows(run, events, counter, nx, ny, (row, values, ev) => frames.Add(index, plane, row, 0, values, ev, ring(ev)), notes);
                }
            }
        }

        var request = new ScanRequest
        {
            Mode = grid ? AcquisitionMode.PointByPoint : AcquisitionMode.Line,
            DwellMs = first.Meta.DwellMs,
            EnergyEv = e[0],
            Regions = [new SpatialRegion(AxisRegion.FromStartStop(xs[0], xs[^1], nx), AxisRegion.FromStartStop(ys[0], ys[^1], ny))],
            Energies = EnergyRegions(region),
            Polarizations = Polarizations(region),
            Theta = info.Family == ScanFamily.Tomography && region.Theta is { } t && t.Points > 0
                ? new PositionerAxis(Roles.GoniTheta, t.Start ?? t.Values(t.Points)[0], t.Stop ?? t.Values(t.Points)[^1], t.Points) : null,
        };
        return (entries, request);
    }

    private static double[] Extent(PyStxmRun run, int dimension, int count)
    {
        var where = $"{run.Where}: start.extents[{dimension}]";
        if (!run.Run.Start.TryGetProperty("extents", out var extents) || extents.ValueKind != JsonValueKind.Array || extents.GetArrayLength() <= dimension
            || extents[dimension] is not { ValueKind: JsonValueKind.Array } pair || pair.GetArrayLength() != 2)
        {
            throw new BlueskyImportException($"{where}: a grid scan needs [start, stop] of each dimension.");
        }

        return new PyStxmAxis(pair[0].GetDouble(), pair[1].GetDouble(), null, count, null, []).Values(count);
    }

    private static int EntryOrder(string name) =>
        name.StartsWith("entry", StringComparison.Ordinal) && int.TryParse(name.AsSpan(5), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : int.MaxValue;

    // ----- focus, line spectrum ------------------------------------------------------------------------------------

    private static (List<EntryDescriptor>, ScanRequest) Focus(PyStxmRun run, ScanTypeInfo info, FrameSink frames, List<string> notes)
    {
        var region = run.Meta.Region;
        if (region.ZonePlateZ is not { Points: > 0 } z)
        {
            throw new BlueskyImportException($"{run.Where}: start.metadata.rois.{region.Id}.ZP.Z: a focus scan needs the zone-plate z points.");
        }

        var zs = z.Values(z.Points);
        var (line, xs, ys) = Line(run);
        var energy = SingleEnergy(run);
        var entry = new EntryDescriptor("entry0", [zs.Length, line.Points],
            [new Axis("zpz", Micrometre, zs), new Axis("line_position", Micrometre, line.Positions())], [energy.Ev], [energy.DwellMs], info.StxmScanType)
        {
            Positions = [new Axis(ScanTypeInfo.AxisName(info.X!), Micrometre, xs), new Axis(ScanTypeInfo.AxisName(info.Y!), Micrometre, ys)],
        };
        LinesOrPoints(run, line.Points, zs.Length, (row, column, values, ev, ring) => frames.Add(0, 0, row, column, values, ev, ring), notes);
        var request = new ScanRequest
        {
            DwellMs = energy.DwellMs,
            EnergyEv = energy.Ev,
            Line = line,
            ZonePlateZ = AxisRegion.FromStartStop(zs[0], zs[^1], zs.Length),
            Mode = IsWaveform(run) ? AcquisitionMode.Line : AcquisitionMode.PointByPoint,
        };
        return ([entry], request);
    }

    private static (List<EntryDescriptor>, ScanRequest) LineSpectrum(PyStxmRun run, ScanTypeInfo info, FrameSink frames, List<string> notes)
    {
        var region = run.Meta.Region;
        var energies = region.EnergySetpoints();
        if (energies.Length == 0)
        {
            throw new BlueskyImportException($"{run.Where}: start.metadata.rois.{region.Id}.EV_ROIS: a line spectrum needs its energies.");
        }

        var (line, xs, ys) = Line(run);
        var e = energies.Select(p => p.Ev).ToArray();
        var entry = new EntryDescriptor("entry0", [e.Length, line.Points],
            [new Axis("energy", "eV", e), new Axis("line_position", Micrometre, line.Positions())], e, [.. energies.Select(p => p.DwellMs)], info.StxmScanType)
        {
            Positions = [new Axis(ScanTypeInfo.AxisName(info.X!), Micrometre, xs), new Axis(ScanTypeInfo.AxisName(info.Y!), Micrometre, ys)],
            Polarization = PolarizationOf(region, run.Meta.Index.PolarizationIndex),
        };
        LinesOrPoints(run, line.Points, e.Length, (row, column, values, ev, ring) => frames.Add(0, 0, row, column, values, ev, ring), notes);
        var request = new ScanRequest
        {
            DwellMs = run.Meta.DwellMs,
            EnergyEv = e[0],
            Line = line,
            Energies = EnergyRegions(region),
            Polarizations = Polarizations(region),
            Mode = IsWaveform(run) ? AcquisitionMode.Line : AcquisitionMode.PointByPoint,
        };
        return ([entry], request);
    }

    /// <summary>The line of a focus scan or line spectrum: from (X start, Y start) to (X stop, Y stop), X's points.</summary>
    private static (LineRegion Line, double[] Xs, double[] Ys) Line(PyStxmRun run)
    {
        var region = run.Meta.Region;
        var n = region.X.Points;
        if (n <= 0)
        {
            throw new BlueskyImportException($"{run.Where}: start.metadata.rois.{region.Id}.X.NPOINTS: the line has no points.");
        }

        var xs = region.X.Values(n);
        var ys = region.Y.Values(n);
        return (new LineRegion(xs[0], ys[0], xs[^1], ys[^1], n), xs, ys);
    }

    /// <summary>Rows of a 2-D scan, from waveform events (a row each) or from point events (row by row, seq_num order).</summary>
    private static void LinesOrPoints(PyStxmRun run, int columns, int rows, Action<int, int, double[], BlueskyEvent, double> add, List<string> notes)
    {
        var events = run.Run.Stream("primary");
        var counter = CounterKey(run);
        var ring = RingCurrent(run);
        if (IsWaveform(run))
        {
            Rows(run, events, counter, columns, rows, (row, values, ev) => add(row, 0, values, ev, ring(ev)), notes);
            return;
        }

        foreach (var ev in events)
        {
            var i = ev.SeqNum - 1;
            if (i < 0 || i >= rows * columns)
            {
                notes.Add($"{run.Where}: event {ev.SeqNum} lies beyond the {rows} x {columns} points; left out.");
                continue;
            }

            add(i / columns, i % columns, [Value(ev, counter, run)], ev, ring(ev));
        }

        CountCheck(run, events.Count, rows * columns, "points", notes);
    }

    /// <summary>Waveform events as rows: the first <paramref name="columns"/> values of each (NaN-padded when shorter).</summary>
    private static void Rows(PyStxmRun run, IReadOnlyList<BlueskyEvent> events, string counter, int columns, int rows, Action<int, double[], BlueskyEvent> add, List<string> notes)
    {
        var row = 0;
        var longer = 0;
        foreach (var ev in events)
        {
            if (row >= rows)
            {
                notes.Add($"{run.Where}: {events.Count} lines for {rows} rows; the lines after row {rows - 1} are left out.");
                break;
            }

            if (!ev.Data.TryGetProperty(counter, out var waveform) || waveform.ValueKind != JsonValueKind.Array)
            {
                throw new BlueskyImportException($"{run.Where}: event {ev.SeqNum}: '{counter}' is not a waveform.");
            }

            var values = new double[columns];
            var n = waveform.GetArrayLength();
            for (var i = 0; i < columns; i++)
            {
                values[i] = i < n && waveform[i].ValueKind == JsonValueKind.Number ? waveform[i].GetDouble() : double.NaN;
            }

            if (n < columns)
            {
                notes.Add($"{run.Where}: event {ev.SeqNum} has {n} of the line's {columns} points; the rest are NaN.");
            }
            else if (n > columns)
            {
                longer = n;
            }

            add(row++, values, ev);
        }

        if (longer > 0)
        {
            notes.Add($"{run.Where}: waveforms of {longer} values; the line's {columns} points are their first {columns}.");
        }

        CountCheck(run, events.Count, rows, "lines", notes);
    }

    // ----- point spectra -------------------------------------------------------------------------------------------

    private static (List<EntryDescriptor>, ScanRequest) PointSpectra(PyStxmRun run, ScanTypeInfo info, FrameSink frames, List<string> notes)
    {
        var meta = run.Meta;
        var points = meta.RegionIds.Select(id => meta.Regions[id]).ToArray();
        var energies = meta.Region.EnergySetpoints();
        if (energies.Length == 0)
        {
            throw new BlueskyImportException($"{run.Where}: start.metadata.rois.{meta.Region.Id}.EV_ROIS: point spectra need their energies.");
        }

        var e = energies.Select(p => p.Ev).ToArray();
        var dwell = energies.Select(p => p.DwellMs).ToArray();
        var entries = points.Select((p, i) => new EntryDescriptor($"entry{i}", [e.Length], [new Axis("energy", "eV", e)], e, dwell, info.StxmScanType)
        {
            Positions = [new Axis(ScanTypeInfo.AxisName(info.X!), Micrometre, [p.X.Center ?? p.X.Values(1)[0]]), new Axis(ScanTypeInfo.AxisName(info.Y!), Micrometre, [p.Y.Center ?? p.Y.Values(1)[0]])],
            Polarization = PolarizationOf(p, 0),
        }).ToList();
        var events = run.Run.Stream("primary");
        var counter = CounterKey(run);
        var ring = RingCurrent(run);
        foreach (var ev in events)
        {
            var i = ev.SeqNum - 1;
            if (i < 0 || i >= e.Length * points.Length)
            {
                notes.Add($"{run.Where}: event {ev.SeqNum} lies beyond {e.Length} energies x {points.Length} points; left out.");
                continue;
            }

            frames.Add(i % points.Length, 0, 0, i / points.Length, [Value(ev, counter, run)], ev, ring(ev));
        }

        CountCheck(run, events.Count, e.Length * points.Length, "points", notes);
        notes.Add($"The {points.Length} points (regions {string.Join(", ", meta.RegionIds)}) are taken point by point within each energy, pyStxm's point-by-point order; the events do not record the position.");
        var request = new ScanRequest
        {
            DwellMs = meta.DwellMs,
            EnergyEv = e[0],
            Points = [.. points.Select(p => new SamplePoint(p.X.Center ?? 0, p.Y.Center ?? 0))],
            Energies = EnergyRegions(meta.Region),
            Polarizations = Polarizations(meta.Region),
            Mode = AcquisitionMode.PointByPoint,
        };
        return (entries, request);
    }

    // ----- positioner scan -----------------------------------------------------------------------------------------

    private static (List<EntryDescriptor>, ScanRequest) Generic(PyStxmRun run, ScanTypeInfo info, FrameSink frames, List<string> notes)
    {
        var start = run.Run.Start;
        if (!start.TryGetProperty("motors", out var motors) || motors.ValueKind != JsonValueKind.Array || motors.GetArrayLength() == 0 || motors[0].ValueKind != JsonValueKind.String)
        {
            throw new BlueskyImportException($"{run.Where}: start.motors: a positioner scan needs the motor it moved.");
        }

        var motor = motors[0].GetString()!;
        var device = run.Meta.DeviceOf(motor) ?? run.Meta.Region.X.Positioner ?? motor;
        var events = run.Run.Stream("primary");
        var count = start.TryGetProperty("num_points", out var np) && np.TryGetInt32(out var n) ? n : events.Count;
        var setpoint = events.Count > 0 && events[0].Data.TryGetProperty(motor + "_user_setpoint", out _) ? motor + "_user_setpoint" : motor;

        // The axis: the setpoints the motor was sent, as recorded; points without an event get the region's.
        var planned = run.Meta.Region.X.Values(count);
        var values = (double[])planned.Clone();
        foreach (var ev in events.Where(ev => ev.SeqNum >= 1 && ev.SeqNum <= count))
        {
            if (ev.Data.TryGetProperty(setpoint, out var v) && v.ValueKind == JsonValueKind.Number)
            {
                values[ev.SeqNum - 1] = v.GetDouble();
            }
        }

        var energy = SingleEnergy(run);
        var role = RoleOf(device);
        var axisName = role is null ? device.Replace('.', '_').ToLowerInvariant() : ScanTypeInfo.AxisName(role);
        var units = role is Roles.GoniTheta ? "degree" : role is Roles.Energy ? "eV" : Micrometre;
        var entry = new EntryDescriptor("entry0", [count], [new Axis(axisName, units, values)], [energy.Ev], [run.Meta.DwellMs], info.StxmScanType);
        var counter = CounterKey(run);
        var ring = RingCurrent(run);
        foreach (var ev in events)
        {
            if (ev.SeqNum < 1 || ev.SeqNum > count)
            {
                notes.Add($"{run.Where}: event {ev.SeqNum} lies beyond the scan's {count} points; left out.");
                continue;
            }

            frames.Add(0, 0, 0, ev.SeqNum - 1, [Value(ev, counter, run)], ev, ring(ev));
        }

        CountCheck(run, events.Count, count, "points", notes);
        var request = new ScanRequest
        {
            DwellMs = run.Meta.DwellMs,
            EnergyEv = energy.Ev,
            Primary = new PositionerAxis(role ?? device, values[0], values[^1], count),
            Mode = AcquisitionMode.PointByPoint,
        };
        return ([entry], request);
    }

    /// <summary>
    /// NXstxm wants sample_x and sample_y in every NXdata: entries that do not scan them (detector, OSA, focus of the OSA,
    /// positioner scans) get where the fine stage stood, from the baseline readings (as StxmWeb's own scans do).
    /// </summary>
    private static List<EntryDescriptor> WithSamplePosition(List<EntryDescriptor> entries, PyStxmRun[] runs, List<string> notes)
    {
        var result = new List<EntryDescriptor>();
        foreach (var entry in entries)
        {
            var present = entry.Axes.Concat(entry.Positions).Select(a => a.Name).ToHashSet(StringComparer.Ordinal);
            var extra = new List<Axis>();
            foreach (var (name, devices) in new[] { ("sample_x", new[] { "SampleFineX", "SampleX" }), ("sample_y", new[] { "SampleFineY", "SampleY" }) })
            {
                if (present.Contains(name))
                {
                    continue;
                }

                var reading = devices.Select(d => runs.Select(r => BaselineReading(r, d)).FirstOrDefault(v => v is not null)).FirstOrDefault(v => v is not null);
                if (reading is null)
                {
                    notes.Add($"{entry.Name}: no baseline reading of the sample stage; {name} is NaN.");
                }

                extra.Add(new Axis(name, Micrometre, [reading ?? double.NaN]));
            }

            result.Add(extra.Count == 0 ? entry : entry with { Positions = [.. entry.Positions, .. extra] });
        }

        return result;
    }

    /// <summary>The first baseline reading of a pyStxm device (its PV's readback, named as the PV), or null.</summary>
    private static double? BaselineReading(PyStxmRun run, string device) =>
        run.Meta.DevicePvs.TryGetValue(device, out var pv)
            ? run.Run.Stream("baseline").Select(b => b.Data.TryGetProperty(pv, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : (double?)null).FirstOrDefault(v => v is not null)
            : null;

    /// <summary>StxmWeb's positioner role of a pyStxm device name (reference/PYSTXM.md), or null for devices StxmWeb has no role for.</summary>
    internal static string? RoleOf(string device) => device switch
    {
        "SampleX" or "SampleFineX" => Roles.SampleX,
        "SampleY" or "SampleFineY" => Roles.SampleY,
        "Coarse.X" => Roles.CoarseX,
        "Coarse.Y" => Roles.CoarseY,
        "GoniX" => Roles.GoniX,
        "GoniY" => Roles.GoniY,
        "GoniTheta" => Roles.GoniTheta,
        "OSA.X" => Roles.OsaX,
        "OSA.Y" => Roles.OsaY,
        "Detector.X" => Roles.DetectorX,
        "Detector.Y" => Roles.DetectorY,
        "ZonePlate.Z" => Roles.ZonePlateZ,
        "ENERGY" => Roles.Energy,
        _ => null,
    };

    // ----- shared --------------------------------------------------------------------------------------------------

    private static void CountCheck(PyStxmRun run, int got, int planned, string what, List<string> notes)
    {
        if (got < planned)
        {
            notes.Add($"{run.Where}: {got} of {planned} {what} recorded; the rest are NaN.");
        }
    }

    /// <summary>The counter's signal in the primary stream: <c>{primary_det}_single_value_rbv</c>, <c>…_waveform_rbv</c>, or the one signal named after it.</summary>
    private static string CounterKey(PyStxmRun run)
    {
        var detector = run.Meta.PrimaryDetector;
        var keys = run.Run.DataKeys.TryGetValue("primary", out var dk) ? dk.EnumerateObject().Select(p => p.Name).ToArray()
            : FirstOf(run.Run.Stream("primary"))?.Data.EnumerateObject().Select(p => p.Name).ToArray() ?? [];
        return keys.FirstOrDefault(k => k == $"{detector}_single_value_rbv")
            ?? keys.FirstOrDefault(k => k == $"{detector}_waveform_rbv")
            ?? keys.FirstOrDefault(k => k.StartsWith(detector, StringComparison.Ordinal))
            ?? throw new BlueskyImportException($"{run.Where}: the primary stream has no signal of the detector '{detector}' (start.metadata.primary_det); it has {string.Join(", ", keys)}.");
    }

    private static bool IsWaveform(PyStxmRun run)
    {
        var key = CounterKey(run);
        return run.Run.DataKeys.TryGetValue("primary", out var dk) && dk.TryGetProperty(key, out var d) && d.TryGetProperty("shape", out var s) && s.ValueKind == JsonValueKind.Array && s.GetArrayLength() > 0
            || FirstOf(run.Run.Stream("primary")) is { } ev && ev.Data.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Array;
    }

    private static double Value(BlueskyEvent ev, string counter, PyStxmRun run) =>
        ev.Data.TryGetProperty(counter, out var v) && v.ValueKind == JsonValueKind.Number
            ? v.GetDouble()
            : throw new BlueskyImportException($"{run.Where}: event {ev.SeqNum}: '{counter}' is not a number.");

    /// <summary>
    /// The storage-ring current of each event: the event's own reading (the device pyStxm calls StorageRingCurrent),
    /// else the mean of the run's (or its scan's) baseline readings, else NaN.
    /// </summary>
    private static Func<BlueskyEvent, double> RingCurrent(PyStxmRun run)
    {
        var pv = run.Meta.DevicePvs.TryGetValue("StorageRingCurrent", out var p) ? p : "PCT1402-01:mA:fbk";
        var key = pv + "_val";
        var baseline = run.Run.Stream("baseline").Select(b => b.Data.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN)
            .Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average();
        return ev => ev.Data.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : baseline;
    }

    private static double? BaselineEnergy(PyStxmRun run) => BaselineReading(run, "ENERGY");

    /// <summary>The one energy of a scan without energy ranges: the region's first setpoint, else the baseline reading.</summary>
    private static (double Ev, double DwellMs) SingleEnergy(PyStxmRun run)
    {
        var energies = run.Meta.Region.EnergySetpoints();
        return energies.Length > 0 ? (energies[0].Ev, run.Meta.DwellMs) : (BaselineEnergy(run) ?? double.NaN, run.Meta.DwellMs);
    }

    private static PolarizationSetting? PolarizationOf(PyStxmRegion region, int index)
    {
        var pols = region.FirstEnergies?.Polarizations ?? [];
        return index >= 0 && index < pols.Length ? pols[index] : null;
    }

    private static EnergyRegion[] EnergyRegions(PyStxmRegion region) =>
        [.. region.Energies.Select(r => new EnergyRegion(r.Start, r.Stop, r.Points, r.DwellMs))];

    private static PolarizationSetting[] Polarizations(PyStxmRegion region) =>
        [.. (region.FirstEnergies?.Polarizations ?? []).OfType<PolarizationSetting>()];

    private static T? FirstOf<T>(IReadOnlyList<T> items) where T : class => items.Count > 0 ? items[0] : null;

    /// <summary>Frames in acquisition order, numbered.</summary>
    private sealed class FrameSink(Guid runId)
    {
        public List<Frame> Frames { get; } = [];

        public void Add(int entry, int plane, int row, int column, double[] values, BlueskyEvent ev, double ring) =>
            Frames.Add(new Frame(runId, Frames.Count + 1, entry, plane, row, column, values, ev.Time, ring));
    }
}
