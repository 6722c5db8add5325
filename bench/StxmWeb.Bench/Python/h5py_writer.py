#!/usr/bin/python3
"""h5py's side of the NXstxm writer benchmark (bench/StxmWeb.Bench/WriterBench.cs).

Usage:
  h5py_writer.py write DATA.bin OUT.hdf5 PLANES ROWS COLUMNS CHUNK_ROWS none|gzip
      Writes the float64 stack in DATA.bin line by line (dset[p, r, :] = line) into a chunked dataset (chunks
      (1, CHUNK_ROWS, COLUMNS)), uncompressed or shuffle + gzip level 1, timing every line and the close. Prints JSON:
      {"lines": [seconds...], "close": seconds, "bytes": file size}.
  h5py_writer.py verify DATA.bin FILE.hdf5 DATASET
      Checks that FILE's DATASET holds exactly DATA.bin's values; prints "ok (layout)" or what differs.
"""
import json
import os
import sys
import time

import h5py
import numpy as np


def write(data_path, out, planes, rows, columns, chunk_rows, compression):
    data = np.fromfile(data_path, dtype="<f8").reshape(planes, rows, columns)
    options = {"compression": "gzip", "compression_opts": 1, "shuffle": True} if compression == "gzip" else {}
    lines = []
    with h5py.File(out, "w") as f:
        d = f.create_dataset("entry0/counter0/data", shape=(planes, rows, columns), dtype="<f8",
                             chunks=(1, chunk_rows, columns), fillvalue=np.nan, **options)
        clock = time.perf_counter
        for p in range(planes):
            for r in range(rows):
                t0 = clock()
                d[p, r, :] = data[p, r]
                lines.append(clock() - t0)
        t0 = time.perf_counter()
    close = time.perf_counter() - t0
    print(json.dumps({"lines": lines, "close": close, "bytes": os.path.getsize(out)}))


def verify(data_path, path, dataset):
    with h5py.File(path, "r") as f:
        d = f[dataset]
        stored = d[()]
        layout = f"chunks {d.chunks}, {d.compression or 'no filter'}{' + shuffle' if d.shuffle else ''}"
    data = np.fromfile(data_path, dtype="<f8").reshape(stored.shape)
    same = np.array_equal(stored, data)
    print(f"ok ({layout})" if same else f"differs at {np.argwhere(stored != data)[:3].tolist()} ({layout})")


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2], sys.argv[3], *map(int, sys.argv[4:8]), sys.argv[8])
    else:
        verify(sys.argv[2], sys.argv[3], sys.argv[4])
