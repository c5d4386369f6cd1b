// Train/validation/test splits and k-fold cross-validation over sample indices, and a JSON file
// format that pins a split to the data set it was made for.
//
// Every split function puts every sample in exactly one split, is a pure function of its inputs
// and `seed`, and returns each split's indices in ascending order.
//
// Rounding. Split sizes are apportioned by largest remainder (Hamilton's method): split s first
// gets ⌊ratio_s × n⌋, and the samples left over go one each to the splits with the largest
// fractional parts (ties: the split named first). So each size is ⌊ratio × n⌋ or ⌈ratio × n⌉ and
// the sizes add up to n. Stratified splits do this per class: a class of n_c samples puts
// ⌊ratio × n_c⌋ or ⌈ratio × n_c⌉ of them in each split (within 1 sample of its exact share); the
// leftover samples of a class go to the splits furthest below their share of the samples placed
// so far, so the total sizes stay close to ratio × n.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { z } from 'zod';

import { writeFileAtomic } from '../io/atomic.js';
import { checkSeed, RandomStream } from './random.js';
import type { IndexedDataset } from './types.js';

/** Split name → share of the samples, e.g. { train: 0.8, val: 0.1, test: 0.1 } (shares sum to 1). */
export type Ratios = Readonly<Record<string, number>>;
/** Split name → sample indices, ascending. */
export type Splits = Record<string, Int32Array>;

export interface SplitOptions {
  seed?: number;
}

// Each split function draws from its own stream, so changing one never moves another's samples.
const STREAM = { random: 0, stratified: 1, group: 2, kFoldStratified: 3, kFold: 4 } as const;

/** The split stream `stream`; `index` tells apart the strata (label + 1, so unlabelled -1 is 0). */
function splitStream(options: SplitOptions, stream: number, index = 0): RandomStream {
  return new RandomStream({ seed: checkSeed(options.seed ?? 0, 'split: seed'), purpose: 'split', stream, index });
}

function checkRatios(ratios: Ratios): [string[], number[]] {
  const names = Object.keys(ratios);
  const values = Object.values(ratios);
  if (names.length === 0) throw new RangeError('split: give at least one ratio, e.g. { train: 0.8, val: 0.2 }');
  for (const [k, v] of Object.entries(ratios)) if (!(v >= 0 && v <= 1)) throw new RangeError(`split: ratio '${k}' is ${v}; ratios are shares in [0, 1]`);
  const sum = values.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-6) throw new RangeError(`split: ratios sum to ${sum}, not 1 (${names.map((k) => `${k} ${ratios[k]}`).join(', ')})`);
  return [names, values];
}

/**
 * Largest-remainder apportionment of n seats. Eligible for a leftover seat: splits with a non-zero
 * fractional part, ordered by `priority` (higher first), then fractional part, then position.
 */
function apportion(n: number, shares: readonly number[], priority: (s: number, base: number) => number = () => 0): number[] {
  const quotas = shares.map((r) => Math.round(r * n * 1e9) / 1e9); // 0.7 × 10 is 7.000000000000001
  const sizes = quotas.map(Math.floor);
  let left = n - sizes.reduce((a, b) => a + b, 0);
  const order = shares
    .map((_, s) => s)
    .filter((s) => (quotas[s] as number) > (sizes[s] as number))
    .sort((a, b) => priority(b, sizes[b] as number) - priority(a, sizes[a] as number) || ((quotas[b] as number) - (sizes[b] as number)) - ((quotas[a] as number) - (sizes[a] as number)) || a - b);
  for (const s of order) {
    if (left <= 0) break;
    sizes[s] = (sizes[s] as number) + 1;
    left--;
  }
  return sizes;
}

function finish(names: string[], parts: number[][]): Splits {
  const out: Splits = {};
  names.forEach((name, s) => (out[name] = Int32Array.from(parts[s] as number[]).sort()));
  return out;
}

function lengthOf(data: number | IndexedDataset): number {
  const n = typeof data === 'number' ? data : data.length;
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`split: data-set length must be a non-negative integer, got ${n}`);
  return n;
}

function labelsOf(data: IndexedDataset | ArrayLike<number>): ArrayLike<number> {
  return 'kind' in data && (data as IndexedDataset).kind === 'indexed' ? (data as IndexedDataset).labels() : (data as ArrayLike<number>);
}

/** Samples shuffled (keyed by seed) and cut into consecutive runs of the apportioned sizes. */
export function randomSplit(data: number | IndexedDataset, ratios: Ratios, options: SplitOptions = {}): Splits {
  const [names, shares] = checkRatios(ratios);
  const n = lengthOf(data);
  const perm = splitStream(options, STREAM.random).permutation(n);
  const sizes = apportion(n, shares);
  let at = 0;
  return finish(names, sizes.map((size) => Array.from(perm.subarray(at, (at += size)))));
}

/** Each class split by the ratios on its own (unlabelled samples, -1, form one more stratum). */
export function stratifiedSplit(data: IndexedDataset | ArrayLike<number>, ratios: Ratios, options: SplitOptions = {}): Splits {
  const [names, shares] = checkRatios(ratios);
  const labels = labelsOf(data);
  const strata = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i] as number;
    if (!Number.isInteger(l) || l < -1) throw new RangeError(`stratifiedSplit: sample ${i} has label ${l}`);
    let list = strata.get(l);
    if (!list) strata.set(l, (list = []));
    list.push(i);
  }
  const parts: number[][] = names.map(() => []);
  let done = 0;
  for (const label of [...strata.keys()].sort((a, b) => a - b)) {
    const members = strata.get(label) as number[];
    splitStream(options, STREAM.stratified, label + 1).shuffle_(members);
    done += members.length;
    // A leftover sample goes to the split furthest below its share of the samples placed so far.
    const sizes = apportion(members.length, shares, (s, base) => (shares[s] as number) * done - (parts[s] as number[]).length - base);
    let at = 0;
    sizes.forEach((size, s) => (parts[s] as number[]).push(...members.slice(at, (at += size))));
  }
  return finish(names, parts);
}

/**
 * All samples of a group (a patient, a photo session) in one split, so no group leaks between train
 * and test. Groups, shuffled then largest first, each go to the split furthest below its target size
 * (ratio × n samples) — sizes come out close to the ratios when no group is large. Samples without
 * a group key are groups of one.
 */
export function groupSplit(data: IndexedDataset | readonly (string | undefined)[], ratios: Ratios, options: SplitOptions = {}): Splits {
  const [names, shares] = checkRatios(ratios);
  let keys: readonly (string | undefined)[];
  if (Array.isArray(data)) keys = data;
  else {
    const d = data as IndexedDataset;
    const g = d.groups?.();
    if (!g) throw new RangeError(`groupSplit: ${d.describe()} has no group keys; give them as an array (one per sample)`);
    keys = g;
  }
  const byKey = new Map<string, number[]>();
  const groups: number[][] = [];
  keys.forEach((k, i) => {
    if (k === undefined) return void groups.push([i]);
    let list = byKey.get(k);
    if (!list) {
      byKey.set(k, (list = []));
      groups.push(list);
    }
    list.push(i);
  });
  const order = splitStream(options, STREAM.group).permutation(groups.length);
  const sorted = Array.from(order, (g) => groups[g] as number[]).sort((a, b) => b.length - a.length); // stable: ties stay shuffled
  const targets = shares.map((r) => r * keys.length);
  const parts: number[][] = names.map(() => []);
  for (const g of sorted) {
    let best = -1;
    for (let s = 0; s < names.length; s++) {
      if ((shares[s] as number) === 0) continue;
      const deficit = (targets[s] as number) - (parts[s] as number[]).length;
      if (best < 0 || deficit > (targets[best] as number) - (parts[best] as number[]).length) best = s;
    }
    (parts[best] as number[]).push(...g);
  }
  return finish(names, parts);
}

export interface KFoldOptions extends SplitOptions {
  /** Keep each class's share in every fold (needs labels). */
  stratified?: boolean;
}

export interface Fold {
  train: Int32Array;
  val: Int32Array;
}

/**
 * k folds; fold f validates on its part and trains on the rest. Fold sizes differ by at most one
 * (the first n mod k folds are larger). Stratified: each class is shuffled and dealt round-robin,
 * continuing where the previous class stopped, so each fold holds ⌊n_c/k⌋ or ⌈n_c/k⌉ of every class.
 */
export function kFold(data: number | IndexedDataset | ArrayLike<number>, k: number, options: KFoldOptions = {}): Fold[] {
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`kFold: k must be an integer ≥ 2, got ${k}`);
  const folds: number[][] = Array.from({ length: k }, () => []);
  if (options.stratified) {
    if (typeof data === 'number') throw new RangeError('kFold: stratified folds need labels (a data set or a label array)');
    const labels = labelsOf(data);
    if (labels.length < k) throw new RangeError(`kFold: ${labels.length} samples cannot fill ${k} folds`);
    const strata = new Map<number, number[]>();
    for (let i = 0; i < labels.length; i++) {
      const l = labels[i] as number;
      if (!Number.isInteger(l) || l < -1) throw new RangeError(`kFold: sample ${i} has label ${l}`);
      let list = strata.get(l);
      if (!list) strata.set(l, (list = []));
      list.push(i);
    }
    let next = 0;
    for (const label of [...strata.keys()].sort((a, b) => a - b)) {
      const members = splitStream(options, STREAM.kFoldStratified, label + 1).shuffle_(strata.get(label) as number[]);
      for (const i of members) (folds[next++ % k] as number[]).push(i);
    }
  } else {
    const n = typeof data === 'number' ? lengthOf(data) : 'kind' in data ? (data as IndexedDataset).length : (data as ArrayLike<number>).length;
    if (n < k) throw new RangeError(`kFold: ${n} samples cannot fill ${k} folds`);
    const perm = splitStream(options, STREAM.kFold).permutation(n);
    let at = 0;
    for (let f = 0; f < k; f++) {
      const size = Math.floor(n / k) + (f < n % k ? 1 : 0);
      folds[f] = Array.from(perm.subarray(at, (at += size)));
    }
  }
  return folds.map((val, f) => ({
    val: Int32Array.from(val).sort(),
    train: Int32Array.from(folds.flatMap((other, g) => (g === f ? [] : other))).sort(),
  }));
}

// ---- on disk ----

/** A splits file that does not belong to this data set, or is malformed. */
export class SplitsFileError extends Error {
  override name = 'SplitsFileError';
}

const FileSchema = z.object({
  format: z.literal('tessera-splits'),
  version: z.literal(1),
  length: z.number().int().nonnegative(),
  fingerprint: z.string().optional(),
  splits: z.record(z.string(), z.array(z.number().int().nonnegative())),
});

export interface SplitsIdentity {
  /** Samples in the data set the splits index. */
  length: number;
  /** Any string that changes when the data set does; see datasetFingerprint. */
  fingerprint?: string;
}

/**
 * A cheap fingerprint: SHA-256 of the length, the class names and every label. It changes when
 * samples are added, removed, relabelled or re-ordered (so indices would point elsewhere); it does
 * not see a change of pixels alone.
 */
export function datasetFingerprint(d: IndexedDataset): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ length: d.length, classes: d.classes }));
  const labels = d.labels();
  h.update(new Uint8Array(labels.buffer, labels.byteOffset, labels.byteLength));
  return h.digest('hex');
}

/** Writes splits as JSON (atomically: a crash leaves the old file or the new one). */
export function saveSplits(path: string, splits: Splits, identity: SplitsIdentity): void {
  checkSplits(path, splits, identity.length);
  const body = {
    format: 'tessera-splits',
    version: 1,
    length: identity.length,
    ...(identity.fingerprint !== undefined ? { fingerprint: identity.fingerprint } : {}),
    splits: Object.fromEntries(Object.entries(splits).map(([k, v]) => [k, Array.from(v)])),
  };
  writeFileAtomic(path, [new TextEncoder().encode(JSON.stringify(body) + '\n')]);
}

/** Reads splits written by saveSplits and checks they belong to a data set of this identity. */
export function loadSplits(path: string, expected: SplitsIdentity): Splits {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new SplitsFileError(`${path}: cannot read splits: ${(e as Error).message}`);
  }
  const parsed = FileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SplitsFileError(`${path}: not a splits file: ${issue ? `${issue.path.join('.') || '(top level)'}: ${issue.message}` : parsed.error.message}`);
  }
  const f = parsed.data;
  if (f.length !== expected.length)
    throw new SplitsFileError(`${path}: length mismatch: the splits were made for a data set of ${f.length.toLocaleString('en-US')} samples, this one has ${expected.length.toLocaleString('en-US')}`);
  if (expected.fingerprint !== undefined && f.fingerprint !== expected.fingerprint)
    throw new SplitsFileError(`${path}: fingerprint mismatch: the file has ${f.fingerprint ?? '(none)'}, this data set is ${expected.fingerprint} — the data set changed since the splits were made`);
  const splits: Splits = {};
  for (const [k, v] of Object.entries(f.splits)) splits[k] = Int32Array.from(v);
  checkSplits(path, splits, f.length);
  return splits;
}

/** Every index in range, and no sample in two splits. */
function checkSplits(path: string, splits: Splits, length: number): void {
  const owner = new Map<number, string>();
  for (const [name, indices] of Object.entries(splits)) {
    for (const i of indices) {
      if (i < 0 || i >= length) throw new SplitsFileError(`${path}: split '${name}' has index ${i}, outside [0, ${length})`);
      const other = owner.get(i);
      if (other !== undefined) throw new SplitsFileError(other === name ? `${path}: sample ${i} appears twice in '${name}'` : `${path}: sample ${i} is in both '${other}' and '${name}'`);
      owner.set(i, name);
    }
  }
}
