// The step player: shows, step by step, a pass that Python prepared (bptt_viz/player).
// It owns the step index, the buttons, the slider, Play/Pause/speed and the keys, and swaps what
// is shown: state codes (data-i → data-c), values (data-v → colour), and HTML slots. No maths.

const players = new WeakMap();
const SPEEDS = [1, 2, 5, 10, 15, 20, 30];
const SEP = "|";
const URL_DELAY = 250; // ms

export default function (component) {
  const { parentElement } = component;
  let player = players.get(parentElement);
  if (!player) {
    player = new Player(parentElement);
    players.set(parentElement, player);
  }
  player.component = component;
  player.load(component.data);
  return () => {
    player.destroy();
    players.delete(parentElement);
  };
}

class Player {
  constructor(host) {
    this.host = host;
    this.step = -1;
    this.playing = false;
    this.speed = 5;
    this.root = document.createElement("div");
    this.root.className = "player";
    this.root.innerHTML = CONTROLS;
    host.appendChild(this.root);
    this.tip = this.root.querySelector(".tip");
    this.slider = this.root.querySelector("input[type=range]");
    this.label = this.root.querySelector(".where");
    this.playButton = this.root.querySelector("[data-act=play]");
    this.passbar = this.root.querySelector(".passbar");
    this.heading = this.root.querySelector(".heading");
    this.panels = this.root.querySelector(".panels");
    this.quiz = this.root.querySelector(".quiz");
    this.scoreLabel = this.root.querySelector(".score");
    this.predicting = false;
    this.answered = {}; // pass id + step → chosen answer (so a step is asked once)
    const speed = this.root.querySelector("select");
    speed.innerHTML = SPEEDS.map((s) => `<option value="${s}">${s} steps/s</option>`).join("");
    speed.value = String(this.speed);
    speed.addEventListener("change", () => (this.speed = Number(speed.value)));
    this.root.addEventListener("click", (e) => this.onClick(e));
    this.root.addEventListener("pointermove", (e) => this.onHover(e));
    this.root.addEventListener("pointerleave", () => (this.tip.hidden = true));
    this.slider.addEventListener("input", () => this.pause() || this.go(this.slider.valueAsNumber - 1));
    this.onKey = (e) => this.key(e);
    document.addEventListener("keydown", this.onKey);
  }

  destroy() {
    this.pause();
    clearTimeout(this.urlTimer);
    document.removeEventListener("keydown", this.onKey);
    this.root.remove();
  }

  // ---------------------------------------------------------------- data

  load(data) {
    this.ahead = data.next || null; // the next pass of training, sent ahead (JSON text)
    const pass = typeof data.pass === "string" ? JSON.parse(data.pass) : data.pass;
    if (this.pass && pass.pass_id === this.pass.pass_id) this.settle();
    else this.show(pass, data.start || 0);
    // the rerun that sent this also wrote the server's idea of the link, which can be a step
    // behind the keys pressed since (the next pass is shown before the server has made it)
    this.remember(this.step + 1);
  }

  show(pass, start) {
    const first = this.pass === undefined;
    // another pass of training opens at its start; the same pass with new settings keeps its step
    const newPass = !first && pass.update !== this.pass.update;
    this.pass = pass;
    this.palette = lookup(pass.palette);
    this.panels.innerHTML = "";
    this.views = pass.panels.map((p) => this.mount(p));
    this.slider.max = String(pass.n);
    this.heading.textContent = pass.heading || "";
    this.passbar.hidden = pass.update === null || pass.update === undefined;
    const keep = !first && !newPass && this.step >= 0 && this.step < pass.n;
    this.go(keep ? this.step : first || newPass ? start : pass.n - 1, true);
    this.root.dataset.pass = pass.pass_id;
    this.root.dataset.update = String(pass.update ?? "");
    this.settle();
    if (newPass && this.resume) this.play();
    this.resume = false;
  }

  settle() {
    this.waiting = false;
    this.passbar.classList.remove("waiting");
  }

  request(action) {
    // another pass of training: the server makes the update(s) and sends the new pass; the next
    // pass was sent ahead, so it is shown at once while the server catches up
    if (this.waiting || this.passbar.hidden) return false;
    const ahead = action === "+1" && this.ahead ? JSON.parse(this.ahead) : null;
    this.ahead = null;
    this.component.setTriggerValue("goto", action);
    if (ahead) {
      this.show(ahead, 0);
      return true;
    }
    this.waiting = true;
    this.passbar.classList.add("waiting");
    return true;
  }

  mount(panel) {
    const section = document.createElement("section");
    section.className = `panel ${panel.id}`;
    const slot = (name) => (panel.slots && panel.slots[name] ? ` data-slot="${name}"` : "");
    const saves = /<svg/.test(panel.html)
      ? '<span class="saves"><button data-save="svg" title="Download this figure as SVG">SVG</button><button data-save="png" title="Download this figure as PNG at slide resolution">PNG</button></span>'
      : "";
    section.innerHTML =
      saves +
      (panel.title !== undefined ? `<h3${slot("title")}>${panel.title}</h3>` : "") +
      `<div class="body">${panel.html}</div>` +
      (panel.caption !== undefined ? `<p class="caption"${slot("caption")}>${panel.caption}</p>` : "");
    this.panels.appendChild(section);
    section.querySelectorAll("[data-grid]").forEach(grid);
    const view = { panel, section, slots: {} };
    if (panel.codes) {
      view.coded = [];
      section.querySelectorAll("[data-i]").forEach((el) => (view.coded[Number(el.dataset.i)] = el));
    }
    if (panel.values) {
      const v = panel.values;
      view.numbers = decode(v.data);
      view.valued = [...section.querySelectorAll("[data-v]")].map((el) => [el, Number(el.dataset.v), rangeOf(el), el.tagName === "line"]);
    }
    for (const name of Object.keys(panel.slots || {})) view.slots[name] = section.querySelector(`[data-slot="${name}"]`);
    return view;
  }

  // ---------------------------------------------------------------- stepping

  go(step, force = false) {
    const n = this.pass.n;
    step = Math.max(0, Math.min(n - 1, step));
    if (step === this.step && !force) return;
    this.step = step;
    if (this.quiz.dataset.step !== String(step)) this.quiz.hidden = true;
    for (const view of this.views) this.paint(view, step);
    this.slider.value = String(step + 1);
    this.label.textContent = this.pass.labels[step];
    this.root.dataset.step = String(step + 1);
    this.root.dataset.phase = String(this.pass.phase[step]);
    this.remember(step + 1);
  }

  remember(step) {
    // the step in the address bar, at most every URL_DELAY ms: browsers throttle (and slow down)
    // history updates made many times a second, as playing at 30 steps/s would
    this.urlStep = step;
    if (this.urlTimer) return;
    this.urlTimer = setTimeout(() => {
      this.urlTimer = null;
      const url = new URL(window.location.href);
      const link = { step: String(this.urlStep) };
      const update = this.pass.update; // null off the training stepper (untied, for one)
      if (update !== null && update !== undefined) link.update = String(update);
      const stale = Object.entries(link).filter(([k, v]) => url.searchParams.get(k) !== v);
      if (!stale.length) return;
      for (const [k, v] of stale) url.searchParams.set(k, v);
      window.history.replaceState(window.history.state, "", url);
    }, URL_DELAY);
  }

  paint(view, step) {
    const { panel } = view;
    if (panel.codes) {
      const codes = panel.codes.table[panel.codes.index[step]];
      view.coded.forEach((el, i) => {
        if (el && el.dataset.c !== codes[i]) el.dataset.c = codes[i];
      });
    }
    if (panel.visible) view.section.hidden = !panel.visible[step];
    if (panel.values) this.colour(view, panel.values.index[step]);
    for (const [name, slot] of Object.entries(panel.slots || {})) {
      const html = slot.table[slot.index[step]];
      const el = view.slots[name];
      if (el && el.__html !== html) {
        el.innerHTML = html;
        el.__html = html;
      }
    }
  }

  colour(view, row) {
    if (view.row === row) return;
    view.row = row;
    const { count, ranges } = view.panel.values;
    const base = row * count;
    const scale = ranges[row];
    for (const [el, v, r, isLine] of view.valued) {
      const x = view.numbers[base + v];
      el.__value = x;
      if (!Number.isFinite(x)) {
        el.setAttribute("class", "blank");
        continue;
      }
      el.removeAttribute("class");
      const u = x / scale[r];
      const colour = this.palette[Math.round((Math.max(-1, Math.min(1, u)) + 1) * 127.5)];
      if (isLine) {
        el.style.stroke = colour;
        el.style.strokeWidth = String(0.6 + 3.4 * Math.min(1, Math.abs(u)));
      } else el.style.fill = colour;
    }
  }

  play() {
    if (this.step >= this.pass.n - 1) {
      this.resume = true; // training: the next pass, then play on
      if (this.request("+1")) return;
      this.resume = false;
      this.go(0);
    }
    this.playing = true;
    this.playButton.innerHTML = PAUSE;
    this.playButton.setAttribute("aria-pressed", "true");
    let due = performance.now() + 1000 / this.speed;
    const tick = (now) => {
      if (!this.playing) return;
      if (now + 0.25 * (1000 / this.speed) >= due) { // a frame a little early still counts
        if (this.step >= this.pass.n - 1) {
          this.pause();
          this.resume = true; // training: play on into the next pass
          if (!this.request("+1")) this.resume = false;
          return;
        }
        if (this.ask(this.step + 1)) return this.pause();
        this.go(this.step + 1);
        due += 1000 / this.speed;
        if (now - due > 1000 / this.speed) due = now + 1000 / this.speed;
      }
      this.frame = requestAnimationFrame(tick);
    };
    this.frame = requestAnimationFrame(tick);
  }

  pause() {
    this.playing = false;
    cancelAnimationFrame(this.frame);
    this.playButton.innerHTML = PLAY;
    this.playButton.setAttribute("aria-pressed", "false");
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  act(action) {
    if (action === "play") return this.toggle();
    if (action === "predict") return this.togglePredict();
    this.pause();
    if (action === "next" && this.ask(this.step + 1)) return;
    if (action === "next" && this.step >= this.pass.n - 1) return void this.request("+1");
    const targets = { first: 0, back: this.step - 1, next: this.step + 1, last: this.pass.n - 1 };
    this.go(targets[action]);
  }

  // ---------------------------------------------------------------- predict, then reveal

  togglePredict() {
    this.predicting = !this.predicting;
    const button = this.root.querySelector("[data-act=predict]");
    button.setAttribute("aria-pressed", String(this.predicting));
    this.scoreLabel.hidden = !this.predicting;
    this.showScore();
  }

  ask(step) {
    // before a backward step is shown, its question (once per pass and step)
    const q = this.predicting && this.pass.questions && this.pass.questions[step];
    if (!q || this.answered[this.pass.pass_id + step] !== undefined) return false;
    this.quiz.dataset.step = String(step);
    this.quiz.innerHTML = `<p class="q">${q.q}</p><div class="choices">${q.choices
      .map((c, i) => `<button data-choice="${i}">${c}</button>`)
      .join("")}</div>`;
    this.quiz.hidden = false;
    this.pending = step;
    return true;
  }

  answer(choice) {
    const step = this.pending;
    const q = this.pass.questions[step];
    if (!q || this.answered[this.pass.pass_id + step] !== undefined) return;
    this.answered[this.pass.pass_id + step] = choice;
    const right = choice === q.answer;
    const score = this.score();
    score.asked += 1;
    score.right += right ? 1 : 0;
    sessionStorage.setItem("bptt-score", JSON.stringify(score));
    this.go(step);
    this.quiz.dataset.step = String(step);
    this.quiz.hidden = false;
    this.quiz.dataset.right = String(right);
    this.quiz.innerHTML = `<p class="verdict">${right ? "Right." : `Not quite: it is ${q.choices[q.answer]}.`}</p><p>${q.reveal}</p>`;
    this.showScore();
  }

  score() {
    try {
      return JSON.parse(sessionStorage.getItem("bptt-score")) || { asked: 0, right: 0 };
    } catch {
      return { asked: 0, right: 0 };
    }
  }

  showScore() {
    const { asked, right } = this.score();
    this.scoreLabel.textContent = `Score: ${right} of ${asked}`;
  }

  // ---------------------------------------------------------------- input

  onClick(e) {
    const button = e.target.closest("[data-act]");
    if (button) return this.act(button.dataset.act);
    const choice = e.target.closest("[data-choice]");
    if (choice) return this.answer(Number(choice.dataset.choice));
    const save = e.target.closest("[data-save]");
    if (save) return void saveFigure(save.closest("section"), save.dataset.save, this.pass);
    const jump = e.target.closest("[data-go]");
    if (jump) return void (this.pause(), this.request(jump.dataset.go));
    const copy = e.target.closest("[data-jf], [data-jb]");
    if (!copy) return;
    const backward = this.pass.phase[this.step] > 0 || copy.dataset.jf === undefined;
    this.pause();
    this.go(Number(backward ? copy.dataset.jb : copy.dataset.jf));
  }

  key(e) {
    const target = e.composedPath()[0];
    if (e.altKey || e.ctrlKey || e.metaKey || !this.root.isConnected) return;
    const inside = (selector) => target && target.closest && target.closest(selector);
    // keys that a focused field uses itself are left to it; a focused button keeps space
    if (inside("input, textarea, select, [role=slider], [role=combobox], [role=listbox], [contenteditable=true]")) return;
    const actions = { ArrowRight: "next", PageDown: "next", ArrowLeft: "back", PageUp: "back", Home: "first", End: "last", " ": "play" };
    const action = actions[e.key];
    if (!action || (e.key === " " && inside("button, a, summary"))) return;
    e.preventDefault();
    this.act(action);
  }

  onHover(e) {
    const text = tipText(e.target);
    if (!text) return void (this.tip.hidden = true);
    this.tip.textContent = text;
    this.tip.hidden = false;
    const box = this.root.getBoundingClientRect();
    const x = Math.min(e.clientX - box.left + 14, box.width - this.tip.offsetWidth - 4);
    this.tip.style.transform = `translate(${Math.max(0, x)}px, ${e.clientY - box.top + 16}px)`;
  }
}

// -------------------------------------------------------------------- helpers

function tipText(el) {
  if (!el || !el.dataset) return "";
  // data-tip-<code> (attribute names are lower case: dataset tipU); the copy being computed or
  // visited (F, B) has the tip of a computed (k) or visited (v) one
  const code = { F: "k", B: "v" }[el.dataset.c] || el.dataset.c;
  const byCode = code && el.dataset[`tip${code.toUpperCase()}`];
  if (byCode) return byCode;
  if (el.dataset.tip) return el.dataset.tip;
  if (el.dataset.v === undefined) return "";
  const group = el.closest("[data-tpl]");
  if (!group) return "";
  const k = Number(el.dataset.v) - Number(group.dataset.first || 0);
  const cols = Number(group.dataset.cols || 1);
  const [i, j] = [Math.floor(k / cols), k % cols];
  const rl = (group.dataset.rl || "").split(SEP), cl = (group.dataset.cl || "").split(SEP);
  const values = { i: i + 1, j: j + 1, r: rl[i] ?? "", c: cl[j] ?? "", v: fmt(el.__value) };
  return group.dataset.tpl.replace(/\{([ijrcv])\}/g, (_, key) => values[key]);
}

function fmt(x) {
  if (x === undefined || !Number.isFinite(x)) return "—";
  const text = Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toFixed(5) : x.toExponential(3);
  return x > 0 ? `+${text}` : text.replace("-", "−");
}

function grid(g) {
  const [x0, y0, w, h, rows, cols] = g.dataset.grid.split(",").map(Number);
  const first = Number(g.dataset.first);
  const ns = "http://www.w3.org/2000/svg";
  const frag = document.createDocumentFragment();
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      const rect = document.createElementNS(ns, "rect");
      rect.setAttribute("x", x0 + j * w);
      rect.setAttribute("y", y0 + i * h);
      rect.setAttribute("width", w - 1);
      rect.setAttribute("height", h - 1);
      rect.dataset.v = String(first + i * cols + j);
      frag.appendChild(rect);
    }
  g.appendChild(frag);
}

function saveFigure(section, kind, pass) {
  // the figure as drawn now, with its title and the settings, as an SVG file or a PNG image
  const svg = section.querySelector(".body svg");
  const title = (section.querySelector("h3") || {}).textContent || "";
  const caption = `${pass.caption || ""}${pass.caption ? " · " : ""}${pass.labels[Number(section.closest(".player").dataset.step) - 1] || ""}`;
  const [w, h0] = [svg.viewBox.baseVal.width, svg.viewBox.baseVal.height];
  const words = caption.split(" ");
  const lines = [""];
  for (const word of words) {
    if ((lines[lines.length - 1] + " " + word).length > w / 6.4) lines.push(word);
    else lines[lines.length - 1] = (lines[lines.length - 1] + " " + word).trim();
  }
  const h = h0 + 14 * (lines.length - 1);
  const clone = svg.cloneNode(true);
  clone.setAttribute("viewBox", `0 -44 ${w} ${h + 64}`);
  clone.setAttribute("width", w);
  clone.setAttribute("height", h + 64);
  clone.removeAttribute("style");
  const host = section.closest(".player");
  const css = getComputedStyle(host);
  const vars = ["--fg", "--bg", "--muted", "--line", "--faint", "--forward", "--backward", "--hot", "--known", "--out"]
    .map((v) => `${v}:${css.getPropertyValue(v)}`)
    .join(";");
  const root = host.getRootNode();
  const sheets = [...(root.styleSheets || []), ...(root.adoptedStyleSheets || [])];
  const rules = sheets.flatMap((sheet) => [...sheet.cssRules].map((r) => r.cssText)).join("\n");
  const ns = "http://www.w3.org/2000/svg";
  const style = document.createElementNS(ns, "style");
  style.textContent = `svg{${vars};font-family:${css.fontFamily};background:${css.getPropertyValue("--bg")}}\n${rules}`;
  clone.insertBefore(style, clone.firstChild);
  const text = (y, size, content) => {
    const t = document.createElementNS(ns, "text");
    t.setAttribute("x", "8");
    t.setAttribute("y", String(y));
    t.setAttribute("style", `font-size:${size}px;fill:${css.getPropertyValue("--fg")}`);
    t.textContent = content;
    clone.appendChild(t);
  };
  text(-22, Math.min(16, w / 22), title);
  lines.forEach((line, i) => text(h0 + 12 + 14 * i, 11, line));
  const bg = document.createElementNS(ns, "rect");
  Object.entries({ x: 0, y: -44, width: w, height: h + 64, fill: css.getPropertyValue("--bg") }).forEach(([k, v]) => bg.setAttribute(k, v));
  clone.insertBefore(bg, style.nextSibling);
  const source = new XMLSerializer().serializeToString(clone);
  const name = `bptt-${section.className.split(" ")[1]}-step${section.closest(".player").dataset.step}`;
  const blob = new Blob([source], { type: "image/svg+xml" });
  if (kind === "svg") return download(blob, `${name}.svg`);
  const scale = Math.max(2, 1920 / w);
  const img = new Image();
  img.onload = () => {
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(w * scale);
    canvas.height = Math.round((h + 64) * scale);
    const ctx = canvas.getContext("2d");
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    canvas.toBlob((png) => download(png, `${name}.png`), "image/png");
  };
  img.src = URL.createObjectURL(blob);
}

function download(blob, name) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

function rangeOf(el) {
  const holder = el.closest("[data-r]");
  return holder ? Number(holder.dataset.r) : 0;
}

function decode(b64) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}

function lookup(palette) {
  // 256 colours of the diverging scale from −1 to +1 (Python's stops, linearly interpolated)
  const stops = palette.map(([p, hex]) => [p, [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16))]);
  const out = [];
  for (let i = 0; i < 256; i++) {
    const u = i / 255;
    let k = 0;
    while (k < stops.length - 2 && u > stops[k + 1][0]) k++;
    const [p0, c0] = stops[k], [p1, c1] = stops[k + 1];
    const f = (u - p0) / (p1 - p0);
    out.push(`rgb(${c0.map((c, m) => Math.round(c + f * (c1[m] - c))).join(",")})`);
  }
  return out;
}

const ICONS = {
  first: '<path d="M5 4h2v16H5zM19 4v16L8 12z"/>',
  back: '<path d="M17 4v16L6 12z"/>',
  next: '<path d="M7 4v16l11-8z"/>',
  last: '<path d="M17 4h2v16h-2zM5 4v16l11-8z"/>',
  play: '<path d="M7 4v16l12-8z"/>',
  pause: '<path d="M6 4h4v16H6zM14 4h4v16h-4z"/>',
};
const icon = (name) => `<svg class="icon" viewBox="0 0 24 24" aria-hidden="true">${ICONS[name]}</svg>`;
const PLAY = `${icon("play")}<span>Play</span>`;
const PAUSE = `${icon("pause")}<span>Pause</span>`;

const CONTROLS = `
<div class="passbar" hidden>
  <span class="heading"></span>
  <button data-go="zero" title="Start again from the initial weights">Update 0</button>
  <button data-go="+1" title="Make this update and open the next pass">Next pass</button>
  <button data-go="+10" title="Ten more updates">+10</button>
  <button data-go="+100" title="A hundred more updates">+100</button>
  <button data-go="trained" title="Train until the loss per character is under 0.05 (or a cap)">To trained</button>
  <span class="busy">computing…</span>
</div>
<div class="controls" role="toolbar" aria-label="Step through the pass">
  <button data-act="first" title="First step (Home)">${icon("first")}<span>First</span></button>
  <button data-act="back" title="Back (← or Page Up)">${icon("back")}<span>Back</span></button>
  <button data-act="play" class="primary" aria-pressed="false" title="Play / Pause (space)">${PLAY}</button>
  <button data-act="next" title="Next (→ or Page Down)"><span>Next</span>${icon("next")}</button>
  <button data-act="last" title="Last step (End)"><span>Last</span>${icon("last")}</button>
  <select aria-label="Speed"></select>
  <button data-act="predict" aria-pressed="false" title="Before each backward step, guess what it will show">Predict first</button>
  <span class="score" hidden></span>
  <input type="range" min="1" value="1" step="1" aria-label="Step">
  <span class="break"></span>
  <span class="where" aria-live="polite"></span>
  <span class="keys">Keys: ← → step · Home / End · space plays · click a copy or a column to jump to it</span>
</div>
<div class="quiz" hidden></div>
<div class="panels"></div>
<div class="tip" hidden></div>`;
