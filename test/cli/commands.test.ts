// `tessera train`, `eval`, `predict` and `data check` as a user meets them when things go wrong:
// bounds and messages that name the flag typed, checks that come before the data scan, a second
// process refused while a run is live, no half-made run folders, leftovers cleared, I/O errors
// that name the file, and the exit codes the README documents.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import sharp from 'sharp';

const CLI = fileURLToPath(new URL('../../../bin/tessera.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'tessera-commands-'));
const runs = join(root, 'runs');
const photos = join(root, 'photos');
const tessera = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: root, encoding: 'utf8', timeout: 300_000 });
const noStack = (s: string) => assert.doesNotMatch(s, /\n\s+at .*:\d+/);

/** `perClass` small images per colour, with some noise (so they are not all duplicates). */
async function writePhotos(dir: string, perClass: Record<string, number>): Promise<void> {
  let seed = 11;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const colours: Record<string, number[]> = { red: [210, 30, 30], blue: [30, 30, 210], green: [30, 200, 40] };
  for (const [name, n] of Object.entries(perClass)) {
    mkdirSync(join(dir, name), { recursive: true });
    for (let i = 0; i < n; i++) {
      const px = Buffer.alloc(12 * 12 * 3);
      for (let p = 0; p < px.length; p++) px[p] = Math.max(0, Math.min(255, (colours[name]![p % 3] as number) + Math.round((rand() - 0.5) * 100)));
      await sharp(px, { raw: { width: 12, height: 12, channels: 3 } }).png().toFile(join(dir, name, `${i}.png`));
    }
  }
}

const train = (...extra: string[]) => ['train', photos, '--model', 'mlp', '--image-size', '12', '--batch-size', '4', '--threads', '1', '--out-dir', runs, ...extra];

describe('tessera commands', () => {
  before(async () => {
    await writePhotos(photos, { red: 10, blue: 10 });
  });

  it('refuses values that would exhaust the machine at once, naming the flag as typed', () => {
    for (const [args, re, status] of [
      [['train', '--image-size', '100000'], /^tessera: options has a problem:\n--image-size 100000 → data\.imageSize: at most 4,096 \(pixels per side; larger images exhaust memory\)\n$/],
      [['train', '--threads', '100000'], /--threads 100000 → train\.threads: at most 1,024/],
      [['train', '--batch-size', '1e9'], /--batch-size 1e9 → train\.batchSize: at most 65,536/],
      [['train', '--workers', '5000'], /--workers 5000 → data\.workers: at most 256/],
      [['eval', join(runs, 'x'), '--threads', '100000'], /--threads must be an integer in 1\.\.1024/],
      [['lr-find', '--iterations', '1e9'], /--iterations must be an integer in 2\.\.100000/],
      [['data', 'pack', photos, join(root, 'packed'), '--size', '100000'], /--size must be at most 4096 pixels per side/, 2],
      [['data', 'check', photos, '--concurrency', '100000'], /--concurrency must be at most 256/, 2],
    ] as [string[], RegExp, number?][]) {
      const t0 = performance.now();
      const r = tessera(...args);
      assert.equal(r.status, status ?? 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      noStack(r.stderr);
      assert.ok(performance.now() - t0 < 30_000, `${args.join(' ')} answered at once`);
    }
  });

  it('checks the model and the weights file before it looks at the data, and leaves no run folder', () => {
    const nowhere = join(root, 'no-such-photos');
    const pretrained = tessera('train', nowhere, '--pretrained', join(root, 'nothere.pt'), '--out-dir', runs);
    assert.equal(pretrained.status, 1);
    assert.match(pretrained.stderr, /^tessera: model\.pretrained \(--pretrained\): .*nothere\.pt does not exist\n$/);
    const model = tessera('train', nowhere, '--model', 'resnet19', '--out-dir', runs);
    assert.equal(model.status, 1);
    assert.match(model.stderr, /^tessera: model\.name \(--model\): unknown model 'resnet19'\. Did you mean 'resnet9'\?/);
    const format = tessera('train', nowhere, '--pretrained', CLI, '--out-dir', runs);
    assert.match(format.stderr, /cannot tell the weights format from the extension/);
    assert.ok(!existsSync(runs) || readdirSync(runs).length === 0, 'nothing was created');
  });

  it('a run that fails leaves no half-made run folder; leftovers of a killed run are removed on the next start', async () => {
    const oneClass = join(root, 'one-class');
    await writePhotos(oneClass, { red: 4 });
    const failed = tessera('train', oneClass, '--model', 'mlp', '--threads', '1', '--out-dir', runs, '--name', 'failed');
    assert.equal(failed.status, 1);
    assert.match(failed.stderr, /has 1 class; training a classifier needs at least 2/);
    assert.ok(!existsSync(join(runs, 'failed')), 'the failed run left no folder');

    // A run that was killed while writing, before its first checkpoint: its folder holds a temporary file.
    mkdirSync(join(runs, 'done'), { recursive: true });
    writeFileSync(join(runs, 'done', '.config.json.4242.0123456789ab.tmp'), 'half a config');
    const done = tessera(...train('--epochs', '2', '--name', 'done', '--set', 'data.testSplit=0.25'));
    assert.equal(done.status, 0, done.stderr);
    assert.match(done.stdout, /removed 1 temporary file left by an earlier run that was stopped/);
    assert.ok(!existsSync(join(runs, 'done', '.config.json.4242.0123456789ab.tmp')));
    assert.ok(!existsSync(join(runs, 'done', '.lock')), 'the lock is released at the end');
  });

  it('eval and predict take --threads; more threads than cores are lowered with a warning', () => {
    const evaluated = tessera('eval', join(runs, 'done'), '--data', photos, '--threads', '1');
    assert.equal(evaluated.status, 0, evaluated.stderr);
    assert.match(evaluated.stdout, /^on image folder .*photos \(2 classes, 20 files\):\n20 images: accuracy /);
    const predicted = tessera('predict', join(runs, 'done'), join(photos, 'red'), '--threads', '1', '--top-k', '1');
    assert.equal(predicted.status, 0, predicted.stderr);
    assert.equal(predicted.stdout.trim().split('\n').length, 11);
    const many = availableParallelism() + 1;
    const lowered = tessera('eval', join(runs, 'done'), '--data', photos, '--threads', String(many));
    assert.equal(lowered.status, 0, lowered.stderr);
    assert.match(lowered.stderr, new RegExp(`warning: train\\.threads \\(--threads\\) is ${many}, more than the ${availableParallelism()} cores here: using ${availableParallelism()}`));
  });

  it('a second `tessera train` of a live run is refused, naming the process that holds it', async () => {
    const first = spawn(process.execPath, [CLI, ...train('--epochs', '2000', '--name', 'live')], { cwd: root, stdio: 'ignore' });
    try {
      const lock = join(runs, 'live', '.lock');
      for (let waited = 0; !existsSync(lock); waited += 20) {
        assert.ok(waited < 120_000 && first.exitCode === null, 'the first run took its lock');
        await new Promise((r) => setTimeout(r, 20));
      }
      const second = tessera(...train('--epochs', '2000', '--name', 'live'));
      assert.equal(second.status, 1);
      assert.match(second.stderr, new RegExp(`^tessera: run directory .*live is in use by process ${first.pid} on .* \\(since .*\\); wait for it to finish, stop it, or give this run another --name\\n$`));
      assert.doesNotMatch(second.stdout, /resuming/);
    } finally {
      first.kill('SIGKILL');
    }
  });

  it('a changed config on --resume says to pass --force, the flag, not the library option', () => {
    const r = tessera(...train('--epochs', '2', '--name', 'done', '--set', 'data.testSplit=0.25', '--resume', '--lr', '0.01'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /different config or data \(pass --force to resume anyway\)/);
    assert.doesNotMatch(r.stderr, /force: true/);
  });

  it('a full disk names the file that could not be written, and leaves no run folder', (t) => {
    const disk = join(root, 'tiny-disk');
    mkdirSync(disk);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=12k', 'tmpfs', disk], { encoding: 'utf8' });
    if (mounted.status !== 0) return t.skip(`cannot mount a tmpfs here (needs root): ${mounted.stderr.trim()}`);
    try {
      const r = tessera('train', photos, '--model', 'mlp', '--image-size', '12', '--epochs', '1', '--threads', '1', '--out-dir', join(disk, 'runs'), '--name', 'full');
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`^tessera: cannot write ${disk}/runs/full/[^ ]+: no space left on the device \\(ENOSPC\\)\\n$`));
      assert.ok(!existsSync(join(disk, 'runs', 'full')));
    } finally {
      spawnSync('umount', [disk]);
    }
  });

  it('data check exits 0 when nothing stops training (near-duplicates, imbalance) and says what addresses imbalance', async () => {
    const alike = join(root, 'alike');
    for (const [name, colour, n] of [['red', '#d02020', 12], ['blue', '#2020d0', 3]] as const) {
      mkdirSync(join(alike, name), { recursive: true });
      for (let i = 0; i < n; i++) await sharp({ create: { width: 40 + i, height: 40, channels: 3, background: colour } }).png().toFile(join(alike, name, `${i}.png`));
    }
    const r = tessera('data', 'check', alike, '--no-progress');
    assert.equal(r.status, 0, r.stdout);
    assert.match(r.stdout, /near-duplicates: \d+ file\(s\) look like an earlier one .* in \d+ group/);
    assert.match(r.stdout, /Class imbalance: the largest class has 4× the samples of the smallest/);
    assert.match(r.stdout, /--set train\.classWeights=inverse/);
    assert.match(r.stdout, /--set train\.sampler=weighted/);
  });
});
