import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { DistributedSampler, RandomSampler, SequentialSampler, WeightedRandomSampler } from '../../../src/data/sampling/index.js';
import { SamplerCursor } from '../../../src/data/sampling/cursor.js';

/** Pearson's χ² of observed counts against expected probabilities. */
function chiSquare(counts: ArrayLike<number>, probs: readonly number[], total: number): number {
  let x = 0;
  probs.forEach((p, i) => {
    if (p > 0) x += ((counts[i] as number) - p * total) ** 2 / (p * total);
  });
  return x;
}

function histogram(xs: ArrayLike<number>, k: number): Int32Array {
  const h = new Int32Array(k);
  for (let i = 0; i < xs.length; i++) h[xs[i] as number] = (h[xs[i] as number] as number) + 1;
  return h;
}

const sorted = (a: ArrayLike<number>) => Array.from(a).sort((x, y) => x - y);

describe('samplers', () => {
  it('sequential: 0..n-1 every epoch', () => {
    assert.deepEqual(Array.from(new SequentialSampler(4).indices(3)), [0, 1, 2, 3]);
  });

  it('random: a seeded permutation per epoch; with replacement; more samples than n', () => {
    const s = new RandomSampler(50, { seed: 3 });
    assert.deepEqual(sorted(s.indices(0)), [...Array(50).keys()]);
    assert.deepEqual(s.indices(0), new RandomSampler(50, { seed: 3 }).indices(0));
    assert.notDeepEqual(s.indices(0), s.indices(1));
    const r = new RandomSampler(5, { replacement: true, numSamples: 1000 }).indices(0);
    assert.equal(r.length, 1000);
    assert.ok(r.every((i) => i >= 0 && i < 5));
    assert.ok(chiSquare(histogram(r, 5), Array(5).fill(0.2), 1000) < 18.5);
    const chained = new RandomSampler(4, { numSamples: 10 }).indices(0);
    assert.deepEqual(sorted(chained.subarray(0, 4)), [0, 1, 2, 3]);
    assert.deepEqual(sorted(chained.subarray(4, 8)), [0, 1, 2, 3]);
    assert.equal(chained.length, 10);
  });

  it('weighted with replacement: frequencies follow the weights, zero weights never drawn', () => {
    const weights = [1, 0, 3, 6, 0, 10];
    const total = 20;
    const s = new WeightedRandomSampler(weights, 200_000, { seed: 5 });
    const h = histogram(s.indices(0), weights.length);
    assert.equal(h[1], 0);
    assert.equal(h[4], 0);
    assert.ok(chiSquare(h, weights.map((w) => w / total), 200_000) < 18.5, `counts ${h}`);
    assert.notDeepEqual(s.indices(0), s.indices(1));
  });

  it('weighted without replacement: distinct indices, never a zero weight, heavy ones first more often', () => {
    const weights = [100, 1, 0, 1, 1];
    const s = new WeightedRandomSampler(weights, 3, { replacement: false, seed: 1 });
    let firstIsHeavy = 0;
    for (let e = 0; e < 200; e++) {
      const idx = Array.from(s.indices(e));
      assert.equal(new Set(idx).size, 3);
      assert.ok(!idx.includes(2));
      if (idx[0] === 0) firstIsHeavy++;
    }
    assert.ok(firstIsHeavy > 180, `index 0 first in ${firstIsHeavy} of 200 epochs`);
    assert.throws(() => new WeightedRandomSampler(weights, 5, { replacement: false }), /cannot draw 5 samples without replacement from 4 non-zero weights/);
    assert.throws(() => new WeightedRandomSampler([1, -1], 2), /weights\[1\] is -1/);
    assert.throws(() => new WeightedRandomSampler([0, 0], 2), /every weight is zero/);
  });
});

describe('DistributedSampler', () => {
  it('splits any sampler into equal, disjoint slices whose union is the global order (padded like torch)', () => {
    const inner = new RandomSampler(10, { seed: 8 });
    const global = Array.from(inner.indices(2));
    const ranks = [0, 1, 2].map((rank) => new DistributedSampler(inner, { rank, worldSize: 3 }));
    assert.deepEqual(ranks.map((r) => r.length), [4, 4, 4]);
    const slices = ranks.map((r) => Array.from(r.indices(2)));
    // Interleaving the slices rebuilds the padded global order: global + its first two indices.
    const rebuilt = Array.from({ length: 12 }, (_, p) => slices[p % 3]?.[Math.floor(p / 3)]);
    assert.deepEqual(rebuilt, [...global, ...global.slice(0, 2)]);
    const cut = [0, 1, 2].map((rank) => Array.from(new DistributedSampler(inner, { rank, worldSize: 3, dropLast: true }).indices(2)));
    assert.deepEqual(cut.map((c) => c.length), [3, 3, 3]);
    assert.equal(new Set(cut.flat()).size, 9);
    assert.throws(() => new DistributedSampler(inner, { rank: 3, worldSize: 3 }), /rank must be in \[0, 3\)/);
  });

  it('distributed weighted sampling: the ranks together draw exactly the single-process stream', () => {
    const weights = Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? 8 : 1));
    const single = new WeightedRandomSampler(weights, 30_000, { seed: 12 });
    const world = 4;
    const slices = Array.from({ length: world }, (_, rank) => new DistributedSampler(single, { rank, worldSize: world }).indices(1));
    const union = Array.from({ length: 30_000 }, (_, p) => slices[p % world]?.[Math.floor(p / world)] as number);
    assert.deepEqual(union, Array.from(single.indices(1)));
    // And so the union follows the weights: class of i = (i % 4 === 0) has 10 × 8 of 10 × 8 + 30 weight.
    const heavy = union.filter((i) => i % 4 === 0).length;
    assert.ok(Math.abs(heavy / 30_000 - 80 / 110) < 0.015, `heavy share ${heavy / 30_000}`);
  });
});

describe('SamplerCursor', () => {
  it('remembers its position; a restored cursor continues with the very next index', () => {
    const s = new RandomSampler(12, { seed: 2 });
    const a = new SamplerCursor(s);
    a.setEpoch(3);
    const first = Array.from(a.take(5));
    assert.equal(a.next(), s.indices(3)[5]);
    const saved = a.state();
    assert.deepEqual(saved, { epoch: 3, position: 6 });
    const rest = [...a];
    assert.equal(a.remaining, 0);
    assert.equal(a.next(), undefined);
    const b = new SamplerCursor(s, saved);
    assert.deepEqual([...b], rest);
    assert.deepEqual([...first, s.indices(3)[5], ...rest], Array.from(s.indices(3)));
    assert.throws(() => b.loadState({ epoch: 0, position: 13 }), /position 13 is outside the epoch's 12 indices/);
  });
});
