// The dataset doctor: reads every sample of a source (an image folder, a manifest, or any
// IndexedDataset), inspects it, and sums up what a person should fix before training: files that
// do not decode, names that lie, tiny images, duplicates, train/test leakage, class imbalance.
//
// Work per file runs on libuv's thread pool (file reads, sharp), so the event loop stays free and
// `concurrency` files are in flight at once; the report itself is built on the main thread.
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';

import { imageFolder } from '../sources/image-folder.js';
import { manifest } from '../sources/manifest.js';
import { DataError, type IndexedDataset } from '../types.js';
import { type FileFacts, inspectEncoded, inspectPixels, type InspectOptions, SEVERITY, TRAITS, type Trait } from './inspect.js';
import { nearPairs } from './phash.js';
import type { DatasetIssue, DoctorReport, FileProblem, FileRef, Stat } from './report.js';

export interface DoctorOptions {
  /** A second source whose samples are the 'test' split (the main source's are 'train' unless it has splits). */
  test?: string | IndexedDataset;
  /** Files inspected at once (default: the libuv pool size, UV_THREADPOOL_SIZE or 4). */
  concurrency?: number;
  /** Called after each file. */
  onProgress?: (progress: { done: number; total: number; id: string }) => void;
  /** Shorter side, in pixels, below which an image is 'tiny' (default 32). */
  minSide?: number;
  /** Largest pHash Hamming distance (of 64 bits) counted as a near duplicate (default 8). */
  nearDistance?: number;
  /** Largest/smallest class count above which the data set counts as imbalanced (default 10). */
  maxImbalance?: number;
  /** Decoding strictness, sharp's `failOn` (default 'error'; 'truncated' is the most lenient allowed). */
  failOn?: InspectOptions['failOn'];
  signal?: AbortSignal;
}

/** A source whose samples belong to named splits (a manifest with a split column). */
interface WithSplits {
  splits(): readonly (string | undefined)[];
}
const hasSplits = (d: IndexedDataset): d is IndexedDataset & WithSplits => typeof (d as Partial<WithSplits>).splits === 'function';

/** Opens a path as an image folder (a directory) or a manifest (.csv, .jsonl, .ndjson). */
export async function openSource(path: string): Promise<IndexedDataset> {
  const s = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw new DataError(path, e.code === 'ENOENT' ? 'no such file or folder' : `cannot open (${e.code ?? e.message})`, { cause: e });
  });
  if (s.isDirectory()) return imageFolder(path);
  if (['.csv', '.jsonl', '.ndjson'].includes(extname(path).toLowerCase())) return manifest(path);
  throw new DataError(path, 'not an image folder or a manifest (.csv, .jsonl)');
}

interface Item extends FileRef {
  source: IndexedDataset;
  index: number;
}

async function inspectItem(item: Item, opts: InspectOptions): Promise<FileFacts> {
  let record;
  try {
    record = await item.source.read(item.index);
  } catch (e) {
    if (e instanceof DataError) item.id = e.id;
    const cause = (e as { cause?: NodeJS.ErrnoException }).cause;
    const code = cause?.code === 'ENOENT' ? 'missing' : 'unreadable';
    const why = e instanceof DataError ? e.message.slice(e.id.length + 2) : String((e as Error).message ?? e);
    return { bytes: 0, traits: [], issues: [{ code, message: code === 'missing' ? `file not found (${why})` : why }] };
  }
  item.id = record.id;
  return record.input.kind === 'encoded' ? inspectEncoded(record.input.bytes, record.id, opts) : inspectPixels(record.input.image, opts);
}

function stat1(values: number[]): Stat {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  return { min: s[0] as number, median, mean: Math.round((s.reduce((a, b) => a + b, 0) / s.length) * 100) / 100, max: s.at(-1) as number };
}

const ref = (it: Item): FileRef => (it.split === undefined ? { id: it.id } : { id: it.id, split: it.split });

/** Inspects every sample of `source` and returns the report. Rejects only when the source cannot be opened. */
export async function checkDataset(source: string | IndexedDataset, options: DoctorOptions = {}): Promise<DoctorReport> {
  const main = typeof source === 'string' ? await openSource(source) : source;
  const test = options.test === undefined ? undefined : typeof options.test === 'string' ? await openSource(options.test) : options.test;
  const inspect: InspectOptions = { minSide: options.minSide ?? 32, failOn: options.failOn ?? 'error' };
  const nearDistance = options.nearDistance ?? 8;
  const maxImbalance = options.maxImbalance ?? 10;

  // Every sample of both sources, with its split.
  const items: Item[] = [];
  // Ids come from read(); until then (and when read fails without naming the file) a path or a position.
  const idOf = (d: IndexedDataset, i: number, name: string) => (d as { paths?: readonly string[] }).paths?.[i] ?? `${name}[${i}]`;
  const mainSplits = hasSplits(main) ? main.splits() : undefined;
  for (let i = 0; i < main.length; i++) {
    const split = mainSplits?.[i] ?? (test ? 'train' : undefined);
    items.push({ source: main, index: i, id: idOf(main, i, 'sample'), ...(split === undefined ? {} : { split }) });
  }
  for (let i = 0; i < (test?.length ?? 0); i++) items.push({ source: test as IndexedDataset, index: i, id: idOf(test as IndexedDataset, i, 'test'), split: 'test' });

  // Inspect with at most `concurrency` files in flight.
  const facts: FileFacts[] = new Array(items.length);
  const concurrency = Math.max(1, options.concurrency ?? (Number(process.env.UV_THREADPOOL_SIZE) || 4));
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      options.signal?.throwIfAborted();
      const k = next++;
      const it = items[k] as Item;
      facts[k] = await inspectItem(it, inspect);
      done++;
      options.onProgress?.({ done, total: items.length, id: it.id });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));

  // Per-file problems, formats, traits, sizes.
  const problems: FileProblem[] = [];
  const formats: Record<string, number> = {};
  const traits = Object.fromEntries(TRAITS.map((t) => [t, { count: 0, examples: [] as string[] }])) as DoctorReport['traits'];
  const widths: number[] = [];
  const heights: number[] = [];
  const sizeCounts = new Map<string, number>();
  let bytes = 0;
  for (const [k, f] of facts.entries()) {
    const it = items[k] as Item;
    bytes += f.bytes;
    for (const issue of f.issues) problems.push({ ...ref(it), index: it.index, code: issue.code, severity: SEVERITY[issue.code], message: issue.message });
    if (f.format !== undefined) formats[f.format] = (formats[f.format] ?? 0) + 1;
    for (const t of f.traits as Trait[]) {
      traits[t].count++;
      if (traits[t].examples.length < 5) traits[t].examples.push(it.id);
    }
    if (f.width !== undefined && f.height !== undefined && f.phash !== undefined) {
      widths.push(f.width);
      heights.push(f.height);
      const key = `${f.width}x${f.height}`;
      sizeCounts.set(key, (sizeCounts.get(key) ?? 0) + 1);
    }
  }
  const common = [...sizeCounts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, 5)
    .map(([key, count]) => {
      const [w, h] = key.split('x').map(Number);
      return { width: w as number, height: h as number, count };
    });

  // Duplicates: identical bytes, then near pairs among files with different bytes.
  const bySha = new Map<string, number[]>();
  for (const [k, f] of facts.entries()) {
    if (f.sha256 === undefined) continue;
    const group = bySha.get(f.sha256);
    if (group) group.push(k);
    else bySha.set(f.sha256, [k]);
  }
  const exactGroups = [...bySha].filter(([, ks]) => ks.length > 1);
  const near = nearPairs(
    facts.map((f) => f.phash),
    nearDistance,
  ).filter((p) => facts[p.a]?.sha256 !== facts[p.b]?.sha256);

  // Leakage: a duplicate pair whose members sit in different splits.
  const leakage: DoctorReport['leakage'] = [];
  const crosses = (a: number, b: number) => {
    const sa = items[a]?.split;
    const sb = items[b]?.split;
    return sa !== undefined && sb !== undefined && sa !== sb;
  };
  for (const [, ks] of exactGroups) {
    for (let x = 0; x < ks.length; x++) {
      for (let y = x + 1; y < ks.length; y++) {
        const [a, b] = [ks[x] as number, ks[y] as number];
        if (crosses(a, b)) leakage.push({ kind: 'exact', a: ref(items[a] as Item), b: ref(items[b] as Item), distance: 0 });
      }
    }
  }
  for (const p of near) if (crosses(p.a, p.b)) leakage.push({ kind: 'near', a: ref(items[p.a] as Item), b: ref(items[p.b] as Item), distance: p.distance });

  // Class balance of the main source, and per split.
  const mainLabels = main.labels();
  const counts = main.classes.map(() => 0);
  for (const l of mainLabels) if (l >= 0 && l < counts.length) counts[l] = (counts[l] as number) + 1;
  const classes = main.classes.map((name, i) => ({ name, count: counts[i] as number }));
  const nonEmpty = counts.filter((c) => c > 0);
  const imbalanceRatio = nonEmpty.length === 0 ? null : Math.round((Math.max(...nonEmpty) / Math.min(...nonEmpty)) * 100) / 100;
  const splitMap = new Map<string, { files: number; classCounts: Record<string, number> }>();
  const testLabels = test?.labels();
  for (const it of items) {
    if (it.split === undefined) continue;
    const s = splitMap.get(it.split) ?? { files: 0, classCounts: {} };
    splitMap.set(it.split, s);
    s.files++;
    const label = (it.source === main ? mainLabels : (testLabels as Int32Array))[it.index] as number;
    const name = it.source.classes[label] ?? '(unlabelled)';
    s.classCounts[name] = (s.classCounts[name] ?? 0) + 1;
  }

  const issues: DatasetIssue[] = [];
  for (const w of [...((main as { warnings?: string[] }).warnings ?? []), ...((test as { warnings?: string[] } | undefined)?.warnings ?? [])]) {
    issues.push({ code: 'listing', message: w });
  }
  for (const c of classes) if (c.count === 0) issues.push({ code: 'empty-class', message: `class "${c.name}" has no samples` });
  if (imbalanceRatio !== null && imbalanceRatio > maxImbalance) {
    issues.push({ code: 'imbalance', message: `largest class is ${imbalanceRatio}× the smallest (threshold ${maxImbalance})` });
  }
  if (exactGroups.length > 0) {
    const extra = exactGroups.reduce((n, [, ks]) => n + ks.length - 1, 0);
    issues.push({ code: 'exact-duplicates', message: `${extra} file(s) are byte-for-byte copies of another (${exactGroups.length} group(s))` });
  }
  if (near.length > 0) issues.push({ code: 'near-duplicates', message: `${near.length} pair(s) of files look alike (pHash distance ≤ ${nearDistance})` });
  if (leakage.length > 0) issues.push({ code: 'leakage', message: `${leakage.length} duplicate pair(s) cross splits (e.g. the same image in train and test)` });

  const errors = problems.filter((p) => p.severity === 'error').length;
  return {
    version: 1,
    source: main.describe(),
    ...(test ? { test: test.describe() } : {}),
    options: { minSide: inspect.minSide, nearDistance, maxImbalance, failOn: inspect.failOn },
    files: items.length,
    bytes,
    clean: problems.length === 0 && issues.length === 0,
    errors,
    warnings: problems.length - errors,
    problems,
    issues,
    formats,
    traits,
    sizes: widths.length === 0 ? null : { width: stat1(widths), height: stat1(heights), common },
    classes,
    imbalanceRatio,
    splits: [...splitMap].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([name, s]) => ({ name, ...s })),
    duplicates: {
      exact: exactGroups.map(([sha256, ks]) => ({ sha256, files: ks.map((k) => ref(items[k] as Item)) })),
      near: near.map((p) => ({ a: ref(items[p.a] as Item), b: ref(items[p.b] as Item), distance: p.distance })),
    },
    leakage,
  };
}
