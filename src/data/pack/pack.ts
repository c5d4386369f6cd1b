// `packDataset`: reads every sample of a source, prepares it (prepare.ts) and writes Tessera's
// packed format (formats/packed-writer.ts), so later epochs read pre-sized pixels from a memory
// map instead of decoding files.
//
// Decoding runs `concurrency` samples at a time (JPEGs on the native kernel's `threads` threads,
// other formats through sharp on libuv's thread pool), but samples are written strictly in source
// order, through a window that awaits the oldest sample first: the same source packed twice gives
// byte-identical shards, whatever the timing.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

import { PACKED_INDEX } from '../formats/packed-index.js';
import { PackedWriter } from '../formats/packed-writer.js';
import { type BadSample, DataError, type Dataset, type SampleRecord } from '../types.js';
import { preparer, type PreparedSample, type PrepareOptions } from './prepare.js';

export interface PackOptions extends PrepareOptions {
  /** A shard is closed once the next sample would take it past this size (default 256 MiB). */
  shardBytes?: number;
  /** Samples read and decoded at once (default 8 per thread). */
  concurrency?: number;
  /** 'skip' (default): leave out samples that cannot be read or decoded, and list them. 'fail': stop at the first. */
  badFiles?: 'skip' | 'fail';
  /** Replace a pack already in the output folder (default: refuse). */
  overwrite?: boolean;
  /** Called after each sample is written or skipped. `total` is unknown for streams without a length hint. */
  onProgress?: (p: { done: number; total: number | undefined; skipped: number; id: string }) => void;
  signal?: AbortSignal;
}

export interface PackSummary {
  /** The packed folder. */
  dir: string;
  /** The source, as it describes itself. */
  source: string;
  /** How each sample was prepared, in words. */
  preparation: string;
  classes: number;
  /** Samples written: raw pixels + JPEG. */
  count: number;
  raw: number;
  jpeg: number;
  /** JPEG samples stored as the source file itself (already the packed size). */
  keptSourceJpeg: number;
  /** Samples left out, by id and reason, in source order. */
  skipped: BadSample[];
  /** Bytes of all shards, and their number. */
  bytes: number;
  shards: number;
  seconds: number;
}

/** Thrown with `badFiles: 'fail'`: the first sample that could not be read or decoded. */
export class BadSampleError extends DataError {
  override name = 'BadSampleError';
  constructor(readonly sample: BadSample) {
    super(sample.id, `${sample.reason} (sample ${sample.index}; badFiles: 'fail' stops the pack)`);
  }
}

type Outcome =
  | { kind: 'ok'; record: SampleRecord; prepared: PreparedSample }
  | { kind: 'bad'; bad: BadSample }
  | { kind: 'error'; error: unknown };

interface Job {
  index: number;
  /** The id to report when reading fails before the record names the sample. */
  id: string;
  record: () => Promise<SampleRecord>;
}

/** Every sample of the source, in order, as a thunk that reads it. */
async function* jobsOf(source: Dataset, signal: AbortSignal | undefined): AsyncGenerator<Job> {
  if (source.kind === 'indexed') {
    const paths = (source as { paths?: readonly string[] }).paths;
    for (let i = 0; i < source.length; i++) yield { index: i, id: paths?.[i] ?? `sample ${i}`, record: () => source.read(i) };
    return;
  }
  // A stream's epoch 0 with unshuffled meaning: the order the source gives, on one rank.
  const ctx = { epoch: 0, seed: 0, rank: 0, worldSize: 1, ...(signal ? { signal } : {}) };
  for await (const r of source.stream(ctx)) yield { index: r.index, id: r.id, record: async () => r };
}

/**
 * Packs `source` into `outDir` (created if needed). Resolves with a summary; rejects with a
 * DataError when the output folder already holds a pack (without `overwrite`), when the source
 * cannot be listed, or, with `badFiles: 'fail'`, naming the first sample that cannot be used.
 */
export async function packDataset(source: Dataset, outDir: string, options: PackOptions = {}): Promise<PackSummary> {
  const t0 = performance.now();
  const threads = options.threads ?? availableParallelism();
  const prep = preparer({ ...options, threads });
  const policy = options.badFiles ?? 'skip';
  if (policy !== 'skip' && policy !== 'fail') throw new RangeError(`badFiles must be 'skip' or 'fail', got ${JSON.stringify(policy)}`);
  const concurrency = options.concurrency ?? 8 * threads;
  if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new RangeError(`concurrency must be an integer ≥ 1, got ${concurrency}`);

  if (existsSync(join(outDir, PACKED_INDEX)) && !options.overwrite)
    throw new DataError(outDir, 'already holds a packed data set (pass overwrite to replace it)');
  // The pack is written beside the output folder and moved in only when complete: a pack that
  // fails or is aborted leaves the folder as it was (an older pack in it included).
  const work = join(dirname(resolve(outDir)), `.${basename(resolve(outDir))}.packing-${process.pid}-${randomBytes(4).toString('hex')}`);
  const writer = new PackedWriter(work, {
    classes: source.classes,
    rawMaxPixels: options.rawMaxPixels ?? 64 * 64,
    ...(options.shardBytes !== undefined ? { shardBytes: options.shardBytes } : {}),
  });

  const run = async (job: Job): Promise<Outcome> => {
    let id = job.id;
    try {
      const record = await job.record();
      id = record.id;
      return { kind: 'ok', record, prepared: await prep.prepare(record.input, record.id) };
    } catch (e) {
      if (!(e instanceof DataError)) return { kind: 'error', error: e };
      const reason = e.message.startsWith(`${e.id}: `) ? e.message.slice(e.id.length + 2) : e.message;
      return { kind: 'bad', bad: { id: e.id || id, index: job.index, reason } };
    }
  };

  const total = source.kind === 'indexed' ? source.length : source.lengthHint;
  const skipped: BadSample[] = [];
  const counts = { raw: 0, jpeg: 0, kept: 0 };
  let done = 0;
  const write = (o: Outcome): void => {
    if (o.kind === 'error') throw o.error;
    if (o.kind === 'bad') {
      if (policy === 'fail') throw new BadSampleError(o.bad);
      skipped.push(o.bad);
    } else {
      const { record, prepared } = o;
      writer.add({ image: prepared.image, ...(prepared.jpeg ? { jpeg: prepared.jpeg } : {}), label: record.label, id: record.id });
      if (prepared.jpeg) counts.jpeg++;
      else counts.raw++;
      if (prepared.keptSourceJpeg) counts.kept++;
    }
    done++;
    options.onProgress?.({ done, total, skipped: skipped.length, id: o.kind === 'ok' ? o.record.id : o.bad.id });
  };

  // In-flight samples, oldest first. `run` never rejects, so a sample that fails while older ones
  // are still pending is no unhandled rejection; its outcome waits its turn.
  const window: Promise<Outcome>[] = [];
  try {
    for await (const job of jobsOf(source, options.signal)) {
      options.signal?.throwIfAborted();
      window.push(run(job));
      if (window.length >= concurrency) write(await (window.shift() as Promise<Outcome>));
    }
    while (window.length) write(await (window.shift() as Promise<Outcome>));
    const index = writer.finish();
    moveInto(work, outDir, index.shards.map((x) => x.file));
    return {
      dir: resolve(outDir),
      source: source.describe(),
      preparation: prep.description,
      classes: source.classes.length,
      count: index.count,
      raw: counts.raw,
      jpeg: counts.jpeg,
      keptSourceJpeg: counts.kept,
      skipped,
      bytes: index.shards.reduce((n, x) => n + x.bytes, 0),
      shards: index.shards.length,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Moves a finished pack from `work` into `dir`: the old index goes first and the new one comes last,
 * so at no moment does an index point at shards of another pack; stale shards are then removed.
 */
function moveInto(work: string, dir: string, shards: readonly string[]): void {
  mkdirSync(dir, { recursive: true });
  rmSync(join(dir, PACKED_INDEX), { force: true });
  for (const f of shards) renameSync(join(work, f), join(dir, f));
  renameSync(join(work, PACKED_INDEX), join(dir, PACKED_INDEX));
  const current = new Set(shards);
  for (const f of readdirSync(dir)) if (/^shard-\d{5,}\.bin$/.test(f) && !current.has(f)) unlinkSync(join(dir, f));
}
