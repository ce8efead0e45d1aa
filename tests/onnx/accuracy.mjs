// accuracy.mjs MODEL.onnx MNIST_DIR - accuracy of an exported model on
// MNIST's 10,000 test images in onnxruntime (run by hand, docs/onnx.md):
// raw pixels /255 in, argmax of the logits against the labels.
import * as ort from 'onnxruntime-node';
import fs from 'node:fs';

const [model, dir] = process.argv.slice(2);
if (!model || !dir) {
  console.error('usage: node accuracy.mjs MODEL.onnx MNIST_DIR');
  process.exit(2);
}
const images = fs.readFileSync(`${dir}/t10k-images-idx3-ubyte`);
const labels = fs.readFileSync(`${dir}/t10k-labels-idx1-ubyte`);
if (images.readUInt32BE(0) !== 0x803 || labels.readUInt32BE(0) !== 0x801) throw new Error('not MNIST IDX files');
const count = images.readUInt32BE(4), pixels = 28 * 28;
const session = await ort.InferenceSession.create(model);
let right = 0;
const start = performance.now();
for (let first = 0; first < count; first += 500) {
  const n = Math.min(500, count - first);
  const x = new Float32Array(n * pixels);
  for (let i = 0; i < n * pixels; i++) x[i] = images[16 + first * pixels + i] / 255;
  const { logits } = await session.run({ input: new ort.Tensor('float32', x, [n, 1, 28, 28]) });
  const classes = logits.dims[1];
  for (let s = 0; s < n; s++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (logits.data[s * classes + k] > logits.data[s * classes + best]) best = k;
    right += best === labels[8 + first + s];
  }
}
const seconds = (performance.now() - start) / 1000;
console.log(`${model}: ${count} images, accuracy ${(100 * right / count).toFixed(2)}% ` +
            `(${right} right, ${seconds.toFixed(2)} s)`);
