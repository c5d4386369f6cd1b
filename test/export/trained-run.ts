// A small trained run for the compression tests (int8 export, pruning): the first N images of
// Fashion-MNIST's training set written as NumPy arrays, and `tessera train` on them with one thread —
// a real task, so accuracy before and after compression means something (a 2-epoch fashion-net on
// 1,500 images reaches about 70 % on its validation split).
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { writeNpy } from '../../src/data/formats/npy-write.js';
import { readIdx } from '../../src/data/formats/idx.js';

const FASHION = '/usr/share/datasets/fashion-mnist';
const bin = fileURLToPath(new URL('../../../bin/tessera.js', import.meta.url));

/** Runs the CLI with one LibTorch/OpenMP thread. */
export function tessera(...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, OMP_NUM_THREADS: '1' } });
}

/** The first `n` training images of Fashion-MNIST as `dir/images.npy` (uint8 N×28×28) and `dir/labels.npy` (int64). */
export function fashionSubset(dir: string, n: number): string {
  assert.ok(existsSync(FASHION), 'dataset-fashion-mnist must be installed (scripts/setup.sh does it)');
  const images = readIdx(join(FASHION, 'train-images-idx3-ubyte.gz'));
  const labels = readIdx(join(FASHION, 'train-labels-idx1-ubyte.gz'));
  mkdirSync(dir, { recursive: true });
  writeNpy(join(dir, 'images.npy'), { dtype: 'u1', shape: [n, 28, 28], data: (images.data as Uint8Array).slice(0, n * 784) });
  writeNpy(join(dir, 'labels.npy'), { dtype: 'i8', shape: [n], data: BigInt64Array.from((labels.data as Uint8Array).slice(0, n), BigInt) });
  return dir;
}

/** `n` all-black 28×28 images (label 0): calibration data that misrepresents every real image. */
export function blackImages(dir: string, n: number): string {
  mkdirSync(dir, { recursive: true });
  writeNpy(join(dir, 'images.npy'), { dtype: 'u1', shape: [n, 28, 28], data: new Uint8Array(n * 784) });
  writeNpy(join(dir, 'labels.npy'), { dtype: 'i8', shape: [n], data: new BigInt64Array(n) });
  return dir;
}

/** `tessera train <data> --model <model>` for a few epochs, one thread; returns the run directory. */
export function trainRun(data: string, runs: string, name: string, model: string, epochs = 2): string {
  const r = tessera('train', data, '--model', model, '--epochs', String(epochs), '--batch-size', '64', '--threads', '1', '--out-dir', runs, '--name', name);
  assert.equal(r.status, 0, `tessera train failed:\n${r.stderr}\n${r.stdout.slice(-2000)}`);
  return join(runs, name);
}
