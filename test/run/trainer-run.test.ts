// What a `tessera train` run owes its user from the trainer's side (issue #10 items 1 (EMA), 3, 4,
// 12): train.ema is read and decides the saved weights; a run that cannot take a step, or that
// diverges, says so and exits non-zero without writing a non-finite checkpoint or model; validation
// and test report the same loss; the report gets images/s and the LR the steps used.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { resolveConfig } from '../../src/config/load.js';
import { loadStateDictFile } from '../../src/io/state-dict.js';
import { ClassificationEvaluator } from '../../src/metrics/report.js';
import { openRunData } from '../../src/run/data.js';
import { evaluateInto } from '../../src/run/evaluate.js';
import { loadRunModel } from '../../src/run/saved-model.js';
import { runTraining } from '../../src/run/train.js';
import { autocastOf } from '../../src/runtime/precision.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { readCheckpoint } from '../../src/train/index.js';
import { nonFiniteEntries } from '../../src/train/finite.js';
import { quiet, writeFolder } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'tessera-trainer-run-'));
const folder = join(root, 'colours');
const ready = writeFolder(folder, 24);
const CLI = join(process.cwd(), 'bin', 'tessera.js');

function config(name: string, extra: [string, string][] = []) {
  return resolveConfig({
    overrides: [
      ['data.source', JSON.stringify(folder)], ['data.valSplit', '0.2'], ['data.testSplit', '0.25'], ['model.name', 'mlp'], ['train.epochs', '3'],
      ['train.batchSize', '8'], ['train.optimizer.lr', '0.05'], ['train.threads', '1'], ['outDir', JSON.stringify(join(root, 'runs'))], ['name', JSON.stringify(name)],
      ...extra,
    ],
  });
}
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const epochRows = (dir: string) =>
  readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | string | null>).filter((r) => r['kind'] === 'epoch');
const maxDiff = (a: Tensor, b: Tensor) => Number(a.sub(b).abs().max().item());

test('train.ema: the EMA is validated (ema_val_*) and saved as the model; changing it changes the saved weights', async () => {
  await ready;
  const plain = await runTraining(config('plain'), quiet);
  const lines: string[] = [];
  const ema = await runTraining(config('ema', [['train.ema', '0.9']]), { ...quiet, log: (l) => lines.push(l) });
  assert.notEqual(sha(join(ema.dir, 'model.safetensors')), sha(join(plain.dir, 'model.safetensors')));
  assert.ok(lines.some((l) => /the EMA of the weights \(decay 0\.9, \d+ updates\) is saved as the run's model/.test(l)), lines.join('\n'));
  for (const row of epochRows(ema.dir)) assert.ok(typeof row['ema_val_loss'] === 'number' && typeof row['ema_val_accuracy'] === 'number', JSON.stringify(row));
  assert.ok(!('ema_val_loss' in (epochRows(plain.dir)[0] ?? {})));
  // The saved weights are the average, not the trained weights of the last checkpoint.
  const saved = loadStateDictFile(join(ema.dir, 'model.safetensors'));
  const last = readCheckpoint(join(ema.dir, 'checkpoints', 'last.ckpt'));
  for (const [k, t] of saved) {
    assert.equal(maxDiff(t, last.tensors.get(`callbacks/ema/${k}`) as Tensor), 0, k);
  }
  assert.ok([...saved].some(([k, t]) => maxDiff(t, last.tensors.get(`model/${k}`) as Tensor) > 1e-4), 'the EMA differs from the trained weights');
});

test('validation and test losses are computed the same way: plain cross-entropy, whatever the label smoothing', async () => {
  await ready;
  const c = config('smooth', [['train.labelSmoothing', '0.3']]);
  const run = await runTraining(c, quiet);
  const valLoss = epochRows(run.dir).at(-1)?.['val_loss'] as number;
  // The test pass's way (−log p of the true class, averaged) on the run's own validation split.
  const data = await openRunData(c, { splitsPath: join(run.dir, 'splits.json') });
  const { model } = loadRunModel(run.dir);
  try {
    const evaluator = new ClassificationEvaluator(3);
    // In the run's precision (train.mixedPrecision 'auto' is bf16 on a CPU with native bf16), as validation ran.
    await evaluateInto(model, data.val as NonNullable<typeof data.val>, evaluator, { precision: autocastOf(c.train.mixedPrecision) });
    const plain = evaluator.report({ classes: ['blue', 'green', 'red'] }).loss as number;
    assert.ok(Math.abs(valLoss - plain) < 1e-5 * Math.max(1, plain), `val_loss ${valLoss} vs the test computation ${plain}`);
  } finally {
    model.dispose();
    await data.close();
  }
  // The report: throughput per epoch, and the LR the steps used (one-cycle: never rising after its peak).
  const report = JSON.parse(readFileSync(join(run.dir, 'report.json'), 'utf8')) as { history: { imagesPerSecond?: number; lr?: number }[]; lrCurve: { step: number; lr: number }[] };
  for (const h of report.history) assert.ok((h.imagesPerSecond ?? 0) > 0, 'images/s is recorded');
  const curve = report.lrCurve.map((p) => p.lr);
  const peak = curve.indexOf(Math.max(...curve));
  assert.ok(peak > 0 && peak < curve.length - 1, `a one-cycle curve rises then falls: ${curve.join(', ')}`);
  for (let i = peak + 1; i < curve.length; i++) assert.ok((curve[i] as number) <= (curve[i - 1] as number), `the curve rises after its peak at point ${i}: ${curve.join(', ')}`);
  assert.equal(report.history.at(-1)?.lr, curve.at(-1), "the last epoch's lr is the last step's");
});

test('a training split smaller than one batch: the partial batch is a real step per epoch; dropped, the run is refused naming --batch-size', async () => {
  await ready;
  // Kept (the default, as PyTorch's DataLoader): one step of 40 images per epoch, a finite loss.
  const kept = await runTraining(config('big-batch', [['train.batchSize', '1000']]), quiet);
  const rows = epochRows(kept.dir);
  assert.deepEqual(rows.map((r) => r['step']), [1, 2, 3]);
  assert.ok(rows.every((r) => Number.isFinite(r['train_loss'])));
  // Dropped: nothing to train on, and the run says so before it starts.
  await assert.rejects(
    runTraining(config('big-batch-dropped', [['train.batchSize', '1000'], ['data.dropLast', 'true']]), quiet),
    /no training step would be taken: the training split has 40 images and the batch size is 1000 with the last partial batch dropped, so an epoch holds no batch; lower --batch-size \(train\.batchSize\) to at most 40 or keep the last partial batch$/,
  );
  assert.ok(!existsSync(join(root, 'runs', 'big-batch-dropped', 'metrics.json')), 'no metrics.json: the run did not finish');
});

test('lr 1e6 through the CLI: exit 1, the stop in metrics.json and the report, no non-finite checkpoint or model written', async () => {
  await ready;
  const out = join(root, 'cli-runs');
  const r = spawnSync(process.execPath, [
    CLI, 'train', folder, '--model', 'fashion-net', '--lr', '1e6', '--epochs', '2', '--batch-size', '8', '--threads', '1', '--val-split', '0.2',
    '--name', 'diverged', '--out-dir', out, '--set', 'checkpoint.everySteps=1', '--set', 'data.testSplit=0.25',
  ], { encoding: 'utf8', cwd: root });
  assert.equal(r.status, 1, `exit status (stderr: ${r.stderr})`);
  assert.match(r.stderr, /^tessera: training failed: non-finite .* at epoch 0/m);
  const dir = join(out, 'diverged');
  const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as { stopped?: { failed: boolean; step: number; reason: string }; test_accuracy?: number };
  assert.equal(metrics.stopped?.failed, true);
  assert.ok(Number.isInteger(metrics.stopped?.step) && (metrics.stopped?.step ?? 0) >= 1);
  assert.match(metrics.stopped?.reason ?? '', /non-finite/);
  assert.equal(metrics.test_accuracy, undefined, 'a failed run is not measured as if trained');
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as { stopped?: unknown };
  assert.deepEqual(report.stopped, metrics.stopped);
  assert.match(readFileSync(join(dir, 'report.html'), 'utf8'), /<strong>Training failed<\/strong> after \d+ steps: non-finite/);
  const ckpts = readdirSync(join(dir, 'checkpoints')).filter((f) => f.endsWith('.ckpt'));
  for (const f of ckpts) {
    const c = readCheckpoint(join(dir, 'checkpoints', f));
    assert.deepEqual(nonFiniteEntries(c.tensors), [], `${f} holds non-finite tensors`);
    for (const t of c.tensors.values()) t.dispose();
  }
  if (existsSync(join(dir, 'model.safetensors'))) assert.deepEqual(nonFiniteEntries(loadStateDictFile(join(dir, 'model.safetensors'))), []);
});
