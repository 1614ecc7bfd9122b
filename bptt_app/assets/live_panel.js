// Train live, drawn in the browser: the counters, the loss curve and the gradient norms.
//
// The server trains in batches (one fragment run a second while playing) and sends each batch's
// history rows once; this script reveals them one by one over the next second, so the counters
// and the curves move at the training speed while the server renders one small message per
// second. A row is [update, loss, moving average, chance, gradient norm, clipped, loss text,
// change text, chance text]; numbers are written by the server (one formatter for the page).
//
// data: {epoch, append, after, playing, interval, fresh, rows, events, labels, colors,
//        clip_threshold, clip_note, min_x_span, bucket, dropped}
//   epoch    changes when the history starts afresh (reset, new text, new network, upload)
//   append   rows continue the ones this browser holds (the update before them is `after`)
//   fresh    the last `fresh` rows are new: they are revealed one by one, the others at once
// When an appended batch does not continue the rows held here (a message was skipped), the
// script asks for the whole history (trigger "resync").

const U = 0, LOSS = 1, AVG = 2, CHANCE = 3, GRAD = 4, CLIP = 5, LOSS_TEXT = 6, DELTA_TEXT = 7, CHANCE_TEXT = 8;
const SPEED_WINDOW_MS = 3000;
const HEIGHT = 300;

function css(el, name, fallback) {
  const v = getComputedStyle(el).getPropertyValue(name).trim();
  return v || fallback;
}

function niceLinearTicks(lo, hi, count) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || 10 * mag;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(+v.toPrecision(12));
  return ticks;
}

function logTicks(lo, hi) {
  const a = Math.floor(Math.log10(lo)), b = Math.ceil(Math.log10(hi));
  const every = Math.max(1, Math.ceil((b - a) / 8));
  const ticks = [];
  for (let e = a; e <= b; e += every) ticks.push(Math.pow(10, e));
  if (b - a <= 1) {
    for (let e = a; e <= b; e++) for (const m of [2, 5]) ticks.push(m * Math.pow(10, e));
  }
  return ticks.filter((t) => t >= lo * 0.999 && t <= hi * 1.001).sort((x, y) => x - y);
}

function tickText(v) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) {
    const [m, e] = v.toExponential(0).split("e");
    return `${m}e${parseInt(e, 10)}`;
  }
  return String(+v.toPrecision(4));
}

function fmtSpeed(rowsPerSecond) {
  return `${Math.round(rowsPerSecond).toLocaleString("en-US")} updates/s`;
}

class Chart {
  // One canvas chart: x = update, y = one or more series of a row, log or linear.
  constructor(figure, spec) {
    this.figure = figure;
    this.spec = spec;
    this.canvas = figure.querySelector("canvas");
    this.tip = figure.querySelector(".tip");
    this.hoverX = null;
    this.canvas.addEventListener("mousemove", (e) => {
      const r = this.canvas.getBoundingClientRect();
      this.hoverX = e.clientX - r.left;
      this.owner.requestDraw();
    });
    this.canvas.addEventListener("mouseleave", () => {
      this.hoverX = null;
      this.tip.hidden = true;
      this.owner.requestDraw();
    });
  }

  draw(rows, count, data, logY) {
    const canvas = this.canvas;
    // k: the page's type scale (1 at Streamlit's 16 px; larger in presentation mode). The chart
    // is drawn in units of 1/k CSS pixels, so its labels grow with the page's text.
    const k = Math.max(1, parseFloat(getComputedStyle(document.documentElement).fontSize) / 16 || 1);
    this.scale = k;
    const cssWidth = Math.max(200, canvas.parentElement.clientWidth);
    const cssHeight = Math.round(HEIGHT * k);
    const width = cssWidth / k;
    const ratio = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(cssWidth * ratio) || canvas.height !== Math.round(cssHeight * ratio)) {
      canvas.width = Math.round(cssWidth * ratio);
      canvas.height = Math.round(cssHeight * ratio);
      canvas.style.width = `${cssWidth}px`;
      canvas.style.height = `${cssHeight}px`;
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio * k, 0, 0, ratio * k, 0, 0);
    ctx.clearRect(0, 0, width, HEIGHT);
    const text = css(this.figure, "--st-text-color", "#31333f");
    const font = css(this.figure, "--st-font", "sans-serif");
    const box = { left: 62, right: width - 14, top: 22, bottom: HEIGHT - 40 };
    const shown = this.spec.points(rows, count);
    if (!shown.length) {
      this.axes(ctx, box, { x0: 0, x1: data.min_x_span || 1, y0: 1, y1: 10, logY }, text, font);
      return;
    }
    const sc = this.scales(shown, box, data, logY);
    this.axes(ctx, box, sc, text, font);
    this.spec.decorate(ctx, box, sc, data, font, text);
    for (const series of this.spec.series) this.line(ctx, shown, series, sc);
    this.hover(ctx, box, sc, shown, text);
  }

  scales(points, box, data, logY) {
    const xs = points.map((p) => p[U]);
    const x0 = Math.min(0, xs[0]);
    const x1 = Math.max(xs[xs.length - 1], data.min_x_span || 0, x0 + 1);
    let lo = Infinity, hi = -Infinity;
    for (const p of points) for (const i of this.spec.range) {
      const v = p[i];
      if (Number.isFinite(v) && (!logY || v > 0)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    }
    for (const v of this.spec.extra(data)) if (Number.isFinite(v) && v > 0) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    if (!Number.isFinite(lo)) { lo = 1; hi = 10; }
    if (logY) { lo = Math.max(lo, 1e-300); if (hi <= lo) hi = lo * 10; lo /= 1.3; hi *= 1.3; }
    else { lo = Math.min(0, lo); if (hi <= lo) hi = lo + 1; hi *= 1.05; }
    const fy = logY
      ? (v) => box.bottom - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (box.bottom - box.top)
      : (v) => box.bottom - ((v - lo) / (hi - lo)) * (box.bottom - box.top);
    const fx = (u) => box.left + ((u - x0) / (x1 - x0)) * (box.right - box.left);
    return { x0, x1, y0: lo, y1: hi, logY, fx, fy };
  }

  axes(ctx, box, sc, text, font) {
    ctx.font = `12px ${font}`;
    ctx.fillStyle = text;
    ctx.strokeStyle = text;
    ctx.globalAlpha = 0.18;
    ctx.lineWidth = 1;
    const yt = sc.logY ? logTicks(sc.y0, sc.y1) : niceLinearTicks(sc.y0, sc.y1, 5);
    const fy = sc.fy || ((v) => box.bottom - ((v - sc.y0) / (sc.y1 - sc.y0)) * (box.bottom - box.top));
    const fx = sc.fx || ((u) => box.left + ((u - sc.x0) / (sc.x1 - sc.x0)) * (box.right - box.left));
    for (const t of yt) { const y = fy(t); ctx.beginPath(); ctx.moveTo(box.left, y); ctx.lineTo(box.right, y); ctx.stroke(); }
    ctx.globalAlpha = 0.8;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const t of yt) ctx.fillText(tickText(t), box.left - 6, fy(t));
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    const xt = niceLinearTicks(sc.x0, sc.x1, Math.max(2, Math.floor((box.right - box.left) / 90))).filter((t) => Number.isInteger(t));
    for (const t of xt) ctx.fillText(t.toLocaleString("en-US"), fx(t), box.bottom + 6);
    ctx.fillText("update", (box.left + box.right) / 2, box.bottom + 22);
    ctx.save();
    ctx.translate(14, (box.top + box.bottom) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "middle";
    ctx.fillText(this.spec.yTitle, 0, 0);
    ctx.restore();
    ctx.globalAlpha = 0.35;
    ctx.beginPath(); ctx.moveTo(box.left, box.top); ctx.lineTo(box.left, box.bottom); ctx.lineTo(box.right, box.bottom); ctx.stroke();
    ctx.globalAlpha = 1;
  }

  line(ctx, points, s, sc) {
    ctx.strokeStyle = s.color;
    ctx.fillStyle = s.color;
    ctx.lineWidth = s.width || 1.5;
    ctx.setLineDash(s.dash || []);
    const ok = (v) => Number.isFinite(v) && (!sc.logY || v > 0);
    if (s.markers) {
      for (const p of points) if (s.markers(p) && ok(p[s.index])) {
        ctx.beginPath(); ctx.arc(sc.fx(p[U]), sc.fy(p[s.index]), s.size || 3.5, 0, 2 * Math.PI); ctx.fill();
      }
      return;
    }
    const step = Math.max(1, Math.floor(points.length / 2000));
    ctx.beginPath();
    let pen = false;
    for (let i = 0; i < points.length; i += step) {
      const v = points[i][s.index];
      if (!ok(v)) { pen = false; continue; }
      const x = sc.fx(points[i][U]), y = sc.fy(v);
      if (pen) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      pen = true;
    }
    ctx.stroke();
    ctx.setLineDash([]);
    if (s.dots && points.length <= 60) for (const p of points) if (ok(p[s.index])) {
      ctx.beginPath(); ctx.arc(sc.fx(p[U]), sc.fy(p[s.index]), 2.5, 0, 2 * Math.PI); ctx.fill();
    }
  }

  hover(ctx, box, sc, points, text) {
    const k = this.scale || 1;
    const hx = this.hoverX === null ? null : this.hoverX / k;  // CSS pixels → chart units
    if (hx === null || hx < box.left || hx > box.right) { this.tip.hidden = true; return; }
    const u = sc.x0 + ((hx - box.left) / (box.right - box.left)) * (sc.x1 - sc.x0);
    let best = points[0];
    for (const p of points) if (Math.abs(p[U] - u) < Math.abs(best[U] - u)) best = p;
    const x = sc.fx(best[U]);
    ctx.strokeStyle = text; ctx.globalAlpha = 0.4; ctx.setLineDash([3, 3]);
    ctx.beginPath(); ctx.moveTo(x, box.top); ctx.lineTo(x, box.bottom); ctx.stroke();
    ctx.setLineDash([]); ctx.globalAlpha = 1;
    this.tip.textContent = this.spec.tip(best);
    this.tip.hidden = false;
    this.tip.style.left = `${Math.min(x + 8, box.right - 180) * k}px`;
  }
}

function lossSpec(labels, colors) {
  return {
    yTitle: labels.loss_axis,
    range: [LOSS, AVG, CHANCE],
    extra: () => [],
    points: (rows, count) => rows.slice(0, count),
    series: [
      { index: CHANCE, color: colors.chance, width: 2, dash: [6, 4] },
      { index: LOSS, color: colors.raw, width: 1, dots: true },
      { index: AVG, color: colors.average, width: 3 },
    ],
    decorate(ctx, box, sc, data, font, text) {
      ctx.font = `11px ${font}`;
      ctx.textAlign = "left";
      ctx.textBaseline = "top";
      for (const [u, label] of data.events || []) {
        if (u < sc.x0 || u > sc.x1) continue;
        const x = sc.fx(u);
        ctx.strokeStyle = colors.event; ctx.lineWidth = 1.5; ctx.setLineDash([2, 3]);
        ctx.beginPath(); ctx.moveTo(x, box.top); ctx.lineTo(x, box.bottom); ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = text;  // the label in the text colour: readable on either theme
        ctx.fillText(label, x + 3, box.top - 16);
      }
    },
    tip: (p) => `update ${p[U].toLocaleString("en-US")}: ${labels.loss_plain} = ${p[LOSS_TEXT]}, average ${tickText(p[AVG])}, chance ${p[CHANCE_TEXT]}`,
  };
}

function gradSpec(labels, colors) {
  return {
    yTitle: "‖∂L/∂θ‖₂ before clipping",
    range: [GRAD],
    extra: (data) => (data.clip_threshold ? [data.clip_threshold] : []),
    points: (rows, count) => rows.slice(0, count).filter((r) => r[U] > 0),
    series: [
      { index: GRAD, color: colors.grad, width: 2, dots: true },
      { index: GRAD, color: colors.clip, markers: (p) => p[CLIP] > 0, size: 3.5 },
    ],
    decorate(ctx, box, sc, data, font, text) {
      if (data.clip_threshold) {
        const y = sc.fy(data.clip_threshold);
        ctx.strokeStyle = colors.clip; ctx.lineWidth = 2; ctx.setLineDash([6, 4]);
        ctx.beginPath(); ctx.moveTo(box.left, y); ctx.lineTo(box.right, y); ctx.stroke();
        ctx.setLineDash([]);
      }
      if (data.clip_note) {
        ctx.font = `11px ${font}`; ctx.textAlign = "left"; ctx.textBaseline = "top";
        ctx.fillStyle = text;
        ctx.globalAlpha = 0.75; ctx.fillText(data.clip_note, box.left + 4, box.top - 16); ctx.globalAlpha = 1;
      }
    },
    tip: (p) => `update ${p[U].toLocaleString("en-US")}: ‖∂L/∂θ‖ = ${tickText(p[GRAD])}${p[CLIP] > 0 ? " (clipped)" : ""}`,
  };
}

class Panel {
  constructor(root, setTriggerValue) {
    this.root = root;
    this.setTriggerValue = setTriggerValue;
    this.rows = [];
    this.count = 0; // rows revealed
    this.epoch = null;
    this.batch = 0; // rows in the last batch
    this.rate = 0; // rows per second the batches bring
    this.credit = 0;
    this.lastFrame = 0;
    this.lastArrival = 0;
    this.gap = 1;
    this.revealed = []; // [time, count] for the speed
    this.dirty = true;
    this.frame = null;
    this.logY = true;
    const toggle = root.querySelector("input.log");
    toggle.addEventListener("change", () => { this.logY = toggle.checked; this.requestDraw(); });
    this.resize = new ResizeObserver(() => this.requestDraw());
    this.resize.observe(root);
  }

  receive(data) {
    this.data = data;
    this.root.dataset.receives = String(Number(this.root.dataset.receives || 0) + 1);
    const now = performance.now();
    const rows = data.rows || [];
    const continues = data.append && data.epoch === this.epoch && this.rows.length && this.rows[this.rows.length - 1][U] === data.after;
    if (data.append && !continues) {
      if (rows.length && this.epoch === data.epoch && this.rows.length && this.rows[this.rows.length - 1][U] >= rows[rows.length - 1][U]) return;
      this.root.dataset.resyncs = String(Number(this.root.dataset.resyncs || 0) + 1);
      this.setTriggerValue("resync", now);
      return;
    }
    if (continues) {
      this.rows.push(...rows);
    } else {
      this.rows = rows.slice();
      this.count = Math.max(0, this.rows.length - (data.playing ? data.fresh || 0 : 0));
      this.epoch = data.epoch;
      this.revealed = [];
    }
    if (this.lastArrival) this.gap = Math.min(3, Math.max(0.2, 0.7 * this.gap + 0.3 * (now - this.lastArrival) / 1000));
    else this.gap = data.interval || 1;
    this.lastArrival = now;
    const fresh = continues ? rows.length : data.fresh || 0;
    if (fresh > 0) {
      this.batch = fresh;
      const rate = fresh / this.gap;
      this.rate = this.rate ? 0.6 * this.rate + 0.4 * rate : rate;
    }
    if (this.frame === null) this.lastFrame = now;  // reveal from now on, not since the last frame
    if (!data.playing) { this.count = this.rows.length; this.lastArrival = 0; }
    this.root.classList.toggle("playing", !!data.playing);
    this.setup(data);
    this.requestDraw();
  }

  setup(data) {
    if (this.charts && this.labelsKey === JSON.stringify([data.labels, data.colors])) return;
    this.labelsKey = JSON.stringify([data.labels, data.colors]);
    const L = data.labels, C = data.colors;
    for (const [name, text] of Object.entries(L.counters)) {
      const el = this.root.querySelector(`[data-counter="${name}"] .label`);
      if (el) el.textContent = text;
    }
    for (const [name, text] of Object.entries(L.helps)) {
      const el = this.root.querySelector(`[data-counter="${name}"]`);
      if (el) el.title = text;
    }
    this.legend("loss", [
      [C.chance, "dash", L.chance],
      [C.raw, "thin", L.raw],
      [C.average, "thick", L.average],
    ]);
    this.legend("grad", [
      [C.grad, "thick", "gradient norm"],
      [C.clip, "dot", "clipped"],
      ...(data.clip_threshold ? [[C.clip, "dash", `clipping threshold c = ${data.clip_threshold}`]] : []),
    ]);
    this.charts = [
      new Chart(this.root.querySelector('[data-chart="loss"]'), lossSpec(L, C)),
      new Chart(this.root.querySelector('[data-chart="grad"]'), gradSpec(L, C)),
    ];
    for (const c of this.charts) c.owner = this;
  }

  legend(name, items) {
    const box = this.root.querySelector(`[data-chart="${name}"] .legend`);
    box.replaceChildren();
    for (const [color, kind, label] of items) {
      const item = document.createElement("span");
      const swatch = document.createElement("i");
      swatch.className = kind;
      swatch.style.setProperty("--c", color);
      item.append(swatch, document.createTextNode(label));
      box.append(item);
    }
  }

  requestDraw() {
    this.dirty = true;
    if (this.frame === null) this.frame = requestAnimationFrame((t) => this.tick(t));
  }

  tick(now) {
    // Reveal the queued rows at the rate they arrive (rows per second of the last batches),
    // twice as fast when more than a batch and a half is waiting, at once beyond four.
    this.frame = null;
    const behind = this.rows.length - this.count;
    if (behind > 0) {
      const batch = Math.max(1, this.batch || 1);
      if (behind > 4 * batch) this.count = this.rows.length - batch;
      const speedUp = behind > 1.5 * batch ? 2 : 1;
      const dt = Math.max(0, now - (this.lastFrame || now)) / 1000;
      this.credit += (this.rate || batch) * speedUp * dt;
      // one row a frame while less than two batches wait: after the browser was busy, the
      // counters lag a moment and catch up instead of skipping numbers
      const perFrame = behind > 2 * batch ? Infinity : 1;
      const n = Math.min(this.rows.length - this.count, Math.floor(this.credit), perFrame);
      this.count += n;
      this.credit -= n;
      this.dirty = this.dirty || n > 0;
    } else this.credit = 0;
    this.lastFrame = now;
    if (this.dirty) this.render(now);
    if (this.rows.length > this.count) this.frame = requestAnimationFrame((t) => this.tick(t));
  }

  render(now) {
    this.dirty = false;
    const data = this.data;
    if (!data || !this.charts) return;
    const row = this.rows[this.count - 1];
    this.revealed.push([now, row ? row[U] : 0]);
    while (this.revealed.length > 2 && now - this.revealed[0][0] > SPEED_WINDOW_MS) this.revealed.shift();
    if (row) this.counters(row, now);
    this.root.dataset.shown = row ? String(row[U]) : "";
    for (const c of this.charts) c.draw(this.rows, this.count, data, c.spec.range[0] === GRAD ? true : this.logY);
    const dropped = this.root.querySelector(".dropped");
    dropped.textContent = data.dropped || "";
  }

  counters(row, now) {
    const set = (name, value, delta) => {
      const el = this.root.querySelector(`[data-counter="${name}"]`);
      el.querySelector(".value").textContent = value;
      const d = el.querySelector(".delta");
      d.textContent = delta || "";
      d.className = `delta ${delta && delta.startsWith("↓") ? "down" : delta && delta.startsWith("↑") ? "up" : ""}`;
    };
    set("updates", row[U].toLocaleString("en-US"));
    const change = row[DELTA_TEXT];
    const arrow = change.startsWith("-") ? "↓ " : change.startsWith("+") ? "↑ " : "";
    set("loss", row[LOSS_TEXT], change ? `${arrow}${change} since the start` : "");
    set("chance", row[CHANCE_TEXT]);
    const first = this.revealed[0];
    const span = (now - first[0]) / 1000;
    set("speed", this.data.playing && span > 0.5 ? fmtSpeed((row[U] - first[1]) / span) : "paused");
  }

  stop() {
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    this.frame = null;
  }
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement.querySelector(".bptt-live");
  if (!root) return undefined;
  if (!root.__panel) {
    root.__panel = new Panel(root, setTriggerValue);
    root.dataset.mounts = String(Number(root.dataset.mounts || 0) + 1);
  }
  root.__panel.setTriggerValue = setTriggerValue;
  root.__panel.receive(data);
  return () => root.__panel && root.__panel.stop();
}
