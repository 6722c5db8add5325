"""Reads an HDF5 file with h5py (Debian's python3) and prints it as JSON, so tests check files with an independent reader.

Usage: h5read.py FILE   -> {"attrs": {...}, "items": {"/path": {"kind": "group"|"dataset", "attrs": {...},
                             "shape": [...], "dtype": "...", "value": ..., "offset": int|null,
                             "chunks": [...]|null, "compression": "gzip"|null, "shuffle": bool}}}
Datasets' values are included in full (NaN as null). Soft links are reported with their target.
"""
import json
import math
import sys

import h5py
import numpy as np


def plain(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()] if value.dtype.kind in "SOU" else plain(value.tolist())
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (np.floating,)):
        return None if math.isnan(float(value)) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    return value


def main(path):
    out = {"items": {}}
    with h5py.File(path, "r") as f:
        out["attrs"] = {k: plain(v) for k, v in f.attrs.items()}

        def visit(name, obj):
            entry = {"attrs": {k: plain(v) for k, v in obj.attrs.items()}}
            if isinstance(obj, h5py.Dataset):
                entry.update(kind="dataset", shape=list(obj.shape), dtype=str(obj.dtype),
                             string=h5py.check_string_dtype(obj.dtype) is not None,
                             value=plain(obj[()]), offset=obj.id.get_offset(),
                             chunks=list(obj.chunks) if obj.chunks else None, compression=obj.compression, shuffle=obj.shuffle)
            else:
                entry["kind"] = "group"
            out["items"]["/" + name] = entry

        f.visititems(visit)
        # visititems does not follow soft links, nor list a hard-linked object twice: report them too.
        def links(group, prefix):
            for key in group:
                link = group.get(key, getlink=True)
                path = f"{prefix}/{key}"
                if isinstance(link, h5py.SoftLink):
                    target = group.get(key)
                    out["items"][path] = {"kind": "soft_link", "soft_link": link.path,
                                          "resolves": target is not None}
                else:
                    # visititems visits an object once; a dataset shared by hard links (identical metadata written once
                    # and linked from several entries) is reported under every path.
                    if path not in out["items"]:
                        visit(path[1:], group[key])
                    if isinstance(group[key], h5py.Group):
                        links(group[key], path)
        links(f, "")
    json.dump(out, sys.stdout, allow_nan=False)


if __name__ == "__main__":
    main(sys.argv[1])
