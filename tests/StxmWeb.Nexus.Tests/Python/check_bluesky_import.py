#!/usr/bin/python3
"""Checks an NXstxm file StxmWeb imported from a recorded pyStxm Bluesky run against the run's own documents.

Usage: check_bluesky_import.py RUNS.json FILE.hdf5

An independent reading of the event model, in Python with h5py and numpy, as an analysis program would read the file:
for every run, the shape the start document and its region imply, the axes (grid extents, region setpoints, energies,
zone-plate z, the motor's recorded setpoints), every recorded value at its place (a waveform event is a row; a grid
scan's events are points, row by row; point spectra go point by point within each energy), nothing else filled in,
the rotation angle of each tomography entry, and the pyStxm strings (definition, stxm_scan_type, axes). Prints one
line "ok ..." and exits 0, or prints what differs and exits 1.
"""
import json
import sys

import h5py
import numpy as np

STXM_SCAN_TYPE = {0: "detector image", 1: "osa image", 2: "osa focus", 3: "sample focus", 4: "sample point spectrum",
                  5: "sample line spectrum", 6: "sample image", 7: "sample image stack", 8: "generic scan",
                  9: "sample image", 10: "sample image", 11: "sample image"}
IMAGES = {0, 1, 6, 7, 9, 10, 11}
FOCUS = {2, 3}


def decoded(value):
    return json.loads(value) if isinstance(value, str) else value


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def load_runs(path):
    with open(path) as f:
        root = decoded(json.load(f))
    runs = []
    for uid, docs in root.items():
        start = next(d for n, d in docs if n == "start")
        md = decoded(start["metadata"])
        streams = {d["uid"]: d.get("name", "primary") for n, d in docs if n == "descriptor"}
        primary = sorted((d for n, d in docs if n == "event" and streams[d["descriptor"]] == "primary"),
                         key=lambda e: e["seq_num"])
        runs.append({"uid": uid, "start": start, "md": md, "idx": decoded(md["img_idx_map"]),
                     "rois": decoded(md["rois"]), "events": primary})
    runs.sort(key=lambda r: r["start"]["time"])
    return runs


def counter_of(run):
    det = run["md"].get("primary_det", "counter0")
    keys = run["events"][0]["data"].keys()
    for k in (det + "_single_value_rbv", det + "_waveform_rbv"):
        if k in keys:
            return k
    raise AssertionError(f"no counter signal in {sorted(keys)}")


def region(run, sp=None):
    return run["rois"][str(run["idx"]["sp_id"] if sp is None else sp)]


def energies(reg):
    out = []
    for ev in reg["EV_ROIS"]:
        n = int(ev["NPOINTS"])
        sp = ev.get("SETPOINTS") or []
        out += list(sp) if len(sp) == n else list(np.linspace(ev["START"], ev["STOP"], n))
    return np.array(out)


def axis_values(ax, n):
    sp = ax.get("SETPOINTS") or []
    return np.array(sp) if len(sp) == n else np.linspace(ax["START"], ax["STOP"], n)


def main(src, path):
    runs = load_runs(src)
    first = runs[0]
    scan_type = int(first["md"]["scan_type"])
    reg = region(first)
    counter = counter_of(first)
    problems = []

    def check(condition, message):
        if not condition:
            problems.append(message)

    with h5py.File(path, "r") as h:
        entries = sorted((k for k in h if k.startswith("entry")), key=lambda k: int(k[5:]))
        data = {e: h[e]["counter0"]["data"][()] for e in entries}

        for e in entries:
            g = h[e]["counter0"]
            check([text(x) for x in h[e]["definition"][()]] == ["NXstxm"], f"{e}: definition is not ['NXstxm']")
            check([text(x) for x in g["stxm_scan_type"][()]] == [STXM_SCAN_TYPE[scan_type]],
                  f"{e}: stxm_scan_type {g['stxm_scan_type'][()]} is not {STXM_SCAN_TYPE[scan_type]!r}")
            axes = [text(a) for a in g.attrs["axes"]]
            check(len(axes) == data[e].ndim, f"{e}: {len(axes)} axes for {data[e].ndim} dimensions")
            for i, a in enumerate(axes):
                check(a in g and "units" in g[a].attrs, f"{e}: axis {a} missing or without units")
                if a in g:
                    check(g[a].shape == (data[e].shape[i],), f"{e}: axis {a} has {g[a].shape}, dimension {i} is {data[e].shape[i]}")
            check("sample_x" in g and "sample_y" in g, f"{e}: no sample_x/sample_y")
            check(text(g.attrs["signal"]) == "data", f"{e}: signal is not data")
            check("count_time" in g, f"{e}: no count_time")
            check(h[e]["control"]["data"].shape == data[e].shape, f"{e}: control data shape differs from the data")

        expected = {e: np.full(data[e].shape, np.nan) for e in entries}

        if scan_type in IMAGES:
            names = sorted({r["idx"]["entry"] for r in runs}, key=lambda k: int(k[5:]))
            check(len(entries) == len(names), f"{len(entries)} entries for pyStxm's {names}")
            e_values = energies(reg)
            grid = first["start"].get("shape")
            if grid:
                ny, nx = grid
                ys = np.linspace(*first["start"]["extents"][0], ny)
                xs = np.linspace(*first["start"]["extents"][1], nx)
            else:
                ny, nx = int(reg["Y"]["NPOINTS"]), int(reg["X"]["NPOINTS"])
                ys, xs = axis_values(reg["Y"], ny), axis_values(reg["X"], nx)
            for k, name in enumerate(names):
                e = f"entry{k}"
                if e not in data:
                    continue
                check(data[e].shape == (len(e_values), ny, nx), f"{e}: shape {data[e].shape}, the scan's is {(len(e_values), ny, nx)}")
                g = h[e]["counter0"]
                axes = [text(a) for a in g.attrs["axes"]]
                check(np.allclose(g[axes[0]][()], e_values), f"{e}: energies {g[axes[0]][()]} are not {e_values}")
                check(np.allclose(g[axes[1]][()], ys), f"{e}: {axes[1]} is not the scan's rows")
                check(np.allclose(g[axes[2]][()], xs), f"{e}: {axes[2]} is not the scan's columns")
                for run in (r for r in runs if r["idx"]["entry"] == name):
                    plane = run["idx"]["e_idx"]
                    if "rotation_angle" in run["idx"]:
                        check(np.isclose(h[e]["sample"]["rotation_angle"][()], run["idx"]["rotation_angle"]),
                              f"{e}: rotation angle {h[e]['sample']['rotation_angle'][()]} is not {run['idx']['rotation_angle']}")
                    for ev in run["events"]:
                        v = ev["data"][counter]
                        if grid:
                            i = ev["seq_num"] - 1
                            expected[e][plane, i // nx, i % nx] = v
                        else:
                            row = ev["seq_num"] - 1
                            line = np.array(v[:nx], dtype=float)
                            expected[e][plane, row, :len(line)] = line
        elif scan_type in FOCUS:
            zs = np.array(reg["ZP"]["Z"]["SETPOINTS"])
            nx = int(reg["X"]["NPOINTS"])
            e = "entry0"
            check(data[e].shape == (len(zs), nx), f"shape {data[e].shape}, the scan's is {(len(zs), nx)}")
            check(np.allclose(h[e]["counter0"]["zpz"][()], zs), "zpz is not the region's ZP.Z setpoints")
            for ev in first["events"]:
                v = ev["data"][counter]
                i = ev["seq_num"] - 1
                if isinstance(v, list):
                    expected[e][i, :] = np.array(v[:nx], dtype=float)
                else:
                    expected[e][i // nx, i % nx] = v
                    # OSA focus moves the zone plate row by row: each event's z is its row's.
                    z_key = next((k for k in ev["data"] if k == first["start"]["motors"][0] + "_user_setpoint"), None)
                    if z_key:
                        check(np.isclose(ev["data"][z_key], zs[i // nx]), f"event {ev['seq_num']} at z {ev['data'][z_key]}, row {i // nx} is {zs[i // nx]}")
        elif scan_type == 5:
            e_values = energies(reg)
            nx = int(reg["X"]["NPOINTS"])
            e = "entry0"
            check(data[e].shape == (len(e_values), nx), f"shape {data[e].shape}, the scan's is {(len(e_values), nx)}")
            check(np.allclose(h[e]["counter0"]["energy"][()], e_values), "energies are not the region's")
            for ev in first["events"]:
                expected[e][ev["seq_num"] - 1, :] = np.array(ev["data"][counter][:nx], dtype=float)
        elif scan_type == 4:
            sps = first["md"]["sp_id_lst"]
            e_values = energies(reg)
            check(len(entries) == len(sps), f"{len(entries)} entries for {len(sps)} points")
            for k, sp in enumerate(sps):
                e = f"entry{k}"
                check(data[e].shape == (len(e_values),), f"{e}: shape {data[e].shape}")
                check(np.isclose(h[e]["counter0"]["sample_x"][()][0], region(first, sp)["X"]["CENTER"]), f"{e}: sample_x is not region {sp}'s")
            for ev in first["events"]:
                i = ev["seq_num"] - 1
                expected[f"entry{i % len(sps)}"][i // len(sps)] = ev["data"][counter]
        elif scan_type == 8:
            motor = first["start"]["motors"][0]
            n = int(first["start"]["num_points"])
            e = "entry0"
            check(data[e].shape == (n,), f"shape {data[e].shape}, the scan's is {(n,)}")
            axis = text(h[e]["counter0"].attrs["axes"][0])
            recorded = [ev["data"][motor + "_user_setpoint"] for ev in first["events"]]
            check(np.allclose(h[e]["counter0"][axis][()][:len(recorded)], recorded), f"{axis} is not the motor's recorded setpoints")
            for ev in first["events"]:
                expected[e][ev["seq_num"] - 1] = ev["data"][counter]
        else:
            problems.append(f"scan type {scan_type} is not checked here")

        values = 0
        for e in entries:
            same = np.array_equal(np.isnan(expected[e]), np.isnan(data[e])) and np.allclose(
                np.nan_to_num(expected[e]), np.nan_to_num(data[e]))
            check(same, f"{e}: the data are not the runs' values at their places")
            values += int(np.count_nonzero(~np.isnan(data[e])))

    if problems:
        print("\n".join(problems))
        return 1
    shapes = ", ".join(f"{e}{data[e].shape}" for e in entries)
    print(f"ok {len(runs)} run(s), {values} values, {shapes}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
