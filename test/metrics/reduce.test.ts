// Metrics of a set from the sums of its parts (data-parallel evaluation): every metric with
// sums() gives, after sumMetrics over two halves of a batch, exactly what it gives over the
// whole batch; the extra numbers are summed alike; a metric that keeps every score is refused
// before anything is communicated.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { manualSeed, metrics, randint, randn, type Tensor } from '../../src/index.js';

type Make = () => metrics.Metric;

/** `make()`'s value over the whole batch, and over two halves combined by sumMetrics as two processes would. */
async function wholeAndHalves(make: Make, output: Tensor, target: Tensor): Promise<{ whole: number; combined: number; extra: number[] }> {
  const n = output.shape[0]!;
  const whole = make();
  whole.update(output, target);
  const [a, b] = [make(), make()];
  a.update(output.narrow(0, 0, 5), target.narrow(0, 0, 5));
  b.update(output.narrow(0, 5, n - 5), target.narrow(0, 5, n - 5));
  // The other process's contribution: its extra numbers, then its metric's sums.
  const theirs = Float64Array.of(n - 5, 0.25, ...b.sums!());
  const extra = await metrics.sumMetrics([a], [5, 0.5], async (mine) => mine.map((v, i) => v + theirs[i]!));
  return { whole: whole.compute(), combined: a.compute(), extra };
}

describe('sumMetrics', () => {
  manualSeed(0);
  const K = 5;
  const logits = randn([23, K]);
  const labels = randint(0, K, [23]);
  const cases: [string, Make, Tensor, Tensor][] = [
    ['accuracy', () => new metrics.Accuracy(K), logits, labels],
    ['f1_macro', () => new metrics.F1Score(K), logits, labels],
    ['top2', () => new metrics.TopKAccuracy(K, 2), logits, labels],
    ['ece', () => new metrics.CalibrationError(K, { bins: 4 }), logits, labels],
    ['loss', () => new metrics.MeanLoss(K), logits, labels],
    ['miou', () => new metrics.MeanIoU(3), randn([23, 3, 4, 4]), randint(0, 3, [23, 4, 4])],
    ['multi-label f1', () => new metrics.MultilabelF1Score(K), logits, randint(0, 2, [23, K])],
  ];
  for (const [name, make, output, target] of cases) {
    it(`${name}: two halves summed give the whole batch's value`, async () => {
      const r = await wholeAndHalves(make, output, target);
      assert.ok(Number.isFinite(r.whole));
      // Sums of float64 values in another order: equal to the last bits.
      assert.ok(Math.abs(r.combined - r.whole) <= 1e-12 * Math.max(1, Math.abs(r.whole)), `${r.combined} vs ${r.whole}`);
      assert.deepEqual(r.extra, [23, 0.75]);
    });
  }

  it('refuses a metric that keeps every score, naming it, before calling the adder', async () => {
    let called = false;
    const adder = async (v: Float64Array) => ((called = true), v);
    await assert.rejects(metrics.sumMetrics([new metrics.Accuracy(K), new metrics.RocAuc(K)], [], adder), /^Error: metric 'auc' keeps every score rather than sums, so it cannot be combined across processes: compute it in one process$/);
    assert.equal(called, false);
  });

  it('loadSums refuses a vector of the wrong length', () => {
    assert.throws(() => new metrics.Accuracy(K).loadSums(new Float64Array(3)), /accuracy\.loadSums: expected 25 values, got 3/);
  });
});
