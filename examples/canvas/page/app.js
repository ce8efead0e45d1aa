// digitnet canvas demo: pointer drawing on a 280x280 canvas, its pixels sent
// as raw 8-bit gray to /api/predict (one request in flight at most, the latest
// drawing sent when it finishes), and both networks' answers shown side by side.
// Undo, a random MNIST test digit and saving as PNG act on the canvas too.
// learn.js (training from the page) talks to it through window.dnCanvas and
// the 'dn:drawing' / 'dn:models' events.
'use strict';

(() => {
  const pad = document.getElementById('pad');
  const ctx = pad.getContext('2d', { willReadFrequently: true });
  const SIZE = pad.width;
  const INK = '#111111';
  const PAPER = '#ffffff';
  const THROTTLE_MS = 70;

  const padBox = pad.parentElement;
  const brush = document.getElementById('brush');
  const brushValue = document.getElementById('brush-value');
  const results = document.getElementById('results');
  const summary = document.getElementById('summary');
  const timing = document.getElementById('timing');
  const errorBox = document.getElementById('error');
  const seen = document.getElementById('seen').getContext('2d');
  const undoButton = document.getElementById('undo');
  const sampleNote = document.getElementById('sample-note');
  const MAX_UNDO = 40;
  const history = []; // canvas states before each stroke or sample
  const models = ['cnn', 'mlp'].map((name) => {
    const root = document.getElementById(name);
    const bars = root.querySelector('.bars');
    const rows = [];
    for (let k = 0; k < 10; k++) {
      const li = document.createElement('li');
      li.innerHTML = `<span class="label">${k}</span><span class="track"><span class="fill"></span></span><span class="pct">0%</span>`;
      bars.appendChild(li);
      rows.push({ li, fill: li.querySelector('.fill'), pct: li.querySelector('.pct') });
    }
    return {
      name,
      label: name.toUpperCase(),
      root,
      digit: root.querySelector('.digit'),
      confidence: root.querySelector('.confidence'),
      latency: root.querySelector('.latency'),
      rows,
    };
  });

  // Drawing state.
  let stroke = null;        // {id, prev, prevMid} while a pointer draws
  let hasInk = false;
  // Request state: version counts changes, epoch counts clears.
  let version = 0;
  let epoch = 0;
  let sentVersion = 0;
  let shownVersion = 0;
  let inFlight = false;
  let timer = null;
  let lastSend = -Infinity;
  let sampling = false;     // a random MNIST digit on its way

  function paper() {
    ctx.fillStyle = PAPER;
    ctx.fillRect(0, 0, SIZE, SIZE);
  }

  function updatePending() {
    const pending = inFlight || sampling || timer !== null || (hasInk && shownVersion !== version);
    results.dataset.pending = pending ? '1' : '0';
  }

  function showBlank(message) {
    for (const m of models) {
      m.root.classList.add('blank');
      m.root.classList.remove('waiting');
      m.root.classList.remove('refused');
      m.digit.textContent = '–';
      m.confidence.textContent = '';
      m.latency.textContent = '';
      for (const r of m.rows) {
        r.li.classList.remove('win');
        r.fill.style.width = '0%';
        r.pct.textContent = '0%';
      }
    }
    results.classList.remove('disagree', 'refused');
    summary.textContent = message;
    timing.textContent = '';
    seen.fillStyle = '#000';
    seen.fillRect(0, 0, 28, 28);
    if (window.dnNumbers) window.dnNumbers.clear();
    if (window.dnInside) window.dnInside.clear();
  }

  function updateUndo() {
    undoButton.disabled = history.length === 0;
  }

  function remember() {
    history.push(ctx.getImageData(0, 0, SIZE, SIZE));
    if (history.length > MAX_UNDO) history.shift();
    updateUndo();
  }

  function clearAll() {
    stroke = null;
    if (hasInk) remember();
    paper();
    sampleNote.textContent = '';
    hasInk = false;
    padBox.classList.remove('inked');
    epoch++;
    version++;
    shownVersion = version;
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    errorBox.hidden = true;
    showBlank('Draw a digit to see the predictions.');
    updatePending();
    document.dispatchEvent(new CustomEvent('dn:drawing'));
  }

  // Whether the canvas has any ink (after an undo or a sample).
  function inkOnCanvas() {
    const rgba = ctx.getImageData(0, 0, SIZE, SIZE).data;
    for (let i = 0; i < rgba.length; i += 4) if (rgba[i] < 200) return true;
    return false;
  }

  // Shows the canvas as it is now: blank, or sent for a prediction.
  function redrawn() {
    hasInk = inkOnCanvas();
    padBox.classList.toggle('inked', hasInk);
    if (!hasInk) {
      epoch++;
      version++;
      shownVersion = version;
      showBlank('Draw a digit to see the predictions.');
      updatePending();
      document.dispatchEvent(new CustomEvent('dn:drawing'));
      return;
    }
    changed(true);
  }

  function undo() {
    if (stroke !== null || history.length === 0) return;
    ctx.putImageData(history.pop(), 0, 0);
    sampleNote.textContent = '';
    updateUndo();
    redrawn();
  }


  function percent(p) {
    const v = p * 100;
    return v >= 99.95 ? '100%' : v >= 9.95 ? `${v.toFixed(0)}%` : `${v.toFixed(1)}%`;
  }

  // "a 3", "an 8".
  function withArticle(d) {
    return `${d === 8 ? 'an' : 'a'} ${d}`;
  }

  function verdictText(cnn, mlp) {
    if (cnn === null && mlp === null) {
      return 'Neither network sees a digit.';
    }
    // Short: on a phone a second line would push the answers off the screen.
    if (cnn === null) return `MLP reads ${withArticle(mlp)}; CNN sees no digit.`;
    if (mlp === null) return `CNN reads ${withArticle(cnn)}; MLP sees no digit.`;
    if (cnn === mlp) return `Both networks read ${withArticle(cnn)}.`;
    return `The networks disagree: the CNN reads ${withArticle(cnn)}, the MLP ${withArticle(mlp)}.`;
  }

  function render(data, roundTrip) {
    const input = data.input;
    const img = seen.createImageData(28, 28);
    for (let i = 0; i < 784; i++) {
      const v = input[i];
      img.data[i * 4] = v;
      img.data[i * 4 + 1] = v;
      img.data[i * 4 + 2] = v;
      img.data[i * 4 + 3] = 255;
    }
    seen.putImageData(img, 0, 0);
    if (window.dnNumbers) window.dnNumbers.show(data.number);

    const ready = models.filter((m) => data[m.name].ready !== false);
    if (ready.length && data[ready[0].name].reason === 'no ink') {
      showBlank('No digit found yet: the strokes are too faint or too small.');
      seen.putImageData(img, 0, 0);
      return;
    }
    for (const m of models) {
      const r = data[m.name];
      m.root.classList.toggle('waiting', r.ready === false);
      if (r.ready === false) {
        m.root.classList.add('blank');
        m.digit.textContent = '–';
        m.confidence.textContent = r.note || 'still training';
        m.latency.textContent = '';
        for (const row of m.rows) {
          row.li.classList.remove('win');
          row.fill.style.width = '0%';
          row.pct.textContent = '';
        }
        continue;
      }
      const refused = r.digit === null;
      m.root.classList.remove('blank');
      m.root.classList.toggle('refused', refused);
      // A refusal is an answer: the top probability is too low for any digit.
      m.digit.textContent = refused ? '?' : String(r.digit);
      m.confidence.textContent = refused ? 'no digit' : `${percent(r.score)} sure`;
      m.confidence.title = refused
        ? `No digit reaches the threshold of ${percent(r.threshold)}: the highest is ${r.best} at ${percent(r.score)}.`
        : '';
      m.latency.textContent = `${r.ms.toFixed(2)} ms`;
      r.probs.forEach((p, k) => {
        const row = m.rows[k];
        row.li.classList.toggle('win', !refused && k === r.digit);
        row.fill.style.width = `${(p * 100).toFixed(1)}%`;
        row.pct.textContent = percent(p);
      });
    }
    const cnn = data.cnn.digit;
    const mlp = data.mlp.digit;
    const both = ready.length === 2;
    results.classList.toggle('disagree', both && cnn !== mlp && cnn !== null && mlp !== null);
    results.classList.toggle('refused', both && cnn === null && mlp === null);
    // The live region is read out only when a stroke is done, not on every move;
    // the text follows the predictions mid-stroke too.
    summary.setAttribute('aria-live', stroke === null ? 'polite' : 'off');
    if (!both) {
      const waiting = models.find((m) => data[m.name].ready === false);
      const one = ready.length ? data[ready[0].name].digit : null;
      summary.textContent = !ready.length
        ? 'Both networks are still training: their answers appear here when they are ready.'
        : one === null
          ? `The ${ready[0].label} is not sure this is a digit; the ${waiting.label} is still training.`
          : `The ${ready[0].label} reads ${withArticle(one)}; the ${waiting.label} is still training.`;
    } else {
      summary.textContent = verdictText(cnn, mlp);
    }
    timing.textContent = `reading the drawing ${data.preprocess_ms.toFixed(2)} ms · round trip ${roundTrip.toFixed(0)} ms`;
  }

  function grayPixels() {
    const rgba = ctx.getImageData(0, 0, SIZE, SIZE).data;
    const gray = new Uint8Array(SIZE * SIZE);
    for (let i = 0; i < gray.length; i++) {
      gray[i] = (rgba[i * 4] * 299 + rgba[i * 4 + 1] * 587 + rgba[i * 4 + 2] * 114 + 500) / 1000;
    }
    return gray;
  }

  async function send() {
    timer = null;
    if (inFlight || !hasInk || sentVersion === version) {
      updatePending();
      return;
    }
    inFlight = true;
    const v = version;
    const e = epoch;
    sentVersion = v;
    lastSend = performance.now();
    updatePending();
    try {
      const t0 = performance.now();
      const extra = window.dnInside ? window.dnInside.query() : ''; // inside.js: &saliency=ig
      const response = await fetch(`/api/predict?w=${SIZE}&h=${SIZE}&inside=1${extra}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/octet-stream' },
        body: grayPixels(),
      });
      const data = await response.json();
      if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
      if (e === epoch) {
        errorBox.hidden = true;
        render(data, performance.now() - t0);
        if (window.dnInside) window.dnInside.show(data); // inside.js: the layers' maps
        shownVersion = v;
      }
    } catch (err) {
      if (e === epoch) {
        errorBox.textContent = `Could not reach the server: ${err.message}`;
        errorBox.hidden = false;
        shownVersion = v;
      }
    } finally {
      inFlight = false;
      if (hasInk && version !== sentVersion) schedule(stroke === null);
      updatePending();
    }
  }

  // Sends soon: right away when `now` (a stroke ended), else throttled.
  function schedule(now) {
    if (timer !== null) {
      if (!now) return;
      clearTimeout(timer);
    }
    const wait = now ? 0 : Math.max(0, lastSend + THROTTLE_MS - performance.now());
    timer = setTimeout(send, wait);
    updatePending();
  }

  // inside.js changed what it asks for (the saliency method): the same drawing again.
  document.addEventListener('dn:inside-options', () => {
    if (!hasInk) return;
    version++;
    schedule(true);
  });

  function changed(now) {
    version++;
    schedule(now);
    if (now) document.dispatchEvent(new CustomEvent('dn:drawing'));
  }

  function at(event) {
    const r = pad.getBoundingClientRect();
    return {
      x: ((event.clientX - r.left) * SIZE) / r.width,
      y: ((event.clientY - r.top) * SIZE) / r.height,
    };
  }

  function setPen() {
    ctx.strokeStyle = INK;
    ctx.fillStyle = INK;
    ctx.lineWidth = Number(brush.value);
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
  }

  pad.addEventListener('pointerdown', (event) => {
    if (event.pointerType === 'mouse' && event.button !== 0) return;
    if (stroke !== null) return;
    event.preventDefault();
    pad.setPointerCapture(event.pointerId);
    const p = at(event);
    remember();
    sampleNote.textContent = '';
    stroke = { id: event.pointerId, prev: p, prevMid: p };
    setPen();
    ctx.beginPath();
    ctx.arc(p.x, p.y, ctx.lineWidth / 2, 0, Math.PI * 2);
    ctx.fill();
    hasInk = true;
    padBox.classList.add('inked');
    changed(false);
  });

  pad.addEventListener('pointermove', (event) => {
    if (stroke === null || event.pointerId !== stroke.id) return;
    event.preventDefault();
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    setPen();
    for (const e of events.length ? events : [event]) {
      const p = at(e);
      const mid = { x: (stroke.prev.x + p.x) / 2, y: (stroke.prev.y + p.y) / 2 };
      ctx.beginPath();
      ctx.moveTo(stroke.prevMid.x, stroke.prevMid.y);
      ctx.quadraticCurveTo(stroke.prev.x, stroke.prev.y, mid.x, mid.y);
      ctx.stroke();
      stroke.prev = p;
      stroke.prevMid = mid;
    }
    changed(false);
  });

  function endStroke(event) {
    if (stroke === null || event.pointerId !== stroke.id) return;
    setPen();
    ctx.beginPath();
    ctx.moveTo(stroke.prevMid.x, stroke.prevMid.y);
    ctx.lineTo(stroke.prev.x, stroke.prev.y);
    ctx.stroke();
    stroke = null;
    changed(true);
  }
  pad.addEventListener('pointerup', endStroke);
  pad.addEventListener('pointercancel', endStroke);
  pad.addEventListener('lostpointercapture', endStroke);
  // No context menu or text selection while drawing with a long press.
  pad.addEventListener('contextmenu', (event) => event.preventDefault());

  brush.addEventListener('input', () => {
    brushValue.textContent = brush.value;
  });
  // A random MNIST test digit from the server, drawn dark on light like the pen.
  async function drawSample() {
    if (sampling) return;
    sampling = true;
    updatePending();
    try {
      const response = await fetch('/api/sample');
      const data = await response.json();
      if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
      const small = document.createElement('canvas');
      small.width = 28;
      small.height = 28;
      const sctx = small.getContext('2d');
      const img = sctx.createImageData(28, 28);
      for (let i = 0; i < 784; i++) {
        const v = 255 - data.pixels[i] * (255 - 17) / 255;
        img.data[i * 4] = v;
        img.data[i * 4 + 1] = v;
        img.data[i * 4 + 2] = v;
        img.data[i * 4 + 3] = 255;
      }
      sctx.putImageData(img, 0, 0);
      if (stroke !== null) return;
      if (hasInk) remember();
      paper();
      ctx.imageSmoothingEnabled = true;
      ctx.imageSmoothingQuality = 'high';
      ctx.drawImage(small, 0, 0, SIZE, SIZE);
      sampleNote.textContent = `MNIST test digit #${data.index}, labelled ${data.label}.`;
      sampleNote.dataset.label = String(data.label);
      errorBox.hidden = true;
      redrawn();
    } catch (err) {
      errorBox.textContent = `No sample: ${err.message}`;
      errorBox.hidden = false;
    } finally {
      sampling = false;
      updatePending();
    }
  }

  function save() {
    pad.toBlob((blob) => {
      if (!blob) return;
      const link = document.createElement('a');
      link.href = URL.createObjectURL(blob);
      link.download = 'digit.png';
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    }, 'image/png');
  }

  document.getElementById('clear').addEventListener('click', clearAll);
  undoButton.addEventListener('click', undo);
  document.getElementById('sample').addEventListener('click', drawSample);
  document.getElementById('save').addEventListener('click', save);
  // Keys typed into a text field are the field's; with any other control
  // focused (a radio such as the saliency switch, the brush slider, a
  // button, a list) Escape and Delete still clear the drawing.
  const NOT_TEXT = new Set(['radio', 'checkbox', 'range', 'button', 'submit', 'reset', 'color', 'file', 'image']);
  function inTextField(el) {
    if (el instanceof HTMLInputElement) return !NOT_TEXT.has(el.type);
    return el instanceof HTMLTextAreaElement || (el instanceof HTMLElement && el.isContentEditable);
  }
  document.addEventListener('keydown', (event) => {
    if (inTextField(event.target)) return;
    if (event.key === 'Escape' || event.key === 'Delete') {
      event.preventDefault();
      clearAll();
    } else if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'z') {
      event.preventDefault();
      undo();
    }
  });
  // A served model changed (one finished training, or a trained one was kept).
  document.addEventListener('dn:models', () => {
    if (hasInk) changed(true);
  });
  window.dnCanvas = { pixels: grayPixels, size: SIZE, hasInk: () => hasInk };

  // ---- An image file dropped on the canvas or pasted (Ctrl+V) ----
  // Its bytes go to /api/predict as they are (the server reads PNG and PGM by
  // content) and the answer is shown as for a drawing. The image is drawn
  // scaled into the canvas, so the user sees it and may draw over it.
  async function predictFile(file) {
    stroke = null;
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    const e = ++epoch;
    sentVersion = shownVersion = ++version;
    paper();
    hasInk = true;
    padBox.classList.add('inked');
    try {
      const bitmap = await createImageBitmap(file);
      const scale = Math.min(SIZE / bitmap.width, SIZE / bitmap.height);
      const w = bitmap.width * scale;
      const h = bitmap.height * scale;
      if (e === epoch) ctx.drawImage(bitmap, (SIZE - w) / 2, (SIZE - h) / 2, w, h);
      bitmap.close();
    } catch {
      // The browser cannot show it (a PGM, say); the server may still read it.
    }
    try {
      const t0 = performance.now();
      const response = await fetch('/api/predict', {
        method: 'POST',
        headers: { 'Content-Type': 'application/octet-stream' },
        body: await file.arrayBuffer(),
      });
      const data = await response.json();
      if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
      if (e === epoch) {
        errorBox.hidden = true;
        render(data, performance.now() - t0);
      }
    } catch (err) {
      if (e === epoch) {
        showBlank('The image could not be read.');
        errorBox.textContent = `${file.name || 'The image'}: ${err.message}`;
        errorBox.hidden = false;
      }
    }
    updatePending();
  }

  padBox.addEventListener('dragover', (event) => {
    if (event.dataTransfer && event.dataTransfer.types.includes('Files')) event.preventDefault();
  });
  padBox.addEventListener('drop', (event) => {
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (!file) return;
    event.preventDefault();
    predictFile(file);
  });
  document.addEventListener('paste', (event) => {
    const files = event.clipboardData ? [...event.clipboardData.files] : [];
    const file = files.find((f) => f.type.startsWith('image/')) || files[0];
    if (!file) return;
    event.preventDefault();
    predictFile(file);
  });

  clearAll();
  history.length = 0;
  updateUndo();
})();
