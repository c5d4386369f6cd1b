// Time to accuracy (issue 5, item 10): wall time until Fashion-MNIST test accuracy first reaches 91%
// and 92%, training the seeds' CNN (`seed-mnist-cnn`: conv32-pool-conv64-pool-conv128-pool →
// dense128 → dense10, Keras init) with Adam (lr 1e-3), batch 64, inputs /255, no augmentation,
// cross-entropy, test accuracy evaluated after every epoch, at most --epochs epochs.
//
// Tessera: Learner.fit over a DataLoader (shuffle) on tensorDataset(), metrics [accuracy] (train and
// test), the test set as `val`. Peer (bench/peers/time_to_accuracy.py): the same model built in
// PyTorch, torch.optim.Adam, torch DataLoader over a TensorDataset, the same per-epoch loop with
// train loss/accuracy and a no_grad test pass. Both run with --threads intra-op threads.
//
// Same start, same data order: the peer loads Tessera's initial weights and each epoch's shuffled
// order (written to a temp dir), so both sides do the same arithmetic and need the same number of
// epochs; what differs is only how fast each gets there. Both per-epoch accuracy lists are printed
// (the numerics check). The clock starts just before training (data in memory, model built) and
// stops at the end of the evaluation pass after which accuracy first reaches the threshold;
// evaluation time is included on both sides. Both stop once the highest threshold is reached.
//
// RESULT: seconds to 91% for each side; ratio = peer seconds / Tessera seconds (> 1: Tessera is
// faster). The 92% numbers are printed on the line before. `--from-run runs/<name>` also reports
// when a `tessera train` run (the default recipe) first logged ≥ 93% validation accuracy.
//
//   node dist/bench/time-to-accuracy.js [--epochs 6] [--reps 1] [--batch 64] [--threads N] [--from-run runs/x]
//        [--samples 60000]   (fewer: a quick check that the script runs; not a measurement)
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DataLoader, tensorDataset } from '../src/data/loader/index.js';
import { FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, loadFashionMnist } from '../src/data/sources/fashion-mnist.js';
import { Accuracy } from '../src/metrics/index.js';
import { createModel } from '../src/models/registry.js';
import { crossEntropy } from '../src/nn/losses.js';
import { Adam } from '../src/optim/index.js';
import { manualSeed, memoryStats, scope, setNumThreads, type Tensor } from '../src/index.js';
import { cancelFit, type TrainContext } from '../src/train/events.js';
import { Learner } from '../src/train/learner.js';
import { defaultThreads, describeEngines, interleaveN, parseFlags, Peer, type PeerInfo } from './lib/harness.js';

const flags = parseFlags(
  { epochs: 6, reps: 1, batch: 64, 'eval-batch': 1000, lr: 1e-3, samples: 60_000, threads: defaultThreads(), seed: 0, 'from-run': '' },
  'node dist/bench/time-to-accuracy.js: seconds to 91% / 92% Fashion-MNIST test accuracy, seeds\' CNN + Adam, Tessera Learner vs PyTorch',
);
const THRESHOLDS = [0.91, 0.92] as const;
const TOP = THRESHOLDS[THRESHOLDS.length - 1] as number;
setNumThreads(flags.threads);

interface EpochPoint {
  epoch: number;
  /** Seconds since training started, at the end of this epoch's evaluation. */
  seconds: number;
  test_accuracy: number;
  train_loss: number;
}

/** Seconds until accuracy first reached `thr`, and at which epoch (1-based); undefined if never. */
function firstReach(points: readonly EpochPoint[], thr: number): { seconds: number; epoch: number } | undefined {
  const p = points.find((q) => q.test_accuracy >= thr);
  return p && { seconds: p.seconds, epoch: p.epoch + 1 };
}

const describeReach = (r: { seconds: number; epoch: number } | undefined) => (r ? `${r.seconds.toFixed(1)} s (epoch ${r.epoch})` : `not reached in ${flags.epochs} epochs`);

/** The default recipe's time to 93% from a `tessera train` run directory (optional). */
function fromRun(dir: string): void {
  const log = join(dir, 'log.jsonl');
  if (!existsSync(log)) throw new Error(`--from-run ${dir}: no log.jsonl there (a run directory of \`tessera train\`)`);
  const rows = readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r['kind'] === 'epoch');
  const config = existsSync(join(dir, 'config.json')) ? (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { model?: { name?: string } }) : {};
  const metrics = existsSync(join(dir, 'metrics.json')) ? (JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as { test_accuracy?: number; train_seconds?: number }) : {};
  let seconds = 0;
  let reached: string | undefined;
  for (const r of rows) {
    seconds += Number(r['epoch_time'] ?? NaN);
    if (reached === undefined && Number(r['val_accuracy']) >= 0.93) reached = `epoch ${Number(r['epoch']) + 1}, after ${seconds.toFixed(0)} s of training (sum of epoch_time; validation passes not included)`;
  }
  const best = Math.max(...rows.map((r) => Number(r['val_accuracy'] ?? NaN)).filter(Number.isFinite));
  console.log(`default recipe (${dir}, model ${config.model?.name ?? '?'}, ${rows.length} epochs logged): validation accuracy >= 93% ${reached ? `first at ${reached}` : `not reached (best ${(best * 100).toFixed(2)}%)`}` +
    (metrics.test_accuracy !== undefined ? `; final test accuracy ${(metrics.test_accuracy * 100).toFixed(2)}%, whole run ${metrics.train_seconds?.toFixed(0)} s` : '; run not finished (no metrics.json)'));
}

const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-tta-'));
const peer = Peer.start('time_to_accuracy.py');
let failed = false;
try {
  const rawTrain = loadFashionMnist('train');
  const rawTest = loadFashionMnist('test');
  // --samples N trains on the first N images only (a quick check of the script, not a measurement).
  const n = Math.min(flags.samples, rawTrain.count);
  const train = tensorDataset(rawTrain.images.subarray(0, n * 784), rawTrain.labels.subarray(0, n), { shape: [n, 28, 28], classes: FASHION_MNIST_CLASSES, name: 'fashion-mnist/train' });
  const test = tensorDataset(rawTest.images, rawTest.labels, { shape: [rawTest.count, 28, 28], classes: FASHION_MNIST_CLASSES, name: 'fashion-mnist/test' });
  const trainLoader = new DataLoader(train, { batchSize: flags.batch, shuffle: true, seed: flags.seed });
  const testLoader = new DataLoader(test, { batchSize: flags['eval-batch'] });

  // The initial weights and every epoch's order, for the peer.
  manualSeed(flags.seed);
  const init = createModel('seed-mnist-cnn');
  const params: { name: string; shape: number[]; file: string }[] = [];
  scope(() => {
    for (const [i, [name, t]] of [...init.stateDict()].entries()) {
      const file = `p${i}.f32`;
      writeFileSync(join(dir, file), t.contiguous().data() as Float32Array);
      params.push({ name, shape: [...t.shape], file });
    }
  });
  const orders = new Int32Array(flags.epochs * train.length);
  for (let e = 0; e < flags.epochs; e++) orders.set((trainLoader.sampler as NonNullable<typeof trainLoader.sampler>).indices(e), e * train.length);
  writeFileSync(join(dir, 'orders.i32'), orders);
  const info = await peer.call<PeerInfo & { model: string }>('init', {
    threads: flags.threads, data: FASHION_MNIST_DIR, dir, params, epochs: flags.epochs, batch: flags.batch, eval_batch: flags['eval-batch'], lr: flags.lr, samples: n,
  });
  console.log(`seed-mnist-cnn (${init.numParameters().toLocaleString('en-US')} parameters), Adam lr ${flags.lr}, batch ${flags.batch}, inputs /255, test accuracy after every epoch (batches of ${flags['eval-batch']}), at most ${flags.epochs} epochs`);
  console.log(describeEngines(peer, info));
  console.log(`PyTorch model: ${info.model}`);

  const ours = async (): Promise<EpochPoint[]> => {
    const model = createModel('seed-mnist-cnn');
    model.loadStateDict(init.stateDict());
    const optimizer = new Adam(model.parameters(), { lr: flags.lr });
    const points: EpochPoint[] = [];
    const t0 = performance.now();
    const learner = new Learner({ model, loss: (o: Tensor, y: Tensor) => crossEntropy(o, y), metrics: [new Accuracy(10)] });
    await learner.fit({
      train: trainLoader, val: testLoader, epochs: flags.epochs, optimizer, seed: flags.seed,
      callbacks: [{
        name: 'timeToAccuracy',
        afterEpoch(ctx: TrainContext) {
          const acc = ctx.logs['val_accuracy'] as number;
          points.push({ epoch: ctx.epoch, seconds: (performance.now() - t0) / 1000, test_accuracy: acc, train_loss: ctx.logs['train_loss'] as number });
          return acc >= TOP ? cancelFit(`reached ${TOP * 100}%`) : undefined;
        },
      }],
    });
    optimizer.dispose();
    model.dispose();
    return points;
  };
  const theirs = async (): Promise<EpochPoint[]> => (await peer.call<{ points: EpochPoint[] }>('run', { stop_at: TOP })).points;

  const runs: EpochPoint[][][] = [[], []];
  const live = memoryStats().liveTensors;
  const r = await interleaveN({
    reps: flags.reps,
    pids: () => [process.pid, peer.pid],
    sides: [
      { label: 'Tessera', run: async () => { const p = await ours(); runs[0]?.push(p); return firstReach(p, THRESHOLDS[0])?.seconds ?? Infinity; } },
      { label: 'PyTorch', run: async () => { const p = await theirs(); runs[1]?.push(p); return firstReach(p, THRESHOLDS[0])?.seconds ?? Infinity; } },
    ],
    maxRedo: 0, // a repetition is a whole training run: too long to redo; the load is reported instead
    onRep: (i, k, _v, pct) => {
      const p = (runs[k] as EpochPoint[][])[i] as EpochPoint[];
      console.log(`run ${i + 1} ${k === 0 ? 'Tessera' : 'PyTorch'} (other processes: ${pct.toFixed(1)}% of the machine):`);
      for (const q of p) console.log(`  epoch ${q.epoch + 1}: ${q.seconds.toFixed(1)} s, train loss ${q.train_loss.toFixed(4)}, test accuracy ${(q.test_accuracy * 100).toFixed(2)}%`);
    },
  });
  if (memoryStats().liveTensors !== live) {
    console.log(`LEAK: ${memoryStats().liveTensors - live} tensors left alive by the training runs`);
    failed = true;
  }
  const worstLoad = Math.max(...r.loads.flat());
  console.log(`machine load from other processes: at most ${worstLoad.toFixed(1)}% of the machine during a run${worstLoad > 10 ? ' — WARNING: busy machine, timings unreliable' : ''}`);

  // Same arithmetic on both sides: the per-epoch accuracies should agree (float reductions may drift slightly).
  const [o0, p0] = [runs[0]?.[0] ?? [], runs[1]?.[0] ?? []];
  const drift = Math.max(0, ...o0.slice(0, p0.length).map((q, i) => Math.abs(q.test_accuracy - (p0[i] as EpochPoint).test_accuracy)));
  console.log(`numerics: same initial weights and batch order; largest per-epoch test accuracy difference ${(drift * 100).toFixed(2)} points${drift > 0.005 ? ' — WARNING: the two trainings diverged' : ''}`);

  // Medians over repetitions (one repetition by default) of the time to each threshold.
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
  const reach = (k: number, thr: number) => median((runs[k] as EpochPoint[][]).map((p) => firstReach(p, thr)?.seconds ?? Infinity));
  const fmtS = (s: number) => (Number.isFinite(s) ? Number(s.toPrecision(6)).toString() : 'not-reached');
  const line = (name: string, thr: number) => {
    const [a, b] = [reach(0, thr), reach(1, thr)];
    const ratio = Number.isFinite(a) && Number.isFinite(b) ? (b / a).toFixed(3) : 'n/a';
    return `name=${name} ours=${fmtS(a)} peer=${fmtS(b)} ratio=${ratio} unit=s`;
  };
  for (const thr of THRESHOLDS)
    console.log(`time to ${thr * 100}%: Tessera ${describeReach(firstReach(o0, thr))}, PyTorch ${describeReach(firstReach(p0, thr))}`);
  // Whatever the thresholds, both sides trained the same epochs with the same accuracies: their
  // time for the common epochs compares the same work (reported for information, not in RESULT).
  const common = Math.min(o0.length, p0.length);
  if (common > 0) {
    const [a, b] = [(o0[common - 1] as EpochPoint).seconds, (p0[common - 1] as EpochPoint).seconds];
    console.log(`the first ${common} epoch(s), training and evaluation (run 1): Tessera ${a.toFixed(1)} s, PyTorch ${b.toFixed(1)} s, speed-up ${(b / a).toFixed(3)}x`);
  }
  if (flags['from-run']) fromRun(flags['from-run']);
  console.log(`time-to-92 ${line('time-to-accuracy-92', 0.92)}`);
  console.log(`RESULT ${line('time-to-accuracy', 0.91)}`);
  init.dispose();
  train.dispose();
  test.dispose();
} finally {
  await peer.close();
  rmSync(dir, { recursive: true, force: true });
}
if (failed) process.exitCode = 1;
