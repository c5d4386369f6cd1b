// LR schedules against PyTorch 1.13's torch.optim.lr_scheduler: the lrs (and cycled momentum) of
// two parameter groups after construction and after each of ~50 steps, for every schedule; then a
// state-dict round trip (save after half the steps, JSON, load into freshly built optimizer and
// scheduler) that must continue exactly like the uninterrupted run.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { optim, zeros } from '../../src/index.js';
import { Deviation, runReference } from './harness.js';

type Sched = optim.Scheduler | optim.ReduceLROnPlateau;
type Opt = optim.SGD | optim.Adam;

interface SchedCase {
  name: string;
  /** The same schedule in Python, with `opt` and `lr_scheduler` in scope. */
  expr: string;
  make: (opt: Opt) => Sched;
  optimizer?: 'SGD' | 'Adam';
  steps?: number;
  /** Metrics fed to ReduceLROnPlateau.step(). */
  metrics?: number[];
}

/** A validation curve: improves, plateaus with noise, improves again, plateaus. */
const METRICS = Array.from({ length: 50 }, (_, i) => (i < 8 ? 1 / (1 + i) : i < 25 ? 0.12 + 0.01 * Math.sin(i) : i < 30 ? 0.1 - 0.005 * (i - 25) : 0.07 + 0.001 * (i % 3)));
const ACCURACY = METRICS.map((m) => 1 - m);

const S = optim;
const CASES: SchedCase[] = [
  { name: 'StepLR', expr: 'lr_scheduler.StepLR(opt, step_size=7, gamma=0.5)', make: (o) => new S.StepLR(o, { stepSize: 7, gamma: 0.5 }) },
  { name: 'MultiStepLR (repeated milestone)', expr: 'lr_scheduler.MultiStepLR(opt, milestones=[5, 12, 12, 30], gamma=0.3)', make: (o) => new S.MultiStepLR(o, { milestones: [5, 12, 12, 30], gamma: 0.3 }) },
  { name: 'ExponentialLR', expr: 'lr_scheduler.ExponentialLR(opt, gamma=0.93)', make: (o) => new S.ExponentialLR(o, { gamma: 0.93 }) },
  { name: 'CosineAnnealingLR past T_max', expr: 'lr_scheduler.CosineAnnealingLR(opt, T_max=20, eta_min=0.001)', make: (o) => new S.CosineAnnealingLR(o, { tMax: 20, etaMin: 0.001 }) },
  { name: 'CosineAnnealingLR', expr: 'lr_scheduler.CosineAnnealingLR(opt, T_max=50)', make: (o) => new S.CosineAnnealingLR(o, { tMax: 50 }) },
  { name: 'CosineAnnealingWarmRestarts T_mult 2', expr: 'lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=5, T_mult=2, eta_min=1e-4)', make: (o) => new S.CosineAnnealingWarmRestarts(o, { t0: 5, tMult: 2, etaMin: 1e-4 }) },
  { name: 'CosineAnnealingWarmRestarts', expr: 'lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=7)', make: (o) => new S.CosineAnnealingWarmRestarts(o, { t0: 7 }) },
  { name: 'LinearLR warm-up', expr: 'lr_scheduler.LinearLR(opt, start_factor=0.1, end_factor=1.0, total_iters=10)', make: (o) => new S.LinearLR(o, { startFactor: 0.1, endFactor: 1.0, totalIters: 10 }) },
  { name: 'LinearLR decay', expr: 'lr_scheduler.LinearLR(opt, start_factor=1.0, end_factor=0.2, total_iters=30)', make: (o) => new S.LinearLR(o, { startFactor: 1.0, endFactor: 0.2, totalIters: 30 }) },
  { name: 'ConstantLR', expr: 'lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=4)', make: (o) => new S.ConstantLR(o, { factor: 0.5, totalIters: 4 }) },
  { name: 'PolynomialLR', expr: 'lr_scheduler.PolynomialLR(opt, total_iters=30, power=2.0)', make: (o) => new S.PolynomialLR(o, { totalIters: 30, power: 2.0 }) },
  {
    name: 'withWarmup(CosineAnnealingLR) = SequentialLR([LinearLR, CosineAnnealingLR])',
    expr: 'lr_scheduler.SequentialLR(opt, [lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=5), lr_scheduler.CosineAnnealingLR(opt, T_max=45)], milestones=[5])',
    make: (o) => S.withWarmup(new S.CosineAnnealingLR(o, { tMax: 45 }), { steps: 5, startFactor: 0.1 }),
  },
  {
    name: 'SequentialLR of three',
    expr: 'lr_scheduler.SequentialLR(opt, [lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=3), lr_scheduler.ExponentialLR(opt, gamma=0.9), lr_scheduler.StepLR(opt, step_size=4)], milestones=[10, 25])',
    make: (o) => new S.SequentialLR(o, [new S.ConstantLR(o, { factor: 0.5, totalIters: 3 }), new S.ExponentialLR(o, { gamma: 0.9 }), new S.StepLR(o, { stepSize: 4 })], [10, 25]),
  },
  { name: 'OneCycleLR cos (SGD momentum)', expr: 'lr_scheduler.OneCycleLR(opt, max_lr=[0.5, 0.2], total_steps=50)', make: (o) => new S.OneCycleLR(o, { maxLr: [0.5, 0.2], totalSteps: 50 }), steps: 50 },
  {
    name: 'OneCycleLR linear three-phase',
    expr: "lr_scheduler.OneCycleLR(opt, max_lr=0.3, total_steps=50, pct_start=0.25, anneal_strategy='linear', three_phase=True)",
    make: (o) => new S.OneCycleLR(o, { maxLr: 0.3, totalSteps: 50, pctStart: 0.25, annealStrategy: 'linear', threePhase: true }),
    steps: 49,
  },
  {
    name: 'OneCycleLR (Adam beta1)',
    expr: 'lr_scheduler.OneCycleLR(opt, max_lr=0.01, epochs=5, steps_per_epoch=10, div_factor=10.0, final_div_factor=100.0, base_momentum=0.8, max_momentum=0.9)',
    make: (o) => new S.OneCycleLR(o, { maxLr: 0.01, epochs: 5, stepsPerEpoch: 10, divFactor: 10, finalDivFactor: 100, baseMomentum: 0.8, maxMomentum: 0.9 }),
    optimizer: 'Adam',
    steps: 49,
  },
  {
    name: 'ReduceLROnPlateau min rel, cooldown, per-group min_lr',
    expr: 'lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1, min_lr=[0.01, 0.001])',
    make: (o) => new S.ReduceLROnPlateau(o, { factor: 0.5, patience: 2, cooldown: 1, minLr: [0.01, 0.001] }),
    metrics: METRICS,
  },
  {
    name: 'ReduceLROnPlateau max abs',
    expr: "lr_scheduler.ReduceLROnPlateau(opt, mode='max', threshold_mode='abs', threshold=0.005, patience=3)",
    make: (o) => new S.ReduceLROnPlateau(o, { mode: 'max', thresholdMode: 'abs', threshold: 0.005, patience: 3 }),
    metrics: ACCURACY,
  },
  {
    name: 'ReduceLROnPlateau min abs',
    expr: "lr_scheduler.ReduceLROnPlateau(opt, threshold_mode='abs', threshold=0.01, patience=1, factor=0.7)",
    make: (o) => new S.ReduceLROnPlateau(o, { thresholdMode: 'abs', threshold: 0.01, patience: 1, factor: 0.7 }),
    metrics: METRICS,
  },
];

const LRS = [0.1, 0.05];
const OPTIONS = { SGD: { momentum: 0.9 }, Adam: {} };

interface Record_ {
  lr: number[];
  momentum: number[];
  lastLr?: number[] | null;
}

function makeOptimizer(kind: 'SGD' | 'Adam'): Opt {
  const groups = [{ params: [zeros([2]).requiresGrad_()] }, { params: [zeros([3]).requiresGrad_()], lr: LRS[1] as number }];
  return kind === 'SGD' ? new optim.SGD(groups, { lr: LRS[0] as number, momentum: 0.9 }) : new optim.Adam(groups, { lr: LRS[0] as number });
}

function snapshot(opt: Opt): Record_ {
  return { lr: opt.paramGroups.map((g) => g.lr), momentum: opt.paramGroups.map((g) => ('betas' in g ? g.betas[0] : g.momentum)) };
}

function stepOnce(s: Sched, c: SchedCase, i: number): void {
  if (s instanceof optim.ReduceLROnPlateau) s.step(c.metrics?.[i] as number);
  else s.step();
}

/** Builds the optimizer and schedule, and steps [0, steps) — resuming from a state at `resumeAt` if given. */
function runOurs(c: SchedCase, steps: number, resumeAt?: number): Record_[] {
  let opt = makeOptimizer(c.optimizer ?? 'SGD');
  let sched = c.make(opt);
  const records: Record_[] = [snapshot(opt)];
  for (let i = 0; i < steps; i++) {
    if (i === resumeAt) {
      const optState = opt.stateDict();
      const schedState = JSON.parse(JSON.stringify(sched.stateDict())) as optim.SchedulerStateDict;
      opt = makeOptimizer(c.optimizer ?? 'SGD');
      sched = c.make(opt); // build first (it writes lrs), then load the optimizer, then the schedule
      opt.loadStateDict(optState);
      sched.loadStateDict(schedState);
    }
    opt.step();
    stepOnce(sched, c, i);
    records.push({ ...snapshot(opt), lastLr: sched.getLastLr() });
  }
  return records;
}

describe('LR schedules match PyTorch 1.13', () => {
  let reference: { records: Record_[] }[] = [];
  before(() => {
    const wire = CASES.map((c) => ({ expr: c.expr, optimizer: c.optimizer ?? 'SGD', options: OPTIONS[c.optimizer ?? 'SGD'], lrs: LRS, steps: c.steps ?? 50, metrics: c.metrics ?? null }));
    reference = runReference('sched', wire);
  });

  CASES.forEach((c, ci) => {
    it(`${c.name}: lr${c.name.startsWith('OneCycle') ? ' and momentum' : ''} over ${c.steps ?? 50} steps`, (t) => {
      const theirs = (reference[ci] as { records: Record_[] }).records;
      const ours = runOurs(c, c.steps ?? 50);
      assert.equal(ours.length, theirs.length);
      const dev = new Deviation();
      const tol = { rtol: 1e-13, atol: 0 };
      ours.forEach((r, i) => {
        const e = theirs[i] as Record_;
        dev.check(r.lr, e.lr, tol, `step ${i} lr`);
        dev.check(r.momentum, e.momentum, tol, `step ${i} momentum`);
        if (e.lastLr) dev.check(r.lastLr ?? [], e.lastLr, tol, `step ${i} getLastLr`);
      });
      t.diagnostic(`vs PyTorch: ${dev.toString()}`);
    });

    it(`${c.name}: state dict round trip`, () => {
      const steps = c.steps ?? 50;
      assert.deepEqual(runOurs(c, steps, Math.floor(steps / 2)), runOurs(c, steps));
    });
  });
});

describe('OneCycleLR with too few steps', () => {
  it('refuses a phase with no steps instead of producing a NaN learning rate', () => {
    const opt = new optim.SGD([zeros([2]).requiresGrad_()], { lr: 0.1, momentum: 0.9 });
    assert.throws(() => new optim.OneCycleLR(opt, { maxLr: 0.1, totalSteps: 5, pctStart: 0.2 }), /pctStart 0\.2 of 5 total steps leaves a phase with no steps/);
    const ok = new optim.OneCycleLR(opt, { maxLr: 0.1, totalSteps: 5, pctStart: 0.4 });
    for (let i = 0; i < 4; i++) {
      opt.step();
      ok.step();
      assert.ok(Number.isFinite(opt.paramGroups[0]!.lr), `lr at step ${i + 1} is finite`);
    }
  });
});
