// `tessera demo`: a few hundred SGD steps of a small MLP on Fashion-MNIST, written with raw ops,
// printing the loss as it falls. A smoke test of the whole engine on real data; `tessera train`
// (the training issue) is the real job.
import { RandomStream } from '../data/random.js';
import { loadFashionMnist } from '../data/sources/fashion-mnist.js';
import {
  crossEntropyLoss, fromBufferShared, keep, linear, manualSeed, memoryStats, noGrad, randn, relu, scope, tensor, zeros,
  type Tensor,
} from '../index.js';

export interface DemoOptions {
  steps: number;
  batchSize: number;
  lr: number;
  seed: number;
  log: (line: string) => void;
}

/** Pixels of `indices` as a normalised float batch (B, 784). */
function batch(images: Uint8Array, indices: number[]): Tensor {
  const out = new Float32Array(indices.length * 784);
  indices.forEach((idx, b) => {
    const src = images.subarray(idx * 784, (idx + 1) * 784);
    for (let i = 0; i < 784; i++) out[b * 784 + i] = ((src[i] as number) / 255 - 0.2860) / 0.353;
  });
  return fromBufferShared(out, [indices.length, 784]);
}

export function runDemo(o: DemoOptions): { firstLoss: number; lastLoss: number; testAccuracy: number } {
  manualSeed(o.seed);
  const train = loadFashionMnist('train');
  const test = loadFashionMnist('test');
  o.log(`Fashion-MNIST: ${train.count} training and ${test.count} test images`);

  // MLP 784-256-10; weights ~ N(0, 2/fan_in) (He), biases zero.
  const params = scope(() => ({
    w1: randn([256, 784]).mul(Math.sqrt(2 / 784)).requiresGrad_(),
    b1: zeros([256]).requiresGrad_(),
    w2: randn([10, 256]).mul(Math.sqrt(2 / 256)).requiresGrad_(),
    b2: zeros([10]).requiresGrad_(),
  }));
  const velocity = Object.values(params).map((p) => zeros(p.shape));
  const forward = (x: Tensor) => linear(relu(linear(x, params.w1, params.b1)), params.w2, params.b2);

  const draws = new RandomStream({ seed: o.seed, purpose: 'shuffle' });
  const nextIndex = (n: number) => draws.int(0, n);
  const t0 = performance.now();
  let window = 0;
  let firstLoss = NaN;
  let lastLoss = NaN;
  const every = 25;
  for (let step = 1; step <= o.steps; step++) {
    const loss = scope(() => {
      const idx = Array.from({ length: o.batchSize }, () => nextIndex(train.count));
      const x = batch(train.images, idx);
      const y = tensor(BigInt64Array.from(idx, (i) => BigInt(train.labels[i] as number)));
      const l = crossEntropyLoss(forward(x), y);
      for (const p of Object.values(params)) p.grad = null;
      l.backward();
      noGrad(() => {
        Object.values(params).forEach((p, i) => {
          const g = p.grad as Tensor;
          (velocity[i] as Tensor).mul_(0.9).add_(g);
          p.sub_(velocity[i] as Tensor, { alpha: o.lr });
        });
      });
      return l.item() as number;
    });
    window += loss;
    if (step % every === 0) {
      const mean = window / every;
      if (Number.isNaN(firstLoss)) firstLoss = mean;
      lastLoss = mean;
      const rate = (step * o.batchSize) / ((performance.now() - t0) / 1000);
      o.log(`step ${String(step).padStart(4)}  loss ${mean.toFixed(4)}  ${rate.toFixed(0)} img/s  live tensors ${memoryStats().liveTensors}`);
      window = 0;
    }
  }

  const testAccuracy = noGrad(() =>
    scope(() => {
      let correct = 0;
      for (let start = 0; start < test.count; start += 1000) {
        const idx = Array.from({ length: Math.min(1000, test.count - start) }, (_, i) => start + i);
        const pred = forward(batch(test.images, idx)).argmax(1).data() as BigInt64Array;
        idx.forEach((i, k) => (correct += Number(pred[k]) === test.labels[i] ? 1 : 0));
      }
      return correct / test.count;
    }),
  );
  o.log(`test accuracy after ${o.steps} steps: ${(testAccuracy * 100).toFixed(2)}%`);
  for (const t of [...Object.values(params), ...velocity]) keep(t).dispose();
  return { firstLoss, lastLoss, testAccuracy };
}
