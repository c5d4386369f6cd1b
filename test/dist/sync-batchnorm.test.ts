// SyncBatchNorm on 2 ranks, each with half a batch, against BatchNorm2d on the whole batch in one
// process (PyTorch 1.13's SyncBatchNorm refuses CPU tensors, so one process on the concatenated
// batch is the reference — the definition SyncBatchNorm is meant to meet), and the differentiable
// all-reduce under it. Tolerances: outputs, input gradients and running statistics agree to
// rounding (|Δ| ≤ 1e-5: the sums are taken per rank, then added); the parameter gradients are
// sums over 150 values per channel in another order (|Δ| ≤ 5e-5 on values of order 10).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { launchFixture } from './helpers.js';

interface Diffs {
  rank: number;
  output: number;
  inputGrad: number;
  weightGrad: number;
  biasGrad: number;
  runningMean: number;
  runningVar: number;
  eval: number;
  unsynced: number;
}

describe('SyncBatchNorm', () => {
  it('2 ranks × 3 samples normalise, back-propagate and track statistics as BatchNorm2d on the 6 (2 steps)', { timeout: 120_000 }, async () => {
    const out = await launchFixture(2, 'sync-bn-rank.js');
    assert.equal(out.code, 0, out.stderr);
    const rows = out.stdout.split('\n').filter((l) => l.startsWith('RESULT ')).map((l) => JSON.parse(l.slice(7)) as Diffs);
    assert.deepEqual(rows.map((r) => r.rank).sort(), [0, 1]);
    for (const r of rows) {
      for (const k of ['output', 'inputGrad', 'runningMean', 'runningVar', 'eval'] as const) assert.ok(r[k] <= 1e-5, `rank ${r.rank}: ${k} |Δ| = ${r[k]}`);
      for (const k of ['weightGrad', 'biasGrad'] as const) assert.ok(r[k] <= 5e-5, `rank ${r.rank}: ${k} |Δ| = ${r[k]}`);
      assert.ok(r.unsynced > 1e-2, `rank ${r.rank}: batch norm over the share alone differs (|Δ| = ${r.unsynced})`);
    }
  });
});
