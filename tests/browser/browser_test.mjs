// browser_test.mjs - starts dn-canvas, opens its page in Debian's Chromium
// (headless, through playwright-core; no browser is ever downloaded), draws
// digits with the mouse and checks what the page shows, on a desktop and a
// phone viewport. Screenshots go to tests/artifacts/.
//
// usage: node browser_test.mjs --server PATH/dn-canvas --cnn CNN --mlp MLP
//        [--artifacts DIR] [--chromium /usr/bin/chromium]
// Exits 0 when every check passed, 1 otherwise, 77 when Chromium is missing.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = '1';
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch {
  console.log('skipped: playwright-core is not installed (cd tests/browser && npm ci)');
  process.exit(77);
}

const here = dirname(fileURLToPath(import.meta.url));
const options = {
  server: null,
  cnn: null,
  mlp: null,
  artifacts: resolve(here, '..', 'artifacts'),
  chromium: '/usr/bin/chromium',
};
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i].replace(/^--/, '');
  if (!(key in options) || i + 1 >= process.argv.length) {
    console.error(`browser_test: unknown or incomplete option '${process.argv[i]}'`);
    process.exit(2);
  }
  options[key] = process.argv[i + 1];
}
if (!options.server || !existsSync(options.server)) {
  console.error(`browser_test: --server ${options.server}: no such file`);
  process.exit(2);
}
for (const key of ['cnn', 'mlp']) {
  if (!options[key] || !existsSync(options[key])) {
    console.log(`skipped: --${key} ${options[key]}: no such model (needs MNIST to train one)`);
    process.exit(77);
  }
}
if (!existsSync(options.chromium)) {
  console.log(`skipped: ${options.chromium} is missing (apt-get install chromium)`);
  process.exit(77);
}
mkdirSync(options.artifacts, { recursive: true });

let passed = 0;
let failed = 0;
function check(ok, what) {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
}

// ---- the server ----
function startServer() {
  return new Promise((resolvePort, reject) => {
    const child = spawn(options.server, ['--port', '0', '--cnn', options.cnn, '--mlp', options.mlp],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let log = '';
    const timer = setTimeout(() => reject(new Error(`dn-canvas did not start: ${log}`)), 30000);
    child.stderr.on('data', (chunk) => { log += chunk; });
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) {
        clearTimeout(timer);
        resolvePort({ child, port: Number(m[1]), log: () => log });
      }
    });
    child.on('exit', (code) => reject(new Error(`dn-canvas exited (${code}): ${log}`)));
  });
}

// ---- strokes: digits as polylines in canvas units (0..1), drawn like a hand would ----
const DIGITS = {
  1: [[[0.47, 0.2], [0.5, 0.5], [0.52, 0.82]]],
  0: [(() => {
    const pts = [];
    for (let i = 0; i <= 52; i++) {
      const a = -Math.PI / 2 - (i / 48) * Math.PI * 2;
      pts.push([0.5 + 0.2 * Math.cos(a), 0.5 + 0.3 * Math.sin(a)]);
    }
    return pts;
  })()],
  7: [[[0.27, 0.22], [0.5, 0.21], [0.72, 0.22], [0.6, 0.45], [0.5, 0.65], [0.44, 0.83]]],
};

async function drawDigit(page, digit) {
  const box = await page.locator('#pad').boundingBox();
  for (const stroke of DIGITS[digit]) {
    const [x0, y0] = stroke[0];
    await page.mouse.move(box.x + x0 * box.width, box.y + y0 * box.height);
    await page.mouse.down();
    for (const [x, y] of stroke.slice(1)) {
      await page.mouse.move(box.x + x * box.width, box.y + y * box.height, { steps: 12 });
    }
    await page.mouse.up();
  }
}

async function settled(page) {
  await page.waitForFunction(() => document.getElementById('results').dataset.pending === '0',
    null, { timeout: 10000 });
}

async function shown(page) {
  return page.evaluate(() => {
    const one = (name) => {
      const root = document.getElementById(name);
      return {
        digit: root.querySelector('.digit').textContent.trim(),
        bars: root.querySelectorAll('.bars li').length,
        winners: [...root.querySelectorAll('.bars li.win')].map((li) => li.querySelector('.label').textContent),
        latency: root.querySelector('.latency').textContent,
      };
    };
    const seen = document.getElementById('seen').getContext('2d').getImageData(0, 0, 28, 28).data;
    let ink = 0;
    for (let i = 0; i < seen.length; i += 4) ink += seen[i];
    return {
      cnn: one('cnn'),
      mlp: one('mlp'),
      ink,
      summary: document.getElementById('summary').textContent,
    };
  });
}

async function isBlank(page) {
  const s = await shown(page);
  return s.cnn.digit === '–' && s.mlp.digit === '–' && s.cnn.winners.length === 0 && s.ink === 0;
}

// ---- "Inside the networks" (inside.js) ----
// What its canvases show: for each layer how many pixels are lit and a
// fingerprint of them; the saliency maps likewise; the sentence.
async function insideShown(page) {
  return page.evaluate(() => {
    const look = (canvas) => {
      const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let lit = 0;
      let hash = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i] + d[i + 1] + d[i + 2] > 150) lit++;
        hash = (hash * 31 + d[i] + 7 * d[i + 1] + 13 * d[i + 2]) >>> 0;
      }
      return { lit, hash, w: canvas.width, h: canvas.height };
    };
    const root = document.getElementById('inside');
    const layers = {};
    for (const model of ['cnn', 'mlp']) {
      for (const fig of root.querySelectorAll(`.inside-model[data-model="${model}"] .layer`)) {
        layers[`${model} ${fig.querySelector('figcaption').textContent.split(' ·')[0]}`] = look(fig.querySelector('canvas'));
      }
    }
    const saliency = {};
    for (const fig of root.querySelectorAll('.saliency figure')) saliency[fig.dataset.model] = look(fig.querySelector('canvas'));
    return {
      blank: root.classList.contains('blank'),
      layers,
      saliency,
      note: document.getElementById('inside-saliency-note').textContent,
      domNodes: root.querySelectorAll('*').length,
    };
  });
}

// Hovers (mouse) or taps (touch) tile k of a layer canvas; the card that opens.
async function openTile(page, selector, k, count, tap) {
  const canvas = page.locator(selector);
  const box = await canvas.boundingBox();
  const cols = 8;
  const rows = Math.ceil(count / cols);
  const x = box.x + ((k % cols) + 0.5) * (box.width / cols);
  const y = box.y + (Math.floor(k / cols) + 0.5) * (box.height / rows);
  if (tap) await page.touchscreen.tap(x, y);
  else await page.mouse.move(x, y);
  await page.waitForTimeout(100);
  return page.evaluate(() => {
    const card = document.getElementById('inside-card');
    const r = card.getBoundingClientRect();
    return {
      visible: !card.hidden && r.width > 0,
      title: card.querySelector('.card-title').textContent,
      kernels: card.querySelectorAll('.card-kernels canvas.kernel').length,
      inside: r.left >= 0 && r.right <= window.innerWidth + 1 && r.bottom <= window.innerHeight + 1,
    };
  });
}

// ---- the run ----
const { child, port, log } = await startServer();
const url = `http://127.0.0.1:${port}/`;
const profiles = [];
const contexts = [];
// Each browser gets a new, empty user-data-dir, removed at the end.
async function launch(extra) {
  const profile = mkdtempSync(join(tmpdir(), 'dn-canvas-chromium-'));
  profiles.push(profile);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: options.chromium,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    ...extra,
  });
  contexts.push(context);
  return context;
}

// A finger stroke through CDP touch events (pointerType "touch").
async function touchDigit(page, cdp, digit) {
  const box = await page.locator('#pad').boundingBox();
  for (const stroke of DIGITS[digit]) {
    const at = ([x, y]) => ({ x: box.x + x * box.width, y: box.y + y * box.height });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [at(stroke[0])] });
    for (let i = 1; i < stroke.length; i++) {
      const a = at(stroke[i - 1]);
      const b = at(stroke[i]);
      for (let k = 1; k <= 12; k++) {
        const t = k / 12;
        await cdp.send('Input.dispatchTouchEvent', {
          type: 'touchMove', touchPoints: [{ x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t }],
        });
      }
    }
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  }
}

try {
  const context = await launch({ viewport: { width: 1280, height: 860 } });
  const page = context.pages()[0] || await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(msg.text()); });
  const insideSeen = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let predictRequests = 0;
  page.on('request', (req) => {
    if (req.url().includes('/api/predict')) {
      predictRequests++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
    }
  });
  const done = (req) => { if (req.url().includes('/api/predict')) inFlight--; };
  page.on('requestfinished', done);
  page.on('requestfailed', done);

  await page.goto(url);
  check((await page.title()).includes('digitnet'), 'the page loads from dn-canvas');
  check(await isBlank(page), 'a blank canvas shows no prediction');
  check((await page.evaluate(() => getComputedStyle(document.getElementById('pad')).touchAction)) === 'none',
    'the canvas has touch-action: none');
  await page.screenshot({ path: join(options.artifacts, 'desktop-blank.png') });
  await page.locator('#inside').screenshot({ path: join(options.artifacts, 'desktop-inside-blank.png') });
  await page.evaluate(() => window.scrollTo(0, 0)); // the element screenshot scrolled to it

  const layout = await page.evaluate(() => {
    const pad = document.getElementById('pad').getBoundingClientRect();
    const results = document.getElementById('results').getBoundingClientRect();
    return { padRight: pad.right, resultsLeft: results.left, padTop: pad.top, resultsTop: results.top };
  });
  check(layout.resultsLeft >= layout.padRight && Math.abs(layout.resultsTop - layout.padTop) < 120,
    'desktop: drawing and results side by side');

  const clearWays = {
    1: async () => page.getByRole('button', { name: 'Clear' }).click(),
    0: async () => page.keyboard.press('Escape'),
    7: async () => page.keyboard.press('Delete'),
  };
  const clearNames = { 1: 'the Clear button', 0: 'Escape', 7: 'Delete' };
  for (const digit of [1, 0, 7]) {
    const before = predictRequests;
    await drawDigit(page, digit);
    await settled(page);
    const s = await shown(page);
    check(s.cnn.digit === String(digit), `drew a ${digit}: the CNN shows ${s.cnn.digit} (MLP ${s.mlp.digit})`);
    check(s.cnn.bars === 10 && s.mlp.bars === 10 && s.cnn.winners.length === 1 && s.mlp.winners.length === 1 &&
      s.cnn.winners[0] === s.cnn.digit && s.mlp.winners[0] === s.mlp.digit,
      `  ten bars per model, the winner highlighted`);
    check(s.ink > 0 && /ms/.test(s.cnn.latency), '  "what the model sees" and the latency are shown');
    check(predictRequests - before >= 2, `  predictions update while drawing (${predictRequests - before} requests)`);
    const inside = await insideShown(page);
    const names = Object.keys(inside.layers);
    const dark = names.filter((n) => inside.layers[n].lit === 0);
    check(!inside.blank && names.length === 6 && dark.length === 0,
      `  inside: ${names.length} layers drawn (${names.join(', ')}), each with lit tiles${dark.length ? '; dark: ' + dark.join(', ') : ''}`);
    check(inside.saliency.cnn.lit > 0 && inside.saliency.mlp.lit > 0 && /CNN.*\d+%.*MLP.*\d+%/.test(inside.note),
      `  inside: both saliency maps shown, with the sentence (${inside.note.slice(0, 60)}...)`);
    insideSeen.push(inside);
    await page.screenshot({ path: join(options.artifacts, `desktop-digit-${digit}.png`) });
    await clearWays[digit]();
    await settled(page);
    check(await isBlank(page), `  ${clearNames[digit]} clears the canvas and the prediction`);
  }
  check(maxInFlight === 1, `at most one request in flight (max ${maxInFlight})`);
  const changed = (key, pick) => new Set(insideSeen.map((s) => pick(s)[key].hash)).size === insideSeen.length;
  check(insideSeen.length === 3 && changed('cnn conv1', (s) => s.layers) && changed('cnn conv2', (s) => s.layers) &&
    changed('mlp hidden layer 1', (s) => s.layers) && changed('cnn', (s) => s.saliency) && changed('mlp', (s) => s.saliency),
    'inside: the maps and both saliency maps change with the drawing (1, 0, 7 all different)');
  check(insideSeen.every((s) => s.domNodes < 120), `inside: tiles are canvas pixels, not DOM nodes (${insideSeen[0].domNodes} elements)`);

  // a drawing left on the page: hover a conv1 tile and a conv2 tile
  await drawDigit(page, 0);
  await settled(page);
  const conv1 = '.inside-model[data-model="cnn"] .layer:nth-child(1) canvas';
  const conv2 = '.inside-model[data-model="cnn"] .layer:nth-child(2) canvas';
  await page.locator(conv1).scrollIntoViewIfNeeded();
  const hover1 = await openTile(page, conv1, 5, 32, false);
  check(hover1.visible && hover1.inside && /conv1 · map 6 of 32/.test(hover1.title) && hover1.kernels === 1,
    `inside: hovering conv1 map 6 shows it large with its 3x3 filter ("${hover1.title}", ${hover1.kernels} kernel)`);
  await page.screenshot({ path: join(options.artifacts, 'desktop-inside-conv1.png') });
  const hover2 = await openTile(page, conv2, 12, 64, false);
  check(hover2.visible && /conv2 · map 13 of 64/.test(hover2.title) && hover2.kernels === 3,
    `inside: hovering conv2 map 13 shows its 3 strongest conv1 inputs and their filters (${hover2.kernels})`);
  await page.screenshot({ path: join(options.artifacts, 'desktop-inside-conv2.png') });
  await page.mouse.move(5, 5);
  await page.waitForTimeout(100);
  check(await page.evaluate(() => document.getElementById('inside-card').hidden), 'inside: the large view goes when the mouse leaves');
  await page.locator('#inside').screenshot({ path: join(options.artifacts, 'desktop-inside.png') });
  await page.screenshot({ path: join(options.artifacts, 'desktop-full.png'), fullPage: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.keyboard.press('Escape');
  await settled(page);
  check((await insideShown(page)).blank, 'inside: clearing the drawing greys the maps out');

  await page.locator('#brush').fill('30');
  check((await page.locator('#brush-value').textContent()) === '30', 'the brush size slider updates its label');
  await drawDigit(page, 1);
  await settled(page);
  check((await shown(page)).cnn.digit === '1', 'a thick 1 is still a 1');
  await page.keyboard.press('Escape');

  // An image file dropped on the canvas, then pasted: a PNG of a 7 (black ink,
  // transparent background) made by the browser. Its bytes must reach the
  // server as they are, and the image must appear in the canvas.
  let pngBodies = 0;
  const countPng = (req) => {
    const body = req.url().endsWith('/api/predict') ? req.postDataBuffer() : null;
    if (body && body.subarray(0, 4).toString('latin1') === '\x89PNG') pngBodies++;
  };
  page.on('request', countPng);
  for (const how of ['drop', 'paste']) {
    await settled(page);
    const before = pngBodies;
    await page.evaluate(async (how) => {
      const c = document.createElement('canvas');
      c.width = 200;
      c.height = 160;
      const g = c.getContext('2d');
      g.lineWidth = 16;
      g.lineCap = 'round';
      g.lineJoin = 'round';
      g.beginPath();
      g.moveTo(70, 30);
      g.lineTo(135, 30);
      g.lineTo(95, 135);
      g.stroke();
      const blob = await new Promise((resolve) => c.toBlob(resolve, 'image/png'));
      const dt = new DataTransfer();
      dt.items.add(new File([blob], 'seven.png', { type: 'image/png' }));
      if (how === 'drop') {
        document.getElementById('pad').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      } else {
        document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
      }
    }, how);
    await page.waitForFunction(() => document.getElementById('cnn').querySelector('.digit').textContent.trim() !== '–',
      null, { timeout: 10000 });
    const s = await shown(page);
    const dark = await page.evaluate(() => {
      const data = document.getElementById('pad').getContext('2d').getImageData(0, 0, 280, 280).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4) n += data[i] < 128;
      return n;
    });
    check(pngBodies > before && s.cnn.digit === '7' && dark > 500,
      `a PNG ${how === 'drop' ? 'dropped on the canvas' : 'pasted'}: sent as PNG (${pngBodies - before}), ` +
      `the CNN shows ${s.cnn.digit}, drawn into the canvas (${dark} dark pixels)`);
    await page.screenshot({ path: join(options.artifacts, `desktop-${how}-png.png`) });
    await page.keyboard.press('Escape');
  }
  page.off('request', countPng);

  await page.emulateMedia({ reducedMotion: 'reduce' });
  const animation = await page.evaluate(() => getComputedStyle(document.querySelector('.parade span')).animationName);
  check(animation === 'none', 'prefers-reduced-motion stops the footer animation');
  await page.emulateMedia({ reducedMotion: 'no-preference' });
  check(problems.length === 0, `no console errors${problems.length ? ': ' + problems.join('; ') : ''}`);

  // ---- a phone: 390x844 CSS pixels, touch, device scale 3 ----
  const phoneContext = await launch({
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true,
  });
  const phone = phoneContext.pages()[0] || await phoneContext.newPage();
  const cdp = await phoneContext.newCDPSession(phone);
  await phone.goto(url);
  const fit = await phone.evaluate(() => {
    const pad = document.getElementById('pad').getBoundingClientRect();
    const results = document.getElementById('results').getBoundingClientRect();
    return {
      scrollWidth: document.documentElement.scrollWidth,
      width: window.innerWidth,
      pad: pad.width,
      padRight: pad.right,
      square: Math.abs(pad.width - pad.height) < 2,
      below: results.top >= pad.bottom,
    };
  });
  check(fit.width === 390 && fit.scrollWidth <= fit.width && fit.padRight <= fit.width && fit.pad >= 300 && fit.square,
    `phone: no horizontal scroll, the square canvas fits the width (${fit.pad.toFixed(0)} of ${fit.width} px)`);
  check(fit.below, 'phone: one column, results below the drawing');
  const scrollBefore = await phone.evaluate(() => window.scrollY);
  await touchDigit(phone, cdp, 7);
  await settled(phone);
  const p = await shown(phone);
  check(p.cnn.digit === '7', `phone: drew a 7 with a finger, the CNN shows ${p.cnn.digit}`);
  check((await phone.evaluate(() => window.scrollY)) === scrollBefore, 'phone: drawing does not scroll the page');
  await phone.screenshot({ path: join(options.artifacts, 'phone-digit-7.png'), fullPage: true });
  const phoneInside = await insideShown(phone);
  check(!phoneInside.blank && Object.values(phoneInside.layers).every((l) => l.lit > 0) &&
    phoneInside.saliency.cnn.lit > 0, 'phone: the maps and saliency maps are shown');
  const phoneFit = await phone.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
    widest: Math.max(...[...document.querySelectorAll('#inside canvas')].map((c) => c.getBoundingClientRect().right)),
  }));
  check(phoneFit.scroll <= phoneFit.width && phoneFit.widest <= phoneFit.width,
    `phone: the inside view fits the width (widest canvas ends at ${phoneFit.widest.toFixed(0)} of ${phoneFit.width})`);
  const phoneConv1 = '.inside-model[data-model="cnn"] .layer:nth-child(1) canvas';
  await phone.locator(phoneConv1).scrollIntoViewIfNeeded();
  const tapped = await openTile(phone, phoneConv1, 9, 32, true);
  check(tapped.visible && tapped.inside && /conv1 · map 10 of 32/.test(tapped.title) && tapped.kernels === 1,
    `phone: tapping conv1 map 10 shows it large with its filter, on screen ("${tapped.title}")`);
  await phone.screenshot({ path: join(options.artifacts, 'phone-inside-tap.png') });
} catch (err) {
  check(false, `the browser run: ${err.message}`);
} finally {
  for (const c of contexts) await c.close();
  for (const dir of profiles) rmSync(dir, { recursive: true, force: true });
  child.kill('SIGTERM');
  const code = await new Promise((res) => {
    if (child.exitCode !== null) res(child.exitCode);
    else child.on('exit', (c) => res(c));
  });
  check(code === 0, `dn-canvas exits 0 on SIGTERM (${code})`);
  if (failed) console.log(log().split('\n').slice(-20).join('\n'));
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
