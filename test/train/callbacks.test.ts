// The stock callbacks: early stopping, the plateau driver, checkpointing, the non-finite guard,
// progress and logs; and the lr finder.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { manualSeed, optim, type Tensor } from '../../src/index.js';
import type { Metric } from '../../src/metrics/types.js';
import { callbacks, Learner, lrFind, readCheckpoint, type Callback, type FitOptions, type TrainContext } from '../../src/train/index.js';
import { ce, hashRun, MemorySource, TinyAccuracy, tinyModel } from './helpers.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'tessera-train-'));

/** Overwrites a log key each epoch with a scripted value (runs before the callbacks that read it). */
const script = (key: string, values: number[]): Callback => ({
  name: `script-${key}`,
  order: 10,
  afterEpoch: (ctx: TrainContext) => void (ctx.logs[key] = values[ctx.epoch] as number),
});

type Setup = FitOptions & { model: ReturnType<typeof tinyModel>; optimizer: optim.Optimizer; metrics?: Metric[] };
const setup = (epochs: number, extra: Partial<Setup> = {}): Setup => {
  manualSeed(0);
  const model = tinyModel();
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.1 });
  return { model, optimizer, train: new MemorySource({ samples: 16 }), epochs, seed: 0, ...extra };
};
/** fit() through a Learner of the set-up's model (cross-entropy, its metrics). */
const fit = ({ model, metrics, ...o }: Setup) => new Learner({ model, loss: ce, ...(metrics ? { metrics } : {}) }).fit(o);

describe('EarlyStopping', () => {
  it('stops after `patience` epochs without improvement beyond minDelta and restores the best weights', async () => {
    const es = new callbacks.EarlyStopping({ monitor: 'val_loss', patience: 2, minDelta: 0.01, restoreBestWeights: true });
    let bestWeights: number[] = [];
    const spy: Callback = { name: 'spy', order: 20, afterEpoch: (ctx) => void (ctx.epoch === 1 && (bestWeights = Array.from(ctx.model.parameters()[0]?.data() as Float32Array))) };
    const o = setup(20, { callbacks: [script('val_loss', [1, 0.8, 0.795, 0.9, 0.7]), spy, es] });
    const r = await fit(o);
    assert.equal(r.epochsCompleted, 4, '0.795 is not better than 0.8 by 0.01, nor is 0.9: stop after epoch 3');
    assert.match(r.stopped?.reason ?? '', /early stopping: val_loss has not improved on 0.8 \(epoch 1\) for 2 epochs/);
    assert.equal(r.stopped?.failed, false, 'an early stop is a decision, not a failure');
    assert.equal(es.bestEpoch, 1);
    assert.deepEqual(Array.from(o.model.parameters()[0]?.data() as Float32Array), bestWeights);
  });

  it('names the available keys when the monitor is missing', async () => {
    await assert.rejects(fit(setup(2, { callbacks: [new callbacks.EarlyStopping({ monitor: 'val_accuracy' })] })), /monitor 'val_accuracy' is not in the epoch's logs \(there are: epoch, step, train_loss, lr, epoch_time, images_per_second\)/);
  });
});

describe('ReduceLROnPlateauCallback', () => {
  it('reduces the lr when the monitored value stalls, using optim.ReduceLROnPlateau', async () => {
    const o = setup(6);
    const plateau = new optim.ReduceLROnPlateau(o.optimizer, { mode: 'min', factor: 0.5, patience: 1 });
    const lrs: number[] = [];
    const r = await fit({
      ...o, callbacks: [script('val_loss', [1, 0.9, 0.95, 0.97, 0.5, 0.6]), new callbacks.ReduceLROnPlateauCallback(plateau), { name: 'lr', order: 90, afterEpoch: (ctx) => void lrs.push(ctx.lrs[0] as number) }],
    });
    assert.equal(r.epochsCompleted, 6);
    assert.deepEqual(lrs, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05]);
  });
});

describe('ModelCheckpoint', () => {
  it('keeps N generations of last, the top k by a metric and best.ckpt', async () => {
    const dir = tmp();
    const saved: string[] = [];
    const ckpt = new callbacks.ModelCheckpoint({ dir, keep: 3, monitor: 'val_accuracy', saveTopK: 2, onSave: (f) => saved.push(f) });
    await fit(setup(5, { callbacks: [script('val_accuracy', [0.5, 0.7, 0.6, 0.9, 0.65]), ckpt] }));
    const files = readdirSync(dir).sort();
    assert.deepEqual(files, ['best.ckpt', 'epoch=001-val_accuracy=0.700000.ckpt', 'epoch=003-val_accuracy=0.900000.ckpt', 'last.1.ckpt', 'last.2.ckpt', 'last.ckpt']);
    const best = readCheckpoint(join(dir, 'best.ckpt'));
    assert.equal(best.meta.logs['val_accuracy'], 0.9);
    assert.equal(best.meta.epoch, 4, 'written after epoch 3: resumes at epoch 4');
    // Generations: last.ckpt is the afterFit save, last.1 the last epoch's, last.2 the one before.
    const epochs = ['last.ckpt', 'last.1.ckpt', 'last.2.ckpt'].map((f) => readCheckpoint(join(dir, f)).meta);
    assert.deepEqual(epochs.map((m) => [m.epoch, m.completed]), [[5, true], [5, false], [4, false]]);
    for (const c of [best, ...epochs.map(() => undefined)]) for (const t of c?.tensors.values() ?? []) (t as Tensor).dispose();
    assert.deepEqual(ckpt.topK.map((t) => t.value), [0.9, 0.7]);
    assert.ok(saved.some((f) => f.endsWith('best.ckpt')));
  });

  it('saves every N optimizer steps', async () => {
    const dir = tmp();
    const steps: number[] = [];
    await fit(setup(2, { train: new MemorySource({ samples: 32 }), callbacks: [new callbacks.ModelCheckpoint({ dir, everyNSteps: 3, everyEpoch: false, keep: 10, onSave: (_f, ctx) => void steps.push(ctx.step) })] }));
    assert.deepEqual(steps, [3, 6, 8], 'steps 3 and 6, then the final save');
    assert.deepEqual(readdirSync(dir).sort(), ['last.1.ckpt', 'last.2.ckpt', 'last.ckpt']);
  });
});

describe('NonFiniteGuard', () => {
  const nanSource = () => new MemorySource({ samples: 32, batchSize: 8, shuffle: false, nanSamples: [10] });

  it("'halt' stops the fit naming the epoch, batch and step", async () => {
    const r = await fit(setup(3, { train: nanSource(), callbacks: [new callbacks.NonFiniteGuard({ action: 'halt' })] }));
    assert.equal(r.stopped?.reason, 'non-finite: loss is NaN at epoch 0, batch 1 (step 2, iteration 2)');
    assert.equal(r.stopped?.failed, true, 'a halt on a non-finite loss is a failed run');
    assert.equal(r.step, 1);
  });

  it("'skip' drops the batch: no step, no scheduler step, the weights stay finite", async () => {
    const o = setup(3, { train: nanSource() });
    const guard = new callbacks.NonFiniteGuard({ action: 'skip' });
    const scheduler = new optim.StepLR(o.optimizer, { stepSize: 1, gamma: 0.9 });
    const r = await fit({ ...o, callbacks: [guard, new callbacks.SchedulerCallback(scheduler)] });
    assert.equal(guard.skipped, 3);
    assert.equal(r.step, 3 * 4 - 3);
    assert.equal(r.stopped, undefined);
    assert.ok(Math.abs((o.optimizer.paramGroups[0]?.lr as number) - 0.1 * 0.9 ** 9) < 1e-15, 'the schedule advanced only on real steps');
    for (const p of o.model.parameters()) assert.ok((p.data() as Float32Array).every(Number.isFinite));
  });

  it('a GradScaler that skips an overflowing step also skips the scheduler', async () => {
    const o = setup(1, { train: nanSource() });
    const scheduler = new optim.StepLR(o.optimizer, { stepSize: 1, gamma: 0.9 });
    const gradScaler = new optim.GradScaler({ initScale: 1024 });
    const r = await fit({ ...o, callbacks: [new callbacks.GradScalerCallback(gradScaler), new callbacks.SchedulerCallback(scheduler)] });
    assert.equal(r.step, 3);
    assert.equal(gradScaler.getScale(), 512);
    assert.ok(Math.abs((o.optimizer.paramGroups[0]?.lr as number) - 0.1 * 0.9 ** 3) < 1e-15);
    for (const p of o.model.parameters()) assert.ok((p.data() as Float32Array).every(Number.isFinite));
  });

  it('without the guard the NaN reaches the weights (so the guard tests can fail)', async () => {
    const o = setup(1, { train: nanSource() });
    await fit(o);
    assert.ok(o.model.parameters().some((p) => !(p.data() as Float32Array).every(Number.isFinite)));
  });
});

describe('lrFind', () => {
  it('sweeps lrs exponentially, stops on divergence, suggests an lr and restores model, optimizer and RNG', async () => {
    manualSeed(0);
    const model = tinyModel();
    const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
    const train = new MemorySource({ samples: 64 });
    await new Learner({ model, loss: ce }).fit({ train, epochs: 1, optimizer, seed: 0 }); // give Adam some state
    const before = hashRun(model, optimizer);
    const r = await lrFind({ model, train, optimizer, loss: ce, startLr: 1e-5, endLr: 100, numIter: 60, rule: 'valley' });
    assert.deepEqual(hashRun(model, optimizer), before);
    assert.equal(optimizer.paramGroups[0]?.lr, 1e-3);
    assert.equal(r.ended, 'diverged', 'lr 100 with Adam must blow the loss up');
    assert.ok(r.lrs.length < 60 && r.lrs.length > 10);
    for (let i = 1; i < r.lrs.length; i++) assert.ok((r.lrs[i] as number) > (r.lrs[i - 1] as number));
    assert.ok(Math.abs((r.lrs[1] as number) / (r.lrs[0] as number) - (100 / 1e-5) ** (1 / 59)) < 1e-9);
    assert.ok(r.suggestion !== undefined && r.suggestion > 1e-5 && r.suggestion < 100);
    assert.match(r.svg, /^<svg [^>]*>[\s\S]*<polyline[\s\S]*<circle[\s\S]*<\/svg>$/);
  });

  it('steepest and valley pick the expected points of a known curve', async () => {
    const { steepest, valley } = await import('../../src/train/lr-find.js');
    const lrs = Array.from({ length: 41 }, (_, i) => 10 ** (-6 + i * 0.2));
    // Flat, then a fall steepest around index 20, then a rise from index 30.
    const losses = lrs.map((_, i) => (i < 30 ? 2 - Math.tanh((i - 20) / 3) : 1 + (i - 30) * 0.5));
    assert.equal(steepest(lrs, losses), lrs[20]);
    const v = valley(lrs, losses) as number;
    assert.ok(v >= (lrs[10] as number) && v <= (lrs[22] as number), `valley ${v}`);
  });
});

describe('Progress and logs', () => {
  it('writes plain periodic lines and an epoch summary when the stream is not a terminal', async () => {
    let out = '';
    const stream = { write: (s: string) => void (out += s), isTTY: false };
    await fit(setup(2, { train: new MemorySource({ samples: 64 }), metrics: [new TinyAccuracy()], callbacks: [new callbacks.Progress({ stream, linesPerEpoch: 2 })] }));
    const lines = out.trim().split('\n');
    assert.match(lines[0] as string, /^epoch 1\/2 batch 4\/8 loss \d\.\d{4} accuracy \d\.\d{4} \d+ img\/s ETA \d+s$/);
    assert.match(lines[2] as string, /^epoch 1\/2: train_loss \d\.\d{4} train_accuracy \d\.\d{4} lr 0\.1000 \(\d+\.\d s\)$/);
    assert.match(lines.at(-1) as string, /^per batch: data [\d.]+ ms, forward [\d.]+ ms, backward [\d.]+ ms, optimizer [\d.]+ ms, callbacks [\d.]+ ms \(16 batches, \d+ samples\/s\)$/);
    assert.ok(!out.includes('\x1b'), 'no escape codes off a terminal');
  });

  it('draws a live bar with cli-progress on a terminal', async () => {
    let out = '';
    const stream = { write: (s: string) => void (out += s), isTTY: true, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true };
    await fit(setup(1, { train: new MemorySource({ samples: 64 }), metrics: [new TinyAccuracy()], callbacks: [new callbacks.Progress({ stream, refreshMs: 0 })] }));
    assert.match(out, /\x1b\[1Gepoch 1\/1 \[=+\] 8\/8 \| loss \d\.\d{4} accuracy \d\.\d{4} \| \d+ img\/s \| ETA/);
  });

  it('JSONL and CSV: one row per epoch plus one every N batches; a resumed run appends', async () => {
    const dir = tmp();
    const jsonl = new callbacks.JsonlLogger({ path: join(dir, 'log.jsonl'), everyNBatches: 4 });
    const csv = new callbacks.CsvLogger({ path: join(dir, 'log.csv') });
    await fit(setup(2, { train: new MemorySource({ samples: 64 }), val: new MemorySource({ samples: 8 }), metrics: [new TinyAccuracy()], callbacks: [jsonl, csv] }));
    const rows = readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(rows.map((r) => r['kind']), ['batch', 'batch', 'epoch', 'batch', 'batch', 'epoch']);
    assert.deepEqual(Object.keys(rows[2] as object), ['kind', 'epoch', 'step', 'train_loss', 'train_accuracy', 'lr', 'epoch_time', 'images_per_second', 'val_loss', 'val_accuracy']);
    const csvLines = readFileSync(join(dir, 'log.csv'), 'utf8').trim().split('\n');
    assert.equal(csvLines[0], 'kind,epoch,batch,step,loss,train_loss,train_accuracy,val_loss,val_accuracy,lr,epoch_time,images_per_second');
    assert.equal(csvLines.length, 3);
    assert.match(csvLines[2] as string, /^epoch,1,,16,,[\d.]+,[\d.]+,[\d.]+,[\d.]+,0\.1,[\d.e-]+,[\d.e+]+$/);
    assert.ok(existsSync(join(dir, 'log.csv')));
  });
});
