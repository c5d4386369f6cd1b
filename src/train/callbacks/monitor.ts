// Reading a monitored value (`val_loss`, `val_accuracy`) from an epoch's logs, and deciding which
// way is better: shared by early stopping, checkpoint selection and the plateau driver.
import type { TrainContext } from '../events.js';

export type Mode = 'min' | 'max';

/** 'min' for losses; a metric's own mode for `train_<m>`/`val_<m>`; else 'max'. */
export function modeFor(ctx: TrainContext, monitor: string): Mode {
  if (/loss$/.test(monitor)) return 'min';
  const metric = ctx.metricList.find((m) => monitor.endsWith(`_${m.name}`) || monitor === m.name);
  return metric?.mode ?? 'max';
}

/** The monitored value of the last epoch; an error naming the keys there are when it is absent. */
export function monitored(ctx: TrainContext, monitor: string, who: string): number {
  const v = ctx.logs[monitor];
  if (v === undefined)
    throw new Error(`${who}: monitor '${monitor}' is not in the epoch's logs (there are: ${Object.keys(ctx.logs).join(', ')}); give fit() a val source for val_* keys`);
  return v;
}

/** Whether `a` improves on `best` by more than minDelta. */
export function improves(mode: Mode, a: number, best: number, minDelta = 0): boolean {
  if (Number.isNaN(a)) return false;
  return mode === 'min' ? a < best - minDelta : a > best + minDelta;
}

export const worst = (mode: Mode): number => (mode === 'min' ? Infinity : -Infinity);
