// The training-speed benchmark harness shared by bench/train-*.ts and bench/*-speedup.ts.
//
// The peer (bench/peers/_training.py) seeds PyTorch, builds the model, and writes its initial
// state (parameters and buffers, by PyTorch's names) and a synthetic data set (`batches` fixed
// batches of random inputs and labels) as raw files. Tessera loads exactly those, so both sides
// start from identical weights and see identical batches in the same order. Then:
//   1. numerics: both run `check` steps and print their losses side by side; step 1 (same weights,
//      same batch) must agree, later steps must stay close: it proves the two sides compute the
//      same thing with the same recipe;
//   2. warm-up: `warmup` more steps each, not counted;
//   3. timing: `reps` repetitions of `steps` steps each, interleaved ours/peer/peer/ours...;
//      the metric is training images per second (batch × steps / seconds), median over reps.
// Every step reads the loss back (`item()`), as a training loop that logs it does, on both sides.
//
// Tessera's side is written in one of two ways:
//   - raw ops (`makeStep`): the bench gets the initial parameters as tensors and writes the step;
//   - modules (`module`): the bench gives a model (nn.Module with PyTorch's parameter names) and an
//     optimizer (optim.*); the harness loads the peer's state dict into the model by name (strict)
//     and runs the standard loop: zeroGrad, forward and loss (under autocast for a bf16 variant),
//     backward, step. It also says whether Tessera's own initialisation under the same seed
//     (manualSeed) would already have given the peer's weights.
// A variant (`Variant`) is how both sides train the same model: float32 or bf16 autocast,
// contiguous or channels_last. runSpeedupBench times two variants of Tessera against each other
// (and the same two in PyTorch, for comparison) instead of Tessera against PyTorch.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  autocast, manualSeed, memoryStats, nn, persist, scope, setNumThreads, tensor, type optim, type Tensor,
} from '../../src/index.js';
import {
  describeEngines, describeLoad, describeStats, defaultThreads, fmt, interleaveN, minorFaults, processTicks, parseFlags, Peer, resultLine, stats,
  type Flags, type Stats,
} from './harness.js';

// ---------------------------------------------------------------------------------------------
// What a bench declares

export interface Defaults {
  batch: number;
  batches: number;
  steps: number;
  warmup: number;
  reps: number;
  check: number;
}

/** How a model is trained, on both sides: float32 or bf16 autocast; contiguous or channels_last. */
export interface Variant {
  /** Forward and loss under autocast (Tessera's `autocast(fn, {dtype})`, PyTorch's `torch.autocast('cpu', dtype=...)`). */
  autocast?: 'bfloat16';
  /** 4-D parameters and inputs in channels_last strides (PyTorch's `model.to(memory_format=torch.channels_last)`). */
  channelsLast?: boolean;
}

export function describeVariant(v: Variant): string {
  return [v.autocast ? `${v.autocast} autocast` : 'float32', v.channelsLast ? 'channels_last' : 'contiguous'].join(', ');
}

/** Tessera's model and optimizer for a module bench. */
export interface ModuleSpec {
  /** A fresh model whose state dict keys are the peer's (PyTorch's) names. */
  model(): nn.Layer;
  optimizer(params: Tensor[]): optim.Optimizer;
}

/** Relative loss differences allowed between Tessera and PyTorch in the numerics check. */
export interface Tolerance {
  /** At step 1 (same weights, same batch). */
  first: number;
  /** At any step of the check. */
  worst: number;
}

const DEFAULT_TOLERANCE: Tolerance = { first: 1e-5, worst: 1e-3 };

export interface TrainingBench {
  /** The name in the RESULT line. */
  name: string;
  /** One line saying what is trained, and how. */
  title: string;
  /** The peer script under bench/peers/. */
  peerScript: string;
  /** The ratio (ours/peer) the issue asks for. */
  goal: number;
  defaults: Defaults;
  /** Flags of this bench beyond the common ones (name: default). */
  extraFlags?: Flags;
  /**
   * Raw-op benches: builds Tessera's training step from the initial parameters (in the order of
   * PyTorch's `named_parameters()`). The step trains on one batch and returns the loss as a number.
   */
  makeStep?(params: Tensor[]): (x: Tensor, y: Tensor) => number;
  /** Module benches: Tessera's model and optimizer (exactly one of makeStep and module). */
  module?: ModuleSpec;
  /** How both sides train (module benches only); default float32, contiguous. */
  variant?: Variant;
  /** More loops the peer keeps, by name, for `after` (e.g. { fp32: {} }). */
  extraPeerVariants?: Record<string, Variant>;
  tolerance?: Tolerance;
  /** Runs after the timing (e.g. a longer numerics comparison); returning false fails the bench. */
  after?(ctx: BenchContext): Promise<boolean>;
}

export interface BenchContext {
  flags: Flags & Defaults & { threads: number; seed: number };
  peer: Peer;
  data: TrainingData;
}

// ---------------------------------------------------------------------------------------------
// The peer's initial state and data

export interface TrainingData {
  /** The initial parameters, in the order of PyTorch's named_parameters(), requiring grad. */
  params: Tensor[];
  /** The initial parameters and buffers by PyTorch's state_dict keys (the same parameter tensors). */
  stateDict: Map<string, Tensor>;
  xs: Tensor[];
  ys: Tensor[];
  batch: number;
}

interface Manifest {
  params: { name: string; shape: number[]; file: string }[];
  buffers?: { name: string; shape: number[]; dtype: 'float32' | 'int64'; file: string }[];
  x: { file: string; shape: number[] };
  y: { file: string; shape: number[] };
}

function readArrayBuffer(path: string): ArrayBuffer {
  const b = readFileSync(path);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function loadData(dir: string, batch: number): TrainingData {
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const stateDict = new Map<string, Tensor>();
  const params = m.params.map((p) => {
    const t = tensor(new Float32Array(readArrayBuffer(join(dir, p.file))), { shape: p.shape }).requiresGrad_();
    stateDict.set(p.name, t);
    return t;
  });
  for (const b of m.buffers ?? []) {
    const raw = readArrayBuffer(join(dir, b.file));
    const values = b.dtype === 'int64' ? new BigInt64Array(raw) : new Float32Array(raw);
    stateDict.set(b.name, tensor(values, { shape: b.shape }));
  }
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
  return { params, stateDict, xs, ys, batch };
}

// ---------------------------------------------------------------------------------------------
// Tessera's training loops

/** A training loop: each call of step() trains on the next batch and returns the loss. */
export interface Trainer {
  step(): number;
  dispose(): void;
}

/** Raw-op benches: the bench's own step over the data's batches, training `data.params` in place. */
function rawTrainer(makeStep: (params: Tensor[]) => (x: Tensor, y: Tensor) => number, data: TrainingData): Trainer {
  const step = makeStep(data.params);
  let k = 0;
  return {
    step: () => {
      const i = k++ % data.xs.length;
      return step(data.xs[i] as Tensor, data.ys[i] as Tensor);
    },
    dispose: () => {},
  };
}

/**
 * A fresh model with the peer's initial state, its optimizer, and the standard loop:
 *   zeroGrad (to none) → forward + cross-entropy (under autocast for a bf16 variant) → backward → step,
 * one memory scope per step (activations, gradients and temporaries are freed when it ends).
 */
export function moduleTrainer(spec: ModuleSpec, data: TrainingData, variant: Variant = {}): Trainer {
  const model = spec.model();
  model.train();
  model.loadStateDict(data.stateDict); // strict: every key, the same shapes
  if (variant.channelsLast) model.to({ memoryFormat: 'channelsLast' }); // PyTorch's model.to(memory_format=torch.channels_last)
  const opt = spec.optimizer(model.parameters());
  const xs = variant.channelsLast ? data.xs.map((x) => persist(x.contiguous('channelsLast'))) : data.xs;
  const lossOf = (x: Tensor, y: Tensor) => nn.functional.crossEntropy(model.forward(x), y);
  const dtype = variant.autocast;
  let k = 0;
  return {
    step: () => {
      const i = k++ % xs.length;
      const x = xs[i] as Tensor;
      const y = data.ys[i] as Tensor;
      return scope(() => {
        opt.zeroGrad();
        const loss = dtype ? autocast(() => lossOf(x, y), { dtype }) : lossOf(x, y);
        loss.backward();
        opt.step();
        return loss.item() as number;
      });
    },
    dispose: () => {
      opt.dispose();
      model.dispose();
      if (xs !== data.xs) for (const x of xs) x.dispose();
    },
  };
}

/**
 * Whether Tessera's own initialisation under manualSeed(seed) gives the peer's initial state
 * (the peer draws its weights right after torch.manual_seed(seed)); one line for the report.
 */
function describeSeedInit(spec: ModuleSpec, data: TrainingData, seed: number): string {
  manualSeed(seed);
  const model = spec.model();
  const sd = model.stateDict();
  const differ: string[] = [];
  for (const [k, t] of data.stateDict) {
    const ours = sd.get(k);
    const same = ours !== undefined && scope(() => (ours.double().sub(t.double()).abs().max().item() as number) === 0);
    if (!same) differ.push(k);
  }
  model.dispose();
  const how = "initial weights: the peer's, loaded by name from the files it wrote (strict loadStateDict)";
  if (differ.length === 0) return `${how}; Tessera's own init under manualSeed(${seed}) is bit-identical to them (all ${data.stateDict.size} tensors)`;
  const list = differ.length > 4 ? `${differ.slice(0, 4).join(', ')}, ... (${differ.length} of ${data.stateDict.size})` : differ.join(', ');
  return `${how}; Tessera's own init under manualSeed(${seed}) differs in ${list}`;
}

// ---------------------------------------------------------------------------------------------
// Sides: something that trains and can be timed, in this process or in the peer

interface Side {
  label: string;
  /** Whose CPU time and page faults are this side's. */
  pid: () => number | 'self';
  losses(n: number): Promise<number[]>;
  /** `steps` steps, timed by the side itself; images per second. */
  rate(steps: number): Promise<number>;
}

function tesseraSide(label: string, trainer: Trainer, batch: number): Side {
  return {
    label,
    pid: () => 'self',
    losses: async (n) => Array.from({ length: n }, () => trainer.step()),
    rate: async (steps) => {
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) trainer.step();
      return (steps * batch) / ((performance.now() - t0) / 1000);
    },
  };
}

function peerSide(label: string, peer: Peer, variant: string): Side {
  return {
    label,
    pid: () => peer.pid,
    losses: async (n) => (await peer.call<{ losses: number[] }>('steps', { n, variant })).losses,
    rate: async (steps) => (await peer.call<{ rate: number }>('rep', { steps, variant })).rate,
  };
}

const peerVariant = (v: Variant) => ({ channels_last: v.channelsLast ?? false, autocast: v.autocast ?? null });

/**
 * The numerics check: `n` steps of each side from the same start, losses side by side. Step 1
 * must agree within tol.first (relative) and every step within tol.worst. Returns whether it did.
 */
async function checkSame(ours: Side, peer: Side, n: number, tol: Tolerance, what: string): Promise<boolean> {
  const peerLosses = await peer.losses(n);
  const ourLosses = await ours.losses(n);
  console.log('');
  console.log(`numerics (${what}), loss per step from identical weights and data:`);
  const w = Math.max(12, ours.label.length, peer.label.length);
  console.log(`  step  ${ours.label.padEnd(w)}  ${peer.label.padEnd(w)}  |diff|`);
  let worst = 0;
  ourLosses.forEach((o, i) => {
    const p = peerLosses[i] as number;
    const d = Math.abs(o - p);
    worst = Math.max(worst, d / Math.max(1e-6, Math.abs(p)));
    console.log(`  ${String(i + 1).padStart(4)}  ${o.toFixed(7).padEnd(w)}  ${p.toFixed(7).padEnd(w)}  ${d.toExponential(2)}`);
  });
  const firstRel = Math.abs((ourLosses[0] as number) - (peerLosses[0] as number)) / Math.abs(peerLosses[0] as number);
  const exact = ourLosses.every((o, i) => o === peerLosses[i]);
  const ok = firstRel <= tol.first && worst <= tol.worst;
  const bounds = `allowed: step 1 ${tol.first.toExponential(0)}, any step ${tol.worst.toExponential(0)}`;
  if (!ok)
    console.log(`numerics: MISMATCH (step 1 relative difference ${firstRel.toExponential(2)}, worst ${worst.toExponential(2)}; ${bounds}): the two sides do not compute the same thing`);
  else
    console.log(`numerics: same computation (${exact ? `bit-identical losses at all ${n} steps` : `step 1 relative difference ${firstRel.toExponential(2)}, worst over ${n} steps ${worst.toExponential(2)}; ${bounds}`})`);
  return ok;
}

interface Timed {
  stats: Stats[];
  leak: boolean;
}

/**
 * Warm-up, then the interleaved timed repetitions of every side, with CPU time, page faults and
 * machine load accounted per kept repetition; prints the per-side summary and the leak check.
 */
async function timeSides(sides: Side[], flags: Defaults, peer: Peer): Promise<Timed> {
  const warm: string[] = [];
  for (const s of sides) warm.push(`${s.label} ${fmt(await s.rate(flags.warmup))} img/s`);
  console.log(`warm-up: ${warm.join(', ')}`);

  const liveBefore = memoryStats().liveTensors;
  // Minor page faults per step, per side: freed large buffers that go back to the OS come back
  // zero-filled, a cost paid in the kernel. CPU time per step, all threads of the process: more CPU
  // for the same work is extra work; the same CPU in more wall time is waiting.
  const faults = sides.map(() => [] as number[]);
  const cpu = sides.map(() => 0);
  const last = { cpu: 0, faults: 0 };
  const r = await interleaveN({
    reps: flags.reps,
    pids: () => [peer.pid],
    sides: sides.map((s) => ({
      label: s.label,
      run: async () => {
        const pid = s.pid();
        const f0 = minorFaults(pid);
        const c0 = processTicks(pid);
        const v = await s.rate(flags.steps);
        last.cpu = processTicks(pid) - c0;
        last.faults = (minorFaults(pid) - f0) / flags.steps;
        return v;
      },
    })),
    onRep: (i, k, v, pct) => {
      // Only kept repetitions count (a repetition redone for machine load calls no onRep).
      cpu[k] = (cpu[k] as number) + last.cpu;
      (faults[k] as number[]).push(last.faults);
      console.log(`  rep ${String(i + 1).padStart(2)} ${(sides[k] as Side).label.padEnd(width(sides))} ${fmt(v).padStart(7)} img/s   (other processes ${pct.toFixed(0)}%)`);
    },
  });
  const liveAfter = memoryStats().liveTensors;
  const st = r.values.map((v) => stats(v));
  console.log('');
  sides.forEach((s, k) => console.log(`${s.label.padEnd(width(sides))}  ${describeStats(st[k] as Stats, 'img/s')}`));
  const msPerStep = (rate: number) => (1000 * flags.batch) / rate;
  const cpuPerStep = (ticks: number) => (10 * ticks) / (flags.reps * flags.steps);
  console.log(
    `per step: ${sides.map((s, k) => `${s.label} ${msPerStep((st[k] as Stats).median).toFixed(2)} ms wall, ${cpuPerStep(cpu[k] as number).toFixed(2)} ms CPU`).join('; ')} (CPU: all threads)`,
  );
  const f = faults.map((x) => stats(x).median);
  console.log(`minor page faults per step: ${sides.map((s, k) => `${s.label} ${fmt(f[k] as number)}`).join(', ')}`);
  const [fo, fp] = [Math.min(...f), Math.max(...f)];
  if (fp > 100 && fp > 10 * Math.max(1, fo))
    console.log(
      `  note: one side takes ${fmt(fp / Math.max(1, fo))}x the page faults of another: freed buffers went back to the OS in that process ` +
        "(glibc's mmap/trim thresholds), which can move a ratio by tens of percent (see BENCHMARKS.md, \"Allocator and page faults\")",
    );
  console.log(describeLoad(r));
  console.log(`live tensors before/after timing: ${liveBefore}/${liveAfter}${liveAfter === liveBefore ? '' : '  LEAK'}`);
  return { stats: st, leak: liveAfter !== liveBefore };
}

const width = (sides: Side[]) => Math.max(...sides.map((s) => s.label.length));

// ---------------------------------------------------------------------------------------------
// Set-up shared by both kinds of bench

interface Session {
  flags: BenchContext['flags'];
  peer: Peer;
  data: TrainingData;
  info: { torch: string; threads: number; python: string; model: string; optimizer: string; optimizer_repr: string };
  dir: string;
}

async function openSession(
  o: { name: string; title: string; peerScript: string; defaults: Defaults; extraFlags?: Flags | undefined },
  peerVariants: Record<string, Variant>,
): Promise<Session> {
  const flags = parseFlags(
    { threads: defaultThreads(), seed: 0, ...o.defaults, ...(o.extraFlags ?? {}) },
    `node dist/bench/${o.name}.js: ${o.title}`,
  ) as BenchContext['flags'];
  setNumThreads(flags.threads);
  const dir = mkdtempSync(join(tmpdir(), `tessera-bench-${o.name}-`));
  const peer = Peer.start(o.peerScript);
  try {
    const info = await peer.call<Session['info']>('init', {
      threads: flags.threads,
      dir,
      seed: flags.seed,
      batch: flags.batch,
      batches: flags.batches,
      variants: Object.fromEntries(Object.entries(peerVariants).map(([k, v]) => [k, peerVariant(v)])),
    });
    console.log(`${o.name}: ${o.title}`);
    console.log(`batch ${flags.batch}, ${flags.reps} repetitions of ${flags.steps} steps after ${flags.check}+${flags.warmup} warm-up steps`);
    console.log(describeEngines(peer, info));
    const model = info.model.replace(/\s+/g, ' ');
    console.log(`peer: ${model.length > 240 ? `${model.slice(0, 240)} ... (${model.length} characters)` : model}`);
    console.log(`peer optimizer: ${info.optimizer_repr.replace(/\s+/g, ' ')}`);
    return { flags, peer, data: loadData(dir, flags.batch), info, dir };
  } catch (e) {
    await peer.close();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

async function closeSession(s: Session): Promise<void> {
  await s.peer.close();
  rmSync(s.dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Tessera against PyTorch

export async function runTrainingBench(bench: TrainingBench): Promise<void> {
  if (!bench.makeStep === !bench.module) throw new Error(`${bench.name}: give exactly one of makeStep and module`);
  const variant = bench.variant ?? {};
  const s = await openSession(bench, { default: variant, ...(bench.extraPeerVariants ?? {}) });
  let failed = false;
  try {
    const { flags, peer, data } = s;
    let trainer: Trainer;
    if (bench.module) {
      console.log(`Tessera: nn modules + optim.${s.info.optimizer}; both sides train ${describeVariant(variant)}`);
      console.log(describeSeedInit(bench.module, data, flags.seed));
      trainer = moduleTrainer(bench.module, data, variant);
    } else {
      console.log("Tessera: raw ops; initial weights: the peer's, from the files it wrote");
      trainer = rawTrainer(bench.makeStep as NonNullable<TrainingBench['makeStep']>, data);
    }
    const ours = tesseraSide('Tessera', trainer, flags.batch);
    const theirs = peerSide('PyTorch', peer, 'default');

    // 1. Numerics: the same computation from the same start.
    if (!(await checkSame(ours, theirs, flags.check, bench.tolerance ?? DEFAULT_TOLERANCE, describeVariant(variant)))) failed = true;
    // 2, 3. Warm-up and timing.
    const t = await timeSides([ours, theirs], flags, peer);
    if (t.leak) failed = true;
    const [o, p] = t.stats as [Stats, Stats];
    const ratio = o.median / p.median;
    trainer.dispose();
    if (bench.after && !(await bench.after({ flags, peer, data }))) failed = true;
    console.log(`goal >= ${bench.goal.toFixed(1)}x PyTorch: ${ratio >= bench.goal ? 'met' : 'NOT met'} (${ratio.toFixed(3)}x)`);
    console.log(resultLine(bench.name, o.median, p.median, 'img/s'));
  } finally {
    await closeSession(s);
  }
  if (failed) process.exitCode = 1;
}

// ---------------------------------------------------------------------------------------------
// One variant of Tessera against another

export interface SpeedupBench {
  name: string;
  title: string;
  peerScript: string;
  /** The ratio (fast/base, both Tessera) the issue asks for, if it asks for one. */
  goal?: number;
  defaults: Defaults;
  extraFlags?: Flags;
  module: ModuleSpec;
  /** The variant expected to be faster (RESULT's `ours`) and the one it is measured against (`peer`), built from the flags. */
  variants(flags: BenchContext['flags']): { fast: Variant; base: Variant };
  /** Tessera against PyTorch within each variant (bf16 may not be bit-identical). */
  tolerance?: Tolerance;
}

/**
 * Times Tessera `fast` against Tessera `base` (same model, same weights, same batches), and, for
 * comparison, PyTorch doing the same: four loops interleaved A B C D, D C B A, ... The RESULT line's
 * `peer` is Tessera `base`, not PyTorch. Each Tessera variant is first checked against PyTorch's.
 */
export async function runSpeedupBench(bench: SpeedupBench): Promise<void> {
  // The flags decide the variants, so parse them once here (openSession parses the same argv).
  const probe = parseFlags(
    { threads: defaultThreads(), seed: 0, ...bench.defaults, ...(bench.extraFlags ?? {}) },
    `node dist/bench/${bench.name}.js: ${bench.title}`,
  ) as BenchContext['flags'];
  const { fast, base } = bench.variants(probe);
  const [fastName, baseName] = [describeVariant(fast), describeVariant(base)];
  const s = await openSession(bench, { fast, base });
  let failed = false;
  try {
    const { flags, peer, data } = s;
    console.log(`Tessera: nn modules + optim.${s.info.optimizer}; "ours" is Tessera ${fastName}, "peer" is Tessera ${baseName} (not PyTorch)`);
    console.log(describeSeedInit(bench.module, data, flags.seed));
    const tFast = moduleTrainer(bench.module, data, fast);
    const tBase = moduleTrainer(bench.module, data, base);
    const sides = [
      tesseraSide(`Tessera ${fastName}`, tFast, flags.batch),
      tesseraSide(`Tessera ${baseName}`, tBase, flags.batch),
      peerSide(`PyTorch ${fastName}`, peer, 'fast'),
      peerSide(`PyTorch ${baseName}`, peer, 'base'),
    ] as const;
    const tol = bench.tolerance ?? DEFAULT_TOLERANCE;
    if (!(await checkSame(sides[0], sides[2], flags.check, tol, fastName))) failed = true;
    if (!(await checkSame(sides[1], sides[3], flags.check, DEFAULT_TOLERANCE, baseName))) failed = true;
    const t = await timeSides([...sides], flags, peer);
    if (t.leak) failed = true;
    const [tf, tb, pf, pb] = t.stats.map((x) => x.median) as [number, number, number, number];
    tFast.dispose();
    tBase.dispose();
    console.log(`speed-up of ${fastName} over ${baseName}: Tessera ${(tf / tb).toFixed(3)}x, PyTorch ${(pf / pb).toFixed(3)}x`);
    console.log(`Tessera / PyTorch: ${fastName} ${(tf / pf).toFixed(3)}x, ${baseName} ${(tb / pb).toFixed(3)}x`);
    if (bench.goal === undefined) console.log(`no goal set: Tessera ${fastName} over Tessera ${baseName} is reported for information (${(tf / tb).toFixed(3)}x)`);
    else console.log(`goal >= ${bench.goal.toFixed(1)}x (Tessera ${fastName} over Tessera ${baseName}): ${tf / tb >= bench.goal ? 'met' : 'NOT met'} (${(tf / tb).toFixed(3)}x)`);
    console.log(resultLine(bench.name, tf, tb, 'img/s'));
  } finally {
    await closeSession(s);
  }
  if (failed) process.exitCode = 1;
}

/** n steps of a fresh loop of each variant from the initial state, Tessera and PyTorch; the losses. */
export async function trajectories(
  ctx: BenchContext,
  spec: ModuleSpec,
  runs: { label: string; variant: Variant; peerVariant: string }[],
  n: number,
): Promise<{ label: string; ours: number[]; peer: number[] }[]> {
  const out: { label: string; ours: number[]; peer: number[] }[] = [];
  for (const r of runs) {
    const t = moduleTrainer(spec, ctx.data, r.variant);
    const ours = Array.from({ length: n }, () => t.step());
    t.dispose();
    await ctx.peer.call('reset', { variant: r.peerVariant });
    const peer = (await ctx.peer.call<{ losses: number[] }>('steps', { n, variant: r.peerVariant })).losses;
    out.push({ label: r.label, ours, peer });
  }
  return out;
}
