// Batch transforms on tensors: collate, MixUp, CutMix, random erasing, TTA.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { memoryStats, tensor, type Tensor } from '../../../src/tensor/index.js';
import { collate, CollateError } from '../../../src/data/loader/collate.js';
import { batch, tta, ttaViews } from '../../../src/data/transforms/index.js';
import { pattern } from '../fixtures/images.js';

const { F } = batch;

test('collate builds N×C×H×W uint8 and names the first mismatched sample', () => {
  const imgs = [pattern(5, 4, 3, 0), pattern(5, 4, 3, 1), pattern(5, 4, 3, 2)];
  const x = collate(imgs);
  assert.deepEqual(x.shape, [3, 3, 4, 5]);
  assert.equal(x.dtype, 'uint8');
  // Image 1, channel-major: channel c of pixel p is HWC byte p·3 + c.
  const chw = Array.from({ length: 60 }, (_, j) => imgs[1]!.data[(j % 20) * 3 + Math.floor(j / 20)]);
  assert.deepEqual(Array.from(x.data() as Uint8Array).slice(60, 120), chw);
  x.dispose();
  assert.throws(() => collate([imgs[0]!, imgs[1]!, pattern(6, 4), pattern(7, 4)], ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg']), (e: unknown) =>
    e instanceof CollateError && e.id === 'c.jpg' && /c\.jpg is 6×4×3 but a\.jpg is 5×4×3 \(images 2 and 0\)/.test(e.message));
});

function sample(): { x: Tensor; y: Tensor } {
  const x = F.toFloat(collate([pattern(8, 6, 3, 0), pattern(8, 6, 3, 1), pattern(8, 6, 3, 2), pattern(8, 6, 3, 3)]));
  return { x, y: tensor([0, 2, 1, 2]) };
}

const ctx = (b: number) => ({ seed: 4, epoch: 1, batch: b, indices: [0, 1, 2, 3], position: 0 });

test('MixUp: λx + (1−λ)·roll(x), soft targets summing to 1, λ fixed by (seed, epoch, batch)', () => {
  const { x, y } = sample();
  const mix = batch.mixup({ numClasses: 3, alpha: 0.4 });
  const m = mix({ x, y }, ctx(7));
  const again = mix({ x, y }, ctx(7));
  const other = mix({ x, y }, ctx(8));
  assert.deepEqual(m.y.shape, [4, 3]);
  const yd = m.y.data() as Float32Array;
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(yd[i * 3]! + yd[i * 3 + 1]! + yd[i * 3 + 2]! - 1) < 1e-6);
  // Row 0 mixes sample 0 (class 0) with sample 3 (class 2, rolled in).
  const lambda = yd[0]!;
  assert.ok(Math.abs(yd[2]! - (1 - lambda)) < 1e-6 && lambda > 0 && lambda < 1);
  assert.deepEqual(again.y.data(), m.y.data(), 'the same batch of the same epoch mixes the same way');
  assert.notEqual((other.y.data() as Float32Array)[0], lambda, 'another batch draws another λ');
  const xd = x.data() as Float32Array;
  const md = m.x.data() as Float32Array;
  const per = 3 * 6 * 8;
  assert.ok(Math.abs(md[5]! - (lambda * xd[5]! + (1 - lambda) * xd[3 * per + 5]!)) < 1e-6);
  // A uint8 batch is mixed in [0, 1] (mixed pixels are not integers).
  const u8 = F.mixup(collate([pattern(2, 2, 3, 0), pattern(2, 2, 3, 1)]), tensor([0, 1]), 0.25, 2);
  assert.equal(u8.x.dtype, 'float32');
  assert.ok(Math.abs((u8.x.data() as Float32Array)[0]! - (0.25 * pattern(2, 2, 3, 0).data[0]! + 0.75 * pattern(2, 2, 3, 1).data[0]!) / 255) < 1e-6);
  for (const t of [x, y, m.x, m.y, again.x, again.y, other.x, other.y, u8.x, u8.y]) t.dispose();
  assert.throws(() => batch.mixup(10 as never), /mixup takes an options object: write mixup\(\{ numClasses: 10 \}\)/);
});

test('CutMix: the box holds the rolled batch, λ is the kept area', () => {
  const { x, y } = sample();
  const box = { top: 1, left: 2, height: 3, width: 5 };
  const c = F.cutmix(x, y, box, 3);
  assert.ok(Math.abs(c.lambda - (1 - 15 / 48)) < 1e-12);
  const xd = x.data() as Float32Array;
  const cd = c.x.data() as Float32Array;
  const at = (n: number, ch: number, i: number, j: number): number => ((n * 3 + ch) * 6 + i) * 8 + j;
  for (let i = 0; i < 6; i++)
    for (let j = 0; j < 8; j++) {
      const inside = i >= 1 && i < 4 && j >= 2 && j < 7;
      assert.equal(cd[at(1, 2, i, j)], xd[at(inside ? 0 : 1, 2, i, j)]);
    }
  const yd = c.y.data() as Float32Array;
  assert.ok(Math.abs(yd[1 * 3 + 2]! - c.lambda) < 1e-6, 'sample 1 keeps class 2 with weight λ');
  // The transform: sample i is constant i, so the pasted share of sample 1 is what sample 0 put there.
  const flat = tensor(Uint8Array.from({ length: 4 * 3 * 6 * 8 }, (_, j) => Math.floor(j / 144)), { shape: [4, 3, 6, 8] });
  const t = batch.cutmix({ numClasses: 3 })({ x: flat, y }, ctx(2));
  const s1 = Array.from((t.x.data() as Uint8Array).subarray(144, 288));
  const pasted = s1.filter((v) => v === 0).length / 144;
  assert.ok(s1.every((v) => v === 0 || v === 1));
  assert.ok(Math.abs((t.y.data() as Float32Array)[1 * 3 + 2]! - (1 - pasted)) < 1e-6, `λ = kept share ${1 - pasted}`);
  assert.equal(t.x.dtype, 'uint8');
  for (const v of [x, y, c.x, c.y, flat, t.x, t.y]) v.dispose();
});

test('random erasing: per-sample boxes keyed by sample index; values fit the dtype', () => {
  const x = tensor(new Uint8Array(3 * 3 * 20 * 20).fill(7), { shape: [3, 3, 20, 20] });
  const y = tensor([0, 1, 2]);
  const erase = batch.randomErasing({ p: 1, value: [1, 2, 3] });
  const out = erase({ x, y }, { seed: 1, epoch: 0, batch: 0, indices: [10, 11, 12], position: 2 });
  const d = out.x.data() as Uint8Array;
  for (let i = 0; i < 3; i++)
    for (let c = 0; c < 3; c++) {
      const plane = Array.from(d.subarray((i * 3 + c) * 400, (i * 3 + c + 1) * 400));
      const erased = plane.filter((v) => v === c + 1).length;
      assert.ok(erased >= 0.02 * 400 * 0.7 && erased <= 0.33 * 400 * 1.3, `sample ${i} channel ${c}: ${erased} erased pixels`);
      assert.equal(erased + plane.filter((v) => v === 7).length, 400);
    }
  // Sample 11 moved to another batch position: the same box.
  const moved = erase({ x: x.narrow(0, 0, 2), y: y.narrow(0, 0, 2) }, { seed: 1, epoch: 0, batch: 5, indices: [11, 99], position: 2 });
  assert.deepEqual(Array.from((moved.x.data() as Uint8Array).subarray(0, 1200)), Array.from(d.subarray(1200, 2400)));
  const noisy = batch.randomErasing({ p: 1, value: 'random' })({ x: F.toFloat(x), y }, { seed: 1, epoch: 0, batch: 0, indices: [10, 11, 12], position: 0 });
  assert.ok((noisy.x.data() as Float32Array).some((v) => v < 0), 'float batches are erased with normal noise');
  assert.throws(() => batch.randomErasing({ p: 1, value: 0.5 })({ x, y }, { seed: 1, epoch: 0, batch: 0, indices: [0, 1, 2], position: 0 }), /does not fit a uint8 batch/);
  for (const t of [x, y, out.x, moved.x, noisy.x]) t.dispose();
});

test('TTA averages softmax over flips and five crops, and leaks no tensors', async () => {
  const { x, y } = sample();
  y.dispose();
  // A "model" whose logits are the per-channel mean of the left half: flips change it.
  const forward = (v: Tensor): Tensor => v.narrow(3, 0, Math.floor((v.shape[3] as number) / 2)).mean([2, 3]);
  const before = memoryStats().liveTensors;
  const p = await tta(forward, x, { flips: true });
  assert.equal(memoryStats().liveTensors, before + 1, 'tta frees its views and intermediates, returning one tensor');
  const plain = forward(x).softmax(1);
  const flipped = forward(x.flip([3])).softmax(1);
  const expect = plain.add(flipped).div(2);
  const pd = p.data() as Float32Array;
  const ed = expect.data() as Float32Array;
  for (let i = 0; i < pd.length; i++) assert.ok(Math.abs(pd[i]! - ed[i]!) < 1e-6);
  const views = ttaViews(x, { flips: true, crops: { size: 4 } });
  assert.equal(views.length, 10);
  assert.deepEqual(views[9]!.shape, [4, 3, 4, 4]);
  const p5 = await tta(forward, x, { flips: false, crops: { size: 4 } });
  assert.deepEqual(p5.shape, [4, 3]);
  for (const t of [p, plain, flipped, expect, p5, x, ...views]) t.dispose();
});
