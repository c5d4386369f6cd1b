// The trainer, data-parallel: evaluation summed over the ranks' shards gives the whole set's
// metrics; ranks whose sources differ in length stay in step; Learner.fit with the DataParallel
// callbacks ends where one process with the global batch ends, with gradient accumulation and
// with a NaN loss on one rank only.
//
// Tolerances. Evaluation: the confusion matrix (and every metric read off it, top-k hits) is
// exact — counts added in another order are the same integers; the loss and the calibration
// error agree to 1e-6 relative: a sample's logits computed in another batch can differ in the
// last bit of float32 (the convolution blocks a batch of 16 and one of 101 differently), and the
// calibration error is a difference of close sums. Training: 2 ranks × 16 average the same gradient as 1 × 32 but sum each batch in two
// halves, so after 24 SGD steps with momentum the weights agree to rounding, |Δ| ≤ 1e-5.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { io } from '../../src/index.js';
import { FIXTURES, launchFixture, maxAbsDiff, run } from './helpers.js';

const TIMEOUT = { timeout: 180_000 };

/** The "RESULT <json>" line a fixture printed. */
function result<T>(stdout: string): T {
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `no RESULT line in:\n${stdout}`);
  return JSON.parse(line.slice('RESULT '.length)) as T;
}

/** A fixture as one process (no WORLD_SIZE), one thread. */
async function alone(fixture: string, args: string[] = []): Promise<string> {
  const { WORLD_SIZE: _, RANK: __, ...env } = process.env;
  const out = await run(process.execPath, [join(FIXTURES, fixture), ...args], { env: { ...env, OMP_NUM_THREADS: '1' } });
  assert.equal(out.code, 0, out.stderr);
  return out.stdout;
}

interface Evaluation {
  loss: number;
  samples: number;
  metrics: Record<string, number>;
  counts: number[];
  shardSize: number;
}

interface Fit {
  history: Record<string, number>[];
  skipped: number;
  step: number;
}

describe('the trainer, data-parallel', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-dist-trainer-'));

  it('a 2-rank evaluation (uneven shards of 51 and 50) gives the confusion matrix and metrics of a 1-rank one', TIMEOUT, async () => {
    const one = result<Evaluation>(await alone('evaluate-rank.js'));
    const two = await launchFixture(2, 'evaluate-rank.js');
    assert.equal(two.code, 0, two.stderr);
    const r = result<Evaluation>(two.stdout);
    assert.equal(r.shardSize, 51, 'rank 0 evaluated its shard only');
    assert.equal(r.samples, 101);
    assert.deepEqual(r.counts, one.counts);
    assert.equal(r.counts.reduce((a, b) => a + b, 0), 101);
    // The matrix has both right and wrong predictions: the comparison is not of two trivial matrices.
    assert.ok(one.metrics['accuracy']! > 0 && one.metrics['accuracy']! < 1, `accuracy ${one.metrics['accuracy']}`);
    for (const k of ['accuracy', 'f1_macro', 'top3']) assert.equal(r.metrics[k], one.metrics[k], k);
    for (const k of ['ece', 'loss']) assert.ok(Math.abs(r.metrics[k]! - one.metrics[k]!) <= 1e-6 * Math.abs(one.metrics[k]!), `${k}: ${r.metrics[k]} vs ${one.metrics[k]}`);
    assert.ok(Math.abs(r.loss - one.loss) <= 1e-6 * one.loss, `loss ${r.loss} vs ${one.loss}`);
  });

  it('ranks whose sources give 3 and 5 batches both stop after 3, each epoch, without leaking the dropped batches', TIMEOUT, async () => {
    const out = await launchFixture(2, 'lockstep-rank.js');
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.split('\n').filter((l) => l.startsWith('RESULT ')).map((l) => JSON.parse(l.slice(7)) as { rank: number; seen: number[]; closed: number; leaked: number });
    assert.equal(lines.length, 2);
    for (const l of lines) {
      assert.deepEqual(l.seen, [3, 3], `rank ${l.rank}`);
      assert.equal(l.closed, 2, `rank ${l.rank}: both inner epochs were closed`);
      assert.equal(l.leaked, 0, `rank ${l.rank}: live tensors`);
    }
  });

  for (const [what, args] of [
    ['plain', []],
    ['with gradient accumulation over 2 batches', ['--accumulate', '2']],
    ['with a NaN loss on rank 1 alone at iteration 5 (every rank skips the batch)', ['--nan-at', '5']],
    ['with batch norm as SyncBatchNorm on the ranks (the global batch\'s statistics)', ['--bn', '--sync-bn']],
  ] as const) {
    it(`Learner.fit on 2 ranks × 16 ends where 1 process × 32 does (|Δ| ≤ 1e-5), ${what}`, TIMEOUT, async () => {
      const tag = args.join('') || 'plain';
      const one = result<Fit>(await alone('fit-rank.js', ['--out', join(dir, `one-${tag}.pt`), ...args]));
      const two = await launchFixture(2, 'fit-rank.js', ['--out', join(dir, `two-${tag}.pt`), ...args]);
      assert.equal(two.code, 0, two.stderr);
      const r = result<Fit>(two.stdout);
      const diff = maxAbsDiff(io.loadPt(join(dir, `two-${tag}.pt`)), io.loadPt(join(dir, `one-${tag}.pt`)));
      assert.ok(diff <= 1e-5, `max |Δ| ${diff}`);
      assert.equal(r.step, one.step);
      assert.equal(r.skipped, one.skipped);
      if (args[0] === '--nan-at') assert.equal(r.skipped, 1);
      // (History counts a skipped batch's loss, so the epoch of the NaN has a NaN train_loss in both runs.)
      const close = (x: number, y: number) => (Number.isNaN(x) && Number.isNaN(y)) || Math.abs(x - y) <= 1e-5;
      for (const [e, row] of r.history.entries()) {
        const ref = one.history[e]!;
        // Training loss and accuracy are the global batch's (summed over the ranks), validation the whole set's.
        assert.ok(close(row['train_loss']!, ref['train_loss']!), `epoch ${e} train_loss ${row['train_loss']} vs ${ref['train_loss']}`);
        assert.ok(Math.abs(row['val_loss']! - ref['val_loss']!) <= 1e-5, `epoch ${e} val_loss`);
        assert.equal(row['train_accuracy'], ref['train_accuracy'], `epoch ${e} train_accuracy`);
        assert.equal(row['val_accuracy'], ref['val_accuracy'], `epoch ${e} val_accuracy`);
      }
      // The model learned: the comparison has teeth.
      assert.ok(one.history.at(-1)!['val_accuracy']! > 0.5, `val_accuracy ${one.history.at(-1)!['val_accuracy']}`);
    });
  }
});
