// Turning a run into a checkpoint snapshot and back: every piece of state whose loss would make a
// resumed run differ from an uninterrupted one — weights, optimizer moments and step counts,
// schedule, loss scale, EMA, the torch RNG, the position in the data stream and the callbacks'
// counters.
import type { Module } from '../nn/module.js';
import type { ModelEMA } from '../optim/ema.js';
import type { GradScaler, GradScalerStateDict } from '../optim/grad-scaler.js';
import type { Optimizer, OptimizerStateDict } from '../optim/optimizer.js';
import type { Scheduler, SchedulerStateDict } from '../optim/schedulers/base.js';
import { getRngState, setRngState } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import {
  addTensors, CHECKPOINT_FORMAT, CHECKPOINT_VERSION, CheckpointError, diffFingerprints, tensorsUnder,
  type CheckpointMeta, type CheckpointSnapshot, type Fingerprint,
} from './checkpoint.js';
import type { Callback } from './events.js';

export interface RunParts {
  model: Module;
  optimizer: Optimizer;
  scheduler?: Scheduler | undefined;
  scaler?: GradScaler | undefined;
  ema?: ModelEMA | undefined;
  callbacks: readonly Callback[];
  /** Devices whose generator state is saved: always 'cpu', plus the training device. */
  rngDevices: readonly string[];
}

export type RunPosition = Pick<
  CheckpointMeta,
  'epoch' | 'batchesDone' | 'iteration' | 'step' | 'seed' | 'loaderSeed' | 'completed' | 'stopped' | 'epochLoss' | 'logs' | 'fingerprint'
>;

/** A snapshot of the run. Tensors are live references except the RNG states, which are new (freed by release()). */
export function captureSnapshot(parts: RunParts, position: RunPosition): CheckpointSnapshot {
  const tensors = new Map<string, Tensor>();
  addTensors(tensors, 'model', parts.model.stateDict());
  const osd = parts.optimizer.stateDict();
  const state: Record<string, Record<string, number | null>> = {};
  for (const [id, entry] of osd.state) {
    const scalars: Record<string, number | null> = {};
    for (const [k, v] of Object.entries(entry)) {
      if (v instanceof Tensor) tensors.set(`optimizer/${id}/${k}`, v);
      else scalars[k] = v;
    }
    state[String(id)] = scalars;
  }
  const owned: Tensor[] = [];
  for (const d of parts.rngDevices) {
    const t = getRngState(d);
    owned.push(t);
    tensors.set(`rng/${d}`, t);
  }
  if (parts.ema) addTensors(tensors, 'ema', parts.ema.weights);
  const callbacks: Record<string, unknown> = {};
  for (const cb of parts.callbacks) {
    const s = cb.stateDict?.();
    if (!s) continue;
    callbacks[cb.name] = s.values;
    if (s.tensors) addTensors(tensors, `callbacks/${cb.name}`, s.tensors);
  }
  const meta: CheckpointMeta = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    ...position,
    optimizer: { param_groups: osd.param_groups, state },
    ...(parts.scheduler ? { scheduler: parts.scheduler.stateDict() } : {}),
    ...(parts.scaler?.enabled ? { scaler: parts.scaler.stateDict() } : {}),
    ...(parts.ema ? { ema: { updates: parts.ema.updates } } : {}),
    callbacks,
    savedAt: new Date().toISOString(),
  };
  return { meta, tensors, release: () => owned.forEach((t) => t.dispose()) };
}

/**
 * Refuses a checkpoint whose fingerprint differs from the run's, naming each differing field,
 * unless `force`.
 */
export function checkFingerprint(file: string, saved: Fingerprint | undefined, current: Fingerprint | undefined, force: boolean): void {
  if (force || saved?.sha256 === current?.sha256) return;
  const diffs = diffFingerprints(saved?.value, current?.value);
  throw new CheckpointError(
    file,
    `this checkpoint was made with a different config or data (pass force: true to resume anyway):\n  ${diffs.length ? diffs.join('\n  ') : `fingerprint ${saved?.sha256 ?? '(none)'} → ${current?.sha256 ?? '(none)'}`}`,
  );
}

/** Loads a snapshot into the run's objects. Every part is checked to be present before anything changes. */
export function restoreSnapshot(file: string, snap: CheckpointSnapshot, parts: RunParts): void {
  const { meta, tensors } = snap;
  const fail = (problem: string): never => {
    throw new CheckpointError(file, problem);
  };
  if (parts.scheduler && meta.scheduler === undefined) fail('the run has a scheduler, the checkpoint has no scheduler state');
  if (parts.scaler?.enabled && meta.scaler === undefined) fail('the run uses a GradScaler (fp16), the checkpoint has no scaler state');
  if (parts.ema && meta.ema === undefined) fail('the run has an EMA, the checkpoint has no EMA state');
  for (const cb of parts.callbacks) if (cb.loadStateDict && !(cb.name in meta.callbacks)) fail(`no state for callback '${cb.name}'`);
  for (const d of parts.rngDevices) if (!tensors.has(`rng/${d}`)) fail(`no RNG state for device ${d}`);

  parts.model.loadStateDict(tensorsUnder(tensors, 'model'));
  const state: OptimizerStateDict['state'] = new Map();
  for (const [id, scalars] of Object.entries(meta.optimizer.state)) state.set(Number(id), { ...scalars });
  for (const [k, t] of tensorsUnder(tensors, 'optimizer')) {
    const slash = k.indexOf('/');
    const id = Number(k.slice(0, slash));
    const entry = state.get(id) ?? {};
    entry[k.slice(slash + 1)] = t;
    state.set(id, entry);
  }
  parts.optimizer.loadStateDict({ state, param_groups: meta.optimizer.param_groups as OptimizerStateDict['param_groups'] });
  parts.scheduler?.loadStateDict(meta.scheduler as SchedulerStateDict);
  if (parts.scaler?.enabled) parts.scaler.loadStateDict(meta.scaler as GradScalerStateDict);
  if (parts.ema && meta.ema) parts.ema.loadStateDict({ weights: tensorsUnder(tensors, 'ema'), updates: meta.ema.updates });
  for (const cb of parts.callbacks) {
    if (!cb.loadStateDict) continue;
    const cbTensors = tensorsUnder(tensors, `callbacks/${cb.name}`);
    cb.loadStateDict({ values: meta.callbacks[cb.name], ...(cbTensors.size ? { tensors: cbTensors } : {}) });
  }
  for (const d of parts.rngDevices) setRngState(tensors.get(`rng/${d}`) as Tensor, d);
}
