// The dataset doctor: reads every sample of a source — any source training accepts, opened by the
// one opener (src/data/pipeline/open.ts): image folders, manifests, IDX, CIFAR, NPY, packed folders,
// WebDataset shards — inspects it with training's own decoders and limits, and sums up what a person
// should fix before training: files that do not decode, names that lie, tiny images, duplicates,
// look-alikes, train/test leakage, class imbalance.
//
// It scales: JPEGs are decoded by the native kernel on `threads` threads (others by sharp on libuv's
// pool), `concurrency` files are in flight at once, results are tallied in sample order as they
// come (tally.ts: a few bytes a file, capped lists) and nothing else is kept, so memory stays
// bounded and the event loop free for a progress bar.
import { availableParallelism } from 'node:os';

import { DECODE_LIMITS } from '../image/decode.js';
import { evaluationPart, openSource, type SourcePart } from '../pipeline/open.js';
import type { SourceSpec } from '../pipeline/source.js';
import { decodeMask } from '../image/mask.js';
import { MASK_IGNORE } from '../pipeline/targets.js';
import { DataError, type Dataset, type SampleRecord } from '../types.js';
import { type FileFacts, inspectEncoded, inspectPixels, type InspectOptions } from './inspect.js';
import type { DatasetIssue, DoctorReport } from './report.js';
import { type Item, Tally } from './tally.js';

/** A source as a path or spec string, a spec, or data sets already open. */
export type DoctorSource = string | SourceSpec | Dataset;

export interface DoctorOptions {
  /** A second source whose samples are the 'test' split (the main source's are 'train' unless it has splits). */
  test?: DoctorSource;
  /** Files read and inspected at once (default 8 per thread). */
  concurrency?: number;
  /** Native threads decoding JPEGs and resizing for the hash (default: every core). */
  threads?: number;
  /** Entries each list of the report holds at most: problems, duplicate groups, leakage pairs (default 1000). */
  maxListed?: number;
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

type Parts = Awaited<ReturnType<typeof partsOf>>;

async function inspectAll(main: Parts, test: Parts | undefined, options: DoctorOptions): Promise<DoctorReport> {
  // With a test source, the main source's unnamed samples are its 'train' split.
  const mainParts = test ? main.parts.map((p) => (p.split === undefined ? { ...p, split: 'train' } : p)) : main.parts;
  const threads = options.threads ?? availableParallelism();
  const inspect: InspectOptions = { minSide: options.minSide ?? 32, failOn: options.failOn ?? DECODE_LIMITS.failOn, threads };
  const nearDistance = options.nearDistance ?? 8;
  const maxImbalance = options.maxImbalance ?? 10;
  const maxListed = options.maxListed ?? 1000;
  if (!(Number.isInteger(maxListed) && maxListed >= 0)) throw new RangeError(`maxListed must be a non-negative integer, got ${maxListed}`);
  const classNames = (mainParts[0]?.dataset.classes ?? []) as readonly string[];
  const tally = new Tally({ nearDistance, maxListed, classNames });

  // Every sample of both sources with at most `concurrency` in flight, tallied in sample order.
  const total = [...mainParts, ...(test?.parts ?? [])].reduce<number | undefined>((n, p) => (n === undefined ? undefined : p.dataset.kind === 'indexed' ? n + p.dataset.length : p.dataset.lengthHint === undefined ? undefined : n + p.dataset.lengthHint), 0);
  const concurrency = Math.max(1, options.concurrency ?? 8 * threads);
  const window: Promise<{ item: Item; facts: FileFacts; inMain: boolean }>[] = [];
  let perImageClasses = false;
  const take = async (): Promise<void> => {
    const { item, facts, inMain } = await (window.shift() as (typeof window)[number]);
    tally.add(item, facts, inMain);
    if (inMain && item.label >= 0) perImageClasses = true;
    options.onProgress?.({ done: tally.files, total, id: item.id });
  };
  for (const [parts, inMain] of [[mainParts, true], [test?.parts ?? [], false]] as const) {
    for await (const { item, read } of samplesOf(parts, options.signal)) {
      options.signal?.throwIfAborted();
      window.push(inspectItem(item, read, inspect).then((facts) => ({ item, facts, inMain })));
      if (window.length >= concurrency) await take();
    }
  }
  while (window.length > 0) await take();

  const t = tally.summary();
  const classes = classNames.map((name, i) => ({ name, count: t.classCounts[i] as number }));
  const nonEmpty = t.classCounts.filter((c) => c > 0);
  const imbalanceRatio = nonEmpty.length === 0 ? null : Math.round((Math.max(...nonEmpty) / Math.min(...nonEmpty)) * 100) / 100;
  const issues: DatasetIssue[] = [];
  for (const w of [...main.warnings, ...(test?.warnings ?? [])]) issues.push({ code: 'listing', message: w });
  // Masks and multi-label samples have no one class each (label -1): no class counts to judge.
  if (perImageClasses) for (const c of classes) if (c.count === 0) issues.push({ code: 'empty-class', message: `class "${c.name}" has no samples` });
  if (imbalanceRatio !== null && imbalanceRatio > maxImbalance) issues.push({ code: 'imbalance', message: `largest class is ${imbalanceRatio}× the smallest (threshold ${maxImbalance})` });
  if (t.exact.groups > 0) issues.push({ code: 'exact-duplicates', message: `${t.exact.copies} file(s) are byte-for-byte copies of another (${t.exact.groups} group(s))` });
  if (t.near.groups > 0) issues.push({ code: 'near-duplicates', message: `${t.near.members} file(s) look like an earlier one (pHash distance ≤ ${nearDistance}), in ${t.near.groups} group(s)` });
  if (t.leakageTotal > 0) issues.push({ code: 'leakage', message: `${t.leakageTotal} duplicate pair(s) cross splits (e.g. the same image in train and test; each pair is a file and its group's first file)` });

  return {
    version: 2,
    source: main.describe,
    ...(test ? { test: test.describe } : {}),
    options: { minSide: inspect.minSide, nearDistance, maxImbalance, failOn: inspect.failOn ?? DECODE_LIMITS.failOn, maxListed },
    files: tally.files,
    bytes: tally.bytes,
    clean: tally.errors + tally.warnings === 0 && issues.length === 0,
    errors: tally.errors,
    warnings: tally.warnings,
    problems: tally.problems,
    issues,
    formats: tally.formats,
    traits: tally.traits,
    sizes: t.sizes,
    classes,
    imbalanceRatio,
    splits: t.splits,
    duplicates: t.duplicates,
    leakage: t.leakage,
    omitted: t.omitted,
  };
}
