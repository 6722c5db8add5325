// StxmWeb image viewer: receives runStart / lines / runStop from the live hub (SignalR, MessagePack) and draws the
// image on a canvas as lines arrive, outside Blazor's render diff; or shows an opened file, one plane at a time, as the
// server sends it (showFile / setPlane). Colour maps, auto / percentile / manual contrast with a histogram, a colour
// bar, value + stage coordinates under the cursor, zoom and pan (wheel, drag, keyboard), and three tools: pick a point
// (click), draw a line (its profile is plotted; it can become a line spectrum) or a rectangle (a region for the next
// scan). What is shown (`view`) is the live run's state or the file's; the live run keeps filling while a file is shown.

// Bits per value of each stream mode (Stream menu): full resolution and binned-to-fit as float32, or windowed to 16/8 bit.
const STREAM_BITS = { full: 32, fit: 32, fit16: 16, fit8: 8 };

const ANCHORS = {
  viridis: [[68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141], [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37]],
  inferno: [[0, 0, 4], [31, 12, 72], [85, 15, 109], [136, 34, 106], [186, 54, 85], [227, 89, 51], [249, 140, 10], [249, 201, 50], [252, 255, 164]],
  cividis: [[0, 34, 78], [61, 78, 110], [124, 123, 120], [188, 175, 111], [255, 234, 70]],
  gray: [[0, 0, 0], [255, 255, 255]],
};

function lut(name) {
  const anchors = ANCHORS[name] ?? ANCHORS.gray;
  const table = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (anchors.length - 1);
    const k = Math.min(Math.floor(t), anchors.length - 2);
    const f = t - k;
    for (let c = 0; c < 3; c++) table[i * 3 + c] = anchors[k][c] + (anchors[k + 1][c] - anchors[k][c]) * f;
  }
  return table;
}

function format(value, digits = 3) {
  return Number.isFinite(value) ? value.toFixed(digits) : '—';
}

class LiveViewer {
  constructor(host, hubUrl, colormap, dotnet) {
    this.dotnet = dotnet;
    this.host = host;
    this.card = host.closest('.stxm-viewer') ?? host;
    this.stage = host.querySelector('.stxm-stage');
    this.canvas = host.querySelector('canvas');
    this.overlay = host.querySelector('.stxm-overlay');
    this.histogram = this.card.querySelector('.stxm-histogram-canvas');
    this.profileCanvas = this.card.querySelector('.stxm-profile-canvas');
    this.profileText = this.card.querySelector('.stxm-profile-readout');
    // A live stack: the energies taken so far, one at a time (the newest while "follow" is on).
    this.planeTools = this.card.querySelector('.stxm-live-plane');
    this.planeInput = this.card.querySelector('#live-plane');
    this.planeValue = this.card.querySelector('.stxm-live-plane .stxm-viewer-plane-value');
    this.followInput = this.card.querySelector('#live-follow');
    this.pinned = null;
    // Incremental drawing: the rows changed since the last draw, and what that draw was (entry, plane, limits, colours).
    this.dirtyRows = [];
    this.drawn = '';
    this.lastHistogram = 0;
    this.onPlane = () => { this.pinned = Number(this.planeInput.value); if (this.followInput) this.followInput.checked = false; this.schedule(); };
    this.onFollow = () => { this.pinned = this.followInput.checked ? null : this.pinned ?? this.view?.entries[this.view.current].plane ?? 0; this.schedule(); };
    this.planeInput?.addEventListener('input', this.onPlane);
    this.followInput?.addEventListener('change', this.onFollow);
    this.ctx = this.canvas.getContext('2d');
    this.meta = this.card.querySelector('.stxm-viewer-meta');
    this.readout = this.card.querySelector('.stxm-cursor');
    this.colorbar = this.card.querySelector('.stxm-colorbar-canvas');
    this.table = lut(colormap);
    this.tableName = colormap;
    this.contrast = 'auto';
    this.manual = null;
    this.tool = 'pick';
    this.zoom = 1; this.tx = 0; this.ty = 0;
    this.drag = null;
    this.profile = null;
    this.live = null;
    this.file = null;
    this.view = null;
    this.dirty = false;
    this.resize = new ResizeObserver(() => { this.fit(); this.restream(); });
    this.resize.observe(host);
    this.onMove = (e) => this.cursor(e);
    this.onLeave = () => this.setReadout(null);
    this.canvas.addEventListener('pointermove', this.onMove);
    this.canvas.addEventListener('mouseleave', this.onLeave);
    // A click picks a point: the server is told both axes' values there (a focus scan's row is its zone-plate Z). A
    // drag pans (pick tool) or draws the line or rectangle of the other tools; the wheel zooms about the cursor.
    this.onDown = (e) => this.pointerDown(e);
    this.onUp = (e) => this.pointerUp(e);
    this.onWheel = (e) => this.wheel(e);
    this.onKey = (e) => this.key(e);
    this.canvas.addEventListener('pointerdown', this.onDown);
    this.canvas.addEventListener('pointerup', this.onUp);
    host.addEventListener('wheel', this.onWheel, { passive: false });
    host.addEventListener('keydown', this.onKey);
    // The stream starts binned to the size shown (full resolution on demand): the hub URL names the view, so that the
    // run so far comes once, in that form.
    this.stream = 'fit';
    this.streamed = this.viewSize('fit');
    const [w, h] = this.streamed;
    this.canvas.dataset.stream = this.stream;
    this.connection = new signalR.HubConnectionBuilder()
      .withUrl(`${hubUrl}${hubUrl.includes('?') ? '&' : '?'}maxWidth=${w}&maxHeight=${h}&bits=${STREAM_BITS[this.stream]}`)
      .withHubProtocol(new signalR.protocols.msgpack.MessagePackHubProtocol())
      .withAutomaticReconnect()
      .build();
    this.connection.on('runStart', (json) => this.start(JSON.parse(json)));
    this.connection.on('lines', (runId, header, payload) => this.lines(runId, header, LiveViewer.floats(payload)));
    this.connection.on('linesq', (runId, header, codes, low, high, bits) => this.lines(runId, header, LiveViewer.unwindow(codes, low, high, bits)));
    this.connection.on('runStop', (runId, status, reason) => this.stop(runId, status, reason));
    // A new connection joins with the view of the first URL: ask again for the stream in force.
    this.connection.onreconnected(() => { this.setMeta('reconnected'); this.setStream(this.stream); });
    this.connection.onreconnecting(() => this.setMeta('connection lost, reconnecting…'));
    this.connection.start().then(() => { this.canvas.dataset.connected = 'true'; }).catch((err) => this.setMeta(`live connection failed: ${err}`));
    this.drawColorbar();
  }

  // A state: a run (live) or a file, its entries with their values, the entry shown and what is known of it.
  static state(run, source, status, perPlane) {
    const entries = run.entries.map((e) => {
      const size = e.shape.reduce((a, b) => a * b, 1);
      const planeSize = e.shape.length === 3 ? e.shape[1] * e.shape[2] : size;
      // A file's entry holds only the plane shown (a long stack need not fit in the browser); a live run's holds all.
      const data = new Float32Array(perPlane ? planeSize : size).fill(NaN);
      return { ...e, size, planeSize, perPlane, data, min: Infinity, max: -Infinity, plane: 0 };
    });
    return { run, source, status, entries, current: 0, filled: 0, linesReceived: 0, total: entries.reduce((a, e) => a + e.size, 0) };
  }

  // float32 little-endian values.
  static floats(payload) {
    const bytes = payload instanceof Uint8Array ? payload : new Uint8Array(payload);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const values = new Float32Array(bytes.byteLength / 4);
    for (let k = 0; k < values.length; k++) values[k] = view.getFloat32(k * 4, true);
    return values;
  }

  // Values windowed to 16 or 8 bits over [low, high]; the top code means "no value yet".
  static unwindow(codes, low, high, bits) {
    const bytes = codes instanceof Uint8Array ? codes : new Uint8Array(codes);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const top = bits === 16 ? 65535 : 255, step = (high - low) / (top - 1);
    const n = bits === 16 ? bytes.byteLength / 2 : bytes.byteLength;
    const values = new Float32Array(n);
    for (let k = 0; k < n; k++) {
      const code = bits === 16 ? view.getUint16(k * 2, true) : bytes[k];
      values[k] = code === top ? NaN : low + code * step;
    }
    return values;
  }

  // A binned view (the server bins images to the size asked for): shapes and axes as the browser receives them, each
  // axis value the mean over its bin.
  static binned(run) {
    const bins = run.bin ?? [];
    const entries = run.entries.map((e, i) => {
      const b = bins[i] ?? 1;
      if (b <= 1 || e.shape.length < 2) return e;
      const shape = e.shape.slice();
      shape[shape.length - 2] = Math.ceil(shape[shape.length - 2] / b);
      shape[shape.length - 1] = Math.ceil(shape[shape.length - 1] / b);
      const mean = (a) => {
        const values = [];
        for (let k = 0; k < a.values.length; k += b) {
          const block = a.values.slice(k, k + b);
          values.push(block.reduce((x, y) => x + y, 0) / block.length);
        }
        return { ...a, values };
      };
      const axes = e.axes.map((a, d) => (d >= e.axes.length - 2 ? mean(a) : a));
      return { ...e, shape, axes, bin: b, fullShape: e.shape };
    });
    return { ...run, entries };
  }

  start(run) {
    run = LiveViewer.binned(run);
    this.pinned = null;
    if (this.followInput) this.followInput.checked = true;
    const showing = this.view === this.live;
    this.live = LiveViewer.state(run, 'live', 'running', false);
    if (showing) this.show(this.live);
  }

  // Shows a state: the live run's or the file's.
  show(s) {
    this.view = s;
    this.drawn = '';
    this.canvas.dataset.source = s ? s.source : 'live';
    if (!s) { this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height); this.setMeta('waiting for a scan'); return; }
    this.canvas.dataset.runId = s.run.runId;
    this.canvas.dataset.status = s.source === 'file' ? 'file' : s.status.split(':')[0];
    this.canvas.dataset.entries = String(s.entries.length);
    this.canvas.dataset.bin = String(s.entries[0]?.bin ?? 1);
    this.layout();
    this.schedule();
  }

  // An opened file: its entries (shape, axes, energies...) with no values yet; setPlane brings them.
  showFile(run) {
    this.file = LiveViewer.state(run, 'file', 'file', true);
    this.show(this.file);
  }

  // One plane of a file's entry (float32, little-endian): the whole of 1-D and 2-D data, an energy of a stack.
  setPlane(entry, plane, payload) {
    const s = this.file;
    if (!s || !s.entries[entry]) return;
    const e = s.entries[entry];
    const bytes = payload instanceof Uint8Array ? payload : new Uint8Array(payload);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = Math.min(e.planeSize, bytes.byteLength / 4);
    let filled = 0;
    e.min = Infinity; e.max = -Infinity;
    for (let k = 0; k < n; k++) {
      const v = view.getFloat32(k * 4, true);
      e.data[k] = v;
      if (!Number.isNaN(v)) { filled++; if (v < e.min) e.min = v; if (v > e.max) e.max = v; }
    }
    e.plane = plane;
    s.filled = filled;
    this.drawn = ''; // new values for the whole plane
    const switched = s.current !== entry;
    s.current = entry;
    if (this.view === s) {
      if (switched) this.layout();
      this.canvas.dataset.entry = String(entry);
      this.canvas.dataset.plane = String(plane);
      this.schedule();
    }
  }

  showLive() {
    this.file = null;
    this.show(this.live);
  }

  // Sizes the canvas for the current entry: an image for 2-D and 3-D data, a plot for 1-D data.
  layout() {
    this.drawn = ''; // a new canvas: the next draw is a whole one
    const e = this.view.entries[this.view.current];
    const shape = e.shape;
    this.kind = shape.length === 1 ? 'plot' : 'image';
    if (this.kind === 'plot') {
      this.rows = 1; this.cols = shape[0]; this.planes = 1;
      this.canvas.width = 640; this.canvas.height = 360;
      this.image = null;
    } else {
      [this.planes, this.rows, this.cols] = shape.length === 3 ? shape : [1, ...shape];
      this.canvas.width = this.cols; this.canvas.height = this.rows;
      this.image = this.ctx.createImageData(this.cols, this.rows);
    }
    this.canvas.dataset.kind = this.kind;
    if (this.overlay) this.overlay.setAttribute('viewBox', `0 0 ${this.cols} ${this.rows}`);
    this.clearShapes();
    this.resetView();
  }

  lines(runId, header, values) {
    const s = this.live;
    if (!s || runId !== s.run.runId) return;
    let offset = 0;
    let latest = s.current;
    for (let i = 0; i + 4 < header.length; i += 5) {
      const entry = header[i], plane = header[i + 1], row = header[i + 2], col = header[i + 3], count = header[i + 4];
      const e = s.entries[entry];
      if (!e) { offset += count; continue; }
      const shape = e.shape;
      const rows = shape.length >= 2 ? shape[shape.length - 2] : 1;
      const cols = shape[shape.length - 1];
      const base = (plane * rows + row) * cols + col;
      for (let k = 0; k < count; k++, offset++) {
        const v = values[offset];
        if (Number.isNaN(e.data[base + k]) && !Number.isNaN(v)) s.filled++;
        e.data[base + k] = v;
        if (v < e.min) e.min = v;
        if (v > e.max) e.max = v;
      }
      e.plane = shape.length === 3 ? plane : 0;
      latest = entry;
      s.linesReceived++;
      if (this.view === s) this.dirtyRows.push(entry, plane, row);
    }
    const switched = latest !== s.current;
    s.current = latest;
    if (this.view !== s) return;
    if (switched) this.layout();
    this.schedule();
  }

  stop(runId, status, reason) {
    const s = this.live;
    if (!s || runId !== s.run.runId) return;
    s.status = reason ? `${status.toLowerCase()}: ${reason}` : status.toLowerCase();
    if (this.view !== s) return;
    this.canvas.dataset.status = status.toLowerCase();
    this.schedule();
  }

  // Redraws at most 25 times a second, and a large image (over a quarter megapixel: every redraw recolours all of it)
  // at most ten times: lines arrive in batches 60 times a second, and on a control-room machine that also runs the scan
  // the browser's drawing at the display's rate took as much CPU as the server (bench/results/live-load.md).
  schedule() {
    if (this.dirty) return;
    this.dirty = true;
    const wait = Math.max(0, (this.lastDraw ?? 0) + (this.large() ? 100 : 40) - performance.now());
    const run = () => requestAnimationFrame(() => { this.dirty = false; this.lastDraw = performance.now(); this.draw(); });
    if (wait > 0) setTimeout(run, wait); else run();
  }

  // A large image: over a quarter megapixel, where every full redraw (and histogram) goes over all of it.
  large() {
    return (this.rows ?? 0) * (this.cols ?? 0) > 250_000;
  }

  // The plane shown now: the newest of the current entry, or the one picked on the live energy slider.
  shownPlane(e) {
    return !e.perPlane && this.pinned !== null && e.shape.length === 3 ? Math.min(this.pinned, e.shape[0] - 1) : e.plane;
  }

  // The values shown now: the current entry's plane shown.
  shown() {
    const e = this.view.entries[this.view.current];
    const n = this.rows * this.cols;
    const base = e.perPlane ? 0 : this.shownPlane(e) * n;
    return e.data.subarray(base, base + n);
  }

  // The live energy slider: shown for a live stack, over the energies taken so far.
  updatePlaneTools(s, e) {
    if (!this.planeTools) return;
    const live = s.source === 'live' && e.shape.length === 3 && e.shape[0] > 1;
    this.planeTools.hidden = !live;
    if (!live) return;
    const plane = this.shownPlane(e);
    this.planeInput.max = String(Math.max(e.plane, plane));
    this.planeInput.value = String(plane);
    const energy = e.energy?.[plane];
    const text = `${Number.isFinite(energy) ? `${format(energy, 2)} eV` : `plane ${plane + 1}`} (${plane + 1}/${e.shape[0]})`;
    this.planeValue.textContent = text;
    this.planeInput.setAttribute('aria-valuetext', text);
    this.canvas.dataset.shownPlane = String(plane);
  }

  limits(values, e) {
    if (this.contrast === 'manual' && this.manual) return this.manual;
    // A live single-plane image: its running range, kept as the lines arrive (no scan of the whole image per draw).
    if (this.contrast === 'auto' && !e.perPlane && (e.shape.length === 2 || (e.shape.length === 3 && e.shape[0] === 1)) && Number.isFinite(e.min)) return [e.min, e.max];
    if (this.contrast === 'p1') {
      const finite = values.filter(Number.isFinite);
      if (finite.length > 10) {
        const step = Math.max(1, Math.floor(finite.length / 20000));
        const sample = [];
        for (let i = 0; i < finite.length; i += step) sample.push(finite[i]);
        sample.sort((a, b) => a - b);
        return [sample[Math.floor(sample.length * 0.01)], sample[Math.floor(sample.length * 0.99)]];
      }
    }
    let lo = Infinity, hi = -Infinity;
    for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
    return Number.isFinite(lo) ? [lo, hi] : [e.min, e.max];
  }

  draw() {
    const s = this.view;
    if (!s) return;
    const e = s.entries[s.current];
    const values = this.shown();
    const [lo, hi] = this.limits(values, e);
    this.lo = lo; this.hi = hi;
    this.canvas.dataset.lo = String(lo); this.canvas.dataset.hi = String(hi);
    if (this.kind === 'plot') {
      this.drawPlot(e, values, lo, hi);
    } else {
      // Only the rows that changed, when nothing else did (same entry, plane, limits and colour map); else all of it.
      const key = `${s.run.runId}|${s.current}|${this.shownPlane(e)}|${lo}|${hi}|${this.tableName}|${this.rows}x${this.cols}`;
      const rows = key === this.drawn ? this.changedRows(s.current, this.shownPlane(e)) : null;
      this.drawImage(values, lo, hi, rows);
      this.drawn = key;
    }
    this.dirtyRows = [];
    // The histogram scans every value: while a run comes in, five times a second (a large image's twice), and once more
    // when it has ended, so that the last one shows all of it.
    const arriving = s.source === 'live' && s.status === 'running';
    if (!arriving || performance.now() - this.lastHistogram > (this.large() ? 500 : 200)) { this.drawHistogram(values, lo, hi); this.lastHistogram = performance.now(); }
    if (this.profile) this.drawProfile();
    this.canvas.dataset.filled = String(s.filled);
    this.canvas.dataset.lines = String(s.linesReceived);
    this.canvas.dataset.entry = String(s.current);
    this.updatePlaneTools(s, e);
    const energy = e.energy?.[this.shownPlane(e)] ?? e.energy?.[0];
    const axes = e.axes.map((a) => a.name).join(' × ');
    const where = s.entries.length > 1 ? `${e.name} (${s.current + 1}/${s.entries.length}) · ` : '';
    const angle = e.rotationAngle ? ` · θ ${format(e.rotationAngle, 1)}°` : '';
    const pol = e.polarization ? ` · ${e.polarization}` : '';
    const type = e.stxmScanType ? `${e.stxmScanType} · ` : '';
    const light = `${e.bin > 1 ? ` · binned ${e.bin}× to ${e.shape.slice(-2).join('×')}` : ''}${s.run.bits && s.run.bits < 32 ? ` · ${s.run.bits} bit` : ''}`;
    const progress = s.source === 'file'
      ? (e.shape.length === 3 ? `plane ${e.plane + 1}/${e.shape[0]}` : 'file')
      : `${Math.round((100 * s.filled) / s.total)} % · ${s.status}`;
    // A file's name is on the file tools' row above; a live run's file is named here.
    const name = s.source === 'file' ? '' : `${s.run.fileName ?? ''} · `;
    this.setMeta(`${name}${where}${type}${(e.fullShape ?? e.shape).join('×')} (${axes})${light} · `
      + `${Number.isFinite(energy) ? `${format(energy, 2)} eV` : 'no energy'}${angle}${pol} · ${progress}`);
    this.drawColorbar();
  }

  // The data rows of an entry's plane that lines changed since the last draw.
  changedRows(entry, plane) {
    const rows = new Set();
    const d = this.dirtyRows;
    for (let i = 0; i + 2 < d.length; i += 3) if (d[i] === entry && d[i + 1] === plane) rows.add(d[i + 2]);
    return rows;
  }

  drawImage(values, lo, hi, only = null) {
    const span = hi > lo ? hi - lo : 1;
    const px = this.image.data, t = this.table, rows = this.rows, cols = this.cols;
    const which = only ?? { [Symbol.iterator]: function* () { for (let r = 0; r < rows; r++) yield r; } };
    for (const r of which) {
      if (r < 0 || r >= rows) continue;
      // Row 0 holds the lowest setpoint of the slow axis: draw it at the bottom, as the stage sees it.
      const dst = (rows - 1 - r) * cols;
      for (let c = 0; c < cols; c++) {
        const v = values[r * cols + c];
        const o = (dst + c) * 4;
        if (Number.isNaN(v)) { px[o] = 24; px[o + 1] = 28; px[o + 2] = 34; px[o + 3] = 255; continue; }
        const i = Math.max(0, Math.min(255, Math.round(((v - lo) / span) * 255))) * 3;
        px[o] = t[i]; px[o + 1] = t[i + 1]; px[o + 2] = t[i + 2]; px[o + 3] = 255;
      }
    }
    if (!only) { this.ctx.putImageData(this.image, 0, 0); return; }
    for (const r of only) {
      if (r >= 0 && r < rows) this.ctx.putImageData(this.image, 0, 0, 0, rows - 1 - r, cols, 1);
    }
  }

  // A 1-D entry (point spectrum, positioner scan): counts against the axis, with its range written at the corners.
  drawPlot(e, values, lo, hi) {
    const ctx = this.ctx, w = this.canvas.width, h = this.canvas.height, pad = 36;
    const xs = e.axes[0].values;
    ctx.fillStyle = '#14181d'; ctx.fillRect(0, 0, w, h);
    ctx.strokeStyle = '#2c343e'; ctx.strokeRect(pad, 8, w - pad - 8, h - pad - 8);
    const x0 = xs[0], x1 = xs[xs.length - 1];
    const spanX = x1 !== x0 ? x1 - x0 : 1, spanY = hi > lo ? hi - lo : 1;
    ctx.strokeStyle = '#5ec2c2'; ctx.lineWidth = 1.5; ctx.beginPath();
    let started = false;
    for (let i = 0; i < values.length; i++) {
      if (Number.isNaN(values[i])) continue;
      const px = pad + ((xs[i] - x0) / spanX) * (w - pad - 8);
      const py = 8 + (1 - (values[i] - lo) / spanY) * (h - pad - 8);
      if (started) ctx.lineTo(px, py); else { ctx.moveTo(px, py); started = true; }
    }
    ctx.stroke();
    ctx.fillStyle = '#8d9aa8'; ctx.font = '11px sans-serif';
    ctx.fillText(`${format(x0, 2)}`, pad, h - 12);
    const label = `${format(x1, 2)} ${e.axes[0].units} (${e.axes[0].name})`;
    ctx.fillText(label, w - 8 - ctx.measureText(label).width, h - 12);
    ctx.fillText(Number.isFinite(hi) ? format(hi, 0) : '', 2, 16);
    ctx.fillText(Number.isFinite(lo) ? format(lo, 0) : '', 2, h - pad);
  }

  drawColorbar() {
    if (!this.colorbar) return;
    const w = 256, h = 1;
    this.colorbar.width = w; this.colorbar.height = h;
    const ctx = this.colorbar.getContext('2d');
    const img = ctx.createImageData(w, h);
    for (let i = 0; i < w; i++) {
      img.data[i * 4] = this.table[i * 3]; img.data[i * 4 + 1] = this.table[i * 3 + 1]; img.data[i * 4 + 2] = this.table[i * 3 + 2]; img.data[i * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    const lo = this.card.querySelector('.stxm-colorbar .lo');
    const hi = this.card.querySelector('.stxm-colorbar .hi');
    if (lo) lo.textContent = Number.isFinite(this.lo) ? format(this.lo, 0) : '';
    if (hi) hi.textContent = Number.isFinite(this.hi) ? `${format(this.hi, 0)} ${this.view?.run.units ?? ''}` : '';
  }

  fit() {
    if (!this.view) return;
    const box = this.host.getBoundingClientRect();
    const e = this.view.entries[this.view.current];
    let width = this.canvas.width, height = this.canvas.height;
    if (this.kind === 'image') {
      // Keep the physical aspect when both axes are lengths: each pixel is one step wide and one step high.
      const [ya, xa] = e.axes.slice(-2);
      const step = (a) => (a.values.length > 1 ? Math.abs(a.values[a.values.length - 1] - a.values[0]) / (a.values.length - 1) : 1);
      // Stage rasters (sample_y × sample_x, osa_y × osa_x...) keep their aspect; focus scans and spectra fill the box.
      const stage = xa.name.endsWith('_x') && ya.name.endsWith('_y') && xa.units === ya.units;
      if (stage && step(xa) > 0 && step(ya) > 0) { width = this.cols * step(xa); height = this.rows * step(ya); }
      else { width = box.width; height = box.height; }
    }
    const scale = Math.max(1e-6, Math.min(box.width / width, box.height / height));
    this.stage.style.width = `${Math.floor(width * scale)}px`;
    this.stage.style.height = `${Math.floor(height * scale)}px`;
    this.applyView();
  }

  // Zoom and pan: the stage (image and its drawn shapes) is scaled about its centre and moved; whatever is under the
  // cursor stays there while zooming. Coordinates are read back through getBoundingClientRect, which sees the transform.
  applyView() {
    this.stage.style.transform = `translate(-50%, -50%) translate(${this.tx}px, ${this.ty}px) scale(${this.zoom})`;
    this.canvas.dataset.zoom = this.zoom.toFixed(3);
  }

  resetView() { this.zoom = 1; this.tx = 0; this.ty = 0; this.fit(); }

  zoomAt(factor, clientX, clientY) {
    const box = this.host.getBoundingClientRect();
    const z = Math.max(1, Math.min(64, this.zoom * factor));
    const f = z / this.zoom;
    const px = clientX - (box.left + box.width / 2), py = clientY - (box.top + box.height / 2);
    this.tx = px * (1 - f) + f * this.tx;
    this.ty = py * (1 - f) + f * this.ty;
    this.zoom = z;
    if (z === 1) { this.tx = 0; this.ty = 0; }
    this.applyView();
  }

  wheel(e) {
    if (!this.view || this.kind !== 'image') return;
    e.preventDefault();
    this.zoomAt(e.deltaY < 0 ? 1.25 : 0.8, e.clientX, e.clientY);
  }

  // Keyboard: + and − zoom about the centre, arrows pan, 0 fits, Escape clears the drawn line or rectangle.
  key(e) {
    if (!this.view || this.kind !== 'image') return;
    const box = this.host.getBoundingClientRect();
    const cx = box.left + box.width / 2, cy = box.top + box.height / 2, step = 40;
    const actions = {
      '+': () => this.zoomAt(1.25, cx, cy), '=': () => this.zoomAt(1.25, cx, cy), '-': () => this.zoomAt(0.8, cx, cy),
      '0': () => this.resetView(), Escape: () => this.clearShapes(),
      ArrowLeft: () => { this.tx += step; this.applyView(); }, ArrowRight: () => { this.tx -= step; this.applyView(); },
      ArrowUp: () => { this.ty += step; this.applyView(); }, ArrowDown: () => { this.ty -= step; this.applyView(); },
    };
    const action = actions[e.key];
    if (action) { e.preventDefault(); action(); }
  }

  setTool(tool) { this.tool = tool; this.canvas.dataset.tool = tool; }

  // Image coordinates of a pointer: fractional column and row counted from the top, as drawn.
  toImage(e) {
    const rect = this.canvas.getBoundingClientRect();
    return { c: ((e.clientX - rect.left) / rect.width) * this.cols, r: ((e.clientY - rect.top) / rect.height) * this.rows };
  }

  // The axes' values at fractional image coordinates (row from the top; row 0 of the data is drawn at the bottom).
  axisValues(p) {
    const [ya, xa] = this.view.entries[this.view.current].axes.slice(-2);
    const at = (a, i) => {
      const k = Math.max(0, Math.min(a.values.length - 1, Math.floor(i)));
      return a.values[k];
    };
    return { xa, ya, x: at(xa, p.c), y: at(ya, this.rows - p.r) };
  }

  pointerDown(e) {
    if (!this.view || this.kind !== 'image' || e.button !== 0) return;
    this.canvas.setPointerCapture(e.pointerId);
    this.drag = { x: e.clientX, y: e.clientY, tx: this.tx, ty: this.ty, from: this.toImage(e), moved: false };
  }

  dragMove(e) {
    const d = this.drag;
    if (!d) return;
    if (Math.hypot(e.clientX - d.x, e.clientY - d.y) > 4) d.moved = true;
    if (!d.moved) return;
    if (this.tool === 'pick') {
      this.tx = d.tx + (e.clientX - d.x); this.ty = d.ty + (e.clientY - d.y); this.applyView();
    } else {
      this.drawShape(this.tool, d.from, this.toImage(e));
    }
  }

  pointerUp(e) {
    const d = this.drag;
    this.drag = null;
    if (!d) return;
    if (!d.moved) { this.pick(e); return; }
    if (this.tool === 'pick') return;
    const to = this.toImage(e);
    const clamp = (p) => ({ c: Math.max(0, Math.min(this.cols - 1e-6, p.c)), r: Math.max(0, Math.min(this.rows - 1e-6, p.r)) });
    const a = clamp(d.from), b = clamp(to);
    this.drawShape(this.tool, a, b);
    const va = this.axisValues(a), vb = this.axisValues(b);
    if (this.tool === 'line') {
      this.profile = { a, b };
      this.drawProfile();
      this.dotnet?.invokeMethodAsync('LineDrawn', va.xa.name, va.x, va.y, vb.x, vb.y, va.ya.name);
    } else {
      this.clearProfile();
      const x0 = Math.min(va.x, vb.x), x1 = Math.max(va.x, vb.x), y0 = Math.min(va.y, vb.y), y1 = Math.max(va.y, vb.y);
      this.canvas.dataset.region = [x0, x1, y0, y1].map((v) => v.toFixed(3)).join(',');
      this.dotnet?.invokeMethodAsync('RegionDrawn', va.xa.name, (x0 + x1) / 2, x1 - x0, va.ya.name, (y0 + y1) / 2, y1 - y0);
    }
  }

  // The line or rectangle being drawn, on the overlay (in image pixels; it zooms with the image).
  drawShape(tool, a, b) {
    if (!this.overlay) return;
    const ns = 'http://www.w3.org/2000/svg';
    this.overlay.replaceChildren();
    const el = document.createElementNS(ns, tool === 'line' ? 'line' : 'rect');
    if (tool === 'line') {
      el.setAttribute('x1', a.c); el.setAttribute('y1', a.r); el.setAttribute('x2', b.c); el.setAttribute('y2', b.r);
    } else {
      el.setAttribute('x', Math.min(a.c, b.c)); el.setAttribute('y', Math.min(a.r, b.r));
      el.setAttribute('width', Math.abs(b.c - a.c)); el.setAttribute('height', Math.abs(b.r - a.r));
    }
    el.setAttribute('class', `stxm-shape stxm-shape-${tool}`);
    this.overlay.appendChild(el);
  }

  clearShapes() {
    this.overlay?.replaceChildren();
    this.clearProfile();
  }

  clearProfile() {
    this.profile = null;
    if (this.profileCanvas) { this.profileCanvas.hidden = true; delete this.profileCanvas.dataset.count; }
    if (this.profileText) this.profileText.textContent = '';
  }

  // The values along the drawn line (nearest pixel, one sample per pixel step), plotted against the distance along it.
  drawProfile() {
    const { a, b } = this.profile;
    const n = Math.max(2, Math.ceil(Math.max(Math.abs(b.c - a.c), Math.abs(b.r - a.r))) + 1);
    const values = this.shown();
    const samples = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const t = i / (n - 1);
      const col = Math.min(this.cols - 1, Math.floor(a.c + (b.c - a.c) * t));
      const rowFromTop = Math.min(this.rows - 1, Math.floor(a.r + (b.r - a.r) * t));
      samples[i] = values[(this.rows - 1 - rowFromTop) * this.cols + col];
    }
    const va = this.axisValues(a), vb = this.axisValues(b);
    const length = Math.hypot(vb.x - va.x, vb.y - va.y);
    const finite = samples.filter(Number.isFinite);
    const lo = finite.length ? Math.min(...finite) : NaN, hi = finite.length ? Math.max(...finite) : NaN;
    const c = this.profileCanvas;
    if (c) {
      c.hidden = false;
      c.width = 480; c.height = 90;
      c.dataset.count = String(n);
      c.dataset.length = length.toFixed(4);
      const ctx = c.getContext('2d');
      ctx.fillStyle = '#14181d'; ctx.fillRect(0, 0, c.width, c.height);
      ctx.strokeStyle = '#2c343e'; ctx.strokeRect(0.5, 0.5, c.width - 1, c.height - 1);
      ctx.strokeStyle = '#e0a84a'; ctx.lineWidth = 1.5; ctx.beginPath();
      const span = hi > lo ? hi - lo : 1;
      let started = false;
      for (let i = 0; i < n; i++) {
        if (!Number.isFinite(samples[i])) { started = false; continue; }
        const px = 4 + (i / (n - 1)) * (c.width - 8), py = 6 + (1 - (samples[i] - lo) / span) * (c.height - 12);
        if (started) ctx.lineTo(px, py); else { ctx.moveTo(px, py); started = true; }
      }
      ctx.stroke();
    }
    if (this.profileText) {
      this.profileText.textContent = `profile ${n} points · ${format(length)} ${va.xa.units} from (${format(va.x)}, ${format(va.y)}) to (${format(vb.x)}, ${format(vb.y)})`
        + ` · ${Number.isFinite(lo) ? `${format(lo, 0)}–${format(hi, 0)} ${this.view.run.units}` : 'not yet acquired'}`;
    }
  }

  // A histogram of the values shown (64 bins over their range, heights on a log scale) with the contrast limits marked.
  drawHistogram(values, lo, hi) {
    const c = this.histogram;
    if (!c) return;
    const bins = 64;
    c.width = 256; c.height = 36;
    const ctx = c.getContext('2d');
    ctx.fillStyle = '#12161b'; ctx.fillRect(0, 0, c.width, c.height);
    let min = Infinity, max = -Infinity;
    for (const v of values) { if (v < min) min = v; if (v > max) max = v; }
    if (!Number.isFinite(min)) { c.dataset.total = '0'; return; }
    const counts = new Uint32Array(bins);
    const span = max > min ? max - min : 1;
    let total = 0;
    for (const v of values) {
      if (!Number.isFinite(v)) continue;
      counts[Math.min(bins - 1, Math.floor(((v - min) / span) * bins))]++;
      total++;
    }
    const top = Math.log1p(Math.max(...counts));
    ctx.fillStyle = '#5a6b7d';
    const w = c.width / bins;
    for (let i = 0; i < bins; i++) {
      const h = top > 0 ? (Math.log1p(counts[i]) / top) * (c.height - 2) : 0;
      ctx.fillRect(i * w, c.height - h, w - 0.5, h);
    }
    ctx.strokeStyle = '#e0a84a'; ctx.lineWidth = 1;
    for (const limit of [lo, hi]) {
      const x = Math.max(0.5, Math.min(c.width - 0.5, ((limit - min) / span) * c.width));
      ctx.beginPath(); ctx.moveTo(x, 0); ctx.lineTo(x, c.height); ctx.stroke();
    }
    c.dataset.total = String(total);
    c.dataset.min = String(min); c.dataset.max = String(max);
  }

  cursor(e) {
    this.dragMove(e);
    if (!this.view || this.kind !== 'image') { this.setReadout(null); return; }
    const rect = this.canvas.getBoundingClientRect();
    const col = Math.floor(((e.clientX - rect.left) / rect.width) * this.cols);
    const rowFromTop = Math.floor(((e.clientY - rect.top) / rect.height) * this.rows);
    const row = this.rows - 1 - rowFromTop;
    if (col < 0 || col >= this.cols || row < 0 || row >= this.rows) { this.setReadout(null); return; }
    const entry = this.view.entries[this.view.current];
    const [ya, xa] = entry.axes.slice(-2);
    this.setReadout({ col, row, xa, ya, x: xa.values[col], y: ya.values[row], value: this.shown()[row * this.cols + col] });
  }

  pick(e) {
    if (!this.view || this.kind !== 'image' || !this.dotnet) return;
    const rect = this.canvas.getBoundingClientRect();
    const row = this.rows - 1 - Math.floor(((e.clientY - rect.top) / rect.height) * this.rows);
    const col = Math.floor(((e.clientX - rect.left) / rect.width) * this.cols);
    const [ya, xa] = this.view.entries[this.view.current].axes.slice(-2);
    if (row < 0 || row >= this.rows || col < 0 || col >= this.cols || !ya || !xa) return;
    this.canvas.dataset.pickedRow = String(row);
    this.dotnet.invokeMethodAsync('Picked', xa.name, xa.values[col], ya.name, ya.values[row]);
  }

  setReadout(p) {
    if (!this.readout) return;
    this.readout.textContent = p
      ? `${p.xa.name} ${format(p.x)} ${p.xa.units}   ${p.ya.name} ${format(p.y)} ${p.ya.units}   value ${Number.isNaN(p.value) ? 'not yet acquired' : `${format(p.value, 0)} ${this.view.run.units}`}   (row ${p.row}, column ${p.col})`
      : 'move the cursor over the image for value and axis coordinates';
  }

  setMeta(text) {
    if (this.meta) this.meta.textContent = text;
  }

  // What the server streams to this browser: full resolution (float32), or binned to the size shown, optionally windowed
  // to 16 or 8 bits (a remote link). The run so far comes again in the new form.
  setStream(mode) {
    const bits = STREAM_BITS[mode] ?? 32;
    const [w, h] = this.viewSize(mode);
    this.stream = mode;
    this.streamed = [w, h];
    this.canvas.dataset.stream = mode;
    return this.connection.invoke('SetView', w, h, bits);
  }

  // The largest image worth sending for a stream mode: the viewer's size in device pixels (0 × 0: full resolution). Before
  // the page is laid out, the window's size.
  viewSize(mode) {
    if (mode === 'full') return [0, 0];
    const box = this.host.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
    const [w, h] = box.width >= 64 && box.height >= 64 ? [box.width, box.height] : [window.innerWidth, window.innerHeight];
    return [Math.max(1, Math.ceil(w * dpr)), Math.max(1, Math.ceil(h * dpr))];
  }

  // A binned stream follows the viewer's size: when it changed by more than a quarter (after half a second of quiet),
  // the stream is asked for again at the new size.
  restream() {
    if (this.stream === 'full' || this.connection?.state !== signalR.HubConnectionState.Connected) return;
    clearTimeout(this.restreamTimer);
    this.restreamTimer = setTimeout(() => {
      const [w, h] = this.viewSize(this.stream), [sw, sh] = this.streamed;
      if (Math.abs(w - sw) > sw / 4 || Math.abs(h - sh) > sh / 4) this.setStream(this.stream).catch(() => {});
    }, 500);
  }

  setColormap(name) { this.table = lut(name); this.tableName = name; this.drawColorbar(); this.schedule(); }

  // Contrast: auto (the values' range), p1 (1st-99th percentile) or manual; returns the limits in force, which a switch to
  // manual starts from.
  setContrast(mode, lo, hi) {
    this.contrast = mode;
    if (mode === 'manual') {
      const current = [this.lo, this.hi];
      const l = Number.isFinite(lo) ? lo : current[0], h = Number.isFinite(hi) ? hi : current[1];
      this.manual = Number.isFinite(l) && Number.isFinite(h) ? [Math.min(l, h), Math.max(l, h)] : null;
    }
    this.schedule();
    return this.manual && mode === 'manual' ? this.manual : [this.lo, this.hi].map((v) => (Number.isFinite(v) ? v : 0));
  }

  dispose() {
    this.resize.disconnect();
    clearTimeout(this.restreamTimer);
    this.canvas.removeEventListener('pointermove', this.onMove);
    this.canvas.removeEventListener('mouseleave', this.onLeave);
    this.canvas.removeEventListener('pointerdown', this.onDown);
    this.canvas.removeEventListener('pointerup', this.onUp);
    this.host.removeEventListener('wheel', this.onWheel);
    this.host.removeEventListener('keydown', this.onKey);
    this.planeInput?.removeEventListener('input', this.onPlane);
    this.followInput?.removeEventListener('change', this.onFollow);
    return this.connection.stop();
  }
}

export function attach(host, hubUrl, colormap, dotnet) {
  return new LiveViewer(host, hubUrl, colormap, dotnet);
}
