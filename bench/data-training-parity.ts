// Numerics of training through the native JPEG path (issue 12 item 2): a model trained on a folder
// of JPEGs through the fast path (the kernel: PIL's resize, DCT-scaled decodes) reaches the same
// test accuracy, within seed-to-seed noise, as the same model trained through the sharp path.
//
// Data: a generated 4-class folder of 160×120 photo-like JPEGs (q75) — a disc, a square, a cross or
// a ring of random size and place on a noisy gradient background, in a colour far from it — 150
// training and 50 test images a class. Recipe: RandomResizedCrop(32, scale 0.6–1) + flip for training,
// Resize(32) + CenterCrop(32) for testing, Normalize(0.5, 0.25); seed-cifar-cnn, Adam 1e-3, batch 32.
// For each seed both paths start from the same weights and see the same sample order and the same
// crop boxes and flips (the same streams), so the only difference is how pixels are decoded and
// resized. Prints each run's test accuracy and, per path, mean ± standard deviation over the seeds.
// No peer and no RESULT line: it is a numerics check, not a timing.
//
//   node dist/bench/data-training-parity.js [--epochs 10] [--seeds 3] [--threads N]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import sharp from 'sharp';

import { DataLoader } from '../src/data/loader/index.js';
import { RandomStream } from '../src/data/random.js';
import { imageFolder } from '../src/data/sources/image-folder.js';
import { normalize } from '../src/data/transforms/batch.js';
import { compose } from '../src/data/transforms/index.js';
import { manualSeed, setNumThreads, type Tensor } from '../src/index.js';
import { Accuracy } from '../src/metrics/index.js';
import { createModel } from '../src/models/registry.js';
import { crossEntropy } from '../src/nn/losses.js';
import { Adam } from '../src/optim/index.js';
import { Learner } from '../src/train/learner.js';
import { defaultThreads, parseFlags } from './lib/harness.js';

const flags = parseFlags({ epochs: 10, seeds: 3, threads: defaultThreads() }, 'node dist/bench/data-training-parity.js: test accuracy after training through the native JPEG path vs the sharp path, several seeds');
setNumThreads(flags.threads);
const [W, H] = [160, 120];
const SHAPES = ['disc', 'square', 'cross', 'ring'];

/** One picture of class `c`: a shape on a noisy gradient, all drawn from `r`. */
function draw(c: number, r: RandomStream): Uint8Array {
  const px = new Uint8Array(W * H * 3);
  const bg = [r.uniform(0, 255), r.uniform(0, 255), r.uniform(0, 255), r.uniform(0, 255), r.uniform(0, 255), r.uniform(0, 255)];
  // The shape's colour is half the colour wheel away from the background's mean: always visible.
  const fg = [0, 1, 2].map((k) => ((((bg[k] as number) + (bg[k + 3] as number)) / 2 + 128 + r.uniform(-40, 40)) % 256 + 256) % 256);
  const size = r.uniform(28, 50);
  const [cx, cy] = [r.uniform(size, W - size), r.uniform(size, H - size)];
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const [dx, dy] = [x - cx, y - cy];
      const d = Math.hypot(dx, dy);
      const inside = c === 0 ? d < size : c === 1 ? Math.abs(dx) < size * 0.85 && Math.abs(dy) < size * 0.85 : c === 2 ? (Math.abs(dx) < size * 0.3 && Math.abs(dy) < size) || (Math.abs(dy) < size * 0.3 && Math.abs(dx) < size) : d < size && d > size * 0.6;
      const t = (x + y) / (W + H);
      for (let k = 0; k < 3; k++) {
        const v = inside ? (fg[k] as number) : (bg[k] as number) * (1 - t) + (bg[k + 3] as number) * t;
        px[(y * W + x) * 3 + k] = Math.max(0, Math.min(255, v + r.uniform(-20, 20)));
      }
    }
  return px;
}

async function writeSplit(root: string, perClass: number, r: RandomStream): Promise<void> {
  for (const [c, name] of SHAPES.entries()) {
    mkdirSync(join(root, name), { recursive: true });
    for (let k = 0; k < perClass; k++) writeFileSync(join(root, name, `${k}.jpg`), await sharp(draw(c, r), { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 75 }).toBuffer());
  }
}

const root = mkdtempSync(join(tmpdir(), 'tessera-parity-'));
try {
  const r = new RandomStream({ seed: 2024, purpose: 'test' });
  await writeSplit(join(root, 'train'), 150, r);
  await writeSplit(join(root, 'test'), 50, r);
  const train = await imageFolder(join(root, 'train'));
  const test = await imageFolder(join(root, 'test'));
  const trainPipeline = compose({ decode: { channels: 'rgb' }, transforms: [{ type: 'randomResizedCrop', size: 32, scale: [0.6, 1] }, { type: 'horizontalFlip' }] });
  const testPipeline = compose({ decode: { channels: 'rgb' }, transforms: [{ type: 'resize', size: 32 }, { type: 'centerCrop', size: 32 }] });
  const steps = [normalize([0.5, 0.5, 0.5], [0.25, 0.25, 0.25])];
  console.log(`${train.length} training and ${test.length} test JPEGs of ${W}×${H}, ${SHAPES.length} classes (${SHAPES.join(', ')}); seed-cifar-cnn, Adam 1e-3, batch 32, ${flags.epochs} epochs, ${flags.threads} threads`);

  const results: Record<'native' | 'sharp', number[]> = { native: [], sharp: [] };
  for (let seed = 0; seed < flags.seeds; seed++) {
    for (const path of ['native', 'sharp'] as const) {
      const nativeJpeg = path === 'native';
      const trainLoader = new DataLoader(train, { batchSize: 32, shuffle: true, seed, workers: 2, pipeline: trainPipeline, batchTransforms: steps, nativeJpeg });
      const testLoader = new DataLoader(test, { batchSize: 100, workers: 2, pipeline: testPipeline, batchTransforms: steps, nativeJpeg });
      if (trainLoader.jpegPlan.native !== nativeJpeg || testLoader.jpegPlan.native !== nativeJpeg) throw new Error(`the ${path} run is not on the ${path} path: ${trainLoader.jpegPlan.describe()}`);
      manualSeed(seed);
      const model = createModel('seed-cifar-cnn', { classes: SHAPES.length });
      const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
      const learner = new Learner({ model, loss: (o: Tensor, y: Tensor) => crossEntropy(o, y), metrics: [new Accuracy(SHAPES.length)] });
      await learner.fit({ train: trainLoader, epochs: flags.epochs, optimizer, seed });
      const acc = (await learner.evaluate(testLoader)).metrics['accuracy'] as number;
      results[path].push(acc);
      console.log(`seed ${seed}, ${path.padEnd(6)} path: test accuracy ${(acc * 100).toFixed(1)}% (${trainLoader.decoded.kernel + testLoader.decoded.kernel} samples through the kernel, ${trainLoader.decoded.pipeline + testLoader.decoded.pipeline} through sharp)`);
      optimizer.dispose();
      model.dispose();
      await trainLoader.close();
      await testLoader.close();
    }
  }
  const summary = (xs: number[]) => {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
    return { mean, sd };
  };
  const [n, s] = [summary(results.native), summary(results.sharp)];
  console.log(`native path: ${(n.mean * 100).toFixed(1)}% ± ${(n.sd * 100).toFixed(1)}; sharp path: ${(s.mean * 100).toFixed(1)}% ± ${(s.sd * 100).toFixed(1)} (mean ± sd over ${flags.seeds} seeds)`);
  console.log(`difference ${((n.mean - s.mean) * 100).toFixed(1)} points; seed-to-seed sd ${(Math.max(n.sd, s.sd) * 100).toFixed(1)} points`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
