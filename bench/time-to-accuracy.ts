// Time to accuracy, the main job (issue 13): `tessera train` with the default recipe, timed as a
// user meets it — from starting the command to the report written — for each seed, then its peer:
// the same recipe in PyTorch from Python (bench/peers/main_job.py), timed the same way (from
// starting the process to its test result), on the same threads.
//
// The peer reads the recipe from Tessera's run directory (config.json: epochs, batch, SGD, one-cycle,
// label smoothing, mixed precision, validation share, crop/flip, test-time flip, threads, seed;
// model.json: the normalisation Tessera measured) and starts from the initial weights Tessera's
// fashion-net gets for that seed (written here: manualSeed(seed), then createModel, as `tessera
// train` does). Its data order and crop/flip draws are torch's (same distributions, not the same
// draws), so its accuracy is its own: both sides' are printed.
//
// Per seed: wall seconds, test accuracy, training images/s, and where a training step's time goes
// (the trainer's per-batch phases from report.json: data wait, forward, backward, optimizer,
// callbacks). RESULT: runs per hour (3600 / mean seconds) over the seeds both sides ran; ratio =
// peer seconds / Tessera seconds (> 1: Tessera is faster); the line before it says whether each side
// reached the --target accuracy on every run.
//
//   node dist/bench/time-to-accuracy.js [--seeds 0,1,2] [--peer-seeds 0] [--threads N] [--target 0.93]
//        [--out-dir /tmp/tessera-tta] [--args "--epochs 1"]   (extra `tessera train` flags: a quick check, not a measurement)
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { createModel } from '../src/models/registry.js';
import { manualSeed, scope } from '../src/index.js';
import { defaultThreads, parseFlags, peerPython, repoRoot, resultLine } from './lib/harness.js';

const flags = parseFlags(
  { seeds: '0,1,2', 'peer-seeds': '0', threads: defaultThreads(), target: 0.93, 'out-dir': '/tmp/tessera-time-to-accuracy', args: '' },
  'node dist/bench/time-to-accuracy.js: the main job (`tessera train`, default recipe) per seed, start to report, and its PyTorch peer',
);
const seeds = flags.seeds.split(',').filter(Boolean).map(Number);
const peerSeeds = flags['peer-seeds'].split(',').filter(Boolean).map(Number);
const out = flags['out-dir'];
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const pct = (v: number | null | undefined) => (v == null || !Number.isFinite(v) ? 'n/a' : `${(v * 100).toFixed(2)}%`);

interface Side {
  seconds: number;
  accuracy: number;
}

/** `tessera train --seed s`: wall seconds from spawn to exit (report written), and what the run recorded. */
function tessera(seed: number): Side & { dir: string } {
  const name = `main-s${seed}`;
  const args = ['bin/tessera.js', 'train', '--seed', String(seed), '--threads', String(flags.threads), '--out-dir', out, '--name', name, ...flags.args.split(' ').filter(Boolean)];
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: repoRoot, encoding: 'utf8', maxBuffer: 1 << 26 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`tessera train (seed ${seed}) failed (status ${r.status}):\n${r.stderr}`);
  const dir = join(out, name);
  const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as { test_accuracy: number };
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as {
    history: { epoch: number; val: { accuracy?: number }; seconds?: number; imagesPerSecond?: number }[];
    timing: { name: string; seconds: number; perBatch?: boolean }[];
  };
  const phases = report.timing.filter((t) => t.perBatch);
  const step = phases.reduce((a, t) => a + t.seconds, 0);
  const ips = report.history.map((h) => h.imagesPerSecond ?? NaN);
  console.log(`tessera seed ${seed}: ${seconds.toFixed(1)} s start to report, test accuracy ${pct(metrics.test_accuracy)}; ` +
    `training ${(ips.reduce((a, b) => a + b, 0) / ips.length).toFixed(0)} img/s (mean of epochs); ` +
    `val accuracy by epoch ${report.history.map((h) => pct(h.val.accuracy)).join(' ')}`);
  console.log(`  a step (${(step * 1000).toFixed(1)} ms): ${phases.map((t) => `${t.name} ${((t.seconds / step) * 100).toFixed(1)}%`).join(', ')}`);
  console.log(`  whole run: ${report.timing.filter((t) => !t.perBatch).map((t) => `${t.name} ${t.seconds.toFixed(1)} s`).join(', ')}`);
  return { seconds, accuracy: metrics.test_accuracy, dir };
}

/** fashion-net's initial weights for `seed`, as `tessera train` makes them, as raw float32 + a layout file. */
function initialWeights(seed: number): string {
  const path = join(out, `init-s${seed}.f32`);
  scope(() => {
    manualSeed(seed);
    const model = createModel('fashion-net', { classes: 10, inChannels: 1, imageSize: 28 });
    const entries = [...model.stateDict()].filter(([, t]) => t.dtype === 'float32');
    writeFileSync(`${path}.json`, JSON.stringify(entries.map(([k, t]) => [k, t.shape])));
    writeFileSync(path, Buffer.concat(entries.map(([, t]) => Buffer.from((t.contiguous().data() as Float32Array).slice().buffer))));
    model.dispose();
  });
  return path;
}

function peer(seed: number, run: string): Side {
  const t0 = performance.now();
  const r = spawnSync(peerPython(), [join(repoRoot, 'bench', 'peers', 'main_job.py'), '--run', run, '--weights', initialWeights(seed)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`the peer (seed ${seed}) failed (status ${r.status}):\n${r.stderr}`);
  const res = JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as { test_accuracy: number; images_per_second: number; epochs: { val_accuracy: number | null }[]; torch: string; threads: number };
  console.log(`peer seed ${seed} (torch ${res.torch}, ${res.threads} threads): ${seconds.toFixed(1)} s start to result, test accuracy ${pct(res.test_accuracy)}; ` +
    `training ${res.images_per_second.toFixed(0)} img/s; val accuracy by epoch ${res.epochs.map((e) => pct(e.val_accuracy)).join(' ')}`);
  return { seconds, accuracy: res.test_accuracy };
}

const ours = new Map<number, Side & { dir: string }>();
for (const s of seeds) ours.set(s, tessera(s));
const theirs: Side[] = [];
for (const s of peerSeeds) {
  const run = ours.get(s) ?? tessera(s);
  ours.set(s, run);
  theirs.push(peer(s, run.dir));
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const all = [...ours.values()];
const reached = (xs: Side[]) => `${xs.filter((x) => x.accuracy >= flags.target).length}/${xs.length} runs ≥ ${pct(flags.target)}`;
console.log(`time-to-accuracy: tessera ${all.map((o) => `${o.seconds.toFixed(0)} s / ${pct(o.accuracy)}`).join(', ')} (${reached(all)}, worst ${Math.max(...all.map((o) => o.seconds)).toFixed(0)} s); ` +
  `peer ${theirs.map((o) => `${o.seconds.toFixed(0)} s / ${pct(o.accuracy)}`).join(', ')} (${reached(theirs)}); ${flags.threads} threads`);
// Only the seeds both sides ran are compared.
const common = peerSeeds.map((s) => ours.get(s) as Side);
console.log(resultLine('time-to-accuracy', 3600 / mean(common.map((o) => o.seconds)), 3600 / mean(theirs.map((o) => o.seconds)), 'runs/h'));
