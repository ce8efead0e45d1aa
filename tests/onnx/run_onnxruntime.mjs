// run_onnxruntime.mjs DIR - runs each exported model of DIR/manifest.json
// (make_exports.c) in onnxruntime (CPU) and compares it with digitnet:
// logits within 1e-4 of digitnet's on every input, the probabilities
// output a softmax of them, the same answers for a batch of 1 as for the
// whole batch (the batch dimension is free), and the same logits with
// onnxruntime's graph optimisations off. Ends with "N passed, N failed".
import * as ort from 'onnxruntime-node';
import fs from 'node:fs';

const TOLERANCE = 1e-4;
const dir = process.argv[2];
const manifest = JSON.parse(fs.readFileSync(`${dir}/manifest.json`, 'utf8'));
let passed = 0, failed = 0;

function check(ok, what) {
  if (ok) passed++;
  else {
    failed++;
    console.error(`FAIL: ${what}`);
  }
}

function readFloats(path) {
  const bytes = fs.readFileSync(path);
  return new Float32Array(new Uint8Array(bytes).buffer);
}

function maxAbsDiff(a, b) {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return a.length === b.length ? worst : Infinity;
}

function argmax(x, from, count) {
  let best = 0;
  for (let k = 1; k < count; k++) if (x[from + k] > x[from + best]) best = k;
  return best;
}

function softmax(logits, classes) {
  const out = new Float64Array(logits.length);
  for (let s = 0; s < logits.length; s += classes) {
    let max = -Infinity, sum = 0;
    for (let k = 0; k < classes; k++) max = Math.max(max, logits[s + k]);
    for (let k = 0; k < classes; k++) sum += (out[s + k] = Math.exp(logits[s + k] - max));
    for (let k = 0; k < classes; k++) out[s + k] /= sum;
  }
  return out;
}

async function runCase(c) {
  const [n, ch, h, w] = c.input_shape;
  const sample = ch * h * w;
  const input = readFloats(`${dir}/${c.name}.input.f32`);
  const expected = readFloats(`${dir}/${c.name}.logits.f32`);
  const session = await ort.InferenceSession.create(`${dir}/${c.name}.onnx`);
  check(JSON.stringify(session.inputNames) === '["input"]', `${c.name}: inputs ${session.inputNames}`);
  check(JSON.stringify(session.outputNames) === '["logits","probabilities"]',
        `${c.name}: outputs ${session.outputNames}`);

  const out = await session.run({ input: new ort.Tensor('float32', input, [n, ch, h, w]) });
  const logits = out.logits.data, probs = out.probabilities.data;
  check(JSON.stringify(out.logits.dims) === JSON.stringify([n, c.classes]), `${c.name}: logits dims ${out.logits.dims}`);
  const diff = maxAbsDiff(logits, expected);
  let largest = 0;
  for (const v of expected) largest = Math.max(largest, Math.abs(v));
  check(diff <= TOLERANCE, `${c.name}: logits differ from digitnet's by ${diff} (> ${TOLERANCE})`);
  check(maxAbsDiff(probs, softmax(expected, c.classes)) <= 1e-5, `${c.name}: probabilities are not softmax(logits)`);
  let agree = 0;
  for (let s = 0; s < n; s++) agree += argmax(logits, s * c.classes, c.classes) === argmax(expected, s * c.classes, c.classes);
  check(agree === n, `${c.name}: ${n - agree} of ${n} answers differ`);

  // one sample at a time, the free batch dimension at 1
  let single = 0;
  for (const s of [0, 1, n - 1]) {
    const x = input.slice(s * sample, (s + 1) * sample);
    const one = await session.run({ input: new ort.Tensor('float32', x, [1, ch, h, w]) });
    single = Math.max(single, maxAbsDiff(one.logits.data, expected.slice(s * c.classes, (s + 1) * c.classes)));
  }
  check(single <= TOLERANCE, `${c.name}: batch of 1 differs by ${single}`);

  // the graph as written, without onnxruntime's rewrites (batchnorm folded
  // into the conv, fused activations): its own meaning must match too
  const plain = await ort.InferenceSession.create(`${dir}/${c.name}.onnx`, { graphOptimizationLevel: 'disabled' });
  const literal = await plain.run({ input: new ort.Tensor('float32', input, [n, ch, h, w]) });
  const literalDiff = maxAbsDiff(literal.logits.data, expected);
  check(literalDiff <= TOLERANCE, `${c.name}: without graph optimisations, logits differ by ${literalDiff}`);
  console.log(`${c.name.padEnd(14)} ${n} inputs: max |onnxruntime - digitnet| = ${diff.toExponential(2)}` +
              ` (largest logit ${largest.toFixed(2)}), batch of 1: ${single.toExponential(2)},` +
              ` unoptimised graph: ${literalDiff.toExponential(2)}`);
}

if (manifest.cases.length === 0) check(false, 'the manifest lists no model');
for (const c of manifest.cases) {
  try {
    await runCase(c);
  } catch (e) {
    check(false, `${c.name}: ${e.message}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
