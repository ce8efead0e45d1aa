// digitnet canvas demo, "Watch it learn": starts a training on the server
// (POST /api/train), follows it through Server-Sent Events (/api/train/events)
// and draws the loss and accuracy curves, conv1's 3x3 filters and the reading
// of the user's drawing by the network in training. Also says which models
// the page serves, how accurate they are, and which are still training.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const form = $('learn-form');
  const startButton = $('learn-start');
  const cancelButton = $('learn-cancel');
  const keepButton = $('learn-keep');
  const discardButton = $('learn-discard');
  const statusLine = $('learn-status');
  const hint = $('learn-hint');
  const curves = $('learn-curves');
  const filterBox = $('learn-filters');
  const filterCaption = $('learn-filters-caption');
  const notice = $('train-notice');
  const probeDigit = $('probe-digit');
  const probeNote = $('probe-note');
  const probeBars = $('probe-bars');
  const NAMES = { cnn: 'CNN', mlp: 'MLP' };

  let status = null;       // the server's whole state ("status" event)
  let health = null;       // GET /api/health
  let probeBusy = false;
  let probeAgain = false;
  let lastProbe = 0;

  const probeRows = [];
  for (let k = 0; k < 10; k++) {
    const li = document.createElement('li');
    li.innerHTML = `<span class="label">${k}</span><span class="track"><span class="fill"></span></span><span class="pct"></span>`;
    probeBars.appendChild(li);
    probeRows.push({ li, fill: li.querySelector('.fill'), pct: li.querySelector('.pct') });
  }

  const pct = (x, digits = 1) => `${(x * 100).toFixed(digits)}%`;
  const secs = (s) => (s < 10 ? `${s.toFixed(1)} s` : s < 90 ? `${s.toFixed(0)} s`
    : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`);

  // ---- what the served models are ----

  // "input 1x28x28; conv 32 3; relu; ..." -> "3×3 conv 32 → ... → 128 → 10"
  function describe(spec) {
    const parts = [];
    for (const layer of spec.split(';').map((w) => w.trim().split(/\s+/))) {
      const [kind, a, b] = layer;
      if (kind === 'input' && !spec.includes('conv')) parts.push(String(a.split('x').reduce((x, y) => x * y, 1)));
      else if (kind === 'conv') parts.push(`${b}×${b} conv ${a}`);
      else if (kind === 'maxpool') parts.push('max-pool');
      else if (kind === 'linear') parts.push(`${a}`);
      else if (kind === 'batchnorm') parts.push('batch-norm');
    }
    return parts.join(' → ');
  }

  async function loadHealth() {
    try {
      const response = await fetch('/api/health', { cache: 'no-store' });
      health = await response.json();
    } catch {
      return;
    }
    for (const name of ['cnn', 'mlp']) {
      const spec = health.models[name];
      const acc = health.accuracy[name];
      const line = $(`${name}-arch`);
      if (!spec) {
        line.textContent = 'still training';
        continue;
      }
      line.textContent = describe(spec);
      if (acc !== null) {
        line.append(document.createElement('br'), `${pct(acc, 2)} right on MNIST's 10,000 test digits`);
      }
      line.title = spec;
    }
  }

  // The results panel says which model is still being trained for the first run.
  function showNotice() {
    if (!status) return;
    const missing = ['mlp', 'cnn'].filter((n) => !status.models[n].ready);
    if (!missing.length) {
      notice.hidden = true;
      return;
    }
    const words = missing.map((n) => {
      const m = status.models[n];
      if (m.training && status.batches) {
        const job = status.job;
        return `the ${NAMES[n]} is training (epoch ${status.epoch + 1} of ${job.epochs}, ` +
          `${Math.round((100 * status.batch) / status.batches)}%)`;
      }
      if (m.training) return `the ${NAMES[n]} is about to train (preparing its data)`;
      if (m.waiting) return `the ${NAMES[n]} is waiting to be trained`;
      return `there is no ${NAMES[n]} model (and no MNIST here to train one)`;
    });
    notice.textContent = `First run: ${words.join('; ')}. ${missing.length > 1 ? 'Their' : 'Its'} answers ` +
      `appear here as soon as ${missing.length > 1 ? 'each is' : 'it is'} ready — ` +
      'follow it under "Watch it learn".';
    notice.hidden = false;
  }

  // ---- the training's state ----

  function showButtons() {
    const running = status && status.state === 'running';
    const auto = running && status.job && status.job.auto;
    startButton.disabled = !status || !status.data || running;
    cancelButton.hidden = !running || auto;
    keepButton.hidden = !(status && status.pending);
    discardButton.hidden = !(status && status.pending);
    if (status && status.pending && status.job) {
      keepButton.textContent = `Use this ${NAMES[status.job.model]}`;
    }
  }

  function describeState() {
    if (!status) return 'Connecting…';
    const job = status.job;
    const name = job ? NAMES[job.model] : '';
    const last = status.points.length ? status.points[status.points.length - 1] : null;
    const test = status.epochs.length ? status.epochs[status.epochs.length - 1].test_accuracy : null;
    switch (status.state) {
      case 'running': {
        if (!status.batches) {
          return `${job.auto ? 'First run: the' : 'The'} ${name} is about to train: preparing MNIST and ` +
            'the drawn digits and non-digits that teach it "not a digit" (the first time takes a while)…';
        }
        const share = Math.round((100 * status.batch) / status.batches);
        const who = job.auto ? `First run: the server trains the missing ${name}` : `Training the ${name}`;
        let text = `${who}: epoch ${status.epoch + 1} of ${job.epochs}, ${share}%`;
        if (last) text += ` · loss ${last[1].toFixed(3)} · training accuracy ${pct(last[2])}`;
        return `${text} · ${secs(status.seconds)}`;
      }
      case 'finished': {
        const served = status.models[job.model].accuracy;
        return `Done in ${secs(status.seconds)}: the new ${name} gets ${test === null ? '?' : pct(test, 2)} of ` +
          `MNIST's 10,000 test digits right${served === null ? '' : ` (the ${name} the page uses: ${pct(served, 2)})`}. ` +
          'Use it for the predictions above, or discard it.';
      }
      case 'kept':
        return job && job.auto ? `The ${name} is trained and in use (${test === null ? '' : pct(test, 2)} on the test set).`
          : `The predictions above now use the ${name} you trained.`;
      case 'discarded': return `Discarded: the page keeps its ${name}.`;
      case 'cancelled': return `Cancelled after ${secs(status.seconds)}.`;
      case 'failed': return `The training failed: ${status.error}`;
      default:
        return status.data ? 'Nothing is training.'
          : 'Training needs MNIST on the server: start dn-canvas with --data DIR.';
    }
  }

  function render() {
    statusLine.textContent = describeState();
    showButtons();
    showNotice();
    drawCurves();
    drawFilters();
  }

  // ---- the curves ----

  function drawCurves() {
    const dpr = window.devicePixelRatio || 1;
    const width = Math.max(200, Math.round(curves.clientWidth || 560));
    const height = Math.round(width * 0.42);
    if (curves.width !== Math.round(width * dpr)) {
      curves.width = Math.round(width * dpr);
      curves.height = Math.round(height * dpr);
    }
    const g = curves.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    const css = getComputedStyle(document.documentElement);
    const color = (v) => css.getPropertyValue(v).trim();
    g.clearRect(0, 0, width, height);
    const left = 36;
    const right = 40;
    const top = 10;
    const bottom = 24;
    const w = width - left - right;
    const h = height - top - bottom;
    const epochs = status && status.job ? status.job.epochs : 1;
    const points = status ? status.points : [];
    const maxLoss = Math.max(1, ...points.map((p) => p[1]).slice(1));
    const X = (x) => left + (x / epochs) * w;
    const L = (v) => top + h - (Math.min(v, maxLoss) / maxLoss) * h;
    const A = (v) => top + h - v * h;

    g.font = '11px system-ui, sans-serif';
    g.lineWidth = 1;
    g.strokeStyle = color('--line');
    g.fillStyle = color('--muted');
    for (let i = 0; i <= 4; i++) {
      const y = top + (h * i) / 4;
      g.beginPath();
      g.moveTo(left, y);
      g.lineTo(left + w, y);
      g.stroke();
      g.textAlign = 'right';
      g.fillText((maxLoss * (1 - i / 4)).toFixed(1), left - 5, y + 4);
      g.textAlign = 'left';
      g.fillText(`${100 - i * 25}%`, left + w + 5, y + 4);
    }
    g.textAlign = 'center';
    for (let e = 0; e <= epochs; e++) g.fillText(String(e), X(e), top + h + 15);
    if (!points.length) {
      g.fillText('The curves grow here while a network trains.', left + w / 2, top + h / 2);
      return;
    }
    const line = (value, stroke) => {
      g.strokeStyle = stroke;
      g.lineWidth = 2;
      g.beginPath();
      points.forEach((p, i) => (i ? g.lineTo(X(p[0]), value(p)) : g.moveTo(X(p[0]), value(p))));
      g.stroke();
    };
    line((p) => L(p[1]), color('--accent'));
    line((p) => A(p[2]), color('--win'));
    g.fillStyle = '#c94f9a';
    for (const e of status.epochs) {
      if (e.test_accuracy < 0) continue;
      g.beginPath();
      g.arc(X(e.epoch), A(e.test_accuracy), 4.5, 0, Math.PI * 2);
      g.fill();
    }
  }

  // ---- conv1's filters: 3x3 tiles, red positive, blue negative ----

  function drawFilters() {
    const f = status && status.filters;
    const cnnJob = status && status.job && status.job.model === 'cnn';
    if (status && status.job && !cnnJob) {
      filterBox.hidden = true;
      filterCaption.textContent = 'The MLP has no filters: each of its first 128 units weighs all 784 pixels ' +
        'at once, so what it learns is tied to where on the 28×28 grid the ink is.';
      return;
    }
    filterBox.hidden = false;
    filterCaption.innerHTML = 'The CNN\u2019s first layer: 32 filters of 3&times;3 weights ' +
      '(<span class="pos">positive</span>, <span class="neg">negative</span>). They start as noise and ' +
      'become detectors of edges and strokes in each direction.';
    if (!f) {
      filterBox.replaceChildren();
      return;
    }
    let canvas = filterBox.querySelector('canvas');
    const cols = 8;
    const rows = Math.ceil(f.count / cols);
    if (!canvas) {
      canvas = document.createElement('canvas');
      filterBox.replaceChildren(canvas);
    }
    canvas.width = cols * 4 + 1;
    canvas.height = rows * 4 + 1;
    const g = canvas.getContext('2d');
    const img = g.createImageData(canvas.width, canvas.height);
    const dark = matchMedia('(prefers-color-scheme: dark)').matches;
    const paper = dark ? [27, 30, 40] : [255, 255, 255];
    for (let i = 0; i < img.data.length; i += 4) {
      img.data.set([...paper, 255], i);
    }
    let scale = 1e-6;
    for (const v of f.weights) scale = Math.max(scale, Math.abs(v));
    for (let k = 0; k < f.count; k++) {
      const x0 = (k % cols) * 4 + 1;
      const y0 = Math.floor(k / cols) * 4 + 1;
      for (let i = 0; i < 9; i++) {
        const v = f.weights[k * 9 + i] / scale;
        const t = Math.min(1, Math.abs(v));
        const hue = v >= 0 ? [214, 64, 40] : [40, 84, 214];
        const px = ((y0 + Math.floor(i / 3)) * canvas.width + x0 + (i % 3)) * 4;
        for (let c = 0; c < 3; c++) img.data[px + c] = Math.round(paper[c] + (hue[c] - paper[c]) * t);
        img.data[px + 3] = 255;
      }
    }
    g.putImageData(img, 0, 0);
  }

  // ---- the user's drawing through the network in training ----

  async function probe() {
    const canvasApi = window.dnCanvas;
    const live = status && (status.state === 'running' || status.pending) && status.batches;
    if (!canvasApi || !live || !canvasApi.hasInk()) {
      if (canvasApi && live && !canvasApi.hasInk()) probeNote.textContent = 'Draw a digit above while it trains.';
      return;
    }
    if (probeBusy) {
      probeAgain = true;
      return;
    }
    probeBusy = true;
    lastProbe = performance.now();
    try {
      const size = canvasApi.size;
      const response = await fetch(`/api/train/predict?w=${size}&h=${size}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/octet-stream' },
        body: canvasApi.pixels(),
      });
      const data = await response.json();
      if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
      if (data.digit === null) {
        probeDigit.textContent = '–';
        probeNote.textContent = 'No digit found in the drawing yet.';
        return;
      }
      probeDigit.textContent = String(data.digit);
      probeNote.textContent = `${pct(data.probs[data.digit], 0)} sure, after ${data.epoch.toFixed(2)} epochs`;
      data.probs.forEach((p, k) => {
        probeRows[k].li.classList.toggle('win', k === data.digit);
        probeRows[k].fill.style.width = `${(p * 100).toFixed(1)}%`;
        probeRows[k].pct.textContent = `${Math.round(p * 100)}%`;
      });
    } catch (err) {
      probeNote.textContent = `(${err.message})`;
    } finally {
      probeBusy = false;
      if (probeAgain) {
        probeAgain = false;
        setTimeout(probe, 300);
      }
    }
  }

  document.addEventListener('dn:drawing', () => {
    if (!window.dnCanvas.hasInk()) {
      probeDigit.textContent = '–';
      probeRows.forEach((r) => { r.fill.style.width = '0%'; r.pct.textContent = ''; r.li.classList.remove('win'); });
    }
    probe();
  });

  // ---- the event stream ----

  function connect() {
    const events = new EventSource('/api/train/events');
    events.addEventListener('status', (e) => {
      const before = status;
      status = JSON.parse(e.data);
      document.getElementById('learn').dataset.state = status.state;
      render();
      if (!before || before.state !== status.state) loadHealth();
      probe();
    });
    events.addEventListener('progress', (e) => {
      if (!status) return;
      const p = JSON.parse(e.data);
      status.state = 'running';
      status.epoch = p.epoch - 1;
      status.batch = p.batch;
      status.batches = p.batches;
      status.seconds = p.seconds;
      status.points.push([p.x, p.loss, p.accuracy]);
      if (p.filters) status.filters = p.filters;
      render();
      if (performance.now() - lastProbe > 600) probe();
    });
    events.addEventListener('epoch', (e) => {
      if (!status) return;
      status.epochs.push(JSON.parse(e.data));
      render();
    });
    events.addEventListener('models', (e) => {
      if (status) status.models = JSON.parse(e.data).models;
      render();
      loadHealth();
      document.dispatchEvent(new CustomEvent('dn:models'));
    });
    events.onerror = () => {
      if (events.readyState === EventSource.CLOSED) {
        statusLine.textContent = 'Lost the connection to the server; retrying…';
        setTimeout(connect, 3000);
      }
    };
  }

  // ---- the form ----

  async function post(path, body) {
    const response = await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: body ? JSON.stringify(body) : '',
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
    return data;
  }

  function act(promise) {
    promise.then((data) => {
      if (data && data.state) {
        status = data;
        render();
      }
    }).catch((err) => { statusLine.textContent = err.message; });
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const model = form.querySelector('input[name="model"]:checked').value;
    const epochs = Number($('learn-epochs').value);
    const limit = Number($('learn-limit').value);
    act(post('/api/train', { model, epochs, limit }));
  });
  cancelButton.addEventListener('click', () => act(post('/api/train/cancel')));
  keepButton.addEventListener('click', () => act(post('/api/train/keep')));
  discardButton.addEventListener('click', () => act(post('/api/train/discard')));
  form.addEventListener('change', () => {
    const model = form.querySelector('input[name="model"]:checked').value;
    hint.classList.toggle('warn', model === 'cnn' && $('learn-limit').value === '0');
  });
  window.addEventListener('resize', () => drawCurves());

  loadHealth();
  connect();
  render();
})();
