// Batch transforms on tensors: collate, MixUp, CutMix, TTA.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { memoryStats, tensor, type Tensor } from '../../../src/tensor/index.js';
import { DataError } from '../../../src/data/types.js';
import { collate, cutmix, mixup, toFloatTensor, tta, ttaViews } from '../../../src/data/transforms/index.js';
import { pattern } from '../fixtures/images.js';

test('collate builds N×H×W×C uint8 and names the first mismatched sample', () => {
  const imgs = [pattern(5, 4, 3, 0), pattern(5, 4, 3, 1), pattern(5, 4, 3, 2)];
  const x = collate(imgs);
  assert.deepEqual(x.shape, [3, 4, 5, 3]);
  assert.equal(x.dtype, 'uint8');
  assert.deepEqual(Array.from(x.data() as Uint8Array).slice(60, 120), Array.from(imgs[1]!.data));
  x.dispose();
  assert.throws(() => collate([imgs[0]!, imgs[1]!, pattern(6, 4), pattern(7, 4)], ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg']), (e: unknown) => e instanceof DataError && e.id === 'c.jpg' && /image 2 is 6x4x3, but a\.jpg is 5x4x3/.test(e.message));
});

function batch(): { x: Tensor; y: Tensor } {
  const x = toFloatTensor(collate([pattern(8, 6, 3, 0), pattern(8, 6, 3, 1), pattern(8, 6, 3, 2), pattern(8, 6, 3, 3)]));
  return { x, y: tensor([0, 2, 1, 2]) };
}

test('MixUp: λx + (1−λ)·roll(x), soft targets summing to 1, λ fixed by (seed, epoch, batch)', () => {
  const { x, y } = batch();
  const o = { numClasses: 3, seed: 4, epoch: 1, batchIndex: 7, alpha: 0.4 };
  const m = mixup(x, y, o);
  assert.equal(m.lambda, mixup(x, y, o).lambda);
  assert.notEqual(m.lambda, mixup(x, y, { ...o, batchIndex: 8 }).lambda);
  assert.deepEqual(m.y.shape, [4, 3]);
  const yd = m.y.data() as Float32Array;
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(yd[i * 3]! + yd[i * 3 + 1]! + yd[i * 3 + 2]! - 1) < 1e-6);
  // Row 0 mixes sample 0 (class 0) with sample 3 (class 2, rolled in).
  assert.ok(Math.abs(yd[0]! - m.lambda) < 1e-6 && Math.abs(yd[2]! - (1 - m.lambda)) < 1e-6);
  const xd = x.data() as Float32Array;
  const md = m.x.data() as Float32Array;
  const per = 3 * 6 * 8;
  assert.ok(Math.abs(md[5]! - (m.lambda * xd[5]! + (1 - m.lambda) * xd[3 * per + 5]!)) < 1e-6);
  for (const t of [x, y, m.x, m.y]) t.dispose();
});

test('CutMix: the box holds the rolled batch, λ is the kept area', () => {
  const { x, y } = batch();
  const c = cutmix(x, y, { numClasses: 3, seed: 0, epoch: 0, batchIndex: 2 });
  const { top, left, height, width } = c.box;
  assert.ok(Math.abs(c.lambda - (1 - (height * width) / 48)) < 1e-12);
  const xd = x.data() as Float32Array;
  const cd = c.x.data() as Float32Array;
  const at = (n: number, ch: number, i: number, j: number): number => ((n * 3 + ch) * 6 + i) * 8 + j;
  for (let i = 0; i < 6; i++)
    for (let j = 0; j < 8; j++) {
      const inside = i >= top && i < top + height && j >= left && j < left + width;
      assert.equal(cd[at(1, 2, i, j)], xd[at(inside ? 0 : 1, 2, i, j)]);
    }
  const yd = c.y.data() as Float32Array;
  assert.ok(Math.abs(yd[1 * 3 + 2]! - c.lambda) < 1e-6, 'sample 1 keeps class 2 with weight λ');
  for (const t of [x, y, c.x, c.y]) t.dispose();
});

test('TTA averages softmax over flips and five crops, and leaks no tensors', async () => {
  const { x, y } = batch();
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
