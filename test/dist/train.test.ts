// Data-parallel training ends where single-process training and PyTorch's own DDP end.
//
// Tolerances: two ranks with 32 samples each compute the same mean gradient as one process with
// 64, but sum the batch in a different order (two partial means, averaged), so after 20 SGD steps
// with momentum the weights agree to rounding: |Δ| ≤ 1e-5 (observed ~1e-7). Against PyTorch's DDP
// on the same per-rank batches the arithmetic is the same operation for operation (same LibTorch
// kernels, one thread, gradients scaled by 1/2 then summed — exact for two ranks), so the weights
// must be bit-identical.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { io, type Tensor } from '../../src/index.js';
import { FIXTURES, freePort, launchFixture, maxAbsDiff, PYTHON, run, SOURCES, writeTrainingInputs } from './helpers.js';

const STEPS = 20;
const BATCH = 64;
const TIMEOUT = { timeout: 180_000 };

describe('data-parallel training over Gloo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-dist-train-'));
  const plain = writeTrainingInputs(join(dir), { batchNorm: false, samples: STEPS * BATCH, seed: 11 });
  const trainArgs = (inputs: { init: string; data: string }, out: string, extra: string[] = []) => [
    '--init', inputs.init, '--data', inputs.data, '--out', join(dir, out), '--steps', String(STEPS), '--batch', String(BATCH), ...extra,
  ];

  // One process, batch 64: the reference of the first two tests (run once, when first needed).
  let single: Promise<Map<string, Tensor>> | undefined;
  const singleProcess = () =>
    (single ??= (async () => {
      const { WORLD_SIZE: _, ...env } = process.env;
      const out = await run(process.execPath, [join(FIXTURES, 'train-rank.js'), ...trainArgs(plain, 'single')], { env: { ...env, OMP_NUM_THREADS: '1' } });
      assert.equal(out.code, 0, out.stderr);
      return io.loadPt(join(dir, 'single-rank0.pt'));
    })());

  it('2 ranks × batch 32 end with the weights of 1 process × batch 64 (|Δ| ≤ 1e-5)', TIMEOUT, async () => {
    const one = await singleProcess();
    const two = await launchFixture(2, 'train-rank.js', trainArgs(plain, 'two'));
    assert.equal(two.code, 0, two.stderr);

    const rank0 = io.loadPt(join(dir, 'two-rank0.pt'));
    const rank1 = io.loadPt(join(dir, 'two-rank1.pt'));
    assert.equal(maxAbsDiff(rank0, rank1), 0, 'both ranks hold the same weights');
    const diff = maxAbsDiff(rank0, one);
    assert.ok(diff <= 1e-5, `2 × 32 vs 1 × 64: max |Δ| ${diff}`);
    // The comparison has teeth: the weights moved far from where they started.
    assert.ok(maxAbsDiff(one, io.loadPt(plain.init)) > 1e-2);
  });

  it('gradient accumulation under noSync (2 micro-batches of 16 per rank) ends where batch 32 per rank does (|Δ| ≤ 1e-5)', TIMEOUT, async () => {
    const out = await launchFixture(2, 'train-rank.js', trainArgs(plain, 'accumulated', ['--accumulate', '2']));
    assert.equal(out.code, 0, out.stderr);
    const accumulated = io.loadPt(join(dir, 'accumulated-rank0.pt'));
    assert.equal(maxAbsDiff(accumulated, io.loadPt(join(dir, 'accumulated-rank1.pt'))), 0);
    const diff = maxAbsDiff(accumulated, await singleProcess());
    assert.ok(diff <= 1e-5, `accumulated vs one batch of 64: max |Δ| ${diff}`);
  });

  it('matches PyTorch DistributedDataParallel over Gloo bit for bit (batch norm in training mode)', TIMEOUT, async () => {
    const bn = writeTrainingInputs(mkdtempSync(join(dir, 'bn-')), { batchNorm: true, samples: STEPS * BATCH, seed: 12 });
    const ours = await launchFixture(2, 'train-rank.js', trainArgs(bn, 'ours-bn', ['--bn']));
    assert.equal(ours.code, 0, ours.stderr);
    const port = await freePort();
    const py = await run(PYTHON, [join(SOURCES, 'ddp_reference.py'), bn.init, bn.data, join(dir, 'torch-bn'), String(port), '2', String(STEPS), String(BATCH), '0.1', '0.9', '1']);
    assert.equal(py.code, 0, py.stderr);

    const mine = [0, 1].map((r) => io.loadPt(join(dir, `ours-bn-rank${r}.pt`)));
    const theirs = [0, 1].map((r) => io.loadPt(join(dir, `torch-bn-rank${r}.pt`)));
    assert.deepEqual([...mine[0]!.keys()], [...theirs[0]!.keys()]);
    assert.equal(maxAbsDiff(mine[0]!, theirs[0]!), 0, 'rank 0: parameters and buffers');
    // PyTorch broadcasts rank 0's buffers before each forward, we after each step: rank 1's
    // running statistics differ by that one step; its parameters may not.
    const params = [...mine[1]!.keys()].filter((k) => !/running_|num_batches/.test(k));
    assert.equal(maxAbsDiff(mine[1]!, theirs[1]!, params), 0, 'rank 1: parameters');
    assert.equal(maxAbsDiff(mine[1]!, mine[0]!), 0, 'our rank 1 holds rank 0 buffers');
  });
});
