// The dataset doctor: reads every sample of a source — any source training accepts, opened by the
// one opener (src/data/pipeline/open.ts): image folders, manifests, IDX, CIFAR, NPY, packed folders,
// WebDataset shards — inspects it with training's own decoder and limits, and sums up what a person
// should fix before training: files that do not decode, names that lie, tiny images, duplicates,
// train/test leakage, class imbalance.
//
// Work per file runs on libuv's thread pool (file reads, sharp), so the event loop stays free and
// `concurrency` files are in flight at once; the report itself is built on the main thread.
import { DECODE_LIMITS } from '../image/decode.js';
import { evaluationPart, openSource, type SourcePart } from '../pipeline/open.js';
import type { SourceSpec } from '../pipeline/source.js';
import { decodeMask } from '../image/mask.js';
import { MASK_IGNORE } from '../pipeline/targets.js';
import { DataError, type Dataset, type SampleRecord } from '../types.js';
import { type FileFacts, inspectEncoded, inspectPixels, type InspectOptions, SEVERITY, TRAITS, type Trait } from './inspect.js';
import { nearPairs } from './phash.js';
import type { DatasetIssue, DoctorReport, FileProblem, FileRef, Stat } from './report.js';

/** A source as a path or spec string, a spec, or data sets already open. */
export type DoctorSource = string | SourceSpec | Dataset;

export interface DoctorOptions {
  /** A second source whose samples are the 'test' split (the main source's are 'train' unless it has splits). */
  test?: DoctorSource;
  /** Files inspected at once (default: the libuv pool size, UV_THREADPOOL_SIZE or 4). */
  concurrency?: number;
  /** Called after each file. */
  onProgress?: (progress: { done: number; total: number | undefined; id: string }) => void;
  /** Shorter side, in pixels, below which an image is 'tiny' (default 32). */
  minSide?: number;
  /** Largest pHash Hamming distance (of 64 bits) counted as a near duplicate (default 8). */
  nearDistance?: number;
  /** Largest/smallest class count above which the data set counts as imbalanced (default 10). */
  maxImbalance?: number;
  /** Decoding strictness, sharp's `failOn` (default: training's, DECODE_LIMITS). */
  failOn?: InspectOptions['failOn'];
  signal?: AbortSignal;
}

/** The parts of a source, each with the split its samples belong to (none when it has one part). */
async function partsOf(source: DoctorSource, asTest: boolean): Promise<{ parts: SourcePart[]; describe: string; warnings: string[]; dispose(): void }> {
  if (typeof source === 'object' && 'kind' in source) return { parts: [{ ...(asTest ? { split: 'test' } : {}), dataset: source }], describe: source.describe(), warnings: listingWarnings(source), dispose: () => {} };
  const spec: SourceSpec = typeof source === 'string' ? { source } : source;
  const opened = await openSource(spec, { shuffleShards: false, wholeManifest: !asTest });
  // A test source counts as one 'test' part: its own test split, or all of it.
  const parts = asTest ? [{ split: 'test', dataset: evaluationPart(opened) }] : opened.parts;
  const describe = parts.length === 1 ? (parts[0] as SourcePart).dataset.describe() : `${spec.source} (${parts.map((p) => p.split).join(', ')})`;
  return { parts, describe, warnings: parts.flatMap((p) => listingWarnings(p.dataset)), dispose: () => opened.dispose() };
}

const listingWarnings = (d: Dataset) => [...((d as { warnings?: readonly string[] }).warnings ?? [])];

interface Item extends FileRef {
  /** Position in its part. */
  index: number;
  label: number;
  classes: readonly string[];
}

/** Every sample of the parts, in order, as a thunk that reads it (streams: the record as it arrives). */
async function* samplesOf(parts: readonly SourcePart[], signal: AbortSignal | undefined): AsyncGenerator<{ item: Item; read: () => Promise<SampleRecord> }> {
  for (const { split: partSplit, dataset: d } of parts) {
    // A manifest's rows name their own split (rows with none are in no split, unless the part has one).
    const rowSplits = (d as Partial<{ splits(): readonly (string | undefined)[] }>).splits?.();
    const at = (index: number, id: string, label: number): Item => {
      const split = rowSplits?.[index] ?? partSplit;
      return { index, id, label, classes: d.classes, ...(split === undefined ? {} : { split }) };
    };
    if (d.kind === 'indexed') {
      const labels = d.labels();
      // Ids come from read(); until then (and when read fails without naming the file) a path or a position.
      const paths = (d as { paths?: readonly string[] }).paths;
      for (let i = 0; i < d.length; i++) yield { item: at(i, paths?.[i] ?? `${partSplit ?? 'sample'}[${i}]`, labels[i] as number), read: () => d.read(i) };
    } else {
      let k = 0;
      for await (const r of d.stream({ epoch: 0, seed: 0, rank: 0, worldSize: 1, ...(signal ? { signal } : {}) })) yield { item: at(k++, r.id, r.label), read: async () => r };
    }
  }
}

async function inspectItem(item: Item, read: () => Promise<SampleRecord>, opts: InspectOptions): Promise<FileFacts> {
  let record;
  try {
    record = await read();
  } catch (e) {
    if (e instanceof DataError) item.id = e.id;
    const cause = (e as { cause?: NodeJS.ErrnoException }).cause;
    const code = cause?.code === 'ENOENT' ? 'missing' : 'unreadable';
    const why = e instanceof DataError ? e.message.slice(e.id.length + 2) : String((e as Error).message ?? e);
    return { bytes: 0, traits: [], issues: [{ code, message: code === 'missing' ? `file not found (${why})` : why }] };
  }
  item.id = record.id;
  item.label = record.label;
  const facts: FileFacts = record.input.kind === 'encoded' ? await inspectEncoded(record.input.bytes, record.id, opts) : await inspectPixels(record.input.image, opts);
  if (record.target?.kind === 'mask') {
    // Segmentation: the mask must decode as class ids (image/mask.ts), at its image's size, each id
    // a class (classes.txt or data.classes may name fewer than the masks hold) or the ignore value.
    try {
      const m = decodeMask(record.target.mask, `the mask of ${record.id}`);
      if (facts.width !== undefined && (m.width !== facts.width || m.height !== facts.height))
        facts.issues.push({ code: 'bad-mask', message: `its mask is ${m.width}×${m.height}, the image ${facts.width}×${facts.height}` });
      const k = item.classes.length;
      let top = -1;
      for (let p = 0; p < m.data.length; p++) {
        const v = m.data[p] as number;
        if (v !== MASK_IGNORE && v >= k && v > top) top = v;
      }
      if (k > 0 && top >= 0) facts.issues.push({ code: 'bad-mask', message: `its mask holds class id ${top}, but there are ${k} classes (ids 0..${k - 1}, ${MASK_IGNORE} = ignore)` });
    } catch (e) {
      facts.issues.push({ code: 'bad-mask', message: (e as Error).message });
    }
  }
  return facts;
}

function stat1(values: number[]): Stat {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  return { min: s[0] as number, median, mean: Math.round((s.reduce((a, b) => a + b, 0) / s.length) * 100) / 100, max: s.at(-1) as number };
}

const ref = (it: Item): FileRef => (it.split === undefined ? { id: it.id } : { id: it.id, split: it.split });

/** Inspects every sample of `source` and returns the report. Rejects only when the source cannot be opened. */
export async function checkDataset(source: DoctorSource, options: DoctorOptions = {}): Promise<DoctorReport> {
  const main = await partsOf(source, false);
  let test;
  try {
    test = options.test === undefined ? undefined : await partsOf(options.test, true);
    return await inspectAll(main, test, options);
  } finally {
    main.dispose();
    test?.dispose();
  }
}

async function inspectAll(main: Awaited<ReturnType<typeof partsOf>>, test: Awaited<ReturnType<typeof partsOf>> | undefined, options: DoctorOptions): Promise<DoctorReport> {
  // With a test source, the main source's unnamed samples are its 'train' split.
  const mainParts = test ? main.parts.map((p) => (p.split === undefined ? { ...p, split: 'train' } : p)) : main.parts;
  const inspect: InspectOptions = { minSide: options.minSide ?? 32, failOn: options.failOn ?? DECODE_LIMITS.failOn };
  const nearDistance = options.nearDistance ?? 8;
  const maxImbalance = options.maxImbalance ?? 10;
  const classNames = (mainParts[0]?.dataset.classes ?? []) as readonly string[];

  // Inspect every sample of both sources with at most `concurrency` files in flight; results keep sample order.
  const total = [...mainParts, ...(test?.parts ?? [])].reduce<number | undefined>((n, p) => (n === undefined ? undefined : p.dataset.kind === 'indexed' ? n + p.dataset.length : p.dataset.lengthHint === undefined ? undefined : n + p.dataset.lengthHint), 0);
  const items: Item[] = [];
  const facts: FileFacts[] = [];
  const inMain: boolean[] = [];
  const concurrency = Math.max(1, options.concurrency ?? (Number(process.env.UV_THREADPOOL_SIZE) || 4));
  const running = new Set<Promise<void>>();
  let done = 0;
  for (const [parts, isMain] of [[mainParts, true], [test?.parts ?? [], false]] as const) {
    for await (const { item, read } of samplesOf(parts, options.signal)) {
      options.signal?.throwIfAborted();
      const k = items.length;
      items.push(item);
      inMain.push(isMain);
      const p = inspectItem(item, read, inspect).then((f) => {
        facts[k] = f;
        done++;
        options.onProgress?.({ done, total, id: item.id });
      });
      const tracked = p.finally(() => running.delete(tracked));
      running.add(tracked);
      if (running.size >= concurrency) await Promise.race(running);
    }
  }
  await Promise.all(running);

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
  const counts = classNames.map(() => 0);
  items.forEach((it, k) => {
    if (inMain[k] && it.label >= 0 && it.label < counts.length) counts[it.label] = (counts[it.label] as number) + 1;
  });
  const classes = classNames.map((name, i) => ({ name, count: counts[i] as number }));
  const nonEmpty = counts.filter((c) => c > 0);
  const imbalanceRatio = nonEmpty.length === 0 ? null : Math.round((Math.max(...nonEmpty) / Math.min(...nonEmpty)) * 100) / 100;
  const splitMap = new Map<string, { files: number; classCounts: Record<string, number> }>();
  for (const it of items) {
    if (it.split === undefined) continue;
    const s = splitMap.get(it.split) ?? { files: 0, classCounts: {} };
    splitMap.set(it.split, s);
    s.files++;
    const name = it.classes[it.label] ?? '(unlabelled)';
    s.classCounts[name] = (s.classCounts[name] ?? 0) + 1;
  }

  const issues: DatasetIssue[] = [];
  for (const w of [...main.warnings, ...(test?.warnings ?? [])]) issues.push({ code: 'listing', message: w });
  // Masks and multi-label samples have no one class each (label -1): no class counts to judge.
  const perImageClasses = items.some((it, k) => inMain[k] && it.label >= 0);
  if (perImageClasses) for (const c of classes) if (c.count === 0) issues.push({ code: 'empty-class', message: `class "${c.name}" has no samples` });
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
    source: main.describe,
    ...(test ? { test: test.describe } : {}),
    options: { minSide: inspect.minSide, nearDistance, maxImbalance, failOn: inspect.failOn ?? DECODE_LIMITS.failOn },
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
