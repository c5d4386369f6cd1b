// The 1cycle policy (Smith & Topin 2018, "Super-Convergence"), as PyTorch 1.13's OneCycleLR.
//
// Two phases (three with threePhase), by step s out of N = totalSteps:
//   s ≤ pct·N − 1:       lr  η_max/div → η_max               momentum  m_max → m_base
//   then up to N − 1:    lr  η_max → η_max/(div·finalDiv)    momentum  m_base → m_max
// threePhase: up, then back down to η_max/div by 2·pct·N − 2, then annealed to the minimum.
// Within a phase, with t ∈ [0, 1] its progress, values go from `start` to `end` by
//   cos:     end + (start − end)/2·(cos(π·t) + 1)
//   linear:  (end − start)·t + start
// Momentum cycling writes group.momentum (SGD, RMSprop) or β1 of group.betas (Adam, AdamW, Lion).
import { LRScheduler, type SchedulableGroup, type SchedulableOptimizer } from './base.js';

export interface OneCycleOptions {
  /** Peak lr, one for all groups or one per group. */
  maxLr: number | number[];
  /** Total steps; or give epochs and stepsPerEpoch. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** Fraction of the steps spent increasing the lr (default 0.3). */
  pctStart?: number;
  annealStrategy?: 'cos' | 'linear';
  cycleMomentum?: boolean;
  baseMomentum?: number | number[];
  maxMomentum?: number | number[];
  /** Initial lr = maxLr/divFactor (default 25). */
  divFactor?: number;
  /** Minimum lr = initial lr/finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  threePhase?: boolean;
  lastEpoch?: number;
}

type Anchor = 'initial' | 'max' | 'min';
interface Phase {
  endStep: number;
  startLr: Anchor;
  endLr: Anchor;
  startMomentum: 'max' | 'base';
  endMomentum: 'max' | 'base';
}

export class OneCycleLR extends LRScheduler {
  readonly totalSteps: number;
  readonly cycleMomentum: boolean;
  /** Whether momentum lives in group.betas[0] (Adam-like) rather than group.momentum. */
  readonly useBeta1: boolean;
  private readonly phases: Phase[];
  private readonly anneal: (start: number, end: number, pct: number) => number;
  /** Per group: the lr anchors and the momentum range (PyTorch keeps them in the groups). */
  private readonly lrs: Record<Anchor, number>[];
  private readonly momenta: { max: number; base: number }[];

  constructor(optimizer: SchedulableOptimizer, options: OneCycleOptions) {
    super(optimizer, prepare(optimizer, options));
    const o = options;
    this.totalSteps = totalStepsOf(o);
    const pct = o.pctStart ?? 0.3;
    if (!(pct >= 0 && pct <= 1)) throw new RangeError(`OneCycleLR: expected pctStart between 0 and 1, got ${pct}`);
    const N = this.totalSteps;
    // Each phase needs at least one step, or its interpolation divides by zero (PyTorch raises
    // ZeroDivisionError there; a NaN learning rate would silently destroy the weights).
    const warmupEnd = pct * N - 1;
    if (!(warmupEnd > 0 && (o.threePhase ? 2 * pct * N - 2 > warmupEnd && N - 1 > 2 * pct * N - 2 : N - 1 > warmupEnd)))
      throw new RangeError(`OneCycleLR: pctStart ${pct} of ${N} total steps leaves a phase with no steps; use more steps or a pctStart between ${(2 / N).toFixed(3)} and ${(1 - 1 / N).toFixed(3)}`);
    this.phases = o.threePhase
      ? [
          { endStep: pct * N - 1, startLr: 'initial', endLr: 'max', startMomentum: 'max', endMomentum: 'base' },
          { endStep: 2 * pct * N - 2, startLr: 'max', endLr: 'initial', startMomentum: 'base', endMomentum: 'max' },
          { endStep: N - 1, startLr: 'initial', endLr: 'min', startMomentum: 'max', endMomentum: 'max' },
        ]
      : [
          { endStep: pct * N - 1, startLr: 'initial', endLr: 'max', startMomentum: 'max', endMomentum: 'base' },
          { endStep: N - 1, startLr: 'max', endLr: 'min', startMomentum: 'base', endMomentum: 'max' },
        ];
    const strategy = o.annealStrategy ?? 'cos';
    if (strategy !== 'cos' && strategy !== 'linear') throw new RangeError(`OneCycleLR: annealStrategy must be 'cos' or 'linear', got ${String(strategy)}`);
    this.anneal = strategy === 'cos' ? annealCos : annealLinear;
    const groups = optimizer.paramGroups;
    const maxLrs = perGroup('maxLr', o.maxLr, groups.length);
    this.lrs = groups.map((g, i) => {
      const initial = g.initialLr as number; // set by prepare()
      return { initial, max: maxLrs[i] as number, min: initial / (o.finalDivFactor ?? 1e4) };
    });
    this.cycleMomentum = o.cycleMomentum ?? true;
    this.useBeta1 = 'betas' in optimizer.defaults;
    const maxM = perGroup('maxMomentum', o.maxMomentum ?? 0.95, groups.length);
    const baseM = perGroup('baseMomentum', o.baseMomentum ?? 0.85, groups.length);
    this.momenta = groups.map((_, i) => ({ max: maxM[i] as number, base: baseM[i] as number }));
    if (this.cycleMomentum) {
      if (!('momentum' in optimizer.defaults) && !this.useBeta1) throw new Error('OneCycleLR: the optimizer must have momentum or betas to cycle momentum');
      if (this.lastEpoch === -1) groups.forEach((g, i) => this.setMomentum(g, (this.momenta[i] as { max: number }).max));
    }
    this.initialStep();
  }

  protected getLr(): number[] {
    const step = this.lastEpoch;
    if (step > this.totalSteps) throw new Error(`OneCycleLR: tried to step ${step + 1} times; the specified number of total steps is ${this.totalSteps}`);
    return this.optimizer.paramGroups.map((group, gi) => {
      const lrs = this.lrs[gi] as Record<Anchor, number>;
      const momenta = this.momenta[gi] as { max: number; base: number };
      let startStep = 0;
      for (let i = 0; i < this.phases.length; i++) {
        const phase = this.phases[i] as Phase;
        if (step <= phase.endStep || i === this.phases.length - 1) {
          const pct = (step - startStep) / (phase.endStep - startStep);
          if (this.cycleMomentum) this.setMomentum(group, this.anneal(momenta[phase.startMomentum], momenta[phase.endMomentum], pct));
          return this.anneal(lrs[phase.startLr], lrs[phase.endLr], pct);
        }
        startStep = phase.endStep;
      }
      throw new Error('unreachable: the last phase always matches');
    });
  }

  private setMomentum(group: SchedulableGroup, m: number): void {
    if (this.useBeta1) group.betas = [m, (group.betas as [number, number])[1]];
    else group.momentum = m;
  }
}

/** Sets each group's initialLr = maxLr/divFactor before the base constructor reads it. */
function prepare(optimizer: SchedulableOptimizer, o: OneCycleOptions): number {
  const lastEpoch = o.lastEpoch ?? -1;
  totalStepsOf(o); // validate before touching the groups
  const maxLrs = perGroup('maxLr', o.maxLr, optimizer.paramGroups.length);
  if (lastEpoch === -1) optimizer.paramGroups.forEach((g, i) => (g.initialLr = (maxLrs[i] as number) / (o.divFactor ?? 25)));
  return lastEpoch;
}

function totalStepsOf(o: OneCycleOptions): number {
  const positiveInt = (name: string, v: number) => {
    if (!(Number.isInteger(v) && v > 0)) throw new RangeError(`OneCycleLR: expected a positive integer ${name}, got ${v}`);
    return v;
  };
  if (o.totalSteps !== undefined) return positiveInt('totalSteps', o.totalSteps);
  if (o.epochs === undefined || o.stepsPerEpoch === undefined) throw new Error('OneCycleLR: give totalSteps, or epochs and stepsPerEpoch');
  return positiveInt('epochs', o.epochs) * positiveInt('stepsPerEpoch', o.stepsPerEpoch);
}

function perGroup(name: string, v: number | number[], n: number): number[] {
  if (!Array.isArray(v)) return new Array<number>(n).fill(v);
  if (v.length !== n) throw new Error(`OneCycleLR: expected ${n} values for ${name}, got ${v.length}`);
  return v;
}

/** Cosine anneal from start to end as pct goes from 0 to 1. */
function annealCos(start: number, end: number, pct: number): number {
  const cosOut = Math.cos(Math.PI * pct) + 1;
  return end + ((start - end) / 2.0) * cosOut;
}

function annealLinear(start: number, end: number, pct: number): number {
  return (end - start) * pct + start;
}
