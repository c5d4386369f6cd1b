import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

import { classCounts, classWeights, sampleWeights } from '../../../src/data/imbalance.js';
import { WeightedRandomSampler } from '../../../src/data/sampling/index.js';
import { MemoryDataset } from '../loader/fixtures/datasets.js';

describe('imbalance', () => {
  it('counts classes from a data set or labels; -1 is unlabelled; bad labels are named', () => {
    assert.deepEqual(Array.from(classCounts(new MemoryDataset(10, { classes: 4 }))), [3, 3, 2, 2]);
    assert.deepEqual(Array.from(classCounts([0, 2, 2, -1, 2])), [1, 0, 3]);
    assert.deepEqual(Array.from(classCounts([0, 1], 4)), [1, 1, 0, 0]);
    assert.throws(() => classCounts([0, 5], 3), /sample 1 has label 5, outside \[0, 3\)/);
  });

  it('inverse and inverse-sqrt weights, normalised to sum to K; empty classes get 0', () => {
    const inv = classWeights([10, 40, 50]);
    const expectInv = [1 / 10, 1 / 40, 1 / 50].map((w, _, a) => (3 * w) / a.reduce((s, x) => s + x, 0));
    inv.forEach((w, i) => assert.ok(Math.abs(w - (expectInv[i] as number)) < 1e-12));
    const sq = classWeights([4, 0, 16], 'inverse-sqrt');
    assert.deepEqual(Array.from(sq), [(2 * 0.5) / 0.75, 0, (2 * 0.25) / 0.75]);
    assert.deepEqual(Array.from(classWeights([7, 7, 7], 'inverse')), [1, 1, 1]);
  });

  it("'effective' matches the class-balanced loss reference (Cui et al. 2019) computed with numpy", () => {
    const counts = [5000, 2000, 500, 50, 5];
    for (const beta of [0.9, 0.999, 0.9999]) {
      const r = spawnSync('/usr/bin/python3', ['-c', `
import json, sys, numpy as np
counts, beta = json.load(sys.stdin)
effective_num = 1.0 - np.power(beta, counts)
weights = (1.0 - beta) / np.array(effective_num)
weights = weights / np.sum(weights) * len(counts)
print(json.dumps(weights.tolist()))
`], { input: JSON.stringify([counts, beta]), encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const expected = JSON.parse(r.stdout) as number[];
      classWeights(counts, 'effective', beta).forEach((w, i) => assert.ok(Math.abs(w - (expected[i] as number)) < 1e-9, `beta ${beta} class ${i}: ${w} vs ${expected[i]}`));
    }
    assert.throws(() => classWeights([1, 2], 'effective', 1), /beta must be in \[0, 1\)/);
  });

  it('per-sample weights make a weighted sampler draw classes evenly', () => {
    const labels = Array.from({ length: 1000 }, (_, i) => (i < 900 ? 0 : i < 990 ? 1 : 2)); // 900 / 90 / 10
    const w = sampleWeights(labels, 'inverse');
    assert.equal(w[0], w[899]);
    const draws = new WeightedRandomSampler(w, 30_000, { seed: 3 }).indices(0);
    const per = classCounts(Array.from(draws, (i) => labels[i] as number), 3);
    per.forEach((c) => assert.ok(Math.abs(c / 30_000 - 1 / 3) < 0.02, `class shares ${Array.from(per)}`));
    assert.deepEqual(Array.from(sampleWeights([1, -1, 0], [0.5, 2])), [2, 0, 0.5]);
  });
});
