#!/usr/bin/python3
# Writes small NXstxm files with h5py (an independent writer): one valid, and one per way of breaking NXstxm, so the
# validator's findings can be checked against what is known to be wrong. usage: make_broken_files.py DIR
import os
import sys

import h5py
import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
text = h5py.string_dtype("utf-8")


def valid(f, ne=1, ny=3, nx=4):
    f.attrs["HDF5_Version"] = h5py.version.hdf5_version  # cnxvalidate counts its absence as an error
    f.attrs["file_name"] = "x.hdf5"
    f.attrs["file_time"] = "2026-12-01T10:00:00+00:00"
    e = f.create_group("entry0")
    e.attrs["NX_class"] = "NXentry"
    e["title"] = "hand made"
    e["start_time"] = "2026-12-01T10:00:00+00:00"
    e["end_time"] = "2026-12-01T10:01:00+00:00"
    e["definition"] = np.array([b"NXstxm"], dtype="S121")
    inst = e.create_group("instrument")
    inst.attrs["NX_class"] = "NXinstrument"
    src = inst.create_group("source")
    src.attrs["NX_class"] = "NXsource"
    src["type"] = "Synchrotron X-ray Source"
    src["name"] = "Hand-made light source"
    src["probe"] = "x-ray"
    mono = inst.create_group("monochromator")
    mono.attrs["NX_class"] = "NXmonochromator"
    mono["energy"] = np.linspace(280, 290, ne)
    det = inst.create_group("counter0")
    det.attrs["NX_class"] = "NXdetector"
    det["data"] = np.ones((ne, ny, nx))
    s = e.create_group("sample")
    s.attrs["NX_class"] = "NXsample"
    s["rotation_angle"] = 0.0
    d = e.create_group("counter0")
    d.attrs["NX_class"] = "NXdata"
    d.attrs["signal"] = "data"
    d.attrs["axes"] = ["energy", "sample_y", "sample_x"]
    d["stxm_scan_type"] = np.array([b"sample image"], dtype="S121")
    d["data"] = np.ones((ne, ny, nx))
    d["data"].attrs["signal"] = 1
    d["energy"] = np.linspace(280, 290, ne)
    d["energy"].attrs["units"] = "eV"
    d["sample_y"] = np.linspace(-1, 1, ny)
    d["sample_y"].attrs["units"] = "um"
    d["sample_x"] = np.linspace(-1, 1, nx)
    d["sample_x"].attrs["units"] = "um"
    return e


def make(name, mutate=None, **shape):
    with h5py.File(os.path.join(out, name + ".hdf5"), "w") as f:
        e = valid(f, **shape)
        if mutate:
            mutate(f, e)


make("valid")
make("valid-stack", ne=5)
make("no-definition", lambda f, e: e.__delitem__("definition"))
make("other-definition", lambda f, e: (e.__delitem__("definition"), e.create_dataset("definition", data=np.array([b"NXfoo"], dtype="S121"))))
make("bad-scan-type", lambda f, e: (e["counter0"].__delitem__("stxm_scan_type"), e["counter0"].create_dataset("stxm_scan_type", data=np.array([b"holography"], dtype="S121"))))
make("no-sample-x", lambda f, e: e["counter0"].__delitem__("sample_x"))
make("energy-rank-2", lambda f, e: (e["counter0"].__delitem__("energy"), e["counter0"].create_dataset("energy", data=np.ones((1, 2)))))
make("inconsistent-nP", lambda f, e: (e["instrument/monochromator"].__delitem__("energy"), e["instrument/monochromator"].create_dataset("energy", data=np.ones(7))))
make("no-instrument", lambda f, e: e.__delitem__("instrument"))
make("no-signal", lambda f, e: e["counter0/data"].attrs.__delitem__("signal"))
make("bad-start-time", lambda f, e: (e.__delitem__("start_time"), e.create_dataset("start_time", data="yesterday")))
make("no-nx-class", lambda f, e: e["sample"].attrs.__delitem__("NX_class"))
make("integer-energy", lambda f, e: (e["counter0"].__delitem__("energy"), e["counter0"].create_dataset("energy", data=np.array([285], dtype="int32"))))
make("two-sources", lambda f, e: (e["instrument"].create_group("second").attrs.__setitem__("NX_class", "NXsource")))
make("stray-field", lambda f, e: e["sample"].create_dataset("colour", data="blue"))
with open(os.path.join(out, "not-hdf5.hdf5"), "w") as f:
    f.write("this is not HDF5")
