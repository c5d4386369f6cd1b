// ReduceLROnPlateau, as PyTorch 1.13: multiply the lr by `factor` when a metric has not improved
// for more than `patience` steps. Stepped with the metric: `scheduler.step(valLoss)`.
import type { Tensor } from '../../tensor/tensor.js';
import { readNumber, readNumbers, type SchedulableOptimizer, type SchedulerStateDict } from './base.js';

export interface PlateauOptions {
  /** 'min': lower is better (a loss); 'max': higher is better (an accuracy). */
  mode?: 'min' | 'max';
  /** New lr = lr·factor (default 0.1, must be < 1). */
  factor?: number;
  /** Bad steps tolerated before reducing (default 10). */
  patience?: number;
  /** How much better counts as better (default 1e-4). */
  threshold?: number;
  /**
   * 'rel' (default): better means  a < best·(1 − threshold)  in min mode,  a > best·(1 + threshold)  in max mode;
   * 'abs':           better means  a < best − threshold      in min mode,  a > best + threshold      in max mode.
   */
  thresholdMode?: 'rel' | 'abs';
  /** Steps after a reduction during which bad steps are not counted (default 0). */
  cooldown?: number;
  /** Lower bound of the lr, one for all groups or one per group (default 0). */
  minLr?: number | number[];
  /** Reductions smaller than eps are skipped (default 1e-8). */
  eps?: number;
}

export class ReduceLROnPlateau {
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  readonly minLrs: number[];
  readonly eps: number;
  /** The best metric seen (starts at the worst value: +∞ in min mode, −∞ in max mode). */
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;
  private lastLr: number[];

  constructor(
    readonly optimizer: SchedulableOptimizer,
    options: PlateauOptions = {},
  ) {
    this.mode = options.mode ?? 'min';
    this.factor = options.factor ?? 0.1;
    this.patience = options.patience ?? 10;
    this.threshold = options.threshold ?? 1e-4;
    this.thresholdMode = options.thresholdMode ?? 'rel';
    this.cooldown = options.cooldown ?? 0;
    this.eps = options.eps ?? 1e-8;
    if (this.factor >= 1.0) throw new RangeError('ReduceLROnPlateau: factor should be < 1.0');
    if (this.mode !== 'min' && this.mode !== 'max') throw new RangeError(`ReduceLROnPlateau: mode ${String(this.mode)} is unknown`);
    if (this.thresholdMode !== 'rel' && this.thresholdMode !== 'abs') throw new RangeError(`ReduceLROnPlateau: threshold mode ${String(this.thresholdMode)} is unknown`);
    const n = optimizer.paramGroups.length;
    const minLr = options.minLr ?? 0;
    if (Array.isArray(minLr) && minLr.length !== n) throw new Error(`ReduceLROnPlateau: expected ${n} minLr values, got ${minLr.length}`);
    this.minLrs = Array.isArray(minLr) ? [...minLr] : new Array<number>(n).fill(minLr);
    this.best = this.modeWorse;
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  private get modeWorse(): number {
    return this.mode === 'min' ? Infinity : -Infinity;
  }

  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  /** Records one metric value (reading a tensor synchronizes with the device) and maybe reduces the lrs. */
  step(metric: number | Tensor): void {
    const current = typeof metric === 'number' ? metric : Number(metric.item());
    this.lastEpoch += 1;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.inCooldown) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0; // bad epochs in cooldown do not count
    }
    if (this.numBadEpochs > this.patience) {
      this.reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  isBetter(a: number, best: number): boolean {
    if (this.mode === 'min' && this.thresholdMode === 'rel') return a < best * (1 - this.threshold);
    if (this.mode === 'min') return a < best - this.threshold;
    if (this.thresholdMode === 'rel') return a > best * (this.threshold + 1);
    return a > best + this.threshold;
  }

  private reduceLr(): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      const oldLr = g.lr;
      const newLr = Math.max(oldLr * this.factor, this.minLrs[i] as number);
      if (oldLr - newLr > this.eps) g.lr = newLr;
    });
  }

  /** The counters and best value, under PyTorch's names. JSON writes the initial ±∞ as null, which loadStateDict reads back. */
  stateDict(): SchedulerStateDict {
    return { best: this.best, num_bad_epochs: this.numBadEpochs, cooldown_counter: this.cooldownCounter, last_epoch: this.lastEpoch, _last_lr: [...this.lastLr] };
  }

  loadStateDict(sd: SchedulerStateDict): void {
    this.best = sd['best'] === null ? this.modeWorse : readNumber(sd, 'best'); // JSON turns ±∞ into null
    this.numBadEpochs = readNumber(sd, 'num_bad_epochs');
    this.cooldownCounter = readNumber(sd, 'cooldown_counter');
    this.lastEpoch = readNumber(sd, 'last_epoch');
    this.lastLr = readNumbers(sd, '_last_lr');
  }
}
