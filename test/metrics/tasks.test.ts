// The metrics of the tasks beyond classification against the numpy reference
// (test/metrics/reference_tasks.py: definitions, computed another way): segmentation from pixels,
// multi-label AP and F1, the Fréchet distance and class coverage; each through the pure functions
// and through the accumulators fed batch by batch, plus the properties that need no reference.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { memoryStats, scope, tensor, type Tensor } from '../../src/index.js';
import {
  ClassCoverage, FeatureMoments, FrechetDistance, MeanAveragePrecision, MeanDice, MeanIoU, MultilabelF1Score, PixelAccuracy, averagePrecision, classCoverage,
  confusionMatrix, createSegmentationMetric, featureStats, frechetDistance, frechetDistanceOf, multilabelAveragePrecision, multilabelF1, segmentationScores,
} from '../../src/metrics/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REFERENCE = join(HERE, '..', '..', '..', 'test', 'metrics', 'reference_tasks.py');
const PYTHON = process.env.TESSERA_PYTHON ?? '/usr/bin/python3';

function reference<T>(request: Record<string, unknown[]>): Record<string, T[]> {
  const proc = spawnSync(PYTHON, [REFERENCE], { input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (proc.error) throw new Error(`cannot run ${PYTHON}: ${proc.error.message}`);
  assert.equal(proc.status, 0, proc.stderr);
  return JSON.parse(proc.stdout) as Record<string, T[]>;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
const gauss = (r: () => number) => Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());

const close = (actual: number | null, expected: number | null, what: string, tol = 1e-9): void => {
  if (expected === null) return assert.ok(actual === null || Number.isNaN(actual), `${what}: expected undefined, got ${actual}`);
  assert.ok(actual !== null && Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs reference ${expected}`);
};

// ---- segmentation: K = 5; targets use classes 0-2 and 255 (ignored); class 3 is predicted but never
// true (IoU 0, counted), class 4 never predicted nor true (no IoU, left out of the means).
const [N, K, H, W] = [4, 5, 7, 9];
const seg = (() => {
  const r = rng(11);
  const logits = Float32Array.from({ length: N * K * H * W }, (_, i) => (Math.floor(i / (H * W)) % K === 4 ? -50 : gauss(r)));
  const target = Int32Array.from({ length: N * H * W }, () => (r() < 0.1 ? 255 : Math.floor(r() * 3)));
  // Make the prediction right on about half of the pixels.
  for (let i = 0; i < target.length; i++) {
    const t = target[i] as number;
    if (t !== 255 && r() < 0.5) logits[(Math.floor(i / (H * W)) * K + t) * H * W + (i % (H * W))] = 9;
  }
  const pred = Int32Array.from({ length: N * H * W }, (_, i) => {
    const [n, p] = [Math.floor(i / (H * W)), i % (H * W)];
    let best = 0;
    for (let k = 1; k < K; k++) if ((logits[(n * K + k) * H * W + p] as number) > (logits[(n * K + best) * H * W + p] as number)) best = k;
    return best;
  });
  return { logits, target, pred };
})();

interface SegRef { iou: (number | null)[]; dice: (number | null)[]; support: number[]; miou: number | null; mdice: number | null; pixel_accuracy: number | null }
interface MlRef {
  ap: (number | null)[]; map: number | null;
  per_class: { precision: number; recall: number; f1: number; support: number }[];
  macro: Record<'precision' | 'recall' | 'f1', number>; micro: Record<'precision' | 'recall' | 'f1', number>;
}
interface FdRef { fd: number; mean_x: number[]; cov_x: number[][] }
interface CovRef { counts: number[]; covered: number }

// ---- multi-label: N × 6 labels, logits from a palette (ties), label 5 never positive, label 4 always.
const ML = (() => {
  const r = rng(12);
  const [n, k] = [240, 6];
  const logits: number[][] = [];
  const targets: number[][] = [];
  for (let i = 0; i < n; i++) {
    const y = Array.from({ length: k }, (_, j) => (j === 5 ? 0 : j === 4 ? 1 : r() < 0.3 + 0.1 * j ? 1 : 0));
    // Positives score higher on average; multiples of 1/4 in [-4, 4] tie often.
    logits.push(y.map((v) => Math.round((gauss(r) + (v ? 1.2 : -0.4)) * 4) / 4));
    targets.push(y);
  }
  return { logits, targets, n, k };
})();
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

// ---- Fréchet distance: correlated 6-D features, and a rank-deficient pair (fewer vectors than dimensions).
function features(seed: number, n: number, d: number, shift: number): number[][] {
  const r = rng(seed);
  const mix = Array.from({ length: d }, () => Array.from({ length: d }, () => gauss(r) * 0.7));
  return Array.from({ length: n }, () => {
    const z = Array.from({ length: d }, () => gauss(r));
    return mix.map((row, j) => Math.fround(row.reduce((s, m, i) => s + m * (z[i] as number), 0) + shift * (j + 1)));
  });
}
const FX = features(13, 300, 6, 0);
const FY = features(14, 250, 6, 0.3);
const SX = features(15, 5, 8, 0);
const SY = features(16, 6, 8, 1);
const COV_LOGITS = (() => {
  const r = rng(17);
  // 60 samples over 10 classes, most in classes 0-3, a few stray ones elsewhere.
  return Array.from({ length: 60 }, (_, i) => Array.from({ length: 10 }, (_, k) => (k === (i < 56 ? i % 4 : 4 + (i % 3)) ? 3 : 0) + gauss(r) * 0.1));
})();

const REF = reference<unknown>({
  segmentation: [{ target: Array.from(seg.target), pred: Array.from(seg.pred), num_classes: K, ignore_index: 255 }],
  multilabel: [{ scores: ML.logits.map((row) => row.map(sigmoid)), targets: ML.targets, threshold: 0.5 }],
  frechet: [{ x: FX, y: FY }, { x: SX, y: SY }],
  coverage: [{ logits: COV_LOGITS, min_count: 1 }, { logits: COV_LOGITS, min_count: 3 }],
});
const segRef = REF.segmentation![0] as SegRef;
const mlRef = REF.multilabel![0] as MlRef;
const [fdRef, fdRankRef] = REF.frechet as [FdRef, FdRef];
const [cov1, cov3] = REF.coverage as [CovRef, CovRef];

describe('segmentation metrics', () => {
  const checkScores = (s: ReturnType<typeof segmentationScores>, what: string) => {
    s.perClass.forEach((c, k) => {
      close(c.iou, segRef.iou[k]!, `${what} class ${k} IoU`);
      close(c.dice, segRef.dice[k]!, `${what} class ${k} Dice`);
      assert.equal(c.support, segRef.support[k], `${what} class ${k} support`);
    });
    close(s.meanIoU, segRef.miou, `${what} mean IoU`);
    close(s.meanDice, segRef.mdice, `${what} mean Dice`);
    close(s.pixelAccuracy, segRef.pixel_accuracy, `${what} pixel accuracy`);
  };

  it('from label arrays (the pure function) equal the reference', () => {
    const s = segmentationScores(confusionMatrix(seg.target, seg.pred, K, { ignoreIndex: 255 }));
    checkScores(s, 'arrays');
    assert.equal(s.perClass[3]!.iou, 0, 'predicted, never true: IoU 0');
    assert.equal(s.perClass[4]!.iou, null, 'neither: no IoU');
  });

  it('the accumulators fed (N, K, H, W) logits in two batches, and uint8 masks, equal the reference', () => {
    const live = memoryStats().liveTensors;
    const metrics = [new MeanIoU(K), new MeanDice(K), new PixelAccuracy(K)];
    scope(() => {
      const logits = tensor(seg.logits, { shape: [N, K, H, W] });
      const target = tensor(Uint8Array.from(seg.target), { shape: [N, H, W] });
      for (const [a, b] of [[0, 1], [1, N]]) for (const m of metrics) m.update(logits.narrow(0, a!, b! - a!), target.narrow(0, a!, b! - a!));
    });
    checkScores(metrics[0]!.scores(), 'accumulated');
    close(metrics[0]!.compute(), segRef.miou, 'miou');
    close(metrics[1]!.compute(), segRef.mdice, 'dice');
    close(metrics[2]!.compute(), segRef.pixel_accuracy, 'pixel_accuracy');
    assert.deepEqual(metrics.map((m) => m.name), ['miou', 'dice', 'pixel_accuracy']);
    assert.equal(memoryStats().liveTensors, live, 'the metrics keep no tensors');
    // (N, H, W) integer predictions count the same.
    const byPred = new MeanIoU(K);
    scope(() => byPred.update(tensor(seg.pred, { shape: [N, H, W] }), tensor(seg.target, { shape: [N, H, W] })));
    close(byPred.compute(), segRef.miou, 'miou from predictions');
    for (const m of metrics) m.reset();
    assert.ok(Number.isNaN(metrics[0]!.compute()), 'NaN after reset');
  });

  it('names the shapes and values it refuses; createSegmentationMetric knows the names', () => {
    const m = new MeanIoU(3);
    scope(() => {
      assert.throws(() => m.update(tensor([[[[0.1]], [[0.2]]]]), tensor([[[0]]])), /MeanIoU.update: output must be \(N, 3, H, W\) scores or \(N, H, W\) integer predictions, got float32 \[1, 2, 1, 1\]/);
      assert.throws(() => m.update(tensor([[[[0.1]], [[0.2]], [[0.3]]]]), tensor([[0]])), /target must be \(N, H, W\) = \[1, 1, 1\] integer class indices, got int64 \[1, 1\]/);
      assert.throws(() => m.update(tensor([[[[0.1]], [[0.2]], [[0.3]]]]), tensor([[[7]]])), /target 7 is not a class index in \[0, 3\) \(nor the ignore index 255\)/);
    });
    assert.equal(createSegmentationMetric('dice', 4).name, 'dice');
    assert.equal(createSegmentationMetric('miou', 4, { ignoreIndex: 0 }).name, 'miou');
    assert.throws(() => createSegmentationMetric('iou', 4), /unknown segmentation metric 'iou': expected one of miou, dice, pixel_accuracy/);
  });
});

describe('multi-label metrics', () => {
  const flat = (rows: number[][]) => rows.flat();
  const checkF1 = (r: ReturnType<typeof multilabelF1>, what: string) => {
    r.perClass.forEach((c, k) => {
      for (const m of ['precision', 'recall', 'f1', 'support'] as const) close(c[m], mlRef.per_class[k]![m], `${what} label ${k} ${m}`);
    });
    for (const avg of ['macro', 'micro'] as const) for (const m of ['precision', 'recall', 'f1'] as const) close(r[avg][m], mlRef[avg][m], `${what} ${avg} ${m}`);
  };

  it("average precision (sklearn's, ties as one step) and F1 at 0.5 from full arrays", () => {
    const ap = multilabelAveragePrecision(flat(ML.logits), flat(ML.targets), ML.k);
    ap.perClass.forEach((a, k) => close(a, mlRef.ap[k]!, `label ${k} AP`));
    close(ap.mean, mlRef.map, 'mean AP');
    assert.deepEqual(ap.undefinedClasses, [5]);
    assert.equal(ap.perClass[4], 1, 'a label positive everywhere has AP 1');
    checkF1(multilabelF1(flat(ML.logits).map(sigmoid), flat(ML.targets), ML.k), 'arrays');
    // By hand: scores [0.9, 0.8, 0.8, 0.1], positives [1, 0, 1, 0]: P@1 = 1 (R 0.5), tie → P = 2/3 at R 1.
    close(averagePrecision([0.9, 0.8, 0.8, 0.1], [1, 0, 1, 0]), 0.5 * 1 + 0.5 * (2 / 3), 'hand AP');
    assert.equal(averagePrecision([0.3, 0.2], [0, 0]), null);
  });

  it('the accumulators fed logits batch by batch equal the reference', () => {
    const map = new MeanAveragePrecision(ML.k);
    const macro = new MultilabelF1Score(ML.k);
    const micro = new MultilabelF1Score(ML.k, { average: 'micro' });
    for (let a = 0; a < ML.n; a += 64)
      scope(() => {
        const x = tensor(ML.logits.slice(a, a + 64));
        const y = tensor(ML.targets.slice(a, a + 64)); // int64 0/1
        for (const m of [map, macro, micro]) m.update(x, y);
      });
    close(map.compute(), mlRef.map, 'map');
    close(macro.compute(), mlRef.macro.f1, 'f1_macro');
    close(micro.compute(), mlRef.micro.f1, 'f1_micro');
    checkF1(macro.result(), 'accumulated');
    assert.deepEqual([map.name, macro.name, micro.name], ['map', 'f1_macro', 'f1_micro']);
    // Probabilities given as such, and a threshold, are read.
    const p = new MultilabelF1Score(2, { inputs: 'probabilities', threshold: 0.7 });
    scope(() => p.update(tensor([[0.8, 0.6], [0.75, 0.9]]), tensor([[1, 1], [0, 1]])));
    assert.deepEqual(p.result().perClass.map((c) => [c.precision, c.recall]), [[0.5, 1], [1, 0.5]]);
    map.reset();
    assert.ok(Number.isNaN(map.compute()));
  });

  it('refuses targets that are not 0/1 and shapes that do not match, naming them', () => {
    const m = new MeanAveragePrecision(2);
    scope(() => {
      assert.throws(() => m.update(tensor([[0.1, 0.2]]), tensor([[1, 2]])), /MeanAveragePrecision.update: target\[0\]\[1\] = 2 is not 0 or 1/);
      assert.throws(() => m.update(tensor([[0.1, 0.2]]), tensor([1])), /target must be N×2 0\/1 labels like the output \[1, 2\], got \[1\]/);
      assert.throws(() => m.update(tensor([[0.1, 0.2, 0.3]]), tensor([[1, 0, 1]])), /output must be N×2 scores, got shape \[1, 3\]/);
    });
    assert.throws(() => multilabelF1([0.1, 0.2, 0.3], [0, 1, 0], 2), /scores and targets must both hold N×2 values/);
    assert.throws(() => new MultilabelF1Score(2, { threshold: 2 }), /threshold must be a probability in \[0, 1\], got 2/);
  });
});

describe('Fréchet distance and class coverage', () => {
  const t = (rows: number[][]) => tensor(rows);

  it('equals the reference (numpy.cov, eigenvalues of Σ1·Σ2), also with fewer vectors than dimensions', () => {
    scope(() => {
      close(frechetDistanceOf(t(FX), t(FY)), fdRef.fd, 'FD', 1e-9);
      const s = featureStats(t(FX));
      assert.equal(s.count, 300);
      (s.mean.data() as Float64Array).forEach((v, i) => close(v, fdRef.mean_x[i]!, `mean[${i}]`));
      (s.cov.data() as Float64Array).forEach((v, i) => close(v, fdRef.cov_x[Math.floor(i / 6)]![i % 6]!, `cov[${i}]`));
      close(frechetDistanceOf(t(SX), t(SY)), fdRankRef.fd, 'rank-deficient FD', 1e-7);
    });
  });

  it('exact properties: d(x, x) = 0, d(x, x + c) = |c|², d(x, 2x) = |μ|² + tr Σ', () => {
    scope(() => {
      const x = t(FY).double();
      assert.ok(frechetDistanceOf(x, x) < 1e-9);
      const c = tensor([0.5, -1, 2, 0, 0.25, 3], { dtype: 'float64' });
      close(frechetDistanceOf(x, x.add(c)), c.dot(c).item() as number, 'shift', 1e-9);
      const { mean, cov } = featureStats(x);
      close(frechetDistanceOf(x, x.mul(2)), (mean.dot(mean).item() as number) + (cov.diagonal().sum().item() as number), 'scale', 1e-9);
    });
  });

  it('accumulated batch by batch (Chan) equals the whole set; a fixed reference gives the same value', () => {
    const live = memoryStats().liveTensors;
    const fd = new FrechetDistance();
    scope(() => {
      const [x, y] = [t(FX), t(FY)];
      // Different batch sizes on the two sides, and an empty batch.
      for (let i = 0; i < 5; i++) fd.update(x.narrow(0, i * 60, 60), y.narrow(0, i * 50, 50));
      fd.update(x.narrow(0, 0, 0), y.narrow(0, 0, 0));
    });
    close(fd.compute(), fdRef.fd, 'streamed FD', 1e-9);
    fd.reset();
    assert.equal(memoryStats().liveTensors, live, 'reset frees the running statistics');
    const fixed = scope(() => new FrechetDistance({ reference: featureStats(t(FY)) }));
    scope(() => {
      fixed.update(t(FX.slice(0, 100)));
      fixed.update(t(FX.slice(100)));
    });
    close(fixed.compute(), fdRef.fd, 'FD against a fixed reference', 1e-9);
    scope(() => assert.throws(() => fixed.update(t(FX), t(FY)), /the real set is the fixed reference; give generated features only/));
    fixed.dispose();
    assert.equal(memoryStats().liveTensors, live, 'dispose frees the reference');
    const moments = new FeatureMoments();
    scope(() => moments.update(t([[1.5, 2]])));
    assert.throws(() => moments.stats(), /a covariance needs at least 2 feature vectors, got 1/);
    scope(() => assert.throws(() => moments.update(t([[1.5, 2, 3]])), /features have 3 dimensions, earlier batches had 2/));
    moments.reset();
    scope(() => {
      assert.throws(() => new FrechetDistance().update(t(FX)), /give the real features too/);
      assert.throws(() => frechetDistance(featureStats(t(FX)), featureStats(t(SX))), /the two sets' features have 6 and 8 dimensions/);
    });
  });

  it('class coverage counts argmax classes and those with at least minCount samples', () => {
    const one = new ClassCoverage(10);
    const three = new ClassCoverage(10, { minCount: 3 });
    scope(() => {
      const x = tensor(COV_LOGITS) as Tensor;
      for (const m of [one, three]) {
        m.update(x.narrow(0, 0, 30));
        m.update(x.narrow(0, 30, 30));
      }
    });
    assert.deepEqual(one.counts(), cov1.counts);
    assert.equal(one.compute(), cov1.covered);
    assert.equal(three.compute(), cov3.covered);
    assert.equal(one.compute(), 7);
    assert.equal(three.compute(), 4, 'the stray classes fall below 3 samples');
    assert.equal(classCoverage([5, 0, 2, 1], 2), 2);
    assert.throws(() => classCoverage([1], 0), /minCount must be > 0, got 0/);
    scope(() => assert.throws(() => one.update(tensor([[1.5, 2]])), /ClassCoverage.update: output must be N×10 floating point scores, got float32 \[1, 2\]/));
  });
});
