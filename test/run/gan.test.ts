// `tessera gan` as a user runs it, small and fast (8×8 grey bars, a DCGAN with widths 8, a few
// epochs, one thread): the files of a run — a sample grid before training and after every epoch, a
// grid of real images, netG/netD weights per epoch that PyTorch's DCGAN example loads, the logs,
// metrics.json, the report — and the quality figure's mechanics (a classifier trained here by
// `tessera train`; its Fréchet distance falls as the generator trains, and the untrained generator
// covers one class); a run killed with SIGKILL and run again ends with the weights of an
// uninterrupted run; seed 001's GAN on a one-class colour folder; bad input answered with one
// sentence naming the flag. The full-size check (a DCGAN on Fashion-MNIST) is bench/gan-quality.ts.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import sharp from 'sharp';

import { writeNpy } from '../../src/data/formats/npy-write.js';
import { RandomStream } from '../../src/data/random.js';

const CLI = fileURLToPath(new URL('../../../bin/tessera.js', import.meta.url));
const TWINS_DIR = fileURLToPath(new URL('../../../test/models', import.meta.url));
const PYTHON = process.env.TESSERA_PYTHON ?? '/usr/bin/python3';
const root = mkdtempSync(join(tmpdir(), 'tessera-gan-'));
const runs = join(root, 'runs');
const bars = join(root, 'bars');
after(() => rmSync(root, { recursive: true, force: true }));
const tessera = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: root, encoding: 'utf8', timeout: 300_000 });
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const noStack = (s: string) => assert.doesNotMatch(s, /\n\s+at .*:\d+/);

/** 256 noisy 8×8 grey images of 4 classes: a horizontal or vertical bar, near one edge or the other. */
function writeBars(dir: string): void {
  const n = 256;
  const r = new RandomStream({ seed: 5, purpose: 'test' });
  const x = new Uint8Array(n * 64);
  const y = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 4;
    const p = 1 + 4 * (c % 2);
    y[i] = BigInt(c);
    for (let row = 0; row < 8; row++)
      for (let col = 0; col < 8; col++) {
        const on = c < 2 ? row >= p && row < p + 2 : col >= p && col < p + 2;
        x[i * 64 + row * 8 + col] = Math.max(0, Math.min(255, Math.round((on ? 235 : 15) + 20 * r.normal())));
      }
  }
  mkdirSync(dir, { recursive: true });
  writeNpy(join(dir, 'images.npy'), { dtype: 'u1', shape: [n, 8, 8], data: x });
  writeNpy(join(dir, 'labels.npy'), { dtype: 'i8', shape: [n], data: y });
}

const classifier = join(runs, 'bars-classifier');
const gan = (name: string, ...extra: string[]) =>
  ['gan', bars, '--nz', '8', '--ngf', '8', '--ndf', '8', '--epochs', '4', '--batch-size', '16', '--lr', '0.002', '--samples', '16', '--threads', '1', '--name', name, '--out-dir', runs, ...extra];

describe('tessera gan', () => {
  before(() => {
    writeBars(bars);
    const r = tessera('train', bars, '--model', 'mlp', '--image-size', '8', '--epochs', '8', '--batch-size', '16', '--threads', '1', '--name', 'bars-classifier', '--out-dir', runs);
    assert.equal(r.status, 0, r.stderr);
  });

  it("trains a DCGAN: grids every epoch, the example's netG/netD files, logs, a report, and a quality figure that falls", () => {
    const r = tessera(...gan('dcgan', '--classifier', classifier, '--quality-samples', '128'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^data: image size 8×8 \(the images' own; --image-size to choose\)$/m);
    assert.match(r.stdout, /^quality: Fréchet distance in the features of .*bars-classifier \(4 classes, 1×8×8 input\) against 128 training images; two real sets of this size are \d+\.\d+ apart$/m);
    const summary = /^Fréchet distance (\d+\.\d+) \(untrained (\d+\.\d+)\), (\d) of 4 classes covered — \d+ s — report: (.*report\.html)$/m.exec(r.stdout);
    assert.ok(summary, r.stdout);
    const dir = join(runs, 'dcgan');
    // The figure falls as the generator learns; the untrained one makes near-identical grey images: one class.
    const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
    assert.ok(metrics.frechet_distance < 0.95 * metrics.frechet_distance_before_training, `${metrics.frechet_distance} vs ${metrics.frechet_distance_before_training} before training`);
    assert.equal(Number(summary[1]), Number(metrics.frechet_distance.toFixed(3)));
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    assert.equal(report.quality.points[0].classCoverage, 1);
    assert.deepEqual(report.quality.points.map((p: { epoch: number }) => p.epoch), [0, 1, 2, 3, 4]);
    assert.ok(report.quality.realFloor < metrics.frechet_distance, 'real images are closer to each other than generated ones to them');
    assert.equal(report.quality.points[0].counts.reduce((a: number, b: number) => a + b, 0), 128);

    // Grids: 16 samples, 8 a row, 2 px padding → 82 × 22, grey.
    for (const f of ['epoch-000.png', 'epoch-001.png', 'epoch-004.png', 'real.png']) assert.ok(existsSync(join(dir, 'samples', f)), f);
    assert.notEqual(sha(join(dir, 'samples', 'epoch-000.png')), sha(join(dir, 'samples', 'epoch-004.png')), 'the generator changed');
    assert.deepEqual(report.samples.map((s: { epoch: number }) => s.epoch), [0, 1, 2, 3, 4]);
    assert.match(readFileSync(join(dir, 'report.html'), 'utf8'), /not the Inception FID/);
    assert.equal(report.history.length, 4);
    assert.ok(report.points.length >= 4 && report.points.every((p: { loss_d: number; d_x: number }) => p.loss_d > 0 && p.d_x > 0 && p.d_x < 1));
    const jsonl = readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(jsonl.filter((l) => l.kind === 'epoch').length, 4);
    assert.ok(jsonl.some((l) => l.kind === 'batch' && typeof l.loss_g === 'number'));
    assert.ok(existsSync(join(dir, 'checkpoints', 'last.ckpt')));

    // PyTorch's example loads the weights strictly into its netG and netD.
    const py = `
import sys, torch
sys.path.insert(0, sys.argv[1])
from twins import Generator, Discriminator
g, d = Generator(8, 8, 1, 8), Discriminator(8, 1, 8)
for e in (1, 4):
    g.load_state_dict(torch.load(f'{sys.argv[2]}/netG_epoch_{e}.pth'))
    d.load_state_dict(torch.load(f'{sys.argv[2]}/netD_epoch_{e}.pth'))
print(list(g.state_dict())[:3], tuple(g(torch.zeros(2, 8, 1, 1)).shape), tuple(d(torch.zeros(2, 1, 8, 8)).shape))`;
    const p = spawnSync(PYTHON, ['-c', py, TWINS_DIR, join(dir, 'weights')], { encoding: 'utf8' });
    assert.equal(p.status, 0, p.stderr);
    assert.equal(p.stdout.trim(), "['main.0.weight', 'main.1.weight', 'main.1.bias'] (2, 1, 8, 8) (2,)");
    assert.equal(readdirSync(join(dir, 'weights')).length, 8, 'netG and netD after each of 4 epochs');
  });

  it('a run killed with SIGKILL mid-epoch continues on the same command and ends with the weights and figures of an uninterrupted run', async () => {
    const args = (name: string) => gan(name, '--classifier', classifier, '--quality-samples', '64', '--set', 'checkpoint.everySteps=5');
    const whole = tessera(...args('whole'));
    assert.equal(whole.status, 0, whole.stderr);
    const ckpts = join(runs, 'killed', 'checkpoints');
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
    assert.ok(!existsSync(join(runs, 'killed', 'metrics.json')), 'killed before the end');
    const resumed = tessera(...args('killed'));
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stdout, /resuming .*killed/);
    for (const f of ['netG_epoch_4.pth', 'netD_epoch_4.pth']) assert.equal(sha(join(runs, 'killed', 'weights', f)), sha(join(runs, 'whole', 'weights', f)), f);
    assert.equal(sha(join(runs, 'killed', 'samples', 'epoch-004.png')), sha(join(runs, 'whole', 'samples', 'epoch-004.png')));
    const figures = (name: string) => {
      const rep = JSON.parse(readFileSync(join(runs, name, 'report.json'), 'utf8'));
      return { quality: rep.quality.points, points: rep.points, history: rep.history.map(({ seconds: _s, imagesPerSecond: _i, ...h }: Record<string, number>) => h) };
    };
    assert.deepEqual(figures('killed'), figures('whole'));
  });

  it("seed 001's GAN on a folder of one class of colour photos: 4×4×3 images in [0, 1]", async () => {
    const photos = join(root, 'photos', 'all');
    mkdirSync(photos, { recursive: true });
    for (let i = 0; i < 24; i++) {
      const px = Buffer.alloc(12 * 12 * 3, 0).map((_, k) => ((k % 3) * 80 + i * 5) % 256);
      await sharp(px, { raw: { width: 12, height: 12, channels: 3 } }).png().toFile(join(photos, `${i}.png`));
    }
    const r = tessera('gan', join(root, 'photos'), '--model', 'seed-gan', '--epochs', '1', '--batch-size', '8', '--samples', '8', '--threads', '1', '--name', 'seed', '--out-dir', runs);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^data: image size 4×4 \(seed-gan's generator makes 4×4 images; --image-size to choose\)$/m);
    assert.match(r.stdout, /24 images as 4×4×3 in \[0, 1\]/);
    const meta = await sharp(join(runs, 'seed', 'samples', 'epoch-001.png')).metadata();
    assert.deepEqual([meta.width, meta.height, meta.channels], [8 * 6 + 2, 6 + 2, 3]);
    assert.match(readFileSync(join(runs, 'seed', 'report.html'), 'utf8'), /No quality figure: run with <code>--classifier/);
  });

  it('answers bad input with one sentence naming the flag, before reading the data', () => {
    for (const [args, re] of [
      [['--image-size', '30'], /^tessera: data\.imageSize \(--image-size\): DCGAN makes images of b·2\^k pixels a side, b in 4\.\.7 and k ≥ 1 .*got 30\n$/],
      [['--model', 'seed-gan', '--nz', '16'], /^tessera: model\.nz \(--nz\) applies to dcgan; seed-gan's noise \(100\) and widths are the article's\n$/],
      [['--model', 'stylegan'], /--model stylegan → model\.name: /],
      [['--epochs', '0'], /--epochs 0 → train\.epochs: /],
      [['--label-smoothing', '0.5'], /--label-smoothing 0\.5 → train\.labelSmoothing: /],
      [['--lr', '-1'], /--lr -1 → train\.lr: /],
      [['--classifier', join(root, 'nothing-here')], /^tessera: no trained model at .*nothing-here/],
      [['--classifier', join(runs, 'seed')], /no trained model at .*seed: expected .*model\.json/],
    ] as [string[], RegExp][]) {
      const r = tessera('gan', join(root, 'no-such-data'), ...args, '--out-dir', runs);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      noStack(r.stderr);
    }
    const missing = tessera('gan', join(root, 'no-such-data'), '--out-dir', runs);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no-such-data does not exist/);
    const printed = tessera('gan', '--print-config', '--nz', '64');
    assert.equal(printed.status, 0, printed.stderr);
    const c = JSON.parse(printed.stdout);
    assert.deepEqual([c.data.source, c.model.name, c.model.nz, c.train.lr, c.train.beta1, c.train.batchSize, c.train.schedule.name], ['fashion-mnist', 'dcgan', 64, 2e-4, 0.5, 64, 'constant']);
  });
});
