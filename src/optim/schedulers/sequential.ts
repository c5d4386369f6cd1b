// Schedules run one after another (PyTorch 1.13's SequentialLR), and the common case of it: a
// linear warm-up followed by any schedule.
import { bisectRight, type LRScheduler, type SchedulableOptimizer, type Scheduler, type SchedulerStateDict } from './base.js';
import { LinearLR } from './basic.js';

/**
 * Runs `schedulers[0]` until `milestones[0]`, then `schedulers[1]`, and so on. At each milestone
 * the next scheduler restarts from epoch 0 (PyTorch calls `step(0)`, which uses its closed form
 * where it has one), so it starts from its base lr whatever the previous one left.
 */
export class SequentialLR implements Scheduler {
  readonly schedulers: readonly LRScheduler[];
  readonly milestones: readonly number[];
  lastEpoch: number;
  private lastLr: number[];

  constructor(
    readonly optimizer: SchedulableOptimizer,
    schedulers: LRScheduler[],
    milestones: number[],
    lastEpoch = -1,
  ) {
    schedulers.forEach((s, i) => {
      if (s.optimizer !== optimizer) throw new Error(`SequentialLR: scheduler ${i} belongs to another optimizer`);
    });
    if (milestones.length !== schedulers.length - 1)
      throw new Error(`SequentialLR: expected ${schedulers.length - 1} milestones for ${schedulers.length} schedulers, got ${milestones.length}`);
    this.schedulers = [...schedulers];
    this.milestones = [...milestones];
    this.lastEpoch = lastEpoch + 1;
    // Every scheduler stepped once when it was built: undo that, and restart the first one.
    for (const g of optimizer.paramGroups) g.lr = g.initialLr as number;
    for (const s of this.schedulers) s.lastEpoch -= 1;
    const first = this.schedulers[0];
    if (!first) throw new Error('SequentialLR: needs at least one scheduler');
    first.initialStep();
    this.lastLr = first.getLastLr();
  }

  step(): void {
    this.lastEpoch += 1;
    const idx = bisectRight(this.milestones, this.lastEpoch);
    const scheduler = this.schedulers[idx] as LRScheduler;
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) scheduler.step(0);
    else scheduler.step();
    this.lastLr = scheduler.getLastLr();
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): SchedulerStateDict {
    return { last_epoch: this.lastEpoch, _last_lr: [...this.lastLr], _schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  loadStateDict(sd: SchedulerStateDict): void {
    const children = sd['_schedulers'];
    if (!Array.isArray(children) || children.length !== this.schedulers.length || !children.every(isDict))
      throw new TypeError(`SequentialLR.loadStateDict: expected ${this.schedulers.length} scheduler states in '_schedulers'`);
    const { last_epoch, _last_lr } = sd;
    if (typeof last_epoch !== 'number' || !Array.isArray(_last_lr)) throw new TypeError('SequentialLR.loadStateDict: missing last_epoch or _last_lr');
    this.lastEpoch = last_epoch;
    this.lastLr = _last_lr.map(Number);
    children.forEach((c, i) => (this.schedulers[i] as LRScheduler).loadStateDict(c));
  }
}

function isDict(v: unknown): v is SchedulerStateDict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface WarmupOptions {
  /** Warm-up length in steps. */
  steps: number;
  /** The first step's lr as a fraction of the base lr (default 1/steps: the lr climbs from η₀/steps to η₀). */
  startFactor?: number;
}

/**
 * A linear warm-up, then `main`:
 *   e < steps:  η = η₀·(s + (1 − s)·e/steps)       then  `main` from its own epoch 0.
 * Exactly PyTorch's `SequentialLR(opt, [LinearLR(opt, s, 1.0, steps), main], [steps])`.
 * Build `main` first, then call this: `withWarmup(new CosineAnnealingLR(opt, {tMax}), {steps: 500})`.
 */
export function withWarmup(main: LRScheduler, options: WarmupOptions): SequentialLR {
  if (!(Number.isInteger(options.steps) && options.steps > 0)) throw new RangeError(`withWarmup: steps must be a positive integer, got ${options.steps}`);
  const warmup = new LinearLR(main.optimizer, { startFactor: options.startFactor ?? 1 / options.steps, endFactor: 1.0, totalIters: options.steps });
  return new SequentialLR(main.optimizer, [warmup, main], [options.steps]);
}
