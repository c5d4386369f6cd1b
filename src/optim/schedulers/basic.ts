// Step-wise and simple closed-form schedules. Each getLr() transcribes PyTorch 1.13's chainable
// rule (the new lr from the current one), with the closed form it is equivalent to in a comment;
// η₀ is a group's base lr and e = lastEpoch.
import { bisectRight, LRScheduler, type SchedulableOptimizer } from './base.js';

/** η = η₀·γ^⌊e/stepSize⌋: decays by γ every `stepSize` epochs. */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: SchedulableOptimizer, options: { stepSize: number; gamma?: number; lastEpoch?: number }) {
    super(optimizer, options.lastEpoch);
    this.stepSize = options.stepSize;
    this.gamma = options.gamma ?? 0.1;
    this.initialStep();
  }

  protected getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return this.groupLrs();
    return this.groupLrs().map((lr) => lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }
}

/** η = η₀·γ^(number of milestones ≤ e); a milestone listed twice decays twice. */
export class MultiStepLR extends LRScheduler {
  readonly milestones: readonly number[];
  readonly gamma: number;
  /** Milestone → how many times it is listed (PyTorch's Counter). */
  private readonly counts = new Map<number, number>();

  constructor(optimizer: SchedulableOptimizer, options: { milestones: number[]; gamma?: number; lastEpoch?: number }) {
    super(optimizer, options.lastEpoch);
    this.milestones = [...options.milestones].sort((a, b) => a - b);
    this.gamma = options.gamma ?? 0.1;
    for (const m of this.milestones) this.counts.set(m, (this.counts.get(m) ?? 0) + 1);
    this.initialStep();
  }

  protected getLr(): number[] {
    const k = this.counts.get(this.lastEpoch);
    if (k === undefined) return this.groupLrs();
    return this.groupLrs().map((lr) => lr * this.gamma ** k);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** bisectRight(this.milestones, this.lastEpoch));
  }
}

/** η = η₀·factor until e = totalIters, then η₀. */
export class ConstantLR extends LRScheduler {
  readonly factor: number;
  readonly totalIters: number;

  constructor(optimizer: SchedulableOptimizer, options: { factor?: number; totalIters?: number; lastEpoch?: number } = {}) {
    super(optimizer, options.lastEpoch);
    this.factor = options.factor ?? 1 / 3;
    this.totalIters = options.totalIters ?? 5;
    if (this.factor > 1 || this.factor < 0) throw new RangeError('ConstantLR: factor must be between 0 and 1');
    this.initialStep();
  }

  protected getLr(): number[] {
    if (this.lastEpoch === 0) return this.groupLrs().map((lr) => lr * this.factor);
    if (this.lastEpoch !== this.totalIters) return this.groupLrs();
    return this.groupLrs().map((lr) => lr * (1.0 / this.factor));
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * (this.factor + (this.lastEpoch >= this.totalIters ? 1 : 0) * (1 - this.factor)));
  }
}

/** η = η₀·(s + (f − s)·min(e, T)/T): linear from startFactor·η₀ to endFactor·η₀ over T steps (warm-up). */
export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;

  constructor(optimizer: SchedulableOptimizer, options: { startFactor?: number; endFactor?: number; totalIters?: number; lastEpoch?: number } = {}) {
    super(optimizer, options.lastEpoch);
    this.startFactor = options.startFactor ?? 1 / 3;
    this.endFactor = options.endFactor ?? 1.0;
    this.totalIters = options.totalIters ?? 5;
    if (this.startFactor > 1 || this.startFactor < 0) throw new RangeError('LinearLR: startFactor must be between 0 and 1');
    if (this.endFactor > 1 || this.endFactor < 0) throw new RangeError('LinearLR: endFactor must be between 0 and 1');
    this.initialStep();
  }

  protected getLr(): number[] {
    const { startFactor: s, endFactor: f, totalIters: T } = this;
    if (this.lastEpoch === 0) return this.groupLrs().map((lr) => lr * s);
    if (this.lastEpoch > T) return this.groupLrs();
    // The ratio of consecutive closed-form values.
    return this.groupLrs().map((lr) => lr * (1 + (f - s) / (T * s + (this.lastEpoch - 1) * (f - s))));
  }

  protected override closedFormLr(): number[] {
    const { startFactor: s, endFactor: f, totalIters: T } = this;
    return this.baseLrs.map((b) => b * (s + ((f - s) * Math.min(T, this.lastEpoch)) / T));
  }
}

/** η = η₀·γ^e. */
export class ExponentialLR extends LRScheduler {
  readonly gamma: number;

  constructor(optimizer: SchedulableOptimizer, options: { gamma: number; lastEpoch?: number }) {
    super(optimizer, options.lastEpoch);
    this.gamma = options.gamma;
    this.initialStep();
  }

  protected getLr(): number[] {
    if (this.lastEpoch === 0) return this.groupLrs();
    return this.groupLrs().map((lr) => lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** this.lastEpoch);
  }
}

/** η = η₀·(1 − min(e, T)/T)^power: polynomial decay to 0 at totalIters. */
export class PolynomialLR extends LRScheduler {
  readonly totalIters: number;
  readonly power: number;

  constructor(optimizer: SchedulableOptimizer, options: { totalIters?: number; power?: number; lastEpoch?: number } = {}) {
    super(optimizer, options.lastEpoch);
    this.totalIters = options.totalIters ?? 5;
    this.power = options.power ?? 1.0;
    this.initialStep();
  }

  protected getLr(): number[] {
    const e = this.lastEpoch;
    const T = this.totalIters;
    if (e === 0 || e > T) return this.groupLrs();
    const decay = ((1.0 - e / T) / (1.0 - (e - 1) / T)) ** this.power;
    return this.groupLrs().map((lr) => lr * decay);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * (1.0 - Math.min(this.totalIters, this.lastEpoch) / this.totalIters) ** this.power);
  }
}
