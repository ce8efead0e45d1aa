// browser_test.mjs - starts dn-canvas, opens its page in Debian's Chromium
// (headless, through playwright-core; no browser is ever downloaded), draws
// digits with the mouse and checks what the page shows, on a desktop and a
// phone viewport. Screenshots go to tests/artifacts/.
//
// usage: node browser_test.mjs --server PATH/dn-canvas --cnn CNN --mlp MLP
//        [--artifacts DIR] [--chromium /usr/bin/chromium] [--data MNIST_DIR]
// Exits 0 when every check passed, 1 otherwise, 77 when Chromium is missing.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
  data: null,
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
options.data = options.data || resolve(here, '..', '..', 'datasets', 'mnist');
const haveData = existsSync(join(options.data, 't10k-images-idx3-ubyte')) &&
  existsSync(join(options.data, 'train-images-idx3-ubyte'));

let passed = 0;
let failed = 0;
function check(ok, what) {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
}

// ---- the server ----
function startServer(args = ['--cnn', options.cnn, '--mlp', options.mlp]) {
  return new Promise((resolvePort, reject) => {
    // Fewer drawn digits and non-digits than the server's default, for speed.
    const child = spawn(options.server, ['--port', '0', ...args, '--data', options.data, '--train-threads', '1',
      '--train-drawn', '2000', '--train-others', '3000'],
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

async function drawStrokes(page, strokes) {
  const box = await page.locator('#pad').boundingBox();
  for (const stroke of strokes) {
    const [x0, y0] = stroke[0];
    await page.mouse.move(box.x + x0 * box.width, box.y + y0 * box.height);
    await page.mouse.down();
    for (const [x, y] of stroke.slice(1)) {
      await page.mouse.move(box.x + x * box.width, box.y + y * box.height, { steps: 12 });
    }
    await page.mouse.up();
  }
}

// ---- "not a digit": a star and a tap are refused, a digit is not ----
async function testRefusal(page) {
  const star = [[...Array(6).keys()].map((i) => {
    const a = (4 * Math.PI * i) / 5 - Math.PI / 2;
    return [0.5 + 0.32 * Math.cos(a), 0.52 + 0.32 * Math.sin(a)];
  })];
  const tap = [[[0.5, 0.5]]];
  for (const [what, strokes] of [['a star', star], ['a single tap', tap]]) {
    await page.getByRole('button', { name: 'Clear' }).click();
    await drawStrokes(page, strokes);
    await settled(page);
    const s = await shown(page);
    check(s.cnn.digit === '?' && s.mlp.digit === '?' && /Neither network sees a digit/.test(s.summary) &&
          s.cnn.winners.length === 0,
    `${what} is refused by both networks ("${s.summary}"; CNN ${s.cnn.digit}, MLP ${s.mlp.digit})`);
    if (what === 'a star') await page.screenshot({ path: join(options.artifacts, 'desktop-not-a-digit.png') });
  }
  await page.getByRole('button', { name: 'Clear' }).click();
  await drawDigit(page, 7);
  await settled(page);
  const s = await shown(page);
  check(s.cnn.digit === '7', `a drawn 7 is still answered (CNN ${s.cnn.digit}, MLP ${s.mlp.digit})`);
  await page.getByRole('button', { name: 'Clear' }).click();
  await settled(page);
}

// ---- undo, a random MNIST digit, saving, the summary while drawing ----
async function testCanvasTools(page) {
  await page.getByRole('button', { name: 'Clear' }).click();
  await drawDigit(page, 7);
  await settled(page);
  const seven = await page.evaluate(() => document.getElementById('pad').toDataURL());
  // A long stroke across turns the 7 into something else; Undo brings the 7 back.
  const box = await page.locator('#pad').boundingBox();
  await page.mouse.move(box.x + 0.15 * box.width, box.y + 0.55 * box.height);
  await page.mouse.down();
  await page.mouse.move(box.x + 0.85 * box.width, box.y + 0.5 * box.height, { steps: 10 });
  // Mid-stroke, the summary already speaks of the prediction shown.
  await page.waitForFunction(() => !/^Draw a digit/.test(document.getElementById('summary').textContent) &&
    document.getElementById('cnn').querySelector('.digit').textContent !== '–', null, { timeout: 10000 });
  const midStroke = await page.locator('#summary').textContent();
  check(!/Draw a digit to see/.test(midStroke), `the summary speaks of the predictions mid-stroke ("${midStroke}")`);
  await page.mouse.up();
  await settled(page);
  await page.getByRole('button', { name: 'Undo' }).click();
  await settled(page);
  const back = await page.evaluate(() => document.getElementById('pad').toDataURL());
  const s = await shown(page);
  check(back === seven && s.cnn.digit === '7', `Undo removes the last stroke: the canvas is the 7 again, the CNN reads ${s.cnn.digit}`);
  await page.getByRole('button', { name: 'Undo' }).click();
  await settled(page);
  check(await isBlank(page), 'Undo of the only stroke leaves a blank canvas and no prediction');

  if (!haveData) {
    console.log('skip: no MNIST in --data: the random-digit check');
    return;
  }
  // The random digit: the page asks /api/sample; the test pins it to index 0 (a 7).
  await page.route('**/api/sample', (route) => route.continue({ url: `${route.request().url()}?index=0` }));
  await page.getByRole('button', { name: 'Random MNIST digit' }).click();
  await settled(page);
  const sample = await shown(page);
  const note = await page.locator('#sample-note').textContent();
  check(/#0, labelled 7/.test(note) && sample.ink > 0 && sample.cnn.digit === '7',
    `Random MNIST digit draws test digit #0 into the canvas ("${note}"), the CNN reads ${sample.cnn.digit}`);
  await page.screenshot({ path: join(options.artifacts, 'desktop-sample.png') });
  await page.unroute('**/api/sample');

  // "an 8": the first test 8 both models read as 8 says "Both networks read an 8."
  for (let i = 0; i < 300; i++) {
    const r = await page.evaluate(async (k) => (await fetch(`/api/sample?index=${k}`)).json(), i);
    if (r.label !== 8) continue;
    await page.route('**/api/sample', (route) => route.continue({ url: `${route.request().url()}?index=${i}` }));
    await page.getByRole('button', { name: 'Random MNIST digit' }).click();
    await settled(page);
    await page.unroute('**/api/sample');
    const e = await shown(page);
    if (e.cnn.digit !== '8' || e.mlp.digit !== '8') continue;
    check(e.summary === 'Both networks read an 8.', `an 8 is "an 8" ("${e.summary}")`);
    break;
  }

  // Saving: a PNG download of the canvas.
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 10000 }),
    page.getByRole('button', { name: 'Save as PNG' }).click(),
  ]);
  const file = await download.path();
  const bytes = readFileSync(file);
  check(download.suggestedFilename() === 'digit.png' && bytes.subarray(1, 4).toString() === 'PNG' && bytes.length > 500,
    `Save as PNG downloads ${download.suggestedFilename()} (${bytes.length} bytes of PNG)`);
  await page.getByRole('button', { name: 'Clear' }).click();
  await settled(page);
}

// ---- watch it learn: start, live progress, the drawing read by the net in training, cancel, discard ----
async function testTraining(page, url) {
  if (!haveData) {
    console.log('skip: no MNIST in --data: the training checks');
    return;
  }
  const status = () => page.locator('#learn-status').textContent();
  const arch = await page.locator('#cnn-arch').textContent();
  check(/3×3 conv 32 → 3×3 conv 64 → max-pool → 128 → 10/.test(arch) && /\d% right on MNIST's 10,000 test digits/.test(arch),
    `the page says which architecture the CNN is and its measured test accuracy ("${arch}")`);
  await drawDigit(page, 1);
  await settled(page);
  await page.locator('#learn').scrollIntoViewIfNeeded();
  await page.locator('input[name="model"][value="cnn"]').check();
  await page.locator('#learn-epochs').selectOption('2');
  await page.locator('#learn-limit').selectOption('0');
  await page.getByRole('button', { name: 'Start training' }).click();
  await page.waitForFunction(() => /epoch 1 of 2, [1-9]\d*%/.test(document.getElementById('learn-status').textContent),
    null, { timeout: 60000 });
  check(true, `training the CNN starts and streams progress ("${await status()}")`);
  check(await page.getByRole('button', { name: 'Start training' }).isDisabled(), '  Start is disabled while it runs');
  const r = (await fetch(`${url}api/train`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"model":"mlp"}',
  })).status;
  check(r === 409, `  a second start is refused (${r})`);
  await page.waitForFunction(() => {
    const c = document.querySelector('#learn-filters canvas');
    return c && c.width === 33 && /\d/.test(document.getElementById('probe-digit').textContent);
  }, null, { timeout: 30000 });
  const probe = await page.locator('#probe-note').textContent();
  check(/sure, after/.test(probe), `  conv1's 32 filters are drawn, and the drawing is read by the CNN in training ("${probe}")`);
  const before = (await status()).match(/(\d+)%/)[1];
  await page.waitForFunction((b) => {
    const m = document.getElementById('learn-status').textContent.match(/epoch \d of 2, (\d+)%/);
    return m && m[1] !== b;
  }, before, { timeout: 30000 });
  check(true, `  the progress moves on (${before}% -> ${(await status()).match(/(\d+)%/)[1]}%)`);
  // Predictions keep answering while it trains.
  const t0 = Date.now();
  await drawDigit(page, 7);
  await settled(page);
  check((await shown(page)).cnn.digit !== '–', `  predictions answer during training (a stroke and its answer in ${Date.now() - t0} ms)`);
  await page.locator('#learn').screenshot({ path: join(options.artifacts, 'desktop-training.png') });
  await page.screenshot({ path: join(options.artifacts, 'desktop-training-page.png'), fullPage: true });
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.waitForFunction(() => /^Cancelled/.test(document.getElementById('learn-status').textContent), null,
    { timeout: 30000 });
  check(true, `Cancel stops it ("${await status()}")`);
  check(await page.getByRole('button', { name: 'Start training' }).isEnabled(), '  and Start is enabled again');

  // A short MLP run to the end, then Discard (keeping is covered by the API test).
  await page.locator('input[name="model"][value="mlp"]').check();
  await page.locator('#learn-epochs').selectOption('1');
  await page.locator('#learn-limit').selectOption('6000');
  await page.getByRole('button', { name: 'Start training' }).click();
  await page.waitForFunction(() => /^Done in/.test(document.getElementById('learn-status').textContent), null,
    { timeout: 120000 });
  check(/test digits right/.test(await status()), `an MLP epoch on 6,000 images finishes ("${await status()}")`);
  check(await page.getByRole('button', { name: 'Use this MLP' }).isVisible(), '  and offers to use it');
  await page.locator('#learn').screenshot({ path: join(options.artifacts, 'desktop-trained.png') });
  await page.getByRole('button', { name: 'Discard' }).click();
  await page.waitForFunction(() => /^Discarded/.test(document.getElementById('learn-status').textContent), null,
    { timeout: 10000 });
  check(true, 'Discard drops it');
  await page.getByRole('button', { name: 'Clear' }).click();
  await page.evaluate(() => window.scrollTo(0, 0));
}

// ---- the first run: no models; the server trains them and the page switches to each ----
async function testFirstRun() {
  if (!haveData) {
    console.log('skip: no MNIST in --data: the first-run checks');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'dn-canvas-first-run-'));
  const server = await startServer(['--cnn', join(dir, 'cnn.safetensors'), '--mlp', join(dir, 'mlp.safetensors'),
    '--train-missing', '1']);
  try {
    const context = await launch({ viewport: { width: 1280, height: 860 } });
    const page = context.pages()[0] || await context.newPage();
    await page.goto(`http://127.0.0.1:${server.port}/`);
    await page.waitForFunction(() => !document.getElementById('train-notice').hidden, null, { timeout: 10000 });
    const notice = await page.locator('#train-notice').textContent();
    check(/First run: .*(MLP|CNN) is (training|waiting|about to train)/.test(notice), `first run: the page says the models are being trained ("${notice.slice(0, 90)}…")`);
    await drawDigit(page, 7);
    await settled(page);
    const before = await shown(page);
    // No reload, no new stroke: the page switches to each model when it is ready.
    await page.waitForFunction(() => /^\d$/.test(document.querySelector('#mlp .digit').textContent), null,
      { timeout: 180000 });
    const mid = await shown(page);
    const waiting = await page.evaluate(() => document.getElementById('cnn').classList.contains('waiting'));
    check(mid.mlp.digit === '7' && mid.cnn.digit === '–' && waiting && /the CNN is still training/.test(mid.summary),
      `first run: the MLP answers "${mid.mlp.digit}" once trained (it showed "${before.mlp.digit}" at first), ` +
      `the CNN is still training ("${mid.summary}")`);
    await page.waitForFunction(() => /First run: the server trains the missing CNN: epoch 1 of 1, [1-9]/.test(
      document.getElementById('learn-status').textContent), null, { timeout: 60000 });
    await page.screenshot({ path: join(options.artifacts, 'desktop-first-run.png'), fullPage: true });
    const t0 = Date.now();
    await page.waitForFunction(() => /^\d$/.test(document.querySelector('#cnn .digit').textContent), null,
      { timeout: 400000 });
    const end = await shown(page);
    check(end.cnn.digit === '7' && /^Both networks read a 7/.test(end.summary) &&
      await page.locator('#train-notice').isHidden(),
      `first run: the CNN answers "${end.cnn.digit}" once trained (${((Date.now() - t0) / 1000).toFixed(0)} s later), the notice is gone`);
    check(existsSync(join(dir, 'mlp.safetensors')), '  the trained MLP is saved for the next run');
    await context.close();
    contexts.splice(contexts.indexOf(context), 1);
  } finally {
    const t0 = Date.now();
    server.child.kill('SIGTERM');
    const code = await new Promise((res) => {
      if (server.child.exitCode !== null) res(server.child.exitCode);
      else server.child.on('exit', (c) => res(c));
    });
    check(code === 0, `  SIGTERM: dn-canvas exits 0 in ${Date.now() - t0} ms`);
    rmSync(dir, { recursive: true, force: true });
  }
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

// ---- inside, part 2: every weight of a conv2 map or MLP unit (GET /api/weights)
// and the saliency switch (gradient / integrated gradients). Kept apart to ease merging. ----

// Opens tile k of a grid of `cols` columns (hover or tap) and waits for the
// card's weights from /api/weights; what the card then shows.
async function openTileWeights(page, selector, k, count, cols, tap) {
  const box = await page.locator(selector).boundingBox();
  const rows = Math.ceil(count / cols);
  const x = box.x + ((k % cols) + 0.5) * (box.width / cols);
  const y = box.y + (Math.floor(k / cols) + 0.5) * (box.height / rows);
  if (tap) await page.touchscreen.tap(x, y);
  else await page.mouse.move(x, y);
  await page.waitForFunction(() => document.querySelector('#inside-card .card-all canvas'), null, { timeout: 10000 });
  return page.evaluate(() => {
    const card = document.getElementById('inside-card');
    const r = card.getBoundingClientRect();
    const c = card.querySelector('.card-all canvas');
    return {
      title: card.querySelector('.card-title').textContent,
      kind: c.className,
      w: c.width,
      h: c.height,
      caption: card.querySelector('.card-all p').textContent,
      inside: r.left >= 0 && r.top >= 0 && r.right <= window.innerWidth + 1 && r.bottom <= window.innerHeight + 1,
    };
  });
}

// Whether the card's grid of 32 kernels shows the weights the server gives
// for that map: each weight's square red when positive, blue when negative
// (weights under a fifth of the largest are too pale to tell).
async function kernelGridMatches(page, map) {
  return page.evaluate(async (map) => {
    const c = document.querySelector('#inside-card canvas.all-kernels');
    const j = await (await fetch(`/api/weights?model=cnn&layer=conv2&map=${map}`)).json();
    const raw = atob(j.data);
    const w = Array.from(raw, (ch) => ((ch.charCodeAt(0) - 128) / 127) * j.scale);
    const largest = Math.max(...w.map(Math.abs));
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let told = 0;
    let wrong = 0;
    for (let i = 0; i < j.shape[0]; i++) {
      for (let e = 0; e < 9; e++) {
        const cell = Number(c.dataset.cell);
        const gap = Number(c.dataset.gap);
        const x = gap + (i % 8) * (3 * cell + gap) + (e % 3) * cell + (cell >> 1);
        const y = gap + Math.floor(i / 8) * (3 * cell + gap) + Math.floor(e / 3) * cell + (cell >> 1);
        const at = (y * c.width + x) * 4;
        const v = w[i * 9 + e];
        if (Math.abs(v) < 0.2 * largest) continue;
        told++;
        if ((v > 0) !== (px[at] > px[at + 2])) wrong++;
      }
    }
    return { told, wrong, inputs: j.shape[0] };
  }, map);
}

async function testInsideWeights(page, conv2) {
  const asked = [];
  const onRequest = (req) => { if (req.url().includes('/api/weights')) asked.push(req.url()); };
  page.on('request', onRequest);
  await page.mouse.move(5, 5);
  const opened = await openTileWeights(page, conv2, 20, 64, 8, false);
  const grid = await kernelGridMatches(page, 20);
  check(/conv2 · map 21 of 64/.test(opened.title) && opened.kind === 'all-kernels' && opened.inside &&
    /all 32 filters/.test(opened.caption) && asked.some((u) => /model=cnn&layer=conv2&map=20$/.test(u)) &&
    grid.inputs === 32 && grid.told > 40 && grid.wrong === 0,
    `inside: hovering conv2 map 21 fetches and shows all its 32 kernels (${grid.told} weights checked by colour, ` +
    `${grid.wrong} wrong; "${opened.caption.slice(0, 40)}...")`);
  await page.screenshot({ path: join(options.artifacts, 'desktop-inside-conv2-all.png') });
  const before = asked.length;
  await page.mouse.move(5, 5);
  await page.waitForTimeout(100);
  await openTileWeights(page, conv2, 20, 64, 8, false);
  check(asked.length === before, `inside: opening the same map again uses the page's cache (${asked.length - before} new requests)`);
  await page.mouse.move(5, 5);
  const mlp = '.inside-model[data-model="mlp"] .layer:nth-child(1) canvas';
  await page.locator(mlp).scrollIntoViewIfNeeded();
  const unit = await openTileWeights(page, mlp, 37, 128, 16, false);
  check(/MLP fc1 · unit 38 of 128/.test(unit.title) && unit.kind === 'weight-image' && unit.w === 28 && unit.h === 28,
    `inside: hovering MLP unit 38 shows its 784 weights as a 28x28 picture ("${unit.title}")`);
  await page.screenshot({ path: join(options.artifacts, 'desktop-inside-mlp-unit.png') });
  await page.mouse.move(5, 5);
  page.off('request', onRequest);
}

async function testSaliencySwitch(page) {
  await page.locator('#inside-saliency').scrollIntoViewIfNeeded();
  const before = await insideShown(page);
  let igRequests = 0;
  const onRequest = (req) => { if (/\/api\/predict\?.*saliency=ig/.test(req.url())) igRequests++; };
  page.on('request', onRequest);
  await page.getByLabel('Integrated gradients', { exact: true }).check();
  await page.waitForFunction(() => document.getElementById('inside').dataset.shownSaliency === 'ig', null, { timeout: 10000 });
  await settled(page);
  const after = await insideShown(page);
  const how = await page.locator('#inside-saliency-how').textContent();
  // integrated gradients from a blank canvas light only ink: no lit pixel where the input is empty
  const offInk = await page.evaluate(() => {
    const seen = document.getElementById('seen').getContext('2d').getImageData(0, 0, 28, 28).data;
    let n = 0;
    for (const fig of document.querySelectorAll('#inside-saliency figure')) {
      const d = fig.querySelector('canvas').getContext('2d').getImageData(0, 0, 28, 28).data;
      for (let i = 0; i < d.length; i += 4) if (seen[i] === 0 && d[i] + d[i + 1] + d[i + 2] > 150) n++;
    }
    return n;
  });
  check(igRequests >= 1 && after.saliency.cnn.hash !== before.saliency.cnn.hash &&
    after.saliency.mlp.hash !== before.saliency.mlp.hash && /^Integrated gradients.*add up.*CNN .* of .*MLP/.test(how) &&
    offInk === 0,
    `inside: the saliency switch asks for integrated gradients (${igRequests} request) and both maps change, ` +
    `lit only on ink (${offInk} pixels off it): "${how.slice(0, 70)}..."`);
  await page.locator('#inside-saliency').screenshot({ path: join(options.artifacts, 'inside-saliency-ig.png') });
  await page.getByLabel('Gradient', { exact: true }).check();
  await page.waitForFunction(() => document.getElementById('inside').dataset.shownSaliency === 'grad', null, { timeout: 10000 });
  await settled(page);
  const back = await insideShown(page);
  check(back.saliency.cnn.hash === before.saliency.cnn.hash && back.saliency.mlp.hash === before.saliency.mlp.hash &&
    /^Gradient/.test(await page.locator('#inside-saliency-how').textContent()),
    'inside: switching back to the gradient shows the same maps as before');
  page.off('request', onRequest);
  // the Gradient radio keeps the focus: the caller's Escape must clear the drawing all the same
}

// Escape and Delete clear the drawing whatever control has the focus (the
// brush slider, the integrated-gradients radio, a button), but not in a
// text field, where they edit the text. Called with a drawing on the canvas
// and the brush slider focused; leaves the canvas blank.
async function clearKeysInControls(page) {
  const cases = [
    ['Escape', '#brush', 'the brush slider'],
    ['Delete', 'input[name="dn-saliency"][value="ig"]', 'the Integrated gradients radio'],
    ['Escape', 'input[name="model"][value="cnn"]', 'a radio of the training form'],
    ['Delete', '#save', 'the Save button'],
  ];
  for (const [i, [key, selector, name]] of cases.entries()) {
    if (i > 0) {
      await page.evaluate(() => window.scrollTo(0, 0)); // focusing scrolls to the control
      await drawDigit(page, 1);
      await settled(page);
    }
    await page.locator(selector).focus();
    const focused = await page.evaluate((sel) => document.activeElement === document.querySelector(sel), selector);
    await page.keyboard.press(key);
    await settled(page);
    check(focused && await isBlank(page), `${key} clears the drawing while ${name} has the focus`);
  }
  await page.evaluate(() => window.scrollTo(0, 0));
  await drawDigit(page, 1);
  await settled(page);
  await page.evaluate(() => {
    const field = document.createElement('input');
    field.type = 'text';
    field.id = 'dn-test-field';
    document.body.appendChild(field);
  });
  await page.locator('#dn-test-field').focus();
  await page.keyboard.press('Escape');
  await page.keyboard.press('Delete');
  await settled(page);
  check(!await isBlank(page), 'Escape and Delete typed in a text field leave the drawing alone');
  await page.evaluate(() => { document.getElementById('dn-test-field').remove(); window.scrollTo(0, 0); });
  await page.keyboard.press('Escape');
  await settled(page);
}

async function testInsidePhone(phone) {
  const conv2 = '.inside-model[data-model="cnn"] .layer:nth-child(2) canvas';
  await phone.locator(conv2).scrollIntoViewIfNeeded();
  const opened = await openTileWeights(phone, conv2, 9, 64, 8, true);
  check(/conv2 · map 10 of 64/.test(opened.title) && opened.kind === 'all-kernels' && opened.inside,
    `phone: tapping conv2 map 10 shows all its kernels in the docked card, on screen ("${opened.title}")`);
  await phone.screenshot({ path: join(options.artifacts, 'phone-inside-conv2.png') });
  await phone.locator('#inside-card .card-close').tap();
  await phone.locator('#inside-saliency').scrollIntoViewIfNeeded();
  await phone.getByLabel('Integrated gradients', { exact: true }).tap();
  await phone.waitForFunction(() => document.getElementById('inside').dataset.shownSaliency === 'ig', null, { timeout: 10000 });
  const fits = await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  check(fits, 'phone: integrated gradients shown, nothing wider than the screen');
  await phone.screenshot({ path: join(options.artifacts, 'phone-inside-ig.png') });
}
// ---- end of inside, part 2 ----

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
  await testInsideWeights(page, conv2); // inside, part 2
  await testSaliencySwitch(page); // inside, part 2
  await page.mouse.move(5, 5);
  await page.waitForTimeout(100);
  check(await page.evaluate(() => document.getElementById('inside-card').hidden), 'inside: the large view goes when the mouse leaves');
  await page.locator('#inside').screenshot({ path: join(options.artifacts, 'desktop-inside.png') });
  await page.screenshot({ path: join(options.artifacts, 'desktop-full.png'), fullPage: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  const focused = await page.evaluate(() => `${document.activeElement.name}=${document.activeElement.value}`);
  await page.keyboard.press('Escape');
  await settled(page);
  check(focused === 'dn-saliency=grad' && await isBlank(page),
    `Escape clears the drawing while the saliency switch has the focus (${focused})`);
  check((await insideShown(page)).blank, 'inside: clearing the drawing greys the maps out');

  await page.locator('#brush').fill('30');
  check((await page.locator('#brush-value').textContent()) === '30', 'the brush size slider updates its label');
  await drawDigit(page, 1);
  await settled(page);
  check((await shown(page)).cnn.digit === '1', 'a thick 1 is still a 1');
  await clearKeysInControls(page);

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
    await page.keyboard.press('Escape'); // a blank page first: the answer shown must be the image's
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
    await settled(page);
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

  // A wide image of two digits dropped on the canvas: the number's boxes are
  // in the image's pixels and must be drawn where the image appears, scaled
  // into the canvas and centred, not at the image's own coordinates.
  await page.keyboard.press('Escape');
  await settled(page);
  await page.evaluate(async () => {
    const c = document.createElement('canvas');
    c.width = 560;
    c.height = 200;
    const g = c.getContext('2d');
    g.fillStyle = '#fff';
    g.fillRect(0, 0, c.width, c.height);
    g.lineWidth = 18;
    g.lineCap = 'round';
    g.lineJoin = 'round';
    g.beginPath();
    g.moveTo(150, 40); // a 1
    g.lineTo(150, 165);
    g.moveTo(360, 45); // a 7
    g.lineTo(450, 45);
    g.lineTo(395, 165);
    g.stroke();
    const blob = await new Promise((resolve) => c.toBlob(resolve, 'image/png'));
    const dt = new DataTransfer();
    dt.items.add(new File([blob], 'seventeen.png', { type: 'image/png' }));
    document.getElementById('pad').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await page.waitForFunction(() => !document.getElementById('number').hidden, null, { timeout: 10000 });
  await settled(page);
  const placed = await page.evaluate(() => {
    const pad = document.getElementById('pad');
    const overlay = document.querySelector('.number-overlay');
    const W = pad.width;
    const H = pad.height;
    const ink = pad.getContext('2d').getImageData(0, 0, W, H).data;
    const marks = overlay.getContext('2d').getImageData(0, 0, W, H).data;
    // Each digit's box in the canvas, from the dark pixels of the image drawn
    // there: left of the middle the 1, right of it the 7.
    const boxes = [[W, H, -1, -1], [W, H, -1, -1]];
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        if (ink[(y * W + x) * 4] >= 128) continue;
        const b = boxes[x < W / 2 ? 0 : 1];
        b[0] = Math.min(b[0], x);
        b[1] = Math.min(b[1], y);
        b[2] = Math.max(b[2], x);
        b[3] = Math.max(b[3], y);
      }
    }
    // The overlay's box lines (blue) in the rows of the digits: each digit's
    // left edge needs a line just left of it, and none may lie away from the
    // digits.
    const blue = (x, y) => {
      const i = (y * W + x) * 4;
      return marks[i + 3] > 100 && marks[i + 2] > marks[i] + 60;
    };
    const top = Math.min(boxes[0][1], boxes[1][1]);
    const bottom = Math.max(boxes[0][3], boxes[1][3]);
    const edges = boxes.map((b) => {
      let n = 0;
      for (let y = b[1]; y <= b[3]; y++) for (let x = b[0] - 6; x <= b[0]; x++) n += blue(x, y);
      return n;
    });
    let astray = 0;
    for (let y = top; y <= bottom; y++) {
      for (let x = 0; x < W; x++) {
        const near = boxes.some((b) => x >= b[0] - 6 && x <= b[2] + 6);
        if (!near && blue(x, y)) astray++;
      }
    }
    return { boxes, edges, astray, text: document.getElementById('number').textContent };
  });
  const h0 = placed.boxes[0][3] - placed.boxes[0][1];
  check(placed.text.includes('17') && placed.edges.every((n) => n >= 0.8 * h0) && placed.astray === 0,
    `a dropped 560x200 image of 17: "${placed.text}", boxes drawn at the digits in the canvas ` +
    `(left-edge pixels ${placed.edges.join(', ')} over digits ${h0}+ rows tall; ${placed.astray} stray)`);
  await page.screenshot({ path: join(options.artifacts, 'desktop-drop-number.png') });
  await page.keyboard.press('Escape');

  await page.emulateMedia({ reducedMotion: 'reduce' });
  const animation = await page.evaluate(() => getComputedStyle(document.querySelector('.parade span')).animationName);
  check(animation === 'none', 'prefers-reduced-motion stops the footer animation');
  await page.emulateMedia({ reducedMotion: 'no-preference' });
  await testRefusal(page);
  await testCanvasTools(page);
  await testTraining(page, url);
  check(problems.length === 0, `no console errors${problems.length ? ': ' + problems.join('; ') : ''}`);

  await testFirstRun();

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
  check(await phone.locator('#undo').isDisabled(), 'phone: Undo is disabled on a fresh page, with nothing to undo');
  check(await phone.evaluate(() => getComputedStyle(document.getElementById('keys')).display === 'none'),
    'phone: no Esc/Delete hint on a touch screen');
  // While drawing (mid-stroke, no scrolling), the pad and both answers with their bars are in sight.
  const box7 = await phone.locator('#pad').boundingBox();
  const at7 = ([x, y]) => ({ x: box7.x + x * box7.width, y: box7.y + y * box7.height });
  const stroke7 = DIGITS[7][0];
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [at7(stroke7[0])] });
  for (const pt of stroke7.slice(1)) {
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [at7(pt)] });
  }
  await phone.waitForFunction(() => document.querySelector('#cnn .digit').textContent !== '–', null, { timeout: 10000 });
  const sight = await phone.evaluate(() => {
    const r = (sel) => document.querySelector(sel).getBoundingClientRect();
    return {
      scrollY: window.scrollY, height: window.innerHeight, pad: r('#pad'),
      cnn: r('#cnn .verdict'), mlp: r('#mlp .verdict'), cnnBars: r('#cnn .bars'), mlpBars: r('#mlp .bars'),
      digit: document.querySelector('#cnn .digit').textContent,
    };
  });
  await phone.waitForTimeout(300); // the bars' 0.15 s transition, for the picture
  await phone.screenshot({ path: join(options.artifacts, 'phone-mid-stroke.png') });
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  const inSight = (b) => b.top >= 0 && b.bottom <= sight.height;
  check(sight.scrollY === 0 && inSight(sight.pad) && inSight(sight.cnn) && inSight(sight.mlp) &&
    inSight(sight.cnnBars) && inSight(sight.mlpBars),
    `phone: while drawing, the pad, both answers and their bars are on screen (bars end at ` +
    `${Math.max(sight.cnnBars.bottom, sight.mlpBars.bottom).toFixed(0)} of ${sight.height} px, CNN shows ${sight.digit})`);
  await settled(phone);
  await phone.getByRole('button', { name: 'Clear' }).click();
  await settled(phone);
  const scrollBefore = await phone.evaluate(() => window.scrollY);
  await touchDigit(phone, cdp, 7);
  await settled(phone);
  const p = await shown(phone);
  check(p.cnn.digit === '7', `phone: drew a 7 with a finger, the CNN shows ${p.cnn.digit}`);
  check((await phone.evaluate(() => window.scrollY)) === scrollBefore, 'phone: drawing does not scroll the page');
  await phone.screenshot({ path: join(options.artifacts, 'phone-digit-7.png') });
  await phone.screenshot({ path: join(options.artifacts, 'phone-full-page.png'), fullPage: true });
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
  await testInsidePhone(phone); // inside, part 2
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
