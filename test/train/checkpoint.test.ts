// Checkpoint files: checksums, generations and fallback from a corrupted latest one, the config
// fingerprint, and resuming in-process after a crash.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { memoryStats, tensor } from '../../src/index.js';
import { readCheckpoint, type Callback, type CheckpointSnapshot } from '../../src/train/index.js';
import { diffFingerprints, fingerprintOf, loadLatest, saveGeneration } from '../../src/train/checkpoint.js';
import { decodeJson, encodeJson } from '../../src/train/checkpoint.js';
import { trainRun } from './fixtures/run.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'tessera-ckpt-'));

/** Simulates a crash: throws after optimizer step n (no afterFit save happens). */
const crashAt = (n: number): Callback => ({
  name: 'crash',
  order: 1000,
  afterBatch: (ctx) => {
    if (ctx.stepped && ctx.step === n) throw new Error(`simulated crash at step ${n}`);
  },
});

function snapshot(value: number): CheckpointSnapshot {
  return {
    meta: {
      format: 'tessera.checkpoint', version: 2, epoch: value, batchesDone: 0, iteration: 0, step: value, seed: 0, completed: false,
      optimizers: { optimizer: { param_groups: [], state: {} } }, callbacks: { plateau: { best: Infinity } }, logs: {}, savedAt: '',
    },
    tensors: new Map([['model/w', tensor([value, value + 0.5])]]),
  };
}

describe('checkpoint files', () => {
  it('round-trips metadata (with ±Infinity) and tensors, and keeps N generations', () => {
    const dir = tmp();
    for (let i = 1; i <= 5; i++) saveGeneration(dir, snapshot(i), { keep: 3 });
    const steps = ['last.ckpt', 'last.1.ckpt', 'last.2.ckpt'].map((f) => {
      const c = readCheckpoint(join(dir, f));
      assert.deepEqual(Array.from(c.tensors.get('model/w')?.data() as Float32Array), [c.meta.step, c.meta.step + 0.5]);
      assert.deepEqual(c.meta.callbacks, { plateau: { best: Infinity } });
      for (const t of c.tensors.values()) t.dispose();
      return c.meta.step;
    });
    assert.deepEqual(steps, [5, 4, 3]);
    assert.throws(() => statSync(join(dir, 'last.3.ckpt')));
    assert.deepEqual(decodeJson(encodeJson({ a: -Infinity, b: [NaN, 1] })), { a: -Infinity, b: [NaN, 1] });
  });

  it('a flipped bit fails the checksum; a truncated file fails to parse; the loader falls back and names the file', () => {
    const dir = tmp();
    for (let i = 1; i <= 3; i++) saveGeneration(dir, snapshot(i), { keep: 3 });
    const last = join(dir, 'last.ckpt');
    const bytes = readFileSync(last);
    bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 0x10;
    writeFileSync(last, bytes);
    assert.throws(() => readCheckpoint(last), new RegExp(`${last}: checksum mismatch`));
    truncateSync(join(dir, 'last.1.ckpt'), 40);
    const warnings: string[] = [];
    const found = loadLatest(dir, (m) => warnings.push(m));
    assert.equal(found?.file, join(dir, 'last.2.ckpt'));
    assert.equal(found?.snapshot.meta.step, 1);
    for (const t of found?.snapshot.tensors.values() ?? []) t.dispose();
    assert.match(warnings[0] as string, new RegExp(`checkpoint ${last} is unreadable \\(.*checksum mismatch.*\\); falling back to ${join(dir, 'last.1.ckpt')}`));
    assert.match(warnings[1] as string, /last\.1\.ckpt is unreadable \(.*runs past the end/);
    truncateSync(join(dir, 'last.2.ckpt'), 0);
    assert.throws(() => loadLatest(dir, () => {}), /no readable checkpoint/);
  });

  it('a torn rotation (last.ckpt missing, last.1.ckpt present) still finds the newest whole generation', () => {
    const dir = tmp();
    saveGeneration(dir, snapshot(1), { keep: 3 });
    saveGeneration(dir, snapshot(2), { keep: 3 });
    rmSync(join(dir, 'last.ckpt'));
    const found = loadLatest(dir, () => {});
    assert.equal(found?.snapshot.meta.step, 1);
    for (const t of found?.snapshot.tensors.values() ?? []) t.dispose();
  });

  it('fingerprints ignore key order and name every differing field', () => {
    assert.equal(fingerprintOf({ a: 1, b: { c: [1, 2] } }).sha256, fingerprintOf({ b: { c: [1, 2] }, a: 1 }).sha256);
    assert.deepEqual(diffFingerprints({ lr: 0.1, data: { root: '/a', n: 5 }, aug: [1, 2] }, { lr: 0.2, data: { root: '/a' }, aug: [1, 3] }), [
      'aug[1]: 2 → 3', 'data.n: 5 → (absent)', 'lr: 0.1 → 0.2',
    ]);
  });
});

describe('resume in-process', () => {
  it('after a crash and a corrupted latest checkpoint, resumes from the previous generation and ends identical', async () => {
    const reference = await trainRun({ dir: tmp() });
    const dir = tmp();
    await assert.rejects(trainRun({ dir, extraCallbacks: [crashAt(10)] }), /simulated crash at step 10/);
    // last.ckpt holds step 9; corrupt it: the resume must fall back to last.1.ckpt (after epoch 0, step 8).
    const last = join(dir, 'last.ckpt');
    const bytes = readFileSync(last);
    bytes[bytes.length - 100] = (bytes[bytes.length - 100] as number) ^ 1;
    writeFileSync(last, bytes);
    const warnings: string[] = [];
    const resumed = await trainRun({ dir, resume: true, warn: (m) => warnings.push(m) });
    assert.equal(resumed.result.resumedFrom, join(dir, 'last.1.ckpt'));
    assert.ok(warnings.some((w) => w.includes(last) && w.includes('checksum mismatch')), warnings.join('\n'));
    assert.deepEqual(resumed.hashes, reference.hashes);
  });

  it('refuses a checkpoint made with another config, naming the field, unless forced', async () => {
    const dir = tmp();
    await assert.rejects(trainRun({ dir, extraCallbacks: [crashAt(4)] }), /simulated crash/);
    const changed = { model: 'tiny', lr: 0.02, data: { seed: 11, samples: 64 } };
    await assert.rejects(trainRun({ dir, resume: true, fingerprint: changed }), (e: Error) => {
      assert.match(e.message, /last\.ckpt: this checkpoint was made with a different config or data \(pass force: true to resume anyway\):\n {2}lr: 0\.01 → 0\.02$/);
      return true;
    });
    const forced = await trainRun({ dir, resume: true, fingerprint: changed, force: true });
    assert.equal(forced.result.resumedFrom, join(dir, 'last.ckpt'));
  });

  it('resume: auto with no checkpoint yet starts fresh; a completed run resumes to nothing', async () => {
    const dir = tmp();
    const fresh = await trainRun({ dir, resume: true });
    assert.equal(fresh.result.resumedFrom, undefined);
    assert.equal(fresh.result.step, 24);
    const again = await trainRun({ dir, resume: true });
    assert.equal(again.result.step, 24);
    assert.equal(again.result.history.length, 3, 'the history of the finished run, from its checkpoint: no epoch ran again');
    assert.deepEqual(again.result.history, fresh.result.history);
    assert.deepEqual(again.hashes, fresh.hashes);
  });

  it('loading checkpoints leaks no tensors', async () => {
    const dir = tmp();
    await trainRun({ dir, epochs: 1 });
    const before = memoryStats().liveTensors;
    for (let i = 0; i < 3; i++) {
      const f = loadLatest(dir, () => {});
      for (const t of f?.snapshot.tensors.values() ?? []) t.dispose();
    }
    assert.equal(memoryStats().liveTensors, before);
  });
});
