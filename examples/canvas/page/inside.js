// digitnet canvas demo, "Inside the networks": draws what /api/predict?inside=1
// returns (every layer's maps as heat-map tiles, hidden layers as grids of
// cells, a saliency map per model over the input) into canvas ImageData,
// and a large view of a tile with its filter weights on hover or tap (a
// conv2 map's 32 kernels and an MLP unit's 784 weights come from GET
// /api/weights when the tile is opened, cached until the model's version
// changes). The saliency view switches between the gradient and integrated
// gradients (&saliency=ig, computed only while that view is chosen).
// app.js calls window.dnInside.show(answer) after each prediction,
// window.dnInside.clear() when the drawing is cleared, adds
// window.dnInside.query() to its request, and sends again on the
// 'dn:inside-options' event.
'use strict';

(() => {
  const root = document.getElementById('inside');
  if (!root) return;
  const saliencyBox = document.getElementById('inside-saliency');
  const saliencyNote = document.getElementById('inside-saliency-note');
  const card = document.getElementById('inside-card');
  const cardTitle = card.querySelector('.card-title');
  const cardMap = card.querySelector('.card-map');
  const cardText = card.querySelector('.card-text');
  const cardKernels = card.querySelector('.card-kernels');

  // ---- colours: activations on a dark-to-bright ramp, weights diverging ----
  const RAMP = [[12, 14, 32], [62, 22, 110], [146, 38, 116], [222, 76, 72], [251, 160, 58], [252, 238, 150]];
  const HEAT = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (RAMP.length - 1);
    const k = Math.min(RAMP.length - 2, Math.floor(t));
    const f = t - k;
    for (let c = 0; c < 3; c++) HEAT[i * 3 + c] = RAMP[k][c] + (RAMP[k + 1][c] - RAMP[k][c]) * f;
  }
  function diverging(v) { // v in [-1, 1]: blue, near white, red
    const a = Math.min(1, Math.abs(v));
    return v >= 0 ? [250 - 40 * a, 248 - 190 * a, 245 - 200 * a] : [245 - 205 * a, 248 - 130 * a, 250 - 20 * a];
  }

  // ---- decoding ----
  function bytes(b64) {
    const s = atob(b64);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  // Zero runs undone: a 0 then n stands for n + 1 zeros. null if not `want` bytes.
  function unruns(b64, want) {
    const raw = bytes(b64);
    const out = new Uint8Array(want);
    let at = 0;
    for (let i = 0; i < raw.length; i++) {
      if (raw[i] !== 0) {
        if (at >= want) return null;
        out[at++] = raw[i];
      } else {
        const n = raw[++i] + 1;
        if (Number.isNaN(n) || at + n > want) return null;
        at += n;
      }
    }
    return at === want ? out : null;
  }
  // Values of a map: value(channel, i) from its bytes and per-channel scales.
  function decodeMap(map) {
    const [c, h, w] = map.shape;
    const data = unruns(map.data, c * h * w);
    if (!data) return null;
    const per = data.length / map.lo.length;
    const values = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const k = Math.floor(i / per);
      values[i] = map.lo[k] + (data[i] / 255) * (map.hi[k] - map.lo[k]);
    }
    let top = 0;
    for (const v of map.hi) top = Math.max(top, v);
    return { name: map.name, c, h, w, values, top };
  }

  // ---- the layers of each model: a figure per layer, a canvas of tiles ----
  const TITLES = {
    conv1: (m) => `conv1 · ${m.c} feature maps, ${m.h}×${m.w}, after ReLU`,
    conv2: (m) => `conv2 · ${m.c} feature maps, ${m.h}×${m.w}, after ReLU`,
    pool1: (m) => `max-pool · the ${m.c} maps halved to ${m.h}×${m.w}`,
    fc1: (m) => `hidden layer 1 · ${m.c} units`,
    fc2: (m) => `hidden layer 2 · ${m.c} units`,
  };
  const views = {}; // model -> name -> {figure, canvas, layout, map}
  const state = { data: null, maps: {}, kernels: {}, versions: {}, method: 'grad', open: null, openedBy: null };

  // ---- weights on demand: GET /api/weights, cached per model version ----
  const weightCache = new Map(); // "model/layer/map" -> {version, weights, bias, shape}
  const weightWaits = new Map(); // the same key -> the promise of a request in flight
  function forgetWeights(model) {
    for (const key of [...weightCache.keys()]) if (key.startsWith(`${model}/`)) weightCache.delete(key);
  }
  function weightsFor(model, layer, map) {
    const key = `${model}/${layer}/${map}`;
    const hit = weightCache.get(key);
    if (hit && hit.version === state.versions[model]) return Promise.resolve(hit);
    if (weightWaits.has(key)) return weightWaits.get(key);
    const wait = fetch(`/api/weights?model=${model}&layer=${layer}&map=${map}`)
      .then((r) => r.json().then((j) => { if (!r.ok) throw new Error(j.error || `HTTP ${r.status}`); return j; }))
      .then((j) => {
        const raw = bytes(j.data);
        const got = {
          version: j.version,
          shape: j.shape,
          bias: j.bias,
          weights: Float32Array.from(raw, (b) => ((b - 128) / 127) * j.scale),
        };
        if (got.version === state.versions[model]) weightCache.set(key, got);
        return got;
      })
      .finally(() => weightWaits.delete(key));
    weightWaits.set(key, wait);
    return wait;
  }

  function layoutFor(m) {
    if (m.h * m.w > 1) { // tiles of maps, 8 to a row
      const cols = 8;
      const gap = 2;
      return { cols, rows: Math.ceil(m.c / cols), cw: m.w, ch: m.h, gap, cell: false };
    }
    const cols = 16; // units as cells
    return { cols, rows: Math.ceil(m.c / cols), cw: 6, ch: 6, gap: 1, cell: true };
  }

  function figureFor(model, m) {
    const box = root.querySelector(`.inside-model[data-model="${model}"] .layers`);
    views[model] = views[model] || {};
    let view = views[model][m.name];
    if (view && view.c === m.c && view.h === m.h && view.w === m.w) return view;
    if (view) view.figure.remove();
    const figure = document.createElement('figure');
    figure.className = 'layer';
    const canvas = document.createElement('canvas');
    const layout = layoutFor(m);
    canvas.width = layout.cols * (layout.cw + layout.gap) - layout.gap;
    canvas.height = layout.rows * (layout.ch + layout.gap) - layout.gap;
    canvas.className = layout.cell ? 'cells' : 'tiles';
    canvas.setAttribute('role', 'img');
    const caption = document.createElement('figcaption');
    caption.textContent = (TITLES[m.name] || ((x) => `${x.name} · ${x.c}×${x.h}×${x.w}`))(m);
    canvas.setAttribute('aria-label', `${model.toUpperCase()} ${caption.textContent}`);
    figure.append(caption, canvas);
    box.appendChild(figure);
    view = { figure, canvas, layout, c: m.c, h: m.h, w: m.w, model, name: m.name };
    views[model][m.name] = view;
    canvas.addEventListener('pointermove', (e) => { if (e.pointerType === 'mouse') pick(view, e); });
    canvas.addEventListener('pointerdown', (e) => pick(view, e));
    // a card a finger opened stays when the mouse events a tap makes leave the tile
    canvas.addEventListener('pointerleave', (e) => {
      if (e.pointerType === 'mouse' && state.openedBy === 'mouse') hideCard();
    });
    return view;
  }

  // Brightness of value v in a layer whose largest value is top.
  function level(v, top) {
    if (!(top > 0) || !(v > 0)) return 0;
    return Math.min(255, Math.round(255 * Math.pow(v / top, 0.75)));
  }

  function drawLayer(view, m) {
    const { layout } = view;
    const ctx = view.canvas.getContext('2d');
    const img = ctx.createImageData(view.canvas.width, view.canvas.height);
    const px = img.data;
    const plane = m.h * m.w;
    for (let k = 0; k < m.c; k++) {
      const x0 = (k % layout.cols) * (layout.cw + layout.gap);
      const y0 = Math.floor(k / layout.cols) * (layout.ch + layout.gap);
      for (let y = 0; y < layout.ch; y++) {
        for (let x = 0; x < layout.cw; x++) {
          const v = layout.cell ? m.values[k] : m.values[k * plane + y * m.w + x];
          const l = level(v, m.top) * 3;
          const at = ((y0 + y) * view.canvas.width + x0 + x) * 4;
          px[at] = HEAT[l];
          px[at + 1] = HEAT[l + 1];
          px[at + 2] = HEAT[l + 2];
          px[at + 3] = 255;
        }
      }
    }
    ctx.putImageData(img, 0, 0);
  }

  // ---- the large view of one tile ----
  function tileAt(view, event) {
    const r = view.canvas.getBoundingClientRect();
    const { layout } = view;
    const x = ((event.clientX - r.left) / r.width) * view.canvas.width;
    const y = ((event.clientY - r.top) / r.height) * view.canvas.height;
    const col = Math.floor(x / (layout.cw + layout.gap));
    const row = Math.floor(y / (layout.ch + layout.gap));
    const k = row * layout.cols + col;
    return col >= 0 && col < layout.cols && k >= 0 && k < view.c ? k : -1;
  }

  function drawPlane(canvas, m, k, top) {
    canvas.width = m.w;
    canvas.height = m.h;
    const ctx = canvas.getContext('2d');
    const img = ctx.createImageData(m.w, m.h);
    const plane = m.h * m.w;
    for (let i = 0; i < plane; i++) {
      const l = level(m.values[k * plane + i], top) * 3;
      img.data.set([HEAT[l], HEAT[l + 1], HEAT[l + 2], 255], i * 4);
    }
    ctx.putImageData(img, 0, 0);
  }

  // A 3x3 kernel as a small canvas of diverging colours.
  function kernelCanvas(weights, scale, label) {
    const c = document.createElement('canvas');
    c.width = 3;
    c.height = 3;
    c.className = 'kernel';
    const ctx = c.getContext('2d');
    const img = ctx.createImageData(3, 3);
    weights.forEach((w, i) => img.data.set([...diverging(w / scale), 255], i * 4));
    ctx.putImageData(img, 0, 0);
    c.setAttribute('role', 'img');
    c.setAttribute('aria-label', label);
    return c;
  }

  function kernelFigure(weights, scale, caption) {
    const fig = document.createElement('figure');
    fig.append(kernelCanvas(weights, scale, caption));
    const cap = document.createElement('figcaption');
    cap.textContent = caption;
    fig.append(cap);
    return fig;
  }

  function weightsOf(kernels, index) { // 9 weights of kernel `index` in a KERNELS entry
    const raw = bytes(kernels.data);
    return Array.from(raw.subarray(index * 9, index * 9 + 9), (b) => ((b - 128) / 127) * kernels.scale);
  }

  // A conv2 map's kernels, one 3x3 square per conv1 map, 8 to a row, in
  // colours scaled to the map's largest weight (square root: faint kernels
  // still show); the strongest few outlined.
  function kernelGrid(weights, inputs, strongest) {
    const CELL = 8; // canvas pixels per weight
    const GAP = 4;
    const cols = 8;
    const rows = Math.ceil(inputs / cols);
    const side = 3 * CELL;
    const c = document.createElement('canvas');
    c.className = 'all-kernels';
    c.dataset.cell = CELL;
    c.dataset.gap = GAP;
    c.width = cols * (side + GAP) + GAP;
    c.height = rows * (side + GAP) + GAP;
    const ctx = c.getContext('2d');
    const scale = Math.max(1e-9, ...Array.from(weights, Math.abs));
    for (let i = 0; i < inputs; i++) {
      const x0 = GAP + (i % cols) * (side + GAP);
      const y0 = GAP + Math.floor(i / cols) * (side + GAP);
      for (let e = 0; e < 9; e++) {
        const v = weights[i * 9 + e] / scale; // a square root, so that faint kernels still show
        const [r, g, b] = diverging(Math.sign(v) * Math.sqrt(Math.abs(v)));
        ctx.fillStyle = `rgb(${r | 0},${g | 0},${b | 0})`;
        ctx.fillRect(x0 + (e % 3) * CELL, y0 + Math.floor(e / 3) * CELL, CELL, CELL);
      }
      if (strongest.includes(i)) {
        ctx.strokeStyle = getComputedStyle(card).getPropertyValue('--accent') || '#3346c9';
        ctx.lineWidth = 2;
        ctx.strokeRect(x0 - 1.5, y0 - 1.5, side + 3, side + 3);
      }
    }
    c.setAttribute('role', 'img');
    c.setAttribute('aria-label', `its ${inputs} 3×3 filters, one per conv1 map`);
    return c;
  }

  // An MLP unit's 784 input weights as the 28x28 grid they read.
  function weightImage(weights, side) {
    const c = document.createElement('canvas');
    c.className = 'weight-image';
    c.width = side;
    c.height = side;
    const ctx = c.getContext('2d');
    const img = ctx.createImageData(side, side);
    const scale = Math.max(1e-9, ...Array.from(weights, Math.abs));
    weights.forEach((w, i) => img.data.set([...diverging(w / scale), 255], i * 4));
    ctx.putImageData(img, 0, 0);
    c.setAttribute('role', 'img');
    c.setAttribute('aria-label', `its ${side * side} input weights as the ${side}×${side} grid`);
    return c;
  }

  // Fills the card's "all weights" part once GET /api/weights answers, if
  // the card still shows the same tile.
  function addAllWeights(view, k, title, open, strongest = []) {
    const layer = view.name === 'pool1' ? 'conv2' : view.name;
    const box = document.createElement('div');
    box.className = 'card-all';
    box.textContent = 'loading its weights…';
    cardKernels.after(box);
    weightsFor(view.model, layer, k).then((w) => {
      if (state.open !== open || card.hidden) return;
      box.replaceChildren();
      const cap = document.createElement('p');
      if (w.shape.length === 3 && w.shape[1] === 3 && w.shape[2] === 3) {
        const inputs = w.shape[0];
        cap.textContent = `${title}: all ${inputs} filters, one per conv1 map (1 to ${inputs}, row by row`
          + `${strongest.length ? '; outlined: the strongest, above' : ''}).`;
        box.append(kernelGrid(w.weights, inputs, strongest), cap);
      } else if (w.shape.length === 1 && w.shape[0] === 784) {
        cap.textContent = 'Its 784 weights, one per pixel of the 28×28 input: ink on red pixels raises it, on blue '
          + 'ones lowers it. A fixed template: move your digit and it no longer fits.';
        box.append(weightImage(w.weights, 28), cap);
      } else {
        box.remove();
        return;
      }
      if (!card.classList.contains('docked') && card.dataset.x) { // it grew: keep it on the screen
        place({ clientX: +card.dataset.x, clientY: +card.dataset.y, pointerType: 'mouse' });
      }
    }).catch((err) => {
      if (state.open === open) box.textContent = `its weights did not come: ${err.message}`;
    });
  }

  function pick(view, event) {
    const k = tileAt(view, event);
    if (k < 0) return;
    if (event.pointerType !== 'mouse') event.preventDefault();
    showCard(view, k, event);
  }

  function showCard(view, k, event) {
    const m = state.maps[view.model] && state.maps[view.model][view.name];
    if (!m) return;
    const kernels = state.kernels[view.model] || [];
    const open = `${view.model}/${view.name}/${k}/${root.dataset.version}`;
    if (state.open === open && !card.hidden) { // the same tile, the same answer: only move the card along
      place(event);
      return;
    }
    cardKernels.replaceChildren();
    for (const old of card.querySelectorAll('.card-all')) old.remove();
    state.open = open;
    state.openedBy = event.pointerType;
    const value = (i) => (m.h * m.w > 1 ? Math.max(...m.values.subarray(k * m.h * m.w, (k + 1) * m.h * m.w)) : m.values[i]);
    const peak = value(k);
    if (m.h * m.w > 1) {
      cardMap.hidden = false;
      drawPlane(cardMap, m, k, m.top);
      cardTitle.textContent = `${view.model.toUpperCase()} ${view.name} · map ${k + 1} of ${m.c}`;
      cardText.textContent = `strongest response ${peak.toFixed(2)}`;
    } else {
      cardMap.hidden = true;
      cardTitle.textContent = `${view.model.toUpperCase()} ${view.name} · unit ${k + 1} of ${m.c}`;
      cardText.textContent = `activation ${peak.toFixed(2)}${peak > 0 ? '' : ' (silent: ReLU cut it to 0)'}`;
    }
    const conv1 = kernels.find((x) => x.name === 'conv1');
    const conv2 = kernels.find((x) => x.name === 'conv2');
    // kernels in colours of their own largest weight, so faint ones still show
    const own = (lists) => Math.max(1e-9, ...lists.flat().map(Math.abs));
    if (view.name === 'conv1' && conv1 && k < conv1.shape[0]) {
      cardText.textContent += '. Its filter, slid over your drawing: red weights add, blue ones subtract.';
      const w = weightsOf(conv1, k);
      cardKernels.append(kernelFigure(w, own([w]), '3×3 filter'));
    } else if ((view.name === 'conv2' || view.name === 'pool1') && conv2 && conv2.inputs && k < conv2.shape[0]) {
      const inputs = bytes(conv2.inputs);
      const top = conv2.top;
      const c1 = state.maps[view.model].conv1;
      cardText.textContent += view.name === 'pool1'
        ? `. The 2×2 maximum of conv2 map ${k + 1}, which combines conv1 maps through 3×3 filters; the strongest:`
        : `. It adds up all ${conv2.shape[1]} conv1 maps, each through a 3×3 filter of its own, then ReLU. The strongest:`;
      const lists = Array.from({ length: top }, (_, t) => weightsOf(conv2, k * top + t));
      const scale = own(lists);
      for (let t = 0; t < top; t++) {
        const from = inputs[k * top + t];
        const fig = kernelFigure(lists[t], scale, `conv1 map ${from + 1}`);
        if (c1 && from < c1.c) {
          const tile = document.createElement('canvas');
          tile.className = 'from';
          drawPlane(tile, c1, from, c1.top);
          fig.prepend(tile);
        }
        cardKernels.append(fig);
      }
      const strongest = Array.from(inputs.subarray(k * top, k * top + top));
      addAllWeights(view, k, view.name === 'pool1' ? `conv2 map ${k + 1}` : 'This map', open, strongest);
    } else if (view.model === 'mlp' && view.name === 'fc1') {
      addAllWeights(view, k, 'This unit', open);
    }
    card.hidden = false;
    place(event);
  }

  function place(event) {
    if (window.matchMedia('(max-width: 640px)').matches || event.pointerType !== 'mouse') {
      card.classList.add('docked');
      card.style.left = '';
      card.style.top = '';
      return;
    }
    card.classList.remove('docked');
    card.dataset.x = event.clientX;
    card.dataset.y = event.clientY;
    const w = card.offsetWidth;
    const h = card.offsetHeight;
    let x = event.clientX + 18;
    let y = event.clientY + 18;
    if (x + w > window.innerWidth - 8) x = event.clientX - w - 18;
    if (y + h > window.innerHeight - 8) y = Math.max(8, window.innerHeight - h - 8);
    card.style.left = `${Math.max(8, x)}px`;
    card.style.top = `${y}px`;
  }

  function hideCard() {
    card.hidden = true;
    state.open = null;
  }
  card.querySelector('.card-close').addEventListener('click', hideCard);
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape') hideCard(); });
  document.addEventListener('pointerdown', (e) => {
    if (!card.hidden && !card.contains(e.target) && !(e.target instanceof HTMLCanvasElement && e.target.closest('#inside'))) hideCard();
  });

  // ---- saliency over the input: the gradient, or integrated gradients ----
  const saliency = {};
  for (const model of ['cnn', 'mlp']) {
    const fig = saliencyBox.querySelector(`[data-model="${model}"]`);
    saliency[model] = { canvas: fig.querySelector('canvas'), caption: fig.querySelector('.which') };
  }
  // negative integrated gradients on a cold ramp
  const COLD = [[12, 14, 32], [24, 52, 120], [40, 110, 210], [150, 210, 255]];
  const BLUE = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (COLD.length - 1);
    const k = Math.min(COLD.length - 2, Math.floor(t));
    const f = t - k;
    for (let c = 0; c < 3; c++) BLUE[i * 3 + c] = COLD[k][c] + (COLD[k + 1][c] - COLD[k][c]) * f;
  }

  // The switch and its one-line explanation, beside the two maps.
  const side = document.createElement('div');
  side.className = 'saliency-side';
  const methods = document.createElement('fieldset');
  methods.className = 'saliency-switch';
  methods.innerHTML = '<legend>Show</legend>'
    + '<label><input type="radio" name="dn-saliency" value="grad" checked> Gradient</label>'
    + '<label><input type="radio" name="dn-saliency" value="ig"> Integrated gradients</label>';
  const how = document.createElement('p');
  how.className = 'saliency-how';
  how.id = 'inside-saliency-how';
  saliencyNote.before(side);
  side.append(methods, how, saliencyNote);

  const HOW = {
    grad: 'Gradient: how much the winning score would move if one pixel alone changed a little, so empty paper '
      + 'can light up too.',
    ig: 'Integrated gradients: each pixel\'s share of the winning score, counted along the way from a blank canvas '
      + 'to your drawing, so only ink lights up (warm: for the answer, blue: against)',
  };
  function fmt(x) { return Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2); }
  function explainMethod(method, inside) {
    let text = HOW[method];
    if (method === 'ig') {
      const parts = ['cnn', 'mlp'].filter((m) => inside && inside[m] && inside[m].saliency.method === 'ig')
        .map((m) => `${m.toUpperCase()} ${fmt(inside[m].saliency.sum)} of ${fmt(inside[m].saliency.delta)}`);
      text += parts.length ? `; the shares add up to the score's rise over a blank canvas: ${parts.join(', ')}.` : '.';
    }
    how.textContent = text;
    how.dataset.method = method;
  }
  methods.addEventListener('change', (e) => {
    state.method = e.target.value;
    root.dataset.saliency = state.method;
    if (state.data) how.textContent = state.method === 'ig' ? 'Computing integrated gradients…' : HOW.grad;
    else explainMethod(state.method, null);
    document.dispatchEvent(new CustomEvent('dn:inside-options'));
  });

  function drawSaliency(model, input, answer) {
    const { canvas, caption } = saliency[model];
    const ctx = canvas.getContext('2d');
    const img = ctx.createImageData(28, 28);
    const s = answer ? unruns(answer.saliency.data, 784) : null;
    const neg = answer && answer.saliency.neg ? bytes(answer.saliency.neg) : null;
    for (let i = 0; i < 784; i++) {
      const ink = input ? input[i] : 0;
      const heat = s ? Math.pow(s[i] / 255, 0.6) : 0; // 0..1
      const l = Math.round(heat * 255) * 3;
      const ramp = neg && (neg[i >> 3] >> (i & 7)) & 1 ? BLUE : HEAT;
      const base = input ? 30 + ink * 0.45 : HEAT[0]; // the drawing, dimmed
      img.data.set([
        base * (1 - heat) + ramp[l] * heat,
        base * (1 - heat) + ramp[l + 1] * heat,
        base * (1 - heat) + ramp[l + 2] * heat,
        255,
      ], i * 4);
    }
    ctx.putImageData(img, 0, 0);
    caption.textContent = answer ? `why ${answer.digit}` : '';
    return s;
  }

  // Share of the saliency on the strokes or right next to them.
  function onStrokes(s, input) {
    let on = 0;
    let all = 0;
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        let near = false;
        for (let dy = -1; dy <= 1 && !near; dy++) {
          for (let dx = -1; dx <= 1 && !near; dx++) {
            const yy = y + dy;
            const xx = x + dx;
            near = yy >= 0 && yy < 28 && xx >= 0 && xx < 28 && input[yy * 28 + xx] > 60;
          }
        }
        all += s[y * 28 + x];
        if (near) on += s[y * 28 + x];
      }
    }
    return all > 0 ? on / all : 0;
  }

  function explain(sCnn, sMlp, input, method) {
    if (!sCnn || !sMlp) {
      saliencyNote.textContent = 'Draw to see where each network looks.';
      return;
    }
    if (method === 'ig') {
      saliencyNote.textContent = 'Here only ink can count: compare which strokes each network rests its answer on, '
        + 'and which of them speak against it. Switch back to the gradient to see where each network would '
        + 'notice new ink.';
      return;
    }
    const cnn = Math.round(onStrokes(sCnn, input) * 100);
    const mlp = Math.round(onStrokes(sMlp, input) * 100);
    saliencyNote.textContent = `The CNN slides the same small filters everywhere, so its attention follows `
      + `your strokes (${cnn}% of it on or next to them); the MLP has a separate weight for every one of the `
      + `784 positions, so its attention is tied to fixed places of the grid, strokes or not (${mlp}%). `
      + 'Move your digit and watch which map moves with it.';
  }

  // ---- the hooks for app.js ----
  function show(data) {
    const inside = data && data.inside;
    if (!inside) {
      clear();
      return;
    }
    state.data = data;
    root.classList.remove('blank');
    for (const model of ['cnn', 'mlp']) {
      const answer = inside[model];
      if (!answer) continue;
      if (state.versions[model] !== answer.version) forgetWeights(model); // another model is served now
      state.versions[model] = answer.version;
      state.maps[model] = {};
      state.kernels[model] = answer.kernels || [];
      for (const map of answer.maps) {
        const m = decodeMap(map);
        if (!m) continue;
        state.maps[model][m.name] = m;
        drawLayer(figureFor(model, m), m);
      }
    }
    const sCnn = inside.cnn ? drawSaliency('cnn', data.input, inside.cnn) : null;
    const sMlp = inside.mlp ? drawSaliency('mlp', data.input, inside.mlp) : null;
    const shown = ['cnn', 'mlp'].map((m) => inside[m] && inside[m].saliency.method).find(Boolean) || 'grad';
    explain(sCnn, sMlp, data.input, shown);
    explainMethod(shown, inside);
    root.dataset.shownSaliency = shown;
    root.dataset.version = String(Number(root.dataset.version || 0) + 1);
  }

  function clear() {
    state.data = null;
    root.classList.add('blank');
    for (const model of Object.keys(views)) { // every tile at rest
      for (const view of Object.values(views[model])) {
        drawLayer(view, { c: view.c, h: view.h, w: view.w, values: new Float32Array(view.c * view.h * view.w), top: 0 });
      }
    }
    drawSaliency('cnn', null, null);
    drawSaliency('mlp', null, null);
    explain(null, null, null, state.method);
    explainMethod(state.method, null);
    delete root.dataset.shownSaliency;
    hideCard();
  }

  // The demo's layers, dark until the first drawing (replaced if a model differs).
  const EXPECTED = {
    cnn: [['conv1', 32, 26, 26], ['conv2', 64, 24, 24], ['pool1', 64, 12, 12], ['fc1', 128, 1, 1]],
    mlp: [['fc1', 128, 1, 1], ['fc2', 256, 1, 1]],
  };
  for (const [model, layers] of Object.entries(EXPECTED)) {
    for (const [name, c, h, w] of layers) figureFor(model, { name, c, h, w });
  }

  explainMethod(state.method, null);
  explain(null, null, null, state.method);

  // The query app.js adds to /api/predict?inside=1.
  function query() { return state.method === 'ig' ? '&saliency=ig' : ''; }

  window.dnInside = { show, clear, query };
})();
