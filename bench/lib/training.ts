// The training-speed benchmark harness shared by bench/train-*.ts.
//
// The peer (bench/peers/_training.py) seeds PyTorch, builds the model, and writes its initial
// weights and a synthetic data set (`batches` fixed batches of random inputs and labels) as raw
// files. Tessera loads exactly those, so both sides start from identical weights and see identical
// batches in the same order. Then:
//   1. numerics: both run `check` steps and print their losses side by side; step 1 (same weights,
//      same batch) must agree, later steps must stay close: it proves the two sides compute the
//      same thing with the same recipe;
//   2. warm-up: `warmup` more steps each, not counted;
//   3. timing: `reps` repetitions of `steps` steps each, interleaved ours/peer/peer/ours...;
//      the metric is training images per second (batch × steps / seconds), median over reps.
// Every step reads the loss back (`item()`), as a training loop that logs it does, on both sides.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { memoryStats, setNumThreads, tensor, type Tensor } from '../../src/index.js';
import {
  describeEngines, describeLoad, describeStats, defaultThreads, fmt, interleave, minorFaults, processTicks, parseFlags, Peer, resultLine, stats,
} from './harness.js';

export interface TrainingBench {
  /** The name in the RESULT line. */
  name: string;
  /** One line saying what is trained, and how. */
  title: string;
  /** The peer script under bench/peers/. */
  peerScript: string;
  /** The ratio (ours/peer) the issue asks for. */
  goal: number;
  defaults: { batch: number; batches: number; steps: number; warmup: number; reps: number; check: number };
  /**
   * Builds Tessera's training step from the initial parameters (in the order of PyTorch's
   * `named_parameters()`). The step trains on one batch and returns the loss as a number.
   */
  makeStep(params: Tensor[]): (x: Tensor, y: Tensor) => number;
}

interface Manifest {
  params: { name: string; shape: number[]; file: string }[];
  x: { file: string; shape: number[] };
  y: { file: string; shape: number[] };
}

function readArrayBuffer(path: string): ArrayBuffer {
  const b = readFileSync(path);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

export async function runTrainingBench(bench: TrainingBench): Promise<void> {
  const flags = parseFlags(
    { threads: defaultThreads(), seed: 0, ...bench.defaults },
    `node dist/bench/${bench.name}.js: ${bench.title}`,
  );
  setNumThreads(flags.threads);
  const dir = mkdtempSync(join(tmpdir(), `tessera-bench-${bench.name}-`));
  const peer = Peer.start(bench.peerScript);
  let failed = false;
  try {
    const info = await peer.call<{ torch: string; threads: number; python: string; model: string; optimizer: string }>('init', {
      threads: flags.threads,
      dir,
      seed: flags.seed,
      batch: flags.batch,
      batches: flags.batches,
    });
    console.log(`${bench.name}: ${bench.title}`);
    console.log(`batch ${flags.batch}, ${flags.reps} repetitions of ${flags.steps} steps after ${flags.check}+${flags.warmup} warm-up steps`);
    console.log(describeEngines(peer, info));
    console.log(`peer: ${info.model.replace(/\s+/g, ' ')}, torch.optim.${info.optimizer}`);

    // The same initial weights and data as the peer.
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    const params = m.params.map((p) =>
      tensor(new Float32Array(readArrayBuffer(join(dir, p.file))), { shape: p.shape }).requiresGrad_(),
    );
    const xAll = new Float32Array(readArrayBuffer(join(dir, m.x.file)));
    const yAll = new BigInt64Array(readArrayBuffer(join(dir, m.y.file)));
    const [nb, ...xShape] = m.x.shape as [number, ...number[]];
    const yShape = m.y.shape.slice(1);
    const xn = prod(xShape);
    const yn = prod(yShape);
    const xs: Tensor[] = [];
    const ys: Tensor[] = [];
    for (let i = 0; i < nb; i++) {
      xs.push(tensor(xAll.subarray(i * xn, (i + 1) * xn), { shape: xShape }));
      ys.push(tensor(yAll.subarray(i * yn, (i + 1) * yn), { shape: yShape }));
    }

    const step = bench.makeStep(params);
    let k = 0;
    const next = (): number => {
      const i = k++ % nb;
      return step(xs[i] as Tensor, ys[i] as Tensor);
    };
    const run = (n: number): number => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) next();
      return (n * flags.batch) / ((performance.now() - t0) / 1000);
    };

    // 1. Numerics: the same computation from the same start.
    const peerLosses = (await peer.call<{ losses: number[] }>('steps', { n: flags.check })).losses;
    const ourLosses = Array.from({ length: flags.check }, () => next());
    console.log('');
    console.log('numerics, loss per step from identical weights and data:');
    console.log('  step  Tessera       PyTorch       |diff|');
    let worst = 0;
    ourLosses.forEach((o, i) => {
      const p = peerLosses[i] as number;
      const d = Math.abs(o - p);
      worst = Math.max(worst, d / Math.max(1e-6, Math.abs(p)));
      console.log(`  ${String(i + 1).padStart(4)}  ${o.toFixed(7).padEnd(12)}  ${p.toFixed(7).padEnd(12)}  ${d.toExponential(2)}`);
    });
    const firstRel = Math.abs((ourLosses[0] as number) - (peerLosses[0] as number)) / Math.abs(peerLosses[0] as number);
    if (!(firstRel < 1e-5) || !(worst < 1e-3)) {
      failed = true;
      console.log(`numerics: MISMATCH (step 1 relative difference ${firstRel.toExponential(2)}, worst ${worst.toExponential(2)}): the two sides do not compute the same thing`);
    } else {
      console.log(`numerics: same computation (step 1 relative difference ${firstRel.toExponential(2)}, worst over ${flags.check} steps ${worst.toExponential(2)})`);
    }

    // 2. Warm-up.
    const warmOurs = run(flags.warmup);
    const warmPeer = (await peer.call<{ rate: number }>('rep', { steps: flags.warmup })).rate;
    console.log(`warm-up: Tessera ${fmt(warmOurs)} img/s, PyTorch ${fmt(warmPeer)} img/s`);

    // 3. Timing.
    const liveBefore = memoryStats().liveTensors;
    // Minor page faults per step, per side: freed large buffers go back to the OS (glibc's mmap
    // threshold) and come back zero-filled, a cost both sides pay in the kernel.
    const faults = { ours: [] as number[], peer: [] as number[] };
    // CPU time per step, all threads of each process: more CPU for the same work is extra work;
    // the same CPU in more wall time is waiting (threads descheduled, I/O).
    const cpu = { ours: 0, peer: 0 };
    const last = { cpu: 0, faults: 0 };
    const r = await interleave({
      reps: flags.reps,
      pids: () => [peer.pid],
      ours: () => {
        const f0 = minorFaults('self');
        const c0 = processTicks('self');
        const v = run(flags.steps);
        last.cpu = processTicks('self') - c0;
        last.faults = (minorFaults('self') - f0) / flags.steps;
        return v;
      },
      peer: async () => {
        const f0 = minorFaults(peer.pid);
        const c0 = processTicks(peer.pid);
        const v = (await peer.call<{ rate: number }>('rep', { steps: flags.steps })).rate;
        last.cpu = processTicks(peer.pid) - c0;
        last.faults = (minorFaults(peer.pid) - f0) / flags.steps;
        return v;
      },
      onRep: (i, side, v, pct) => {
        // Only kept repetitions count (a repetition redone for machine load calls no onRep).
        const key = side === 'ours' ? 'ours' : 'peer';
        cpu[key] += last.cpu;
        faults[key].push(last.faults);
        console.log(`  rep ${String(i + 1).padStart(2)} ${side === 'ours' ? 'Tessera' : 'PyTorch'} ${fmt(v).padStart(7)} img/s   (other processes ${pct.toFixed(0)}%)`);
      },
    });
    const liveAfter = memoryStats().liveTensors;
    const loadLine = describeLoad(r);
    const o = stats(r.ours);
    const p = stats(r.peer);
    console.log('');
    console.log(`PyTorch  ${describeStats(p, 'img/s')}`);
    console.log(`Tessera  ${describeStats(o, 'img/s')}`);
    const msPerStep = (rate: number) => (1000 * flags.batch) / rate;
    const cpuPerStep = (ticks: number) => (10 * ticks) / (flags.reps * flags.steps);
    console.log(
      `per step: Tessera ${msPerStep(o.median).toFixed(2)} ms wall, ${cpuPerStep(cpu.ours).toFixed(2)} ms CPU (all threads); ` +
        `PyTorch ${msPerStep(p.median).toFixed(2)} ms wall, ${cpuPerStep(cpu.peer).toFixed(2)} ms CPU`,
    );
    const fo = stats(faults.ours).median;
    const fp = stats(faults.peer).median;
    console.log(`minor page faults per step: Tessera ${fmt(fo)}, PyTorch ${fmt(fp)}`);
    if (Math.max(fo, fp) > 100 && Math.max(fo, fp) > 10 * Math.max(1, Math.min(fo, fp)))
      console.log(
        `  note: one side takes ${fmt(Math.max(fo, fp) / Math.max(1, Math.min(fo, fp)))}x the page faults of the other: glibc's heap returned freed ` +
          'activation buffers to the OS in that process and not the other, which moves this ratio by up to ~40% (see BENCHMARKS.md, "Page faults")',
      );
    console.log(loadLine);
    console.log(`live tensors before/after timing: ${liveBefore}/${liveAfter}${liveAfter === liveBefore ? '' : '  LEAK'}`);
    const ratio = o.median / p.median;
    console.log(`goal >= ${bench.goal.toFixed(1)}x PyTorch: ${ratio >= bench.goal ? 'met' : 'NOT met'} (${ratio.toFixed(3)}x)`);
    if (liveAfter !== liveBefore) failed = true;
    console.log(resultLine(bench.name, o.median, p.median, 'img/s'));
  } finally {
    await peer.close();
    rmSync(dir, { recursive: true, force: true });
  }
  if (failed) process.exitCode = 1;
}
