// The collectives and DataParallel's contract, checked inside two ranks (fixtures/collectives.ts
// holds the checks; a failed one ends its rank non-zero, which the launcher reports).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { launchFixture } from './helpers.js';

describe('collectives on two ranks', () => {
  it('all-reduce, broadcast, all-gather, barrier, cross-rank checks, DataParallel and the JSON collectives behave on every rank', { timeout: 120_000 }, async () => {
    const out = await launchFixture(2, 'collectives.js');
    assert.equal(out.code, 0, `${out.stdout}\n${out.stderr}`);
    assert.deepEqual(out.result.ranks.map((r) => [r.rank, r.code]), [[0, 0], [1, 0]]);
    assert.match(out.stdout, /rank 0: collectives ok/);
    assert.match(out.stdout, /rank 1: collectives ok/);
  });
});
