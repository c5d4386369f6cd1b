// Every metric against the numpy reference (test/metrics/reference.py: the textbook definitions),
// on random data with ties, ignored targets and classes that never occur: once through the pure
// functions on full arrays, once through the tensor accumulators fed batch by batch.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { memoryStats, scope, tensor } from '../../src/index.js';
import {
  Accuracy, CalibrationError, ClassificationEvaluator, classificationReport, confusionMatrix, ConfusionMatrix, createMetric, F1Score,
  MeanLoss, Precision, Recall, RocAuc, TopKAccuracy, binaryAuc, expectedCalibrationError, rocAucOvr, topKAccuracy, type Metric,
} from '../../src/metrics/index.js';
import { argmaxRows } from '../../src/metrics/confusion.js';
import { RandomStream } from '../../src/data/random.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REFERENCE = join(HERE, '..', '..', '..', 'test', 'metrics', 'reference.py');
const PYTHON = process.env.TESSERA_PYTHON ?? '/usr/bin/python3';
const IGNORE = -100;

interface Case { scores: number[]; labels: number[]; num_classes: number; ignore_index: number; inputs: 'logits' | 'probabilities'; k: number[] }
interface Ref {
  n: number; confusion: number[][]; accuracy: number;
  per_class: { precision: number; recall: number; f1: number; support: number }[];
  macro: Record<'precision' | 'recall' | 'f1', number>; micro: Record<'precision' | 'recall' | 'f1', number>; weighted: Record<'precision' | 'recall' | 'f1', number>;
  topk: Record<string, number>; auc: (number | null)[]; auc_macro: number | null; auc_weighted: number | null;
  ece: number; ece_bins: { count: number; confidence: number | null; accuracy: number | null }[];
  loss: number; most_confused: [number, number, number][]; highest_loss: [number, number][];
}

function reference(cases: Case[]): Ref[] {
  const proc = spawnSync(PYTHON, [REFERENCE], { input: JSON.stringify({ cases }), encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (proc.error) throw new Error(`cannot run ${PYTHON}: ${proc.error.message}`);
  assert.equal(proc.status, 0, proc.stderr);
  return (JSON.parse(proc.stdout) as { results: Ref[] }).results;
}

function rng(seed: number): () => number {
  const r = new RandomStream({ seed, purpose: 'test' });
  return () => r.float();
}

/** Probabilities in multiples of 1/64 (many exact ties across rows and within rows; never on a 1/15 bin edge). */
function probabilityCase(seed: number, n: number, K: number, absent: number[], neverPredicted: number[]): Case {
  const r = rng(seed);
  const scores: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) scores.push(neverPredicted.includes(k) ? 0 : (1 + Math.floor(r() * 64)) / 64);
    let y = Math.floor(r() * K);
    while (absent.includes(y)) y = Math.floor(r() * K);
    labels.push(r() < 0.05 ? IGNORE : y);
  }
  // Make the model better than chance so the metrics are not all near 1/K.
  for (let i = 0; i < n; i++) if (labels[i] !== IGNORE && r() < 0.5) scores[i * K + (labels[i] as number)] = 1;
  return { scores, labels, num_classes: K, ignore_index: IGNORE, inputs: 'probabilities', k: [1, 2, 3] };
}

/** float32 logits drawn from a small palette of rows (ties across samples), some rows with equal entries (ties within a row). */
function logitCase(seed: number, n: number, K: number, absent: number[]): Case {
  const r = rng(seed);
  const palette = Array.from({ length: 40 }, (_, p) => {
    const row = Float32Array.from({ length: K }, () => (r() - 0.5) * 6);
    if (p % 3 === 0) row[K - 1] = row[0] as number;
    if (p % 5 === 0) row[2] = row[1] as number;
    return Array.from(row);
  });
  const scores: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    let y = Math.floor(r() * K);
    while (absent.includes(y)) y = Math.floor(r() * K);
    const row = [...(palette[Math.floor(r() * palette.length)] as number[])];
    if (r() < 0.4) row[y] = Math.fround((row[y] as number) + 2);
    scores.push(...row);
    labels.push(r() < 0.05 ? IGNORE : y);
  }
  return { scores, labels, num_classes: K, ignore_index: IGNORE, inputs: 'logits', k: [1, 2, 3] };
}

const close = (actual: number | null, expected: number | null, what: string, tol = 1e-9): void => {
  if (expected === null) return assert.equal(actual, null, `${what}: expected null`);
  assert.ok(actual !== null && Math.abs(actual - expected) <= tol, `${what}: ${actual} vs reference ${expected}`);
};

const probs = probabilityCase(1, 600, 6, [4, 5], [5]);
const logits = logitCase(2, 700, 7, [6]);
const [refP, refL] = reference([probs, logits]) as [Ref, Ref];

describe('metrics on full arrays vs the numpy reference', () => {
  const K = probs.num_classes;
  it('confusion matrix, accuracy, precision/recall/F1 (per class, macro, micro, weighted)', () => {
    const report = classificationReport(probs.scores, probs.labels, K, { topK: [1, 2, 3] });
    assert.deepEqual(report.confusion.counts, refP.confusion);
    assert.equal(report.numSamples, refP.n);
    close(report.accuracy, refP.accuracy, 'accuracy');
    report.perClass.forEach((c, k) => {
      for (const m of ['precision', 'recall', 'f1', 'support'] as const) close(c[m], refP.per_class[k]![m], `class ${k} ${m}`);
    });
    for (const avg of ['macro', 'micro', 'weighted'] as const)
      for (const m of ['precision', 'recall', 'f1'] as const) close(report[avg][m], refP[avg][m], `${avg} ${m}`);
    // Class 4 is predicted but never true (precision 0, counted in macro); class 5 neither (left out of macro).
    assert.equal(report.perClass[4]!.support, 0);
    assert.ok(report.confusion.counts.some((row) => row[4]! > 0), 'class 4 is predicted somewhere');
    assert.deepEqual(report.confusion.normalized[5], [0, 0, 0, 0, 0, 0]);
    assert.deepEqual(report.mostConfused.map((p) => [p.trueClass, p.predClass, p.count]), refP.most_confused);
  });

  it('top-k with ties broken by class index', () => {
    for (const k of probs.k) close(topKAccuracy(probs.scores, probs.labels, K, k), refP.topk[String(k)]!, `top${k}`);
    // Ties: scores [0.5, 0.5, 0.2]; class 1 ranks second (after class 0), so top-1 misses it and top-2 has it.
    assert.equal(topKAccuracy([0.5, 0.5, 0.2], [1], 3, 1), 0);
    assert.equal(topKAccuracy([0.5, 0.5, 0.2], [1], 3, 2), 1);
    assert.equal(topKAccuracy([0.5, 0.5, 0.2], [0], 3, 1), 1);
  });

  it('ROC-AUC one-vs-rest with ties; classes without positives are null and left out of the averages', () => {
    const auc = rocAucOvr(probs.scores, probs.labels, K);
    auc.perClass.forEach((a, k) => close(a, refP.auc[k]!, `auc class ${k}`));
    close(auc.macro, refP.auc_macro, 'auc macro');
    close(auc.weighted, refP.auc_weighted, 'auc weighted');
    assert.deepEqual(auc.undefinedClasses, [4, 5]);
    // The classic example: y = [0, 0, 1, 1], s = [0.1, 0.4, 0.35, 0.8] → 0.75; all scores tied → 0.5.
    assert.equal(binaryAuc(Float64Array.of(0.35, 0.8), Float64Array.of(0.1, 0.4)), 0.75);
    assert.equal(binaryAuc(Float64Array.of(1, 1), Float64Array.of(1, 1, 1)), 0.5);
    assert.equal(rocAucOvr([0.3, 0.7, 0.6, 0.4], [1, 1], 2).macro, null, 'one class only: no ROC curve at all');
  });

  it('expected calibration error, 15 bins', () => {
    const ece = expectedCalibrationError(probs.scores, probs.labels, K);
    close(ece.ece, refP.ece, 'ece');
    assert.equal(ece.bins.length, 15);
    ece.bins.forEach((b, i) => {
      assert.equal(b.count, refP.ece_bins[i]!.count, `bin ${i} count`);
      close(b.confidence, refP.ece_bins[i]!.confidence, `bin ${i} confidence`);
      close(b.accuracy, refP.ece_bins[i]!.accuracy, `bin ${i} accuracy`);
    });
    close(classificationReport(probs.scores, probs.labels, K).loss, refP.loss, 'log loss');
  });

  it('rejects bad input with messages that name the fault', () => {
    assert.throws(() => confusionMatrix([0, 7], [0, 1], 3), /label\[1\] = 7 is not a class index in \[0, 3\)/);
    assert.throws(() => topKAccuracy([0.1, 0.2], [0, 1], 2, 1), /scores must hold N×K = 2×2 = 4 values/);
    assert.throws(() => rocAucOvr([Number.NaN, 1], [0], 2), /score\[0\]\[0\] is NaN/);
    assert.throws(() => classificationReport([1, 0], [0], 2, { classes: ['a'] }), /1 class names for 2 classes/);
  });
});

/** Feeds the logit case to metrics in uneven batches (one of them entirely ignored). */
function feed(metrics: { update: Metric['update'] }[], c: Case): void {
  const K = c.num_classes;
  const cuts = [0, 64, 200, 201, 260, c.labels.length];
  const labels = [...c.labels];
  for (let i = 201; i < 260; i++) labels[i] = IGNORE; // a batch with nothing to count
  c.labels.splice(0, c.labels.length, ...labels);
  for (let b = 0; b + 1 < cuts.length; b++) {
    const [lo, hi] = [cuts[b]!, cuts[b + 1]!];
    scope(() => {
      const out = tensor(Float32Array.from(c.scores.slice(lo * K, hi * K)), { shape: [hi - lo, K] });
      const tgt = tensor(BigInt64Array.from(c.labels.slice(lo, hi), BigInt));
      for (const m of metrics) m.update(out, tgt);
    });
  }
}

describe('tensor accumulators vs the numpy reference (batch by batch)', () => {
  const K = logits.num_classes;
  const c: Case = { ...logits, labels: [...logits.labels] };
  const metrics = {
    cm: new ConfusionMatrix(K), acc: new Accuracy(K), f1: new F1Score(K), f1w: new F1Score(K, { average: 'weighted' }),
    p: new Precision(K), r: new Recall(K, { average: 'micro' }), top2: new TopKAccuracy(K, 2), top3: createMetric('top3', K),
    auc: new RocAuc(K), ece: new CalibrationError(K), loss: new MeanLoss(K), evaluator: new ClassificationEvaluator(K, { keepHighestLoss: 8 }),
  };
  const before = memoryStats().liveTensors;
  feed(Object.values(metrics), c);
  const ref = reference([c])[0]!;

  it('leaves no tensor behind', () => assert.equal(memoryStats().liveTensors, before));

  it('confusion-matrix metrics', () => {
    assert.deepEqual(metrics.cm.rows(), ref.confusion);
    close(metrics.acc.compute(), ref.accuracy, 'accuracy');
    close(metrics.f1.compute(), ref.macro.f1, 'f1 macro');
    close(metrics.f1w.compute(), ref.weighted.f1, 'f1 weighted');
    close(metrics.p.compute(), ref.macro.precision, 'precision macro');
    close(metrics.r.compute(), ref.micro.recall, 'recall micro');
    assert.deepEqual([metrics.acc.name, metrics.f1.name, metrics.f1w.name, metrics.top3.name], ['accuracy', 'f1_macro', 'f1_weighted', 'top3']);
  });

  it('top-k, ROC-AUC, ECE and mean loss', () => {
    close(metrics.top2.compute(), ref.topk['2']!, 'top2');
    close(metrics.top3.compute(), ref.topk['3']!, 'top3');
    close(metrics.auc.compute(), ref.auc_macro, 'auc macro');
    close(metrics.ece.compute(), ref.ece, 'ece');
    close(metrics.loss.compute(), ref.loss, 'loss', 1e-12);
    assert.deepEqual([metrics.loss.mode, metrics.ece.mode, metrics.auc.mode], ['min', 'min', 'max']);
  });

  it('the evaluator gives the same report, and the highest-loss samples by stream position', () => {
    const report = metrics.evaluator.report({ topK: [1, 3] });
    assert.deepEqual(report.confusion.counts, ref.confusion);
    close(report.macro.auc, ref.auc_macro, 'auc');
    close(report.loss, ref.loss, 'loss', 1e-12);
    close(report.topK[1]!.accuracy, ref.topk['3']!, 'top3');
    assert.deepEqual(report.aucUndefined, ['6']);
    const worst = metrics.evaluator.highestLoss();
    assert.deepEqual(worst.map((w) => w.index), ref.highest_loss.map(([i]) => i));
    worst.forEach((w, i) => {
      close(w.loss, ref.highest_loss[i]![1], `highest loss ${i}`, 1e-9);
      assert.equal(w.target, c.labels[w.index]);
      close(w.targetProbability, Math.exp(-w.loss), 'p(true) = exp(-loss)', 1e-12);
      const row = c.scores.slice(w.index * K, (w.index + 1) * K);
      assert.equal(w.pred, argmaxRows(row, K)[0]);
    });
  });

  it('reset starts over; compute before any sample is NaN', () => {
    for (const m of [metrics.acc, metrics.top2, metrics.auc, metrics.ece, metrics.loss, metrics.f1]) {
      m.reset();
      assert.ok(Number.isNaN(m.compute()), `${m.name} after reset`);
    }
    metrics.cm.reset();
    assert.equal(metrics.cm.total, 0);
  });

  it('accepts predicted classes as output and skips the ignore index', () => {
    const cm = new ConfusionMatrix(3);
    scope(() => cm.update(tensor([2, 0, 1, 1]), tensor([2, 1, IGNORE, 1])));
    assert.deepEqual(cm.rows(), [[0, 0, 0], [1, 1, 0], [0, 0, 1]]);
  });

  it('rejects a wrong head size, targets out of range and a target count mismatch', () => {
    scope(() => {
      const out = tensor(Float32Array.from([1, 2, 3, 4, 5, 6]), { shape: [2, 3] });
      assert.throws(() => new Accuracy(4).update(out, tensor([0, 1])), /output must be N×4 scores, got shape \[2, 3\]/);
      assert.throws(() => new TopKAccuracy(3, 1).update(out, tensor([0, 3])), /target 3 is not a class index in \[0, 3\)/);
      assert.throws(() => new MeanLoss(3).update(out, tensor([0, 1, 2])), /target must be 2 class indices/);
      assert.throws(() => new Accuracy(3).update(out, tensor([-1, 0])), /target -1 is not a class index/);
      assert.throws(() => createMetric('f2', 3), /unknown metric 'f2'/);
    });
  });
});
