// The same program runs under PyTorch's own launcher, `torchrun --no_python` (here
// `python3 -m torch.distributed.run`, which python3-torch installs), and ends with the weights
// it ends with under Tessera's launcher: the env:// contract is the same.
//
// Debian's torch 1.13 on Python 3.11 cannot parse torchrun's default `--redirects 0 --tee 0`
// (enum iteration changed in 3.11, fixed in torch 2.0): we pass `--redirects 2 --tee 2` (stderr
// to a log file and the console), which it can.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { io } from '../../src/index.js';
import { FIXTURES, launchFixture, maxAbsDiff, PYTHON, run, writeTrainingInputs } from './helpers.js';

const hasTorchrun = spawnSync(PYTHON, ['-c', 'import torch.distributed.run'], { encoding: 'utf8' }).status === 0;

describe('torchrun', () => {
  it('runs a Tessera training program under `torchrun --no_python` with the same result as Tessera\'s launcher', { timeout: 180_000, skip: hasTorchrun ? false : `${PYTHON} has no torch.distributed.run` }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-torchrun-'));
    const inputs = writeTrainingInputs(dir, { batchNorm: true, samples: 5 * 64, seed: 13 });
    const args = (out: string) => ['--init', inputs.init, '--data', inputs.data, '--out', join(dir, out), '--steps', '5', '--bn'];
    const torchrun = await run(PYTHON, [
      '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', '--redirects', '2', '--tee', '2', '--log_dir', join(dir, 'logs'),
      '--no_python', process.execPath, join(FIXTURES, 'train-rank.js'), ...args('torchrun'),
    ]);
    assert.equal(torchrun.code, 0, torchrun.stderr);
    const ours = await launchFixture(2, 'train-rank.js', args('ours'));
    assert.equal(ours.code, 0, ours.stderr);
    for (const r of [0, 1]) assert.equal(maxAbsDiff(io.loadPt(join(dir, `torchrun-rank${r}.pt`)), io.loadPt(join(dir, `ours-rank${r}.pt`))), 0, `rank ${r}`);
  });
});
