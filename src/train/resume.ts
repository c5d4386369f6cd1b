// Turning a run into a checkpoint snapshot and back: every piece of state whose loss would make a
// resumed run differ from an uninterrupted one — weights and buffers, each optimizer's moments and
// step counts, the torch RNG, the position in the data stream and the callbacks' state (schedules,
// loss scale, EMA, history, counters).
import type { Module } from '../nn/module.js';
import type { Optimizer, OptimizerStateDict } from '../optim/optimizer.js';
import { getRngState, setRngState } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import {
  addTensors, CHECKPOINT_FORMAT, CHECKPOINT_VERSION, CheckpointError, diffFingerprints, loadLatest, tensorsUnder,
  type CheckpointMeta, type CheckpointSnapshot, type Fingerprint,
} from './checkpoint.js';
import type { Callback } from './events.js';

export interface RunParts {
  model: Module;
  /** The training step's optimizers, by name. */
  optimizers: Readonly<Record<string, Optimizer>>;
  callbacks: readonly Callback[];
  /** Devices whose generator state is saved: always 'cpu', plus the training device. */
  rngDevices: readonly string[];
}

export type RunPosition = Pick<
  CheckpointMeta,
  'epoch' | 'batchesDone' | 'iteration' | 'step' | 'seed' | 'loaderSeed' | 'completed' | 'stopped' | 'logs' | 'fingerprint'
>;

/** A snapshot of the run. Tensors are live references except the RNG states, which are new (freed by release()). */
export function captureSnapshot(parts: RunParts, position: RunPosition): CheckpointSnapshot {
  const tensors = new Map<string, Tensor>();
  addTensors(tensors, 'model', parts.model.stateDict());
  const optimizers: CheckpointMeta['optimizers'] = {};
  for (const [name, optimizer] of Object.entries(parts.optimizers)) {
    const osd = optimizer.stateDict();
    const state: Record<string, Record<string, number | null>> = {};
    for (const [id, entry] of osd.state) {
      const scalars: Record<string, number | null> = {};
      for (const [k, v] of Object.entries(entry)) {
        if (v instanceof Tensor) tensors.set(`optimizers/${name}/${id}/${k}`, v);
        else scalars[k] = v;
      }
      state[String(id)] = scalars;
    }
    optimizers[name] = { param_groups: osd.param_groups, state };
  }
  const owned: Tensor[] = [];
  for (const d of parts.rngDevices) {
    const t = getRngState(d);
    owned.push(t);
    tensors.set(`rng/${d}`, t);
  }
  const callbacks: Record<string, unknown> = {};
  for (const cb of parts.callbacks) {
    const s = cb.stateDict?.();
    if (!s) continue;
    callbacks[cb.name] = s.values;
    if (s.tensors) addTensors(tensors, `callbacks/${cb.name}`, s.tensors);
  }
  const meta: CheckpointMeta = { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, ...position, optimizers, callbacks, savedAt: new Date().toISOString() };
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
  const names = (o: object) => Object.keys(o).sort().join(', ');
  if (names(meta.optimizers) !== names(parts.optimizers)) fail(`the checkpoint has optimizers [${names(meta.optimizers)}], the run [${names(parts.optimizers)}]`);
  for (const cb of parts.callbacks) if (cb.loadStateDict && !(cb.name in meta.callbacks)) fail(`no state for callback '${cb.name}'`);
  for (const d of parts.rngDevices) if (!tensors.has(`rng/${d}`)) fail(`no RNG state for device ${d}`);

  parts.model.loadStateDict(tensorsUnder(tensors, 'model'));
  for (const [name, optimizer] of Object.entries(parts.optimizers)) {
    const saved = meta.optimizers[name] as CheckpointMeta['optimizers'][string];
    const state: OptimizerStateDict['state'] = new Map();
    for (const [id, scalars] of Object.entries(saved.state)) state.set(Number(id), { ...scalars });
    for (const [k, t] of tensorsUnder(tensors, `optimizers/${name}`)) {
      const slash = k.indexOf('/');
      const id = Number(k.slice(0, slash));
      const entry = state.get(id) ?? {};
      entry[k.slice(slash + 1)] = t;
      state.set(id, entry);
    }
    optimizer.loadStateDict({ state, param_groups: saved.param_groups as OptimizerStateDict['param_groups'] });
  }
  for (const cb of parts.callbacks) {
    if (!cb.loadStateDict) continue;
    const cbTensors = tensorsUnder(tensors, `callbacks/${cb.name}`);
    cb.loadStateDict({ values: meta.callbacks[cb.name], ...(cbTensors.size ? { tensors: cbTensors } : {}) });
  }
  for (const d of parts.rngDevices) setRngState(tensors.get(`rng/${d}`) as Tensor, d);
}

export interface ResumeRequest {
  /** A file, a directory of `last` generations, or 'auto' (the checkpointing callback's directory). */
  resume: 'auto' | string;
  fingerprint: Fingerprint | undefined;
  force: boolean;
  warn: (message: string) => void;
}

/** Finds, checks and loads the checkpoint a run resumes from; undefined when 'auto' finds none. */
export function resumeRun(r: ResumeRequest, parts: RunParts): { meta: CheckpointMeta; file: string } | undefined {
  const where = r.resume === 'auto' ? parts.callbacks.find((c) => c.checkpointDir)?.checkpointDir : r.resume;
  if (where === undefined) throw new Error("fit: resume 'auto' needs a checkpointing callback (its directory is where to look)");
  const found = loadLatest(where, r.warn);
  if (!found) {
    if (r.resume === 'auto') return undefined;
    throw new CheckpointError(where, 'no checkpoint found to resume from');
  }
  const { snapshot, file } = found;
  try {
    checkFingerprint(file, snapshot.meta.fingerprint, r.fingerprint, r.force);
    restoreSnapshot(file, snapshot, parts);
  } finally {
    for (const t of snapshot.tensors.values()) t.dispose();
  }
  return { meta: snapshot.meta, file };
}
