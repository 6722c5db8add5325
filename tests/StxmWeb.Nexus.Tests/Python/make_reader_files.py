#!/usr/bin/python3
"""Writes NeXus files as other programs write them, for StxmWeb's reader to open (tests/StxmWeb.Nexus.Tests).

Usage: make_reader_files.py DIR

pystxm-stack.hdf5   pyStxm's layout: default attributes, gzip, float64 stack (3, 4, 5) NaN-prefilled (last plane
                    unacquired), axes an array of strings, signal "1" on data, NX_class/NX_units on every dataset.
legacy-image.hdf5   an older, hand-made file: no default attributes, an NXdata named "image", uint16 data (6, 8) with
                    signal=1 and the legacy axes="y:x" attribute, float32 axes with units.
spectrum.hdf5       a float32 spectrum (50,) whose axes attribute is one string and whose energy holds 51 bin edges.
rank4.hdf5          an entry whose only data has rank 4 (area-detector frames), and one with no NXdata at all.
"""
import os
import sys

import h5py
import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
fixed = lambda items: np.array([s.encode() for s in items], dtype=f"S{max(len(s) for s in items)}")

with h5py.File(os.path.join(out, "pystxm-stack.hdf5"), "w") as f:
    f.attrs["default"] = "entry0"
    f.attrs["HDF5_Version"] = "1.8.4"
    e = f.create_group("entry0")
    e.attrs["NX_class"] = "NXentry"
    e.attrs["default"] = "counter0"
    e["title"] = "NeXus sample"
    e["start_time"] = "2019-07-12T15:02:17"
    e["definition"] = fixed(["NXstxm"])
    d = e.create_group("counter0")
    d.attrs["NX_class"] = "NXdata"
    d.attrs["signal"] = "data"
    d.attrs["axes"] = ["energy", "sample_y", "sample_x"]
    data = np.full((3, 4, 5), np.nan)
    data[0] = np.arange(20).reshape(4, 5)
    data[1] = 100 + np.arange(20).reshape(4, 5)
    ds = d.create_dataset("data", data=data, compression="gzip", chunks=(1, 4, 5))
    ds.attrs["signal"] = "1"
    ds.attrs["NX_class"] = "NX_FLOAT"
    ds.attrs["NX_units"] = "NX_ANY"
    for name, values, units in (("energy", [700.0, 710.0, 720.0], "eV"), ("sample_y", np.linspace(-3, 3, 4), "um"),
                                ("sample_x", np.linspace(10, 14, 5), "um")):
        a = d.create_dataset(name, data=np.asarray(values, dtype=float), compression="gzip")
        a.attrs["units"] = units
        a.attrs["NX_class"] = "NX_FLOAT"
    d["count_time"] = np.full(3, 0.001)
    d["stxm_scan_type"] = fixed(["sample image stack"])
    s = e.create_group("sample")
    s.attrs["NX_class"] = "NXsample"
    s["rotation_angle"] = 12.5

with h5py.File(os.path.join(out, "legacy-image.hdf5"), "w") as f:
    e = f.create_group("entry1")
    e.attrs["NX_class"] = "NXentry"
    d = e.create_group("image")
    d.attrs["NX_class"] = "NXdata"
    ds = d.create_dataset("counts", data=(np.arange(48).reshape(6, 8) * 1000).astype(np.uint16))
    ds.attrs["signal"] = 1
    ds.attrs["axes"] = "y:x"
    ds.attrs["units"] = "counts"
    d.create_dataset("y", data=np.linspace(0, 5, 6).astype(np.float32)).attrs["units"] = "mm"
    d.create_dataset("x", data=np.linspace(0, 7, 8).astype(np.float32)).attrs["units"] = "mm"

with h5py.File(os.path.join(out, "spectrum.hdf5"), "w") as f:
    e = f.create_group("entry0")
    e.attrs["NX_class"] = "NXentry"
    d = e.create_group("spectrum")
    d.attrs["NX_class"] = "NXdata"
    d.attrs["signal"] = "od"
    d.attrs["axes"] = "energy"
    d.create_dataset("od", data=np.sin(np.linspace(0, 3, 50)).astype(np.float32))
    d.create_dataset("energy", data=np.linspace(280, 305, 51)).attrs["units"] = "eV"

with h5py.File(os.path.join(out, "rank4.hdf5"), "w") as f:
    e = f.create_group("entry0")
    e.attrs["NX_class"] = "NXentry"
    d = e.create_group("frames")
    d.attrs["NX_class"] = "NXdata"
    d.attrs["signal"] = "data"
    d["data"] = np.zeros((2, 3, 4, 5))
    e2 = f.create_group("entry1")
    e2.attrs["NX_class"] = "NXentry"
    e2["title"] = "nothing here"
