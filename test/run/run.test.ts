// The whole path a user runs: an image folder → `runTraining` → run directory (config, logs,
// checkpoints, model, metrics, report) → predict and eval on the saved model; and the same
// through the `tessera` command, including an interrupted run that resumes to identical weights.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import sharp from 'sharp';

import { resolveConfig } from '../../src/config/load.js';
import { memoryStats } from '../../src/tensor/memory.js';
import { evaluateSavedModel } from '../../src/run/eval.js';
import { listImageFiles, predictFiles, predictionsToCsv } from '../../src/run/predict.js';
import { runTraining } from '../../src/run/train.js';
import { autocastOf } from '../../src/runtime/precision.js';
import { quiet, writeFolder } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'tessera-run-'));
const CLI = join(process.cwd(), 'bin', 'tessera.js');
const folder = join(root, 'colours');
const ready = writeFolder(folder, 24);

function smallConfig(name: string, extra: [string, string][] = []) {
  return resolveConfig({
    overrides: [
      ['data.source', JSON.stringify(folder)],
      ['data.valSplit', '0.2'],
      ['data.testSplit', '0.25'],
      ['model.name', 'mlp'],
      ['train.epochs', '3'],
      ['train.batchSize', '8'],
      ['train.optimizer.lr', '0.05'],
      ['train.threads', '1'],
      ['outDir', JSON.stringify(join(root, 'runs'))],
      ['name', JSON.stringify(name)],
      ...extra,
    ],
  });
}

test('runTraining fills the run directory and learns the colours', async () => {
  await ready;
  const before = memoryStats().liveTensors;
  const summary = await runTraining(smallConfig('folder'), quiet);
  const dir = join(root, 'runs', 'folder');
  assert.equal(summary.dir, dir);
  for (const f of ['config.json', 'splits.json', 'log.jsonl', 'log.csv', 'model.safetensors', 'model.json', 'metrics.json', 'report.html', 'report.json'])
    assert.ok(existsSync(join(dir, f)), `${f} is written`);
  assert.ok(readdirSync(join(dir, 'checkpoints')).some((f) => f.startsWith('last')), 'a last checkpoint');
  assert.ok((summary.testAccuracy ?? 0) > 0.8, `test accuracy ${summary.testAccuracy} on separable colours`);
  const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
  assert.equal(metrics.test_accuracy, summary.testAccuracy);
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
  assert.equal(report.history.length, 3);
  assert.deepEqual(report.dataset.classes, ['blue', 'green', 'red']);
  assert.ok(report.gallery.length > 0 && report.test.confusion.counts.length === 3);
  assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).train.epochs, 3, 'the resolved config is saved');
  // The test-time flip (on by default, as training flips) and the autocast of the test pass are saved
  // with the model, so eval repeats the test pass.
  const saved = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')).model;
  assert.equal(saved.testFlip, true);
  assert.equal(saved.precision, autocastOf('auto') || undefined);
  const again = await evaluateSavedModel(dir);
  assert.equal(again.report.numSamples, metrics.test_samples);
  assert.equal(again.report.accuracy, summary.testAccuracy, 'tessera eval gives the run\'s test accuracy');
  assert.ok(memoryStats().liveTensors <= before + 2, 'the run leaves no tensors behind');
});

test('a finished run is never overwritten: the same name gets a new directory', async () => {
  await ready;
  const summary = await runTraining(smallConfig('folder', [['train.epochs', '1']]), quiet);
  assert.equal(summary.dir, join(root, 'runs', 'folder-2'));
});

test('predict: top-k per file from the saved model; an unreadable file gets its own error row', async () => {
  await ready;
  const broken = join(root, 'broken.png');
  writeFileSync(broken, 'not an image');
  const files = [...(await listImageFiles([folder])).filter((_, i) => i % 8 === 0), broken];
  const predictions = await predictFiles(join(root, 'runs', 'folder'), files, { topK: 2 });
  assert.equal(predictions.length, files.length);
  const good = predictions.filter((p) => !p.error);
  const right = good.filter((p) => p.file.includes(`/${p.top[0]?.label}/`)).length;
  assert.ok(right / good.length > 0.8, `${right}/${good.length} predicted right`);
  assert.ok(good.every((p) => p.top.length === 2 && (p.top[0]?.probability ?? 0) >= (p.top[1]?.probability ?? 1)));
  const bad = predictions.at(-1)!;
  assert.equal(bad.file, broken);
  assert.ok(bad.error && bad.top.length === 0);
  const csv = predictionsToCsv(predictions, 2).split('\n');
  assert.equal(csv[0], 'file,label_1,probability_1,label_2,probability_2,error');
});

test('eval: on another labelled folder; a data set with other classes is refused by name', async () => {
  await ready;
  const r = await evaluateSavedModel(join(root, 'runs', 'folder'), { data: folder });
  assert.equal(r.report.numSamples, 72);
  assert.ok((r.report.accuracy ?? 0) > 0.8);
  assert.match(r.text, /precision +recall +F1 +support/);
  const other = join(root, 'other');
  mkdirSync(join(other, 'cat'), { recursive: true });
  mkdirSync(join(other, 'dog'), { recursive: true });
  await sharp({ create: { width: 16, height: 16, channels: 3, background: 'red' } }).png().toFile(join(other, 'cat', 'a.png'));
  await sharp({ create: { width: 16, height: 16, channels: 3, background: 'blue' } }).png().toFile(join(other, 'dog', 'a.png'));
  await assert.rejects(evaluateSavedModel(join(root, 'runs', 'folder'), { data: other }), /classes \[cat, dog\], the model was trained on \[blue, green, red\]/);
});

function cli(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: root });
}

test('the CLI: one sentence for errors a user can make, no stack trace', async () => {
  await ready;
  const cases: [string[], RegExp][] = [
    [['train', join(root, 'nope')], /^tessera: data source .*nope does not exist\n$/],
    [['train', folder, '--model', 'fashion-nett'], /unknown model 'fashion-nett'\. Did you mean 'fashion-net'\?/],
    [['train', '--config', join(root, 'missing.yaml')], /^tessera: cannot read config .*missing\.yaml: ENOENT\n$/],
    [['train', '--epochs', 'many'], /train\.epochs: /],
    [['predict', join(root, 'runs', 'nothing-here'), folder], /no trained model at .*nothing-here/],
  ];
  for (const [args, pattern] of cases) {
    const r = cli(args);
    assert.equal(r.status, 1, `${args.join(' ')}: exit 1 (stderr: ${r.stderr})`);
    assert.match(r.stderr, pattern);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('the CLI: --print-config shows the resolved config (defaults are the main job)', () => {
  const r = cli(['train', '--print-config', '--epochs', '3', '--set', 'train.schedule.warmup=0.3']);
  assert.equal(r.status, 0, r.stderr);
  const c = JSON.parse(r.stdout);
  assert.equal(c.data.source, 'fashion-mnist');
  assert.equal(c.train.epochs, 3);
  assert.equal(c.train.schedule.warmup, 0.3);
});

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

test('the CLI: a run killed with SIGKILL resumes on the next `tessera train` and ends with identical weights', async () => {
  await ready;
  const args = (name: string) => ['train', folder, '--model', 'mlp', '--epochs', '4', '--batch-size', '8', '--threads', '1', '--val-split', '0.2', '--name', name,
    '--out-dir', join(root, 'cli-runs'), '--set', 'checkpoint.everySteps=3'];
  const whole = cli(args('whole'));
  assert.equal(whole.status, 0, whole.stderr);
  assert.match(whole.stdout, /report: .*whole\/report\.html/);

  // Kill the second run once it has written a mid-run checkpoint, then run the same command again.
  const ckpts = join(root, 'cli-runs', 'killed', 'checkpoints');
  const child = spawn(process.execPath, [CLI, ...args('killed')], { cwd: root, stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (existsSync(ckpts) && readdirSync(ckpts).some((f) => f.startsWith('last'))) {
        clearInterval(timer);
        child.kill('SIGKILL');
        resolve();
      }
    }, 5);
    child.on('exit', () => {
      clearInterval(timer);
      reject(new Error('the run finished before it could be killed'));
    });
  }).catch((e: Error) => assert.fail(e.message));
  await new Promise((r) => child.on('exit', r));
  assert.ok(!existsSync(join(root, 'cli-runs', 'killed', 'metrics.json')), 'killed before the end');
  const resumed = cli(args('killed'));
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stdout, /resuming .*killed/);
  assert.equal(sha(join(root, 'cli-runs', 'killed', 'model.safetensors')), sha(join(root, 'cli-runs', 'whole', 'model.safetensors')));
});
