// `tessera train/eval/predict --task …` through the command line, on small generated data: each task
// trains (one thread), writes metrics.json, model.json (its task and targets) and a report with its
// own sections; eval repeats the run's test numbers; predict answers as the task does (masks at the
// image's own size, labels above the threshold, reconstructions); mismatched tasks, models, losses
// and options are refused naming what is wrong.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import sharp from 'sharp';

import { writeShapes } from '../../examples/shapes-segmentation.js';
import { decodeMaskPng } from '../../src/data/image/mask.js';
import { writeBars, writeMultilabel } from './task-data.js';

const bin = fileURLToPath(new URL('../../../bin/tessera.js', import.meta.url));
const tessera = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 300_000 });
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'tessera-tasks-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

describe('segmentation', () => {
  let data: string;
  let run: string;
  before(async () => {
    data = join(root, 'shapes');
    await writeShapes(data, { count: 60, size: 32 });
    await writeShapes(join(root, 'shapes-test'), { count: 8, size: 32, start: 1000 });
    const r = tessera('train', data, '--test', join(root, 'shapes-test'), '--task', 'segmentation', '--model', 'unet', '--epochs', '2', '--set', 'model.options.baseWidth=4', '--set', 'model.options.depth=2',
      '--optimizer', 'adam', '--lr', '0.01', '--batch-size', '8', '--threads', '1', '--out-dir', join(root, 'runs'), '--name', 'seg', '--loss', 'dice+cross-entropy');
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /test mean IoU \d+\.\d+% — \d+ s — report: /);
    run = join(root, 'runs', 'seg');
  });

  it('train: per-epoch IoU, test metrics, the saved task and targets, and a report with per-class IoU and overlays', () => {
    const log = readFileSync(join(run, 'log.csv'), 'utf8');
    assert.match(log.split('\n')[0] as string, /train_miou.*val_miou/);
    const metrics = json(join(run, 'metrics.json'));
    for (const k of ['test_miou', 'test_dice', 'test_pixel_accuracy', 'test_loss']) assert.equal(typeof metrics[k], 'number', k);
    assert.equal(metrics.test_samples, 8, 'the --test folder');
    const model = json(join(run, 'model.json')) as { task: { name: string }; model: { options: Record<string, number> }; preprocessing: { targets: string; transforms: unknown[] } };
    assert.deepEqual(model.task, { name: 'segment' });
    assert.equal(model.preprocessing.targets, 'mask');
    assert.deepEqual(model.preprocessing.transforms, [{ type: 'resize', size: [32, 32] }], 'whole images, resized (not cut)');
    assert.equal(model.model.options.baseWidth, 4);
    const report = json(join(run, 'report.json')) as { task: string; segmentation: { perClass: { name: string }[]; worst: { images: { caption: string }[] }[]; meanIoU: number } };
    assert.equal(report.task, 'segment');
    assert.deepEqual(report.segmentation.perClass.map((c) => c.name), ['background', 'circle', 'square', 'triangle']);
    assert.equal(report.segmentation.meanIoU, metrics.test_miou);
    assert.equal(report.segmentation.worst.length, 8, 'every test image (gallery 24 > 8)');
    assert.deepEqual(report.segmentation.worst[0]?.images.map((i) => i.caption), ['image', 'truth', 'prediction']);
    assert.match(readFileSync(join(run, 'report.html'), 'utf8'), /Test set: segmentation/);
  });

  it('eval repeats the test numbers; predict writes masks (class ids, the image size) and overlays', async () => {
    const e = tessera('eval', run, '--json');
    assert.equal(e.status, 0, e.stderr);
    const metrics = json(join(run, 'metrics.json'));
    const r = JSON.parse(e.stdout) as { meanIoU: number; pixelAccuracy: number; perClass: unknown[] };
    assert.equal(r.meanIoU, metrics.test_miou);
    assert.equal(r.pixelAccuracy, metrics.test_pixel_accuracy);
    assert.equal(r.perClass.length, 4);
    const text = tessera('eval', run);
    assert.match(text.stdout, /mean IoU .*pixel accuracy/);
    assert.match(text.stdout, /class +IoU +Dice +pixels/);

    // An image of another size: its mask comes back at that size.
    const big = join(root, 'big.png');
    await sharp({ create: { width: 45, height: 37, channels: 3, background: { r: 90, g: 120, b: 200 } } }).png().toFile(big);
    const out = join(root, 'masks');
    const p = tessera('predict', run, join(data, 'images', 'shape-00003.png'), big, join(root, 'missing.png'), '--output-dir', out, '--overlay');
    assert.equal(p.status, 1, 'a missing input is an error before anything runs');
    const ok = tessera('predict', run, join(data, 'images', 'shape-00003.png'), big, '--output-dir', out, '--overlay');
    assert.equal(ok.status, 0, ok.stderr);
    const lines = ok.stdout.trim().split('\n');
    assert.equal(lines[0], 'file,mask,overlay,classes,error');
    assert.equal(lines.length, 3);
    const mask = decodeMaskPng(readFileSync(join(out, 'big.png')), 'big mask');
    assert.deepEqual([mask.width, mask.height], [45, 37]);
    assert.ok(mask.data.every((v) => v < 4));
    const overlay = await sharp(join(out, 'big.overlay.png')).metadata();
    assert.deepEqual([overlay.width, overlay.height, overlay.channels], [45, 37, 3]);
    assert.ok(existsSync(join(out, 'shape-00003.png')));
    const refused = tessera('predict', run, big, '--threshold', '0.3');
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /--threshold is for multi-label models; .* holds a 'segment' model/);
  });

  it('refuses a model of another task, a loss of another task, and masks for a classifier', () => {
    const r = tessera('train', data, '--task', 'segment', '--model', 'resnet18', '--epochs', '1', '--out-dir', join(root, 'runs'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /model\.name \(--model\) resnet18 is a 'classify' model, but task \(--task\) segment needs a 'segment' model/);
    const loss = tessera('train', data, '--task', 'segment', '--loss', 'mse', '--epochs', '1', '--out-dir', join(root, 'runs'));
    assert.equal(loss.status, 1);
    assert.match(loss.stderr, /train\.loss \(--loss\) mse does not apply to segmentation/);
    const classify = tessera('train', data, '--epochs', '1', '--out-dir', join(root, 'runs'));
    assert.equal(classify.status, 1);
    assert.match(classify.stderr, /holds images with masks \(segmentation: task segment\), but one class per image are needed/);
    const option = tessera('train', data, '--task', 'segment', '--set', 'model.options.noise=0.2', '--epochs', '1', '--out-dir', join(root, 'runs'));
    assert.equal(option.status, 1);
    assert.match(option.stderr, /model\.options\.noise does not apply to the models of task segment \(they read baseWidth, depth, upsampling\)/);
    const weights = tessera('train', data, '--task', 'segment', '--set', 'train.classWeights=inverse', '--epochs', '1', '--out-dir', join(root, 'runs'));
    assert.equal(weights.status, 1);
    assert.match(weights.stderr, /train\.classWeights and train\.sampler weigh one class per image; a mask has a class per pixel/);
  });

  it('data explain and data check accept the folder', () => {
    const e = tessera('data', 'explain', data, '--task', 'segment');
    assert.equal(e.status, 0, e.stderr);
    assert.match(e.stdout, /x float32 \[4, 3, 32, 32\], y int64 \[4, 32, 32\]/);
    assert.match(e.stdout, /model: unet/);
    const c = tessera('data', 'check', data);
    assert.equal(c.status, 0, c.stderr + c.stdout);
  });

  it('a mask id beyond classes.txt: data check names the image, train refuses it and points there', async () => {
    const bad = join(root, 'shapes-bad');
    await writeShapes(bad, { count: 8, size: 32 });
    await sharp(new Uint8Array(32 * 32).fill(7), { raw: { width: 32, height: 32, channels: 1 } }).toColourspace('b-w').png().toFile(join(bad, 'masks', 'shape-00003.png'));
    const c = tessera('data', 'check', bad);
    assert.equal(c.status, 1, c.stdout);
    assert.match(c.stdout, /shape-00003\.png\s+ERROR bad-mask\s+its mask holds class id 7, but there are 4 classes \(ids 0\.\.3, 255 = ignore\)/);
    const t = tessera('train', bad, '--task', 'segment', '--epochs', '1', '--set', 'model.options.baseWidth=4', '--set', 'model.options.depth=2', '--batch-size', '8', '--threads', '1', '--out-dir', join(root, 'runs'));
    assert.equal(t.status, 1);
    assert.match(t.stderr, /holds class id 7, but there are 4 classes .* \(tessera data check names the masks at fault\)/);
  });
});

describe('multi-label classification', () => {
  let run: string;
  let manifest: string;
  before(async () => {
    manifest = await writeMultilabel(join(root, 'ml'), 90, { columns: true });
    const r = tessera('train', manifest, '--task', 'multilabel', '--model', 'small-vgg', '--epochs', '3', '--optimizer', 'adam', '--lr', '0.003', '--batch-size', '16',
      '--threads', '1', '--out-dir', join(root, 'runs'), '--name', 'ml', '--threshold', '0.4');
    assert.equal(r.status, 0, r.stderr + r.stdout);
    run = join(root, 'runs', 'ml');
  });

  it('train: mean AP and F1 per epoch, per-class AP/F1 in metrics and report, the threshold saved', () => {
    assert.match(readFileSync(join(run, 'log.csv'), 'utf8').split('\n')[0] as string, /train_map.*train_f1_macro.*val_map/);
    const metrics = json(join(run, 'metrics.json'));
    for (const k of ['test_map', 'test_f1_macro', 'test_f1_micro', 'test_loss']) assert.equal(typeof metrics[k], 'number', k);
    assert.deepEqual((json(join(run, 'model.json')) as { task: unknown }).task, { name: 'multilabel', threshold: 0.4 });
    const report = json(join(run, 'report.json')) as { multilabel: { threshold: number; perClass: { name: string; ap: number | null }[]; meanAP: number } };
    assert.equal(report.multilabel.threshold, 0.4);
    assert.deepEqual(report.multilabel.perClass.map((c) => c.name), ['red', 'green', 'blue'], 'class columns in header order');
    assert.equal(report.multilabel.meanAP, metrics.test_map);
  });

  it('eval at another threshold; predict lists the labels above it with their probabilities', () => {
    const e = tessera('eval', run, '--threshold', '0.9', '--json');
    assert.equal(e.status, 0, e.stderr);
    const r = JSON.parse(e.stdout) as { threshold: number; meanAP: number };
    assert.equal(r.threshold, 0.9);
    assert.equal(r.meanAP, json(join(run, 'metrics.json')).test_map, 'AP does not depend on the threshold');
    const p = tessera('predict', run, join(root, 'ml', 'img', '0.png'), join(root, 'ml', 'img', '1.png'), '--format', 'json', '--threshold', '0.2');
    assert.equal(p.status, 0, p.stderr);
    const rows = JSON.parse(p.stdout) as { labels: { label: string; probability: number }[]; probabilities: Record<string, number> }[];
    assert.equal(rows.length, 2);
    for (const row of rows) {
      const above = Object.entries(row.probabilities).filter(([, v]) => v > 0.2).map(([k]) => k).sort();
      assert.deepEqual(row.labels.map((l) => l.label).sort(), above);
      for (const l of row.labels) assert.equal(l.probability, row.probabilities[l.label]);
    }
    const csv = tessera('predict', run, join(root, 'ml', 'img', '0.png'));
    assert.match(csv.stdout.split('\n')[0] as string, /^file,labels,p_red,p_green,p_blue,error$/);
  });

  it('the labels column form (a|b) reads the same labels as the 0/1 columns', async () => {
    const labels = await writeMultilabel(join(root, 'ml2'), 90);
    const e = tessera('eval', run, '--data', labels, '--json');
    assert.equal(e.status, 1, 'class order differs: the labels column sorts its names');
    assert.match(e.stderr, /has classes \[blue, green, red\], the model was trained on \[red, green, blue\]/);
    const explain = tessera('data', 'explain', labels, '--task', 'multilabel', '--set', 'data.classes=["red","green","blue"]');
    assert.equal(explain.status, 0, explain.stderr);
    assert.match(explain.stdout, /y float32 \[4, 3\]/);
  });
});

describe('reconstruction', () => {
  let run: string;
  let data: string;
  before(async () => {
    data = join(root, 'bars');
    await writeBars(data, 60);
    const r = tessera('train', data, '--task', 'reconstruct', '--model', 'denoising-autoencoder', '--epochs', '8', '--optimizer', 'adam', '--lr', '0.01', '--batch-size', '16',
      '--threads', '1', '--out-dir', join(root, 'runs'), '--name', 'ae', '--set', 'model.options.widths=[8,4]', '--set', 'model.options.noise=0.2');
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /train.labelSmoothing \(0\.1\) does not apply to reconstruction|test reconstruction error/);
    run = join(root, 'runs', 'ae');
  });

  it('train: the error per epoch and on the test set, clean and noisy; input/noisy/output strips in the report', () => {
    assert.match(readFileSync(join(run, 'log.csv'), 'utf8').split('\n')[0] as string, /train_mse.*val_mse/);
    const metrics = json(join(run, 'metrics.json'));
    for (const k of ['test_mse', 'test_psnr', 'test_denoised_mse']) assert.equal(typeof metrics[k], 'number', k);
    assert.ok((metrics.test_denoised_mse as number) > 0);
    assert.notEqual(metrics.test_denoised_mse, metrics.test_mse, 'the model has learnt enough for the noise to change its output');
    const report = json(join(run, 'report.json')) as { reconstruction: { noise: number; mse: number; worst: { images: { caption: string }[] }[] } };
    assert.equal(report.reconstruction.noise, 0.2);
    assert.equal(report.reconstruction.mse, metrics.test_mse);
    assert.deepEqual(report.reconstruction.worst[0]?.images.map((i) => i.caption), ['input', 'output', 'noisy input (σ 0.2)', 'output of the noisy input']);
    const model = json(join(run, 'model.json')) as { preprocessing: { targets: string }; model: { options: { widths: number[]; noise: number } } };
    assert.equal(model.preprocessing.targets, 'image');
    assert.deepEqual(model.model.options.widths, [8, 4]);
  });

  it('eval prints the mean error; predict writes the reconstructions', async () => {
    const e = tessera('eval', run);
    assert.equal(e.status, 0, e.stderr);
    assert.match(e.stdout, /mean reconstruction error \(MSE, pixels in \[0, 1\]\) (\d\.\d+)/);
    const got = /error \(MSE, pixels in \[0, 1\]\) (\d\.\d+)/.exec(e.stdout)?.[1];
    assert.equal(Number(got), Number((json(join(run, 'metrics.json')).test_mse as number).toFixed(5)));
    // The test noise is seeded: eval draws the run's noise (the 6 test images are one batch in both).
    const noisy = /inputs with noise σ 0\.2: error (\d\.\d+)/.exec(e.stdout)?.[1];
    assert.equal(Number(noisy), Number((json(join(run, 'metrics.json')).test_denoised_mse as number).toFixed(5)));
    assert.equal(tessera('eval', run).stdout, e.stdout, 'eval twice: the same numbers');
    const out = join(root, 'recon');
    const p = tessera('predict', run, join(data, 'bars'), '--output-dir', out);
    assert.equal(p.status, 0, p.stderr);
    const lines = p.stdout.trim().split('\n');
    assert.equal(lines[0], 'file,reconstruction,mse,error');
    assert.equal(lines.length, 61);
    const meta = await sharp(join(out, '0.png')).metadata();
    assert.deepEqual([meta.width, meta.height], [16, 16]);
    const overlay = tessera('predict', run, join(data, 'bars'), '--overlay');
    assert.equal(overlay.status, 1);
    assert.match(overlay.stderr, /--overlay draws segmentation masks/);
  });

  it('refuses bce with linear outputs', () => {
    const r = tessera('train', data, '--task', 'reconstruct', '--loss', 'bce', '--set', 'model.options.output=linear', '--out-dir', join(root, 'runs'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /train\.loss bce needs outputs in \[0, 1\]/);
  });
});
