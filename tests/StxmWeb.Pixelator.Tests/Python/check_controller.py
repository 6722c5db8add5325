#!/usr/bin/python3
# An independent check of a PixelatorController, written from the protocol description (reference/PYSTXM.md section 3:
# multipart UTF-8 frames; requests = command name [+ JSON argument] on REQ; replies = JSON frames, frame 0 the status;
# published = name + JSON/plain frames on PUB) with Debian's python3-zmq, not from StxmWeb's code. It drives the
# controller through initialize, a move, a refused command, a sample image and an aborted scan, checks every frame it
# receives, and reads the controller's data file with h5py. Exit status 0 means every check passed.
#
# usage: check_controller.py HOST PUB_PORT REQ_PORT DATA_PORT
import json
import math
import os
import sys
import time

import zmq

HOST, PUB, REQ, DATA = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
ctx = zmq.Context()
checks = []


def check(condition, what):
    checks.append(what)
    if not condition:
        print(f"FAILED: {what}")
        sys.exit(1)


def request(*frames, timeout=10.0):
    sock = ctx.socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(f"tcp://{HOST}:{REQ}")
    sock.send_multipart([f.encode("utf-8") for f in frames])
    check(sock.poll(int(timeout * 1000)) != 0, f"a reply to {frames[0]!r} within {timeout} s")
    reply = [part.decode("utf-8") for part in sock.recv_multipart()]
    sock.close()
    parsed = [json.loads(part) for part in reply]  # every reply frame is JSON
    check(isinstance(parsed[0], dict) and "status" in parsed[0], f"frame 0 of the reply to {frames[0]!r} is a status object")
    return parsed


sub = ctx.socket(zmq.SUB)
sub.setsockopt_string(zmq.SUBSCRIBE, "")
sub.connect(f"tcp://{HOST}:{PUB}")
files = ctx.socket(zmq.SUB)
files.setsockopt_string(zmq.SUBSCRIBE, "")
files.connect(f"tcp://{HOST}:{DATA}")


def receive(timeout=30.0):
    """Yields published messages (name, frames) until the timeout."""
    end = time.time() + timeout
    while time.time() < end:
        if sub.poll(200):
            parts = [part.decode("utf-8") for part in sub.recv_multipart()]
            yield parts[0], parts[1:]


# initialize: status, positionerDefinition, detectorDefinition, oscilloscopeDefinition, zonePlateDefinition,
# remoteFileSystemInfo, serverVersion.
init = request("initialize")
check(init[0]["status"] == "ok", "initialize is accepted")
check(len(init) == 7, f"initialize answers 7 frames (got {len(init)})")
positioners, detectors, scope, zone_plates, file_system, version = init[1:]
check(isinstance(positioners, list) and len(positioners) > 0, "positionerDefinition is a non-empty list")
for p in positioners:
    check(all(k in p for k in ("name", "unit", "lowerSoftLimit", "upperSoftLimit")), f"positioner {p.get('name')} has name, unit and soft limits")
    check(p["lowerSoftLimit"] < p["upperSoftLimit"], f"positioner {p['name']} has lower < upper limit")
names = [p["name"] for p in positioners]
for needed in ("SampleX", "SampleY", "OSAX", "Energy", "Zoneplate"):
    check(needed in names, f"the controller has a positioner {needed}")
check(any(d.get("name") == "Counter0" for d in detectors), "detectorDefinition lists Counter0")
check("interval" in scope, "oscilloscopeDefinition has an interval")
check(any(z.get("b") for z in zone_plates["zonePlates"]) and "OSAs" in zone_plates, "zonePlateDefinition has zone plates with b and OSAs")
check(isinstance(file_system.get("directory"), str), "remoteFileSystemInfo names a directory")
check(isinstance(version, str) and version, "serverVersion is a string")

# positionerStatus: one entry per defined positioner, in definition order, with a position and a status.
status = None
for name, frames in receive(10):
    if name == "positionerStatus":
        status = json.loads(frames[0].replace("NaN", "null"))
        break
check(status is not None, "positionerStatus is published")
check(len(status) == len(positioners), f"positionerStatus lists every positioner ({len(status)} of {len(positioners)})")
check(all("position" in s and "status" in s for s in status), "each positioner state has a position and a status")

# A move, followed on positionerStatus until it arrives.
def move(positioner, target):
    index = names.index(positioner)
    reply = request("moveRequest", json.dumps({"positioners": [positioner], "positions": [target]}))[0]
    check(reply["status"] == "ok", f"moveRequest {positioner} {target} is accepted ({reply})")
    for name, frames in receive(30):
        if name == "positionerStatus":
            state = json.loads(frames[0].replace("NaN", "null"))[index]
            if state["status"] == "ok" and state["position"] is not None and abs(state["position"] - target) < 1e-6:
                return
    check(False, f"{positioner} arrives at {target} and reports ok")


move("OSAX", 150.0)
move("OSAX", 0.0)  # back in the beam: a 60 um OSA 150 um off axis blocks it
refused = request("moveRequest", json.dumps({"positioners": ["OSAX"], "positions": [1e9]}))[0]
check(refused["status"] != "ok" and refused.get("message"), "a move past the limits is refused with a message")
unknown = request("noSuchCommand")[0]
check(unknown["status"] != "ok" and unknown.get("message"), "an unknown command is refused with a message")


def sample_image(nx, ny, dwell_s, mode):
    return {
        "scanType": "Sample", "spatialType": "Image", "meander": 0, "yAxisFast": 0, "osaInFocus": 0, "lineMode": mode,
        "tiling": 0, "accelerationDistance": 0, "tileDelay": 0, "lineDelay": 0, "pointDelay": 0, "lineRepetition": 1,
        "outerRegions": [{"dwellTime": dwell_s, "axes": [{"nPoints": 1, "trajectories": [
            {"start": 285.2, "end": 285.2, "range": 0, "step": 0, "positionerName": "Energy"}]}]}],
        "innerRegions": [{"axes": [
            {"nPoints": ny, "trajectories": [{"start": -5, "end": 5, "center": 0, "range": 10, "step": 10 / (ny - 1), "positionerName": "SampleY"}]},
            {"nPoints": nx, "trajectories": [{"start": -5, "end": 5, "center": 0, "range": 10, "step": 10 / (nx - 1), "positionerName": "SampleX"}]}]}],
        "nOuterRegions": 1, "nInnerRegions": 1,
        "displayedAxes": {"x": {"region": "inner", "index": 1}, "y": {"region": "inner", "index": 0}},
        "positionPrecision": {"precision": 5}, "defocus": {"diameter": 0}, "polarization": {"active": 0},
    }


def check_line(frames, nx, ny):
    check(len(frames) == 4, f"scanLineData has 5 frames (got {len(frames) + 1})")
    outer_img_tile_chan = [int(v) for v in frames[0].split()]
    start = [int(v) for v in frames[1].split()]
    shape = [int(v) for v in frames[2].split()]
    values = json.loads(frames[3].replace("NaN", "null"))
    check(len(outer_img_tile_chan) == 4, "frame 1 is 'outer img tile chan'")
    check(len(start) == 2 and len(shape) == 2, "frames 2 and 3 are 'row col' and 'h w'")
    check(len(values) == shape[0] * shape[1], "the values frame holds h*w numbers")
    check(all(isinstance(v, (int, float)) for v in values), "every value is a number")
    check(0 <= start[0] < ny and 0 <= start[1] and start[1] + shape[1] <= nx, "the chunk lies inside the image")
    return outer_img_tile_chan, start, shape, values


# A sample image: every line once, then scanFinished with a file h5py can read, holding what was published.
nx, ny = 30, 12
reply = request("scanRequest", json.dumps(sample_image(nx, ny, 0.002, "Constant Velocity")))[0]
check(reply["status"] == "ok", f"the sample image scanRequest is accepted ({reply})")
image = [[math.nan] * nx for _ in range(ny)]
seen_rows, started, file_name, finished, statuses = [], None, None, None, []
for name, frames in receive(60):
    if name == "scanStarted":
        started = json.loads(frames[0])
    elif name == "filename":
        check(len(frames) == 2, "filename has the name and the directory")
        file_name = os.path.join(frames[1], frames[0])
    elif name == "scanStatus":
        s = json.loads(frames[0])
        check(s["status"] in ("running", "paused", "idle") and "current" in s and "total" in s, "scanStatus has status, current and total")
        statuses.append(s)
    elif name == "scanLineData":
        (outer, img, tile, chan), (row, col), (h, w), values = check_line(frames, nx, ny)
        check((outer, img, tile, chan) == (0, 0, 0, 0), "an untiled single image is outer 0, img 0, tile 0, channel 0")
        for r in range(h):
            seen_rows.append(row + r)
            image[row + r][col:col + w] = values[r * w:(r + 1) * w]
    elif name == "scanFinished":
        finished = json.loads(frames[0])
        break
check(started is not None and started["scanType"] == "Sample" and started["innerRegions"][0]["axes"][1]["nPoints"] == nx, "scanStarted echoes the request")
check(finished is not None and "filename" in finished, "scanFinished names the file")
check(sorted(seen_rows) == list(range(ny)), f"every row arrives exactly once (got {sorted(seen_rows)})")
check(all(not math.isnan(v) and v > 0 for row in image for v in row), "every pixel has counts")
check(file_name is not None and os.path.abspath(file_name) == os.path.abspath(finished["filename"]), "filename and scanFinished name the same file")
import h5py  # noqa: E402  (only needed from here)
with h5py.File(finished["filename"], "r") as f:
    data = f["entry0/counter0/data"][()]
    check(data.shape == (1, ny, nx), f"the file's data is (1, {ny}, {nx}) (got {data.shape})")
    check(all(data[0, r, c] == image[r][c] for r in range(ny) for c in range(nx)), "the file holds exactly the published values")

# An abort: scanAborted, and fewer lines than asked for.
nx, ny = 40, 300
reply = request("scanRequest", json.dumps(sample_image(nx, ny, 0.005, "Point by Point")))[0]
check(reply["status"] == "ok", f"the long scanRequest is accepted ({reply})")
lines, aborted = 0, None
for name, frames in receive(60):
    if name == "scanLineData":
        lines += 1
        if lines == 2:
            check(request("abortScan")[0]["status"] == "ok", "abortScan is accepted")
    elif name == "scanAborted":
        aborted = frames
        break
    elif name == "scanFinished":
        break
check(aborted is not None, "the aborted scan ends with scanAborted")
check(lines < ny * nx, "an aborted scan stops early")
check(request("abortScan")[0]["status"] != "ok", "abortScan with nothing running is refused")

print(json.dumps({"passed": len(checks), "checks": checks}))
