// Cosine annealing (Loshchilov & Hutter 2017, SGDR), as PyTorch 1.13 computes it.
import { LRScheduler, readNumber, type SchedulableOptimizer, type SchedulerStateDict } from './base.js';

/** Python's float % (the result takes the divisor's sign). */
export function pyMod(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}

/**
 * η = η_min + (η₀ − η_min)·(1 + cos(π·e/T_max))/2, computed in PyTorch's chainable form (each
 * step rescales the current lr), which also lets it follow lrs changed by other code. Past T_max
 * the cosine continues: the lr rises back to η₀ at 2·T_max.
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: SchedulableOptimizer, options: { tMax: number; etaMin?: number; lastEpoch?: number }) {
    super(optimizer, options.lastEpoch);
    this.tMax = options.tMax;
    this.etaMin = options.etaMin ?? 0;
    this.initialStep();
  }

  protected getLr(): number[] {
    const e = this.lastEpoch;
    const { tMax: T, etaMin } = this;
    if (e === 0) return this.groupLrs();
    if (this.stepCount === 1 && e > 0) {
      // Resumed with lastEpoch > 0: the closed form.
      return this.baseLrs.map((b) => etaMin + ((b - etaMin) * (1 + Math.cos((e * Math.PI) / T))) / 2);
    }
    if (pyMod(e - 1 - T, 2 * T) === 0) {
      // The step out of a trough, where the ratio below would divide by zero.
      return this.groupLrs().map((lr, i) => lr + ((this.baseLrs[i] as number) - etaMin) * (1 - Math.cos(Math.PI / T)) / 2);
    }
    return this.groupLrs().map((lr) => ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (lr - etaMin) + etaMin);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => this.etaMin + ((b - this.etaMin) * (1 + Math.cos((Math.PI * this.lastEpoch) / this.tMax))) / 2);
  }
}

/**
 * SGDR: cosine annealing restarted every T_i epochs, T_0 first, each period T_mult times the last.
 *   η = η_min + (η₀ − η_min)·(1 + cos(π·T_cur/T_i))/2
 * step() advances T_cur by one; step(epoch) may also be given a fractional epoch (per batch).
 */
export class CosineAnnealingWarmRestarts extends LRScheduler {
  readonly t0: number;
  readonly tMult: number;
  readonly etaMin: number;
  tI: number;
  tCur: number;

  constructor(optimizer: SchedulableOptimizer, options: { t0: number; tMult?: number; etaMin?: number; lastEpoch?: number }) {
    super(optimizer, options.lastEpoch);
    this.t0 = options.t0;
    this.tMult = options.tMult ?? 1;
    this.etaMin = options.etaMin ?? 0;
    if (!(Number.isInteger(this.t0) && this.t0 > 0)) throw new RangeError(`CosineAnnealingWarmRestarts: expected a positive integer t0, got ${this.t0}`);
    if (!(Number.isInteger(this.tMult) && this.tMult >= 1)) throw new RangeError(`CosineAnnealingWarmRestarts: expected an integer tMult ≥ 1, got ${this.tMult}`);
    this.tI = this.t0;
    this.tCur = this.lastEpoch;
    this.initialStep();
  }

  protected getLr(): number[] {
    return this.baseLrs.map((b) => this.etaMin + ((b - this.etaMin) * (1 + Math.cos((Math.PI * this.tCur) / this.tI))) / 2);
  }

  override step(epoch?: number): void {
    if (epoch === undefined && this.lastEpoch < 0) epoch = 0;
    if (epoch === undefined) {
      epoch = this.lastEpoch + 1;
      this.tCur += 1;
      if (this.tCur >= this.tI) {
        this.tCur -= this.tI;
        this.tI *= this.tMult;
      }
    } else {
      if (epoch < 0) throw new RangeError(`expected a non-negative epoch, got ${epoch}`);
      if (epoch >= this.t0) {
        if (this.tMult === 1) {
          this.tCur = pyMod(epoch, this.t0);
        } else {
          // n: how many periods have ended, from T_0·(T_mult^n − 1)/(T_mult − 1) ≤ epoch.
          const n = Math.trunc(Math.log((epoch / this.t0) * (this.tMult - 1) + 1) / Math.log(this.tMult));
          this.tCur = epoch - (this.t0 * (this.tMult ** n - 1)) / (this.tMult - 1);
          this.tI = this.t0 * this.tMult ** n;
        }
      } else {
        this.tI = this.t0;
        this.tCur = epoch;
      }
    }
    this.lastEpoch = Math.floor(epoch);
    const lrs = this.getLr();
    this.optimizer.paramGroups.forEach((g, i) => {
      if (i < lrs.length) g.lr = lrs[i] as number;
    });
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  protected override extraState(): SchedulerStateDict {
    return { T_i: this.tI, T_cur: this.tCur };
  }

  protected override loadExtraState(sd: SchedulerStateDict): void {
    this.tI = readNumber(sd, 'T_i');
    this.tCur = readNumber(sd, 'T_cur');
  }
}
