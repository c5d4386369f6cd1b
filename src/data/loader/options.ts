// DataLoader's options, checked as plain JavaScript needs: PyTorch habits (`new DataLoader(ds, 32)`,
// `batch_size`, `num_workers`) and wrong types get a message that says what to write.
import { checkOptions, isOptionsObject, show } from '../options.js';
import { checkSeed } from '../random.js';
import type { Sampler } from '../sampling/samplers.js';
import type { BatchTransform } from '../transforms/batch.js';
import type { Dataset, SamplePipeline } from '../types.js';
import type { BadSampleOptions, LoaderLogger } from './bad-samples.js';

export interface DataLoaderOptions {
  batchSize: number;
  /** Random order each epoch (indexed: global permutation; streams: buffered shuffle). Default false. */
  shuffle?: boolean;
  /** Drop the last batch when it is short. Default false. */
  dropLast?: boolean;
  /** Seeds the order and every per-sample random choice: a non-negative integer. Default 0. */
  seed?: number;
  /** Decode and per-sample transforms; without one, samples must be `pixels` inputs. */
  pipeline?: SamplePipeline;
  /** Applied to each collated batch, in order; default [toFloat()] (see loader.ts). */
  batchTransforms?: BatchTransform[];
  /** Which indices an epoch visits (indexed data only); excludes `shuffle`. */
  sampler?: Sampler;
  /** Worker threads for the pipeline (default 0: run it in this thread). */
  workers?: number;
  /** Batches prepared ahead of the one being consumed (default 2). */
  prefetch?: number;
  /** Records held by a stream's buffered shuffle (default 1000). */
  shuffleBuffer?: number;
  badSamples?: BadSampleOptions;
  /** Limit for one sample's read, and for its pipeline run (default 60,000 ms); see limits.ts for what counts. */
  sampleTimeoutMs?: number;
  /** Samples read or processed at once (default max(16, 4 × workers)). */
  maxInFlight?: number;
  /** Where bad-sample warnings go (default console). */
  logger?: LoaderLogger;
  /**
   * Decode JPEGs with the native kernel when the pipeline allows it (jpeg-plan.ts; default true);
   * false sends every sample through the pipeline's own decoder (sharp).
   */
  nativeJpeg?: boolean;
  /** This process's share of a stream (default rank 0 of 1); indexed data splits by sampler instead. */
  rank?: number;
  worldSize?: number;
}

const KNOWN: { [K in keyof Required<DataLoaderOptions>]: true } = {
  batchSize: true, shuffle: true, dropLast: true, seed: true, pipeline: true, batchTransforms: true, sampler: true, workers: true, prefetch: true,
  shuffleBuffer: true, badSamples: true, sampleTimeoutMs: true, maxInFlight: true, logger: true, nativeJpeg: true, rank: true, worldSize: true,
};

// PyTorch's names for options that are ours under another name (the camelCase check catches the rest).
const PYTORCH: Record<string, string> = { num_workers: 'workers', prefetch_factor: 'prefetch', generator: 'seed', collate_fn: 'batchTransforms' };

function int(name: string, v: unknown, min: number): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= min) return v;
  throw new RangeError(`DataLoader: ${name} must be ${min === 0 ? 'a non-negative' : 'a positive'} integer, got ${show(v)}`);
}

function bool(name: string, v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  throw new TypeError(`DataLoader: ${name} must be true or false, got ${show(v)}`);
}

export interface Resolved {
  batchSize: number;
  shuffle: boolean;
  dropLast: boolean;
  seed: number;
  workers: number;
  prefetch: number;
  timeoutMs: number;
  maxInFlight: number;
  shuffleBuffer: number;
  nativeJpeg: boolean;
  rank: number;
  worldSize: number;
}

/** The options with their defaults, or an error naming the option and what to write. */
export function resolveOptions(dataset: unknown, options: unknown): Resolved {
  const kind = (dataset as { kind?: unknown } | null)?.kind;
  if (typeof (dataset as { then?: unknown } | null)?.then === 'function')
    throw new TypeError('DataLoader: the data set is a Promise — await it first: new DataLoader(await imageFolder(dir), { batchSize: 32 })');
  if (kind !== 'indexed' && kind !== 'streaming')
    throw new TypeError(`DataLoader: the first argument must be a data set (e.g. imageFolder('photos'), tensorDataset(...), webDataset(...)), got ${show(dataset)}`);
  const example = `new DataLoader(dataset, { batchSize: ${typeof options === 'number' ? options : 32}, shuffle: true })`;
  if (!isOptionsObject(options)) throw new TypeError(`DataLoader takes (dataset, options): write ${example}; got ${show(options)} as options`);
  const pytorch = Object.keys(options).find((k) => k in PYTORCH);
  if (pytorch) throw new RangeError(`DataLoader: unknown option '${pytorch}' — ours is '${PYTORCH[pytorch]}' (see DataLoaderOptions)`);
  const o = checkOptions('DataLoader', options, Object.keys(KNOWN), example) as Partial<DataLoaderOptions>;
  if (o.batchSize === undefined) throw new TypeError(`DataLoader: batchSize is required: write ${example}`);
  // Only a missing option takes its default: null is a value, and a wrong one (plain JavaScript, JSON).
  const given = <T>(v: T | undefined, d: T): T => (v === undefined ? d : v);
  const workers = int('workers', given(o.workers, 0), 0);
  const timeoutMs = given(o.sampleTimeoutMs, 60_000);
  if (!(typeof timeoutMs === 'number' && timeoutMs > 0)) throw new RangeError(`DataLoader: sampleTimeoutMs must be a positive number of milliseconds (Infinity: no limit), got ${show(timeoutMs)}`);
  const rank = int('rank', given(o.rank, 0), 0);
  const worldSize = int('worldSize', given(o.worldSize, 1), 1);
  if (rank >= worldSize) throw new RangeError(`DataLoader: rank ${rank} is not in 0..${worldSize - 1} (worldSize ${worldSize})`);
  if (o.sampler !== undefined && typeof (o.sampler as { indices?: unknown } | null)?.indices !== 'function')
    throw new TypeError(`DataLoader: sampler must be a Sampler such as new RandomSampler(n, { seed: 0 }), got ${show(o.sampler)}`);
  if (o.pipeline !== undefined && typeof (o.pipeline as { run?: unknown } | null)?.run !== 'function')
    throw new TypeError(`DataLoader: pipeline must be a sample pipeline such as compose({ transforms: [...] }), got ${show(o.pipeline)}`);
  if (o.batchTransforms !== undefined && !(Array.isArray(o.batchTransforms) && o.batchTransforms.every((t) => typeof t === 'function')))
    throw new TypeError(`DataLoader: batchTransforms must be a list of batch transforms, e.g. [batch.normalize([0.5], [0.5])], got ${show(o.batchTransforms)}`);
  return {
    batchSize: int('batchSize', o.batchSize, 1),
    shuffle: bool('shuffle', given(o.shuffle, false)),
    dropLast: bool('dropLast', given(o.dropLast, false)),
    seed: checkSeed(given(o.seed, 0), 'DataLoader: seed'),
    workers,
    prefetch: int('prefetch', given(o.prefetch, 2), 1),
    timeoutMs,
    maxInFlight: int('maxInFlight', given(o.maxInFlight, Math.max(16, 4 * workers)), 1),
    shuffleBuffer: int('shuffleBuffer', given(o.shuffleBuffer, 1000), 1),
    nativeJpeg: bool('nativeJpeg', given(o.nativeJpeg, true)),
    rank,
    worldSize,
  };
}
