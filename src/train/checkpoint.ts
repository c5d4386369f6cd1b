// Checkpoints for exact resume.
//
// Layout: one file per checkpoint, `*.ckpt`, which is a plain safetensors file (any safetensors
// reader opens it) holding every tensor of the run under a prefixed name:
//   model/<state-dict key>                 the model's parameters and buffers
//   optimizers/<name>/<param index>/<key>  each optimizer's state tensors (exp_avg, momentum_buffer, ...)
//   rng/<device>                           the torch generator state (getRngState), cpu and the CUDA device
//   callbacks/<name>/<key>                 tensors a callback saves (the EMA weights, early stopping's best)
// and two `__metadata__` strings:
//   tessera.checkpoint   JSON: position (epoch, batches done in it, iteration, step), seeds,
//                        each optimizer's groups and scalar state, the callbacks' state (history,
//                        schedules, loss scale, EMA count, counters), the config fingerprint
//   tessera.sha256       SHA-256 over that JSON and every tensor (name, dtype, shape, bytes, in
//                        name order): a flipped bit anywhere is caught on load.
// A checkpoint never holds a NaN or an infinity: writeCheckpoint refuses (NonFiniteCheckpointError,
// naming the tensors), so a diverged run cannot overwrite its last good generation.
// Files are written to a temporary name and renamed (src/io/atomic.ts). The trainer's `last`
// checkpoint keeps generations: last.ckpt (newest), last.1.ckpt, last.2.ckpt, ...; a latest
// generation that is torn or fails its checksum is skipped, with a warning naming the file.
import { createHash } from 'node:crypto';
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { readSafetensors, saveSafetensors } from '../io/safetensors.js';
import { tensorBytes } from '../io/tensor-bytes.js';
import { Tensor } from '../tensor/tensor.js';
import type { Stopped } from './events.js';
import { nonFiniteEntries } from './finite.js';

export const CHECKPOINT_FORMAT = 'tessera.checkpoint';
/** 2: optimizers by name; schedules, loss scale, EMA and the history are callbacks' state. */
export const CHECKPOINT_VERSION = 2;

/** Everything but tensors: JSON in the file's metadata. */
export interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  /** The epoch to continue in, and how many of its batches are already trained. */
  epoch: number;
  batchesDone: number;
  iteration: number;
  step: number;
  /** fit()'s seed, and the loader's when its source exposes one. */
  seed: number;
  loaderSeed?: number;
  /** The run had finished (all epochs, or stopped) when this was written. */
  completed: boolean;
  stopped?: Stopped;
  /** Each optimizer of the training step, by name: its groups and scalar state (tensors are in the file). */
  optimizers: Record<string, { param_groups: unknown[]; state: Record<string, Record<string, number | null>> }>;
  callbacks: Record<string, unknown>;
  logs: Record<string, number>;
  fingerprint?: Fingerprint;
  savedAt: string;
}

/** What a checkpoint holds: the metadata and the run's tensors (live references: write before the next step). */
export interface CheckpointSnapshot {
  meta: CheckpointMeta;
  tensors: Map<string, Tensor>;
  /** Frees the tensors the snapshot made for itself (the RNG states); the run's own tensors stay. */
  release?(): void;
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/** A checkpoint that would hold NaN or ±Infinity: not written. */
export class NonFiniteCheckpointError extends CheckpointError {
  override name = 'NonFiniteCheckpointError';
  constructor(
    file: string,
    /** The tensors with non-finite elements (`model/bn1.running_var`, ...). */
    readonly tensors: string[],
  ) {
    super(file, `not written: non-finite values in ${describeNames(tensors)}`);
  }
}

/** `a, b, c and 5 more`. */
export function describeNames(names: readonly string[], shown = 5): string {
  return names.length <= shown ? names.join(', ') : `${names.slice(0, shown).join(', ')} and ${names.length - shown} more`;
}

// ---- JSON that keeps ±Infinity and NaN (a plateau's best starts at +∞) ----

export function encodeJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? { $float: String(v) } : v));
}

export function decodeJson(text: string): unknown {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === '$float') return Number((v as { $float: string }).$float);
    }
    return v;
  });
}

// ---- fingerprints ----

/** A caller-provided description of the config and data, and its SHA-256. */
export interface Fingerprint {
  sha256: string;
  value: unknown;
}

/** JSON with object keys sorted at every level, so equal objects hash equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return encodeJson(value ?? null);
}

export function fingerprintOf(value: unknown): Fingerprint {
  const json = canonical(value);
  return { sha256: createHash('sha256').update(json).digest('hex'), value: decodeJson(json) };
}

/** The dotted paths where two fingerprint values differ, each with both values: `optimizer.lr: 0.1 → 0.2`. */
export function diffFingerprints(saved: unknown, current: unknown, path = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(saved) && isObj(current)) {
    const keys = [...new Set([...Object.keys(saved), ...Object.keys(current)])].sort();
    return keys.flatMap((k) => diffFingerprints(saved[k], current[k], path ? `${path}.${k}` : k));
  }
  if (Array.isArray(saved) && Array.isArray(current) && saved.length === current.length)
    return saved.flatMap((v, i) => diffFingerprints(v, current[i], `${path}[${i}]`));
  if (canonical(saved) === canonical(current)) return [];
  const show = (v: unknown) => (v === undefined ? '(absent)' : canonical(v));
  return [`${path || '(root)'}: ${show(saved)} → ${show(current)}`];
}

// ---- files ----

function contentHash(metaJson: string, tensors: ReadonlyMap<string, Tensor>): string {
  const h = createHash('sha256').update(metaJson);
  for (const name of [...tensors.keys()].sort()) {
    const t = tensors.get(name) as Tensor;
    h.update(`\0${name}\0${t.dtype}\0${t.shape.join(',')}\0`);
    h.update(tensorBytes(t));
  }
  return h.digest('hex');
}

/** Writes a checkpoint file atomically; refuses one with non-finite tensors (NonFiniteCheckpointError). */
export function writeCheckpoint(path: string, snap: CheckpointSnapshot): void {
  const bad = nonFiniteEntries(snap.tensors);
  if (bad.length) throw new NonFiniteCheckpointError(path, bad);
  const metaJson = encodeJson(snap.meta);
  const sha = contentHash(metaJson, snap.tensors);
  saveSafetensors(path, snap.tensors, { metadata: { 'tessera.checkpoint': metaJson, 'tessera.sha256': sha } });
}

/** Reads and verifies a checkpoint file. The tensors are new CPU tensors, the caller's to dispose. */
export function readCheckpoint(path: string): CheckpointSnapshot {
  const { tensors, metadata } = readSafetensors(path);
  const fail = (problem: string): never => {
    for (const t of tensors.values()) t.dispose();
    throw new CheckpointError(path, problem);
  };
  const metaJson = metadata?.['tessera.checkpoint'];
  const sha = metadata?.['tessera.sha256'];
  if (metaJson === undefined || sha === undefined) return fail('not a Tessera checkpoint (no tessera.checkpoint metadata)');
  if (contentHash(metaJson, tensors) !== sha) return fail('checksum mismatch: the file is corrupted');
  let meta: CheckpointMeta;
  try {
    meta = decodeJson(metaJson) as CheckpointMeta;
  } catch (e) {
    return fail(`the checkpoint metadata is not JSON: ${(e as Error).message}`);
  }
  if (meta.format !== CHECKPOINT_FORMAT) return fail(`format is ${String(meta.format)}, expected ${CHECKPOINT_FORMAT}`);
  if (meta.version > CHECKPOINT_VERSION) return fail(`checkpoint version ${meta.version} is newer than this Tessera reads (${CHECKPOINT_VERSION})`);
  if (meta.version < CHECKPOINT_VERSION)
    return fail(`checkpoint version ${meta.version} was written by an earlier Tessera, before schedules and history moved into callbacks; this one reads version ${CHECKPOINT_VERSION}: finish the run with the Tessera that started it, or start it again`);
  return { meta, tensors };
}

/** `last.ckpt`, `last.1.ckpt`, ...: generation 0 is the newest. */
export function generationPath(dir: string, base: string, generation: number): string {
  return join(dir, generation === 0 ? `${base}.ckpt` : `${base}.${generation}.ckpt`);
}

/**
 * Saves `snap` as the newest generation of `<dir>/<base>.ckpt`, keeping `keep` generations in
 * all. The new file is complete on disk before any rename, so a crash at any point leaves at
 * least one whole generation (at worst under last.1.ckpt while last.ckpt is missing).
 */
export function saveGeneration(dir: string, snap: CheckpointSnapshot, options: { base?: string; keep?: number } = {}): string {
  const base = options.base ?? 'last';
  const keep = Math.max(1, options.keep ?? 3);
  const incoming = join(dir, `.${base}.incoming.ckpt`);
  writeCheckpoint(incoming, snap);
  rmSync(generationPath(dir, base, keep - 1), { force: true });
  for (let g = keep - 2; g >= 0; g--) {
    const from = generationPath(dir, base, g);
    if (existsSync(from)) renameSync(from, generationPath(dir, base, g + 1));
  }
  const target = generationPath(dir, base, 0);
  renameSync(incoming, target);
  return target;
}

/** The existing generations of `<dir>/<base>.ckpt`, newest first. */
export function listGenerations(dir: string, base = 'last'): string[] {
  const out: string[] = [];
  // Gaps are possible after a crash mid-rotation (last.ckpt missing, last.1.ckpt present).
  for (let g = 0, misses = 0; misses < 2; g++) {
    const p = generationPath(dir, base, g);
    if (existsSync(p)) {
      out.push(p);
      misses = 0;
    } else misses++;
  }
  return out;
}

/**
 * The newest readable checkpoint of a directory's `last` generations (or of one file). A
 * generation that fails to read is reported through `warn` naming the file and why, and the
 * next older one is tried. Undefined when the directory holds none; an error when every one fails.
 */
export function loadLatest(pathOrDir: string, warn: (message: string) => void = (m) => process.emitWarning(m)): { snapshot: CheckpointSnapshot; file: string } | undefined {
  if (existsSync(pathOrDir) && statSync(pathOrDir).isFile()) return { snapshot: readCheckpoint(pathOrDir), file: pathOrDir };
  if (!existsSync(pathOrDir)) return undefined;
  const files = listGenerations(pathOrDir);
  const problems: string[] = [];
  for (const [i, file] of files.entries()) {
    try {
      const snapshot = readCheckpoint(file);
      if (i > 0) warn(`resuming from ${file}, an older generation, because newer checkpoints could not be read:\n  ${problems.join('\n  ')}`);
      return { snapshot, file };
    } catch (e) {
      problems.push((e as Error).message);
      const next = files[i + 1];
      warn(`checkpoint ${file} is unreadable (${(e as Error).message})${next ? `; falling back to ${next}` : ''}`);
    }
  }
  if (files.length) throw new CheckpointError(pathOrDir, `no readable checkpoint:\n  ${problems.join('\n  ')}`);
  return undefined;
}

/** Tensors under `prefix/` with the prefix removed. */
export function tensorsUnder(tensors: ReadonlyMap<string, Tensor>, prefix: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const p = `${prefix}/`;
  for (const [k, v] of tensors) if (k.startsWith(p)) out.set(k.slice(p.length), v);
  return out;
}

/** Puts `tensors` under `prefix/` in `into`. */
export function addTensors(into: Map<string, Tensor>, prefix: string, tensors: Iterable<[string, Tensor]>): void {
  for (const [k, v] of tensors) {
    if (!(v instanceof Tensor)) continue;
    into.set(`${prefix}/${k}`, v);
  }
}
