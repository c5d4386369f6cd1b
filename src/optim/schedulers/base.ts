// The LR scheduler base, with PyTorch 1.13's stepping semantics (torch/optim/lr_scheduler.py):
// construction performs the first step (last_epoch −1 → 0, writing the initial lr into the
// groups); each step() then advances last_epoch and writes get_lr() into every group. get_lr() is
// the "chainable" form, computed from the groups' current lrs, so schedulers compose as they do in
// PyTorch. Call scheduler.step() after optimizer.step(), once per epoch or per batch.

/** What a scheduler needs of an optimizer: its groups' hyperparameters (any Optimizer fits). */
export interface SchedulableOptimizer {
  readonly paramGroups: readonly SchedulableGroup[];
  readonly defaults: object;
}

export interface SchedulableGroup {
  lr: number;
  initialLr?: number;
  /** SGD, RMSprop: cycled by OneCycleLR. */
  momentum?: number;
  /** Adam, AdamW, Lion: OneCycleLR cycles β1. */
  betas?: [number, number];
}

/** A scheduler's state: plain numbers and arrays, under PyTorch's attribute names. */
export type SchedulerStateDict = { [key: string]: SchedulerStateValue };
export type SchedulerStateValue = number | boolean | string | null | number[] | SchedulerStateDict | SchedulerStateDict[];

/** Anything stepped once per epoch/batch without arguments: every scheduler but ReduceLROnPlateau. */
export interface Scheduler {
  step(): void;
  getLastLr(): number[];
  stateDict(): SchedulerStateDict;
  loadStateDict(sd: SchedulerStateDict): void;
}

export abstract class LRScheduler implements Scheduler {
  /** The lr of each group when the schedule started (group.initialLr). */
  baseLrs: number[];
  /** Steps taken: 0 after construction (PyTorch's `last_epoch`). */
  lastEpoch: number;
  /** PyTorch's `_step_count`: step() calls including the one made at construction. */
  protected stepCount = 0;
  protected lastLr: number[] = [];

  /**
   * With lastEpoch −1 (a new schedule) each group's initialLr defaults to its lr; resuming with
   * another lastEpoch needs initialLr in every group (restored by optimizer.loadStateDict).
   * Subclass constructors must end with `this.initialStep()`: JavaScript runs this constructor
   * before the subclass has set its fields, so the first step cannot happen here.
   */
  constructor(
    readonly optimizer: SchedulableOptimizer,
    lastEpoch = -1,
  ) {
    optimizer.paramGroups.forEach((g, i) => {
      if (lastEpoch === -1) g.initialLr ??= g.lr;
      else if (g.initialLr === undefined) throw new Error(`param group ${i} has no initialLr, needed to resume a schedule (lastEpoch ${lastEpoch})`);
    });
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr as number);
    this.lastEpoch = lastEpoch;
  }

  /** PyTorch's `_initial_step`: resets the step count and takes the first step. */
  initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /**
   * Advances the schedule and writes the new lrs into the groups. `epoch` (PyTorch's deprecated
   * explicit form, used by SequentialLR) jumps to that epoch with the closed form where one exists.
   */
  step(epoch?: number): void {
    this.stepCount += 1;
    let values: number[];
    if (epoch === undefined) {
      this.lastEpoch += 1;
      values = this.getLr();
    } else {
      this.lastEpoch = epoch;
      values = this.closedFormLr() ?? this.getLr();
    }
    this.optimizer.paramGroups.forEach((g, i) => {
      if (i < values.length) g.lr = values[i] as number;
    });
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The lrs written by the last step (PyTorch's `get_last_lr()`). */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** The chainable rule: new lrs from the groups' current lrs and lastEpoch. */
  protected abstract getLr(): number[];

  /** The lrs at lastEpoch from baseLrs alone, for schedules that have such a formula. */
  protected closedFormLr(): number[] | null {
    return null;
  }

  protected groupLrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /**
   * What changes while stepping, under PyTorch's names. Constructor arguments are not included:
   * load into a scheduler built with the same arguments (build it, then load the optimizer's
   * state, then the scheduler's).
   */
  stateDict(): SchedulerStateDict {
    return { last_epoch: this.lastEpoch, _step_count: this.stepCount, base_lrs: [...this.baseLrs], _last_lr: [...this.lastLr], ...this.extraState() };
  }

  loadStateDict(sd: SchedulerStateDict): void {
    this.lastEpoch = readNumber(sd, 'last_epoch');
    this.stepCount = readNumber(sd, '_step_count');
    this.baseLrs = readNumbers(sd, 'base_lrs');
    this.lastLr = readNumbers(sd, '_last_lr');
    this.loadExtraState(sd);
  }

  protected extraState(): SchedulerStateDict {
    return {};
  }

  protected loadExtraState(_sd: SchedulerStateDict): void {}
}

export function readNumber(sd: SchedulerStateDict, key: string): number {
  const v = sd[key];
  if (typeof v !== 'number') throw new TypeError(`scheduler state dict: '${key}' should be a number, got ${JSON.stringify(v)}`);
  return v;
}

export function readNumbers(sd: SchedulerStateDict, key: string): number[] {
  const v = sd[key];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) throw new TypeError(`scheduler state dict: '${key}' should be a list of numbers`);
  return [...(v as number[])];
}

/** Python's bisect_right: the number of elements of the sorted list `xs` that are ≤ x. */
export function bisectRight(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x < (xs[mid] as number)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
