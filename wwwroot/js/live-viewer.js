// StxmWeb live image viewer: receives runStart / lines / runStop from the live hub (SignalR, MessagePack) and draws
// the image on a canvas as lines arrive, outside Blazor's render diff. Colour maps, auto or percentile contrast, a
// colour bar, and value + stage coordinates under the cursor.

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
  constructor(host, hubUrl, colormap) {
    this.host = host;
    this.card = host.closest('.stxm-viewer') ?? host;
    this.canvas = host.querySelector('canvas');
    this.ctx = this.canvas.getContext('2d');
    this.meta = this.card.querySelector('.stxm-viewer-meta');
    this.readout = this.card.querySelector('.stxm-cursor');
    this.colorbar = this.card.querySelector('.stxm-colorbar-canvas');
    this.table = lut(colormap);
    this.contrast = 'auto';
    this.run = null;
    this.data = null;
    this.filled = 0;
    this.linesReceived = 0;
    this.dirty = false;
    this.status = '';
    this.resize = new ResizeObserver(() => this.fit());
    this.resize.observe(host);
    this.onMove = (e) => this.cursor(e);
    this.onLeave = () => this.setReadout(null);
    this.canvas.addEventListener('mousemove', this.onMove);
    this.canvas.addEventListener('mouseleave', this.onLeave);
    this.connection = new signalR.HubConnectionBuilder()
      .withUrl(hubUrl)
      .withHubProtocol(new signalR.protocols.msgpack.MessagePackHubProtocol())
      .withAutomaticReconnect()
      .build();
    this.connection.on('runStart', (json) => this.start(JSON.parse(json)));
    this.connection.on('lines', (runId, header, payload) => this.lines(runId, header, payload));
    this.connection.on('runStop', (runId, status, reason) => this.stop(runId, status, reason));
    this.connection.onreconnected(() => this.setMeta('reconnected'));
    this.connection.onreconnecting(() => this.setMeta('connection lost, reconnecting…'));
    this.connection.start().then(() => { this.canvas.dataset.connected = 'true'; }).catch((err) => this.setMeta(`live connection failed: ${err}`));
    this.drawColorbar();
  }

  start(run) {
    this.run = run;
    const [planes, rows, cols] = run.shape.length === 3 ? run.shape : [1, ...run.shape];
    this.planes = planes; this.rows = rows; this.cols = cols;
    this.data = new Float32Array(rows * cols).fill(NaN);
    this.filled = 0;
    this.linesReceived = 0;
    this.min = Infinity; this.max = -Infinity;
    this.canvas.width = cols;
    this.canvas.height = rows;
    this.image = this.ctx.createImageData(cols, rows);
    this.status = 'running';
    this.canvas.dataset.runId = run.runId;
    this.canvas.dataset.status = 'running';
    this.fit();
    this.schedule();
  }

  lines(runId, header, payload) {
    if (!this.run || runId !== this.run.runId) return;
    const bytes = payload instanceof Uint8Array ? payload : new Uint8Array(payload);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let offset = 0;
    for (let i = 0; i + 3 < header.length; i += 4) {
      const plane = header[i], row = header[i + 1], col = header[i + 2], count = header[i + 3];
      const base = row * this.cols + col;
      for (let k = 0; k < count; k++, offset += 4) {
        if (plane !== this.planes - 1 && this.planes > 1) continue;
        const v = view.getFloat32(offset, true);
        if (Number.isNaN(this.data[base + k]) && !Number.isNaN(v)) this.filled++;
        this.data[base + k] = v;
        if (v < this.min) this.min = v;
        if (v > this.max) this.max = v;
      }
      this.linesReceived++;
    }
    this.schedule();
  }

  stop(runId, status, reason) {
    if (!this.run || runId !== this.run.runId) return;
    this.status = reason ? `${status.toLowerCase()}: ${reason}` : status.toLowerCase();
    this.canvas.dataset.status = status.toLowerCase();
    this.schedule();
  }

  schedule() {
    if (this.dirty) return;
    this.dirty = true;
    requestAnimationFrame(() => { this.dirty = false; this.draw(); });
  }

  limits() {
    if (this.contrast === 'p1') {
      const finite = this.data.filter(Number.isFinite);
      if (finite.length > 10) {
        const step = Math.max(1, Math.floor(finite.length / 20000));
        const sample = [];
        for (let i = 0; i < finite.length; i += step) sample.push(finite[i]);
        sample.sort((a, b) => a - b);
        return [sample[Math.floor(sample.length * 0.01)], sample[Math.floor(sample.length * 0.99)]];
      }
    }
    return [this.min, this.max];
  }

  draw() {
    if (!this.data) return;
    const [lo, hi] = this.limits();
    this.lo = lo; this.hi = hi;
    const span = hi > lo ? hi - lo : 1;
    const px = this.image.data, t = this.table, rows = this.rows, cols = this.cols;
    for (let r = 0; r < rows; r++) {
      // Row 0 holds the lowest sample_y: draw it at the bottom, as the stage sees it.
      const dst = (rows - 1 - r) * cols;
      for (let c = 0; c < cols; c++) {
        const v = this.data[r * cols + c];
        const o = (dst + c) * 4;
        if (Number.isNaN(v)) { px[o] = 24; px[o + 1] = 28; px[o + 2] = 34; px[o + 3] = 255; continue; }
        const i = Math.max(0, Math.min(255, Math.round(((v - lo) / span) * 255))) * 3;
        px[o] = t[i]; px[o + 1] = t[i + 1]; px[o + 2] = t[i + 2]; px[o + 3] = 255;
      }
    }
    this.ctx.putImageData(this.image, 0, 0);
    this.canvas.dataset.filled = String(this.filled);
    this.canvas.dataset.lines = String(this.linesReceived);
    const total = rows * cols;
    const x = this.run.axes.find((a) => a.name === 'sample_x');
    const y = this.run.axes.find((a) => a.name === 'sample_y');
    const energy = this.run.energy?.[0];
    this.setMeta(`${this.run.fileName ?? ''} · ${cols}×${rows} px · ${format(energy, 2)} eV · ${this.run.dwellMs} ms · `
      + `${Math.round((100 * this.filled) / total)} % · ${this.status}`
      + (x && y ? ` · x ${format(x.values[0], 2)}…${format(x.values[x.values.length - 1], 2)} µm` : ''));
    this.drawColorbar();
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
    if (hi) hi.textContent = Number.isFinite(this.hi) ? `${format(this.hi, 0)} ${this.run?.units ?? ''}` : '';
  }

  fit() {
    if (!this.cols) return;
    // Keep the physical aspect: each pixel is one step wide and one step high on the sample.
    const step = (name) => {
      const v = this.run.axes.find((a) => a.name === name)?.values ?? [];
      return v.length > 1 ? Math.abs(v[v.length - 1] - v[0]) / (v.length - 1) : 1;
    };
    const width = this.cols * step('sample_x');
    const height = this.rows * step('sample_y');
    const box = this.host.getBoundingClientRect();
    const scale = Math.max(1e-6, Math.min(box.width / width, box.height / height));
    this.canvas.style.width = `${Math.floor(width * scale)}px`;
    this.canvas.style.height = `${Math.floor(height * scale)}px`;
  }

  cursor(e) {
    if (!this.run) return;
    const rect = this.canvas.getBoundingClientRect();
    const col = Math.floor(((e.clientX - rect.left) / rect.width) * this.cols);
    const rowFromTop = Math.floor(((e.clientY - rect.top) / rect.height) * this.rows);
    const row = this.rows - 1 - rowFromTop;
    if (col < 0 || col >= this.cols || row < 0 || row >= this.rows) { this.setReadout(null); return; }
    const x = this.run.axes.find((a) => a.name === 'sample_x')?.values[col];
    const y = this.run.axes.find((a) => a.name === 'sample_y')?.values[row];
    this.setReadout({ col, row, x, y, value: this.data[row * this.cols + col] });
  }

  setReadout(p) {
    if (!this.readout) return;
    this.readout.textContent = p
      ? `x ${format(p.x)} µm   y ${format(p.y)} µm   value ${Number.isNaN(p.value) ? 'not yet acquired' : `${format(p.value, 0)} ${this.run.units}`}   (row ${p.row}, column ${p.col})`
      : 'move the cursor over the image for value and stage coordinates';
  }

  setMeta(text) {
    if (this.meta) this.meta.textContent = text;
  }

  setColormap(name) { this.table = lut(name); this.drawColorbar(); this.schedule(); }

  setContrast(mode) { this.contrast = mode; this.schedule(); }

  dispose() {
    this.resize.disconnect();
    this.canvas.removeEventListener('mousemove', this.onMove);
    this.canvas.removeEventListener('mouseleave', this.onLeave);
    return this.connection.stop();
  }
}

export function attach(host, hubUrl, colormap) {
  return new LiveViewer(host, hubUrl, colormap);
}
