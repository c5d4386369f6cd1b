// Gradient buckets are those PyTorch's DDP forms (torch.distributed._compute_bucket_assignment_by_size
// over the parameters in reverse order, limits [first cap, cap]), checked from Python.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

import { dist, type DType } from '../../src/index.js';
import { PYTHON } from './helpers.js';

const MB = 1024 * 1024;

/** PyTorch's buckets as lists of indices into `params` (model order). */
function torchBuckets(params: dist.BucketParam[], capMB: number, firstCapMB: number): number[][] {
  const script = `
import json, sys, torch, torch.distributed as dist
params = json.loads(sys.argv[1])
tensors = [torch.empty(p['numel'], dtype=getattr(torch, p['dtype'])) for p in params][::-1]
order = list(range(len(params)))[::-1]
buckets, _ = dist._compute_bucket_assignment_by_size(tensors, [int(${firstCapMB} * ${MB}), int(${capMB} * ${MB})], [False] * len(params), order)
print(json.dumps(buckets))`;
  const r = spawnSync(PYTHON, ['-c', script, JSON.stringify(params)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as number[][];
}

const sized = (mb: number[], dtype: DType = 'float32'): dist.BucketParam[] => mb.map((m) => ({ numel: Math.round((m * MB) / 4), dtype, device: 'cpu' }));

describe('gradient buckets', () => {
  it('one dtype: reverse order, a 1 MB first bucket, then 25 MB ones, as PyTorch', () => {
    const params = sized([0.3, 2, 0.5, 30, 1, 0.2, 5, 24, 0.7, 0.1, 12, 0.05]);
    const ours = dist.assignBuckets(params).map((b) => b.indices);
    assert.deepEqual(ours, torchBuckets(params, 25, 1));
    assert.deepEqual(ours[0], [11, 10], 'the last parameters come first, and the first bucket closes past 1 MB');
  });

  it('smaller caps and several dtypes give the same buckets as PyTorch', () => {
    const params = [...sized([0.4, 0.9, 0.1]), ...sized([0.6, 0.6], 'float64'), ...sized([0.3, 1.2, 0.2]), { numel: 300_000, dtype: 'float16' as DType, device: 'cpu' }];
    const ours = dist.assignBuckets(params, 1, 0.5).map((b) => b.indices);
    const theirs = torchBuckets(params, 1, 0.5);
    // PyTorch appends the still-open buckets in hash-map order; ours puts them in parameter order.
    const sorted = (bs: number[][]) => [...bs].map((b) => b.join(',')).sort();
    assert.deepEqual(sorted(ours), sorted(theirs));
    for (const b of dist.assignBuckets(params, 1, 0.5)) assert.ok(b.indices.every((i) => params[i]!.dtype === b.dtype), 'one dtype per bucket');
  });

  it('refuses caps that are not positive', () => {
    assert.throws(() => dist.assignBuckets(sized([1]), 0), /bucket caps must be positive/);
  });
});
