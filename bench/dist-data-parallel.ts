// Data-parallel scaling on this machine: the seeds' CNN (bench/dist-rank.ts) trained by 1 rank ×
// 1 thread and by 2 ranks × 1 thread each (batch 64 per rank, DataParallel over Gloo on loopback),
// against PyTorch doing the same (1 process; 2 processes under DistributedDataParallel, peer
// bench/peers/dist_ddp.py). Process start-up and rendezvous are outside the timing: each side
// times its own steps after a warm-up, between two barriers. The four runs are interleaved
// (A B C D, D C B A, ...) so that a machine changing speed biases none of them.
//
// Also printed: the time syncGradients takes per step in the loop, and alone right after a barrier
// (copy into the buckets, all-reduce, copy back: the most that overlapping communication with
// backward could save on this machine).
//
// The trainer path (bench/dist-trainer-rank.ts) trains the same model, batch and steps through
// Learner.fit as `tessera train --nproc-per-node N` does (DataLoader, DistributedSampler, the source
// in lockstep, the DataParallel callbacks, History): 1 rank is a plain fit, 2 ranks data-parallel.
//
//   node dist/bench/dist-data-parallel.js [--reps 3] [--steps 30] [--warmup 5] [--batch 64]
//
// RESULT lines: dist-scaling (ours 2 ranks vs ours 1 rank; goal >= 1.8 on 2 cores), dist-ddp
// (ours 2 ranks vs PyTorch DDP 2 ranks; goal >= 1.0), dist-trainer-scaling (the trainer on 2 ranks
// vs the trainer on 1) and dist-trainer-loop (the trainer vs the hand-written loop, 2 ranks each:
// what the trainer's per-batch work and its small per-batch collectives, lockstep and loss, cost).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { dist } from '../src/index.js';
import { describeLoad, describeStats, interleaveN, parseFlags, peerPython, repoRoot, resultLine, stats } from './lib/harness.js';

const flags = parseFlags({ reps: 3, steps: 30, warmup: 5, batch: 64 }, 'node dist/bench/dist-data-parallel.js: 2 ranks vs 1 rank, and vs PyTorch DDP');
const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-dist-'));
const rankArgs = ['--steps', String(flags.steps), '--warmup', String(flags.warmup), '--batch', String(flags.batch)];
const syncMs: number[][] = [[], []];
const syncAloneMs: number[] = [];
const stepMs: number[][] = [[], [], [], [], [], []];

async function launchRanks(program: string, nproc: number, out: string): Promise<Record<string, number>> {
  const r = await dist.launch({ command: process.execPath, args: [join(repoRoot, 'dist', 'bench', program), '--out', out, ...rankArgs], nprocPerNode: nproc, threadsPerRank: 1 });
  if (r.exitCode !== 0) throw new Error(`our ${nproc}-rank run of ${program} failed: ${r.failure?.message}`);
  return JSON.parse(readFileSync(out, 'utf8')) as Record<string, number>;
}

async function ours(nproc: number, side: number): Promise<number> {
  const res = await launchRanks('dist-rank.js', nproc, join(dir, `ours-${nproc}.json`));
  syncMs[nproc - 1]!.push(res['syncMs']!);
  if (nproc === 2) syncAloneMs.push(res['syncAloneMs']!);
  stepMs[side]!.push(res['stepMs']!);
  return res['imagesPerSec']!;
}

async function trainer(nproc: number, side: number): Promise<number> {
  const res = await launchRanks('dist-trainer-rank.js', nproc, join(dir, `trainer-${nproc}.json`));
  stepMs[side]!.push(res['stepMs']!);
  return res['imagesPerSec']!;
}

async function peer(nproc: number, side: number): Promise<number> {
  const port = await new Promise<number>((resolve) => {
    // A free port for the peer's rendezvous, as the launcher picks one for ours.
    void import('node:net').then(({ createServer }) => {
      const s = createServer().listen(0, () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
  });
  const child = spawn(peerPython(), [join(repoRoot, 'bench', 'peers', 'dist_ddp.py'), String(nproc), String(flags.steps), String(flags.warmup), String(flags.batch), String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let text = '';
  child.stdout.on('data', (d: Buffer) => (text += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`the PyTorch peer (${nproc} ranks) exited with ${code}`);
  const res = JSON.parse(text.trim().split('\n').pop()!) as { imagesPerSec: number; stepMs: number };
  stepMs[side]!.push(res.stepMs);
  return res.imagesPerSec;
}

console.log(`dist-data-parallel: the seeds' CNN, batch ${flags.batch} per rank, 1 thread per rank, ${flags.steps} timed steps after ${flags.warmup}, ${flags.reps} repetitions`);
const sides = [
  { label: 'Tessera, 1 rank', run: () => ours(1, 0) },
  { label: 'Tessera, 2 ranks', run: () => ours(2, 1) },
  { label: 'PyTorch, 1 process', run: () => peer(1, 2) },
  { label: 'PyTorch DDP, 2 ranks', run: () => peer(2, 3) },
  { label: 'Tessera trainer, 1 rank', run: () => trainer(1, 4) },
  { label: 'Tessera trainer, 2 ranks', run: () => trainer(2, 5) },
];
const r = await interleaveN({
  reps: flags.reps,
  sides,
  pids: () => [],
  onRep: (i, k, v, pct) => console.log(`  rep ${i + 1} ${sides[k]!.label}: ${v.toFixed(0)} images/s (others used ${pct.toFixed(0)}%)`),
});
for (const [k, side] of sides.entries()) {
  console.log(`${side.label}: ${describeStats(stats(r.values[k]!), 'images/s')}; median step ${stats(stepMs[k]!).median.toFixed(1)} ms`);
}
console.log(`Tessera syncGradients per step, 2 ranks: in the loop ${describeStats(stats(syncMs[1]!), 'ms')}`);
console.log(`  alone after a barrier (copies + all-reduce): ${describeStats(stats(syncAloneMs), 'ms')}; 1 rank: ${stats(syncMs[0]!).median.toFixed(3)} ms (no communication)`);
console.log(describeLoad(r));
const median = (k: number) => stats(r.values[k]!).median;
console.log(resultLine('dist-scaling', median(1), median(0), 'images/s'));
console.log(resultLine('dist-ddp', median(1), median(3), 'images/s'));
console.log(resultLine('dist-trainer-scaling', median(5), median(4), 'images/s'));
console.log(resultLine('dist-trainer-loop', median(5), median(1), 'images/s'));
