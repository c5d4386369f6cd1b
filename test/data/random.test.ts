// The one random generator (src/data/random.ts): Philox4x32-10 known answers, keys, and the statistics
// every user relies on — uniform integers in any range without modulo bias, floats in [0, 1) with 53
// bits, unrelated streams for neighbouring keys. Seeds are fixed, so these never flake; the bounds are
// ~4σ wide, and each names the defect it would catch.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { checkSeed, philox4x32, RANDOM_PURPOSES, RandomStream, type RandomKey } from '../../src/data/random.js';

/** Pearson's χ² of observed counts against equal probabilities. */
function chiSquareUniform(counts: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i] as number;
  const e = total / counts.length;
  let x = 0;
  for (let i = 0; i < counts.length; i++) x += ((counts[i] as number) - e) ** 2 / e;
  return x;
}

/** χ² critical values at p = 0.001 by degrees of freedom. */
const CHI2_999: Record<number, number> = { 2: 13.82, 4: 18.47, 6: 22.46, 9: 27.88, 15: 37.7 };

function histogram(draw: () => number, k: number, n: number): Int32Array {
  const h = new Int32Array(k);
  for (let i = 0; i < n; i++) h[draw()]!++;
  return h;
}

const first = (key: RandomKey, n = 4): number[] => {
  const r = new RandomStream(key);
  return Array.from({ length: n }, () => r.uint32());
};

function correlation(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

describe('RandomStream: the generator and its keys', () => {
  it('is Philox4x32-10: the Random123 known-answer vectors', () => {
    const hex = (v: number[]): string[] => v.map((x) => x.toString(16).padStart(8, '0'));
    assert.deepEqual(hex(philox4x32([0, 0, 0, 0], [0, 0])), ['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
    assert.deepEqual(hex(philox4x32([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff])), ['408f276d', '41c83b0e', 'a20bc7c6', '6d5451fd']);
    assert.deepEqual(hex(philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])), ['d16cfe09', '94fdcceb', '5001e420', '24126ea1']);
    // The stream's first block is the block of counter (index, epoch, stream, 0) under key (seed, purpose).
    const code = RANDOM_PURPOSES.indexOf('augment');
    assert.deepEqual(first({ seed: 2 ** 32 + 5, purpose: 'augment', epoch: 3, index: 9, stream: 2 }), philox4x32([9, 3, 2, 0], [5, 1 + code * 2 ** 21]));
  });

  it('is a pure function of (seed, purpose, epoch, index, stream), and each of them changes it', () => {
    const key: RandomKey = { seed: 7, purpose: 'shuffle', epoch: 2, index: 1000, stream: 3 };
    assert.deepEqual(first(key, 9), first({ ...key }, 9));
    assert.deepEqual(first({ seed: 7, purpose: 'shuffle' }), first({ seed: 7, purpose: 'shuffle', epoch: 0, index: 0, stream: 0 }), 'omitted coordinates are 0');
    const base = JSON.stringify(first(key));
    const others: RandomKey[] = [
      { ...key, seed: 8 }, { ...key, seed: 7 + 2 ** 32 }, { ...key, purpose: 'weighted' }, { ...key, epoch: 3 }, { ...key, index: 1001 }, { ...key, stream: 4 },
    ];
    for (const other of others) assert.notEqual(JSON.stringify(first(other)), base, JSON.stringify(other));
    const byPurpose = new Set(RANDOM_PURPOSES.map((purpose) => JSON.stringify(first({ seed: 1, purpose }))));
    assert.equal(byPurpose.size, RANDOM_PURPOSES.length, 'every purpose its own stream');
  });

  it('refuses bad keys with a message that says what to write', () => {
    const bad = (key: unknown, re: RegExp) => assert.throws(() => new RandomStream(key as RandomKey), re);
    bad({ purpose: 'shuffle' }, /the key has no seed; give one, e.g. \{ seed: 42, purpose: 'shuffle' \}/);
    bad({ seed: '7', purpose: 'shuffle' }, /seed must be a non-negative integer below 2\^53 — write the number, 7, not a string; got '7' \(a string\)/);
    bad({ seed: -1, purpose: 'shuffle' }, /seed must be a non-negative integer/);
    bad({ seed: 1.5, purpose: 'shuffle' }, /seed must be a non-negative integer/);
    bad({ seed: 2 ** 53, purpose: 'shuffle' }, /below 2\^53/);
    bad({ seed: 1, purpose: 'Shuffle' }, /purpose must be one of 'shuffle', 'weighted', .*; got 'Shuffle'/);
    bad({ seed: 1, purpose: 'shuffle', epoch: -1 }, /epoch must be an integer in \[0, 2\^32\)/);
    bad({ seed: 1, purpose: 'shuffle', index: 2 ** 32 }, /index must be an integer in \[0, 2\^32\)/);
    bad(42, /RandomStream takes a key object, e.g. new RandomStream\(\{ seed: 42, purpose: 'shuffle', epoch: 0 \}\)/);
    assert.equal(checkSeed(0, 'x'), 0);
    assert.throws(() => checkSeed(undefined, 'DataLoader: seed'), /DataLoader: seed must be a non-negative integer below 2\^53 \(e.g. 42\); got undefined/);
  });
});

describe('RandomStream: distributions', () => {
  it('int(lo, hi) is uniform on [lo, hi), for ranges that are not powers of two too (χ², p > 0.001)', () => {
    for (const [lo, hi] of [[0, 10], [0, 7], [0, 3], [-5, 5], [100, 116]] as const) {
      const r = new RandomStream({ seed: hi - lo, purpose: 'test' });
      const h = histogram(() => r.int(lo, hi) - lo, hi - lo, 2000 * (hi - lo));
      assert.ok(chiSquareUniform(h) < (CHI2_999[hi - lo - 1] as number), `[${lo}, ${hi}): counts ${h}`);
    }
  });

  it('int(lo, hi) has no modulo bias: [0, 3·2^30) puts a third, not a half, below 2^30', () => {
    // u mod n with u uniform on [0, 2^32) would hit [0, 2^30) twice as often as the rest.
    for (const n of [3 * 2 ** 30, 3 * 2 ** 32]) {
      const r = new RandomStream({ seed: 1, purpose: 'test', stream: n > 2 ** 32 ? 1 : 0 });
      let low = 0;
      const draws = 30_000;
      for (let i = 0; i < draws; i++) {
        const v = r.int(0, n);
        assert.ok(Number.isInteger(v) && v >= 0 && v < n);
        if (v < n / 3) low++;
      }
      assert.ok(Math.abs(low / draws - 1 / 3) < 0.012, `n = ${n}: ${low / draws} below n/3`);
    }
  });

  it('int says what to write when called as int(n), and refuses empty or fractional ranges', () => {
    const r = new RandomStream({ seed: 1, purpose: 'test' });
    assert.throws(() => (r.int as (n: number) => number)(5), /int\(lo, hi\) draws from \[lo, hi\) and takes both bounds; for \[0, 5\) write int\(0, 5\)/);
    assert.throws(() => r.int(3, 3), /the range \[3, 3\) is empty/);
    assert.throws(() => r.int(0, 1.5), /hi must be a safe integer, got 1.5/);
    assert.equal(r.int(4, 5), 4);
  });

  it('float() lies in [0, 1), is uniform, and carries 53 random bits', () => {
    const r = new RandomStream({ seed: 3, purpose: 'test' });
    const xs = Array.from({ length: 50_000 }, () => r.float());
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    const h = new Int32Array(16);
    for (const x of xs) h[Math.floor(x * 16)]!++;
    assert.ok(chiSquareUniform(h) < CHI2_999[15]!, `counts ${h}`);
    // A 32-bit float would make every x·2^32 an integer.
    assert.ok(xs.filter((x) => !Number.isInteger(x * 2 ** 32)).length > 49_000);
    const u = xs.map((x) => 2 * x - 1);
    assert.ok(Math.abs(u.reduce((s, v) => s + v, 0) / u.length) < 0.02);
  });

  it('uniform, normal, bernoulli, beta have the right moments; permutation and shuffle_ are uniform', () => {
    const r = new RandomStream({ seed: 5, purpose: 'test' });
    const n = 20_000;
    let su = 0, sn = 0, sn2 = 0, sb = 0, hits = 0;
    for (let i = 0; i < n; i++) {
      const u = r.uniform(-2, 6);
      assert.ok(u >= -2 && u < 6);
      su += u;
      const z = r.normal(2, 3);
      sn += z;
      sn2 += z * z;
      sb += r.beta(2, 5);
      if (r.bernoulli(0.3)) hits++;
    }
    assert.ok(Math.abs(su / n - 2) < 0.1, `uniform mean ${su / n}`);
    const mean = sn / n;
    assert.ok(Math.abs(mean - 2) < 0.09 && Math.abs(Math.sqrt(sn2 / n - mean * mean) - 3) < 0.09, `normal mean ${mean}`);
    assert.ok(Math.abs(sb / n - 2 / 7) < 0.01, `beta mean ${sb / n}`);
    assert.ok(Math.abs(hits / n - 0.3) < 0.013, `bernoulli rate ${hits / n}`);
    assert.throws(() => r.bernoulli(1.5), /p must be in \[0, 1\]/);
    // Where element 0 lands over 6,000 permutations of 5 (one per epoch), and what comes first.
    const where = new Int32Array(5);
    const lead = new Int32Array(5);
    for (let e = 0; e < 6000; e++) {
      const p = new RandomStream({ seed: 9, purpose: 'shuffle', epoch: e }).permutation(5);
      assert.deepEqual(Array.from(p).sort(), [0, 1, 2, 3, 4]);
      where[p.indexOf(0)]!++;
      lead[p[0]!]!++;
    }
    assert.ok(chiSquareUniform(where) < CHI2_999[4]! && chiSquareUniform(lead) < CHI2_999[4]!, `positions ${where}, first ${lead}`);
    const a = ['a', 'b', 'c'];
    assert.equal(r.shuffle_(a), a, 'shuffle_ works in place');
    assert.deepEqual([...a].sort(), ['a', 'b', 'c']);
  });

  it('neighbouring keys give unrelated streams (seeds, epochs, indices, streams)', () => {
    const n = 20_000;
    for (const coord of ['seed', 'epoch', 'index', 'stream'] as const) {
      const at = (k: number) => new RandomStream({ seed: 11, purpose: 'augment', [coord]: k }).float();
      const a = Array.from({ length: n }, (_, k) => at(k));
      const b = Array.from({ length: n }, (_, k) => at(k + 1));
      // Correlation of neighbours' first draws: ~N(0, 1/√n) for unrelated streams (σ = 0.007).
      assert.ok(Math.abs(correlation(a, b)) < 0.03, `${coord}: neighbour correlation ${correlation(a, b)}`);
      // The first draws over consecutive keys are uniform themselves (a weakly mixed key would not be).
      const h = new Int32Array(10);
      for (const x of a) h[Math.floor(x * 10)]!++;
      assert.ok(chiSquareUniform(h) < CHI2_999[9]!, `${coord}: first draws over keys 0..${n - 1}: ${h}`);
      // Avalanche: neighbouring keys' first words differ in half their bits on average.
      let bits = 0;
      for (let k = 0; k < 2000; k++) {
        let x = (first({ seed: 11, purpose: 'augment', [coord]: k }, 1)[0]! ^ first({ seed: 11, purpose: 'augment', [coord]: k + 1 }, 1)[0]!) >>> 0;
        for (; x; x &= x - 1) bits++;
      }
      assert.ok(Math.abs(bits / 2000 - 16) < 0.5, `${coord}: ${bits / 2000} bits differ between neighbours`);
    }
  });
});
