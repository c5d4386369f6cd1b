// DataLoader: the epochs of a data set as batches of tensors (the BatchSource a trainer consumes).
//
// Iteration. `loader.epoch(e, { skipBatches })` yields epoch e (from batch skipBatches on). As in
// PyTorch, `for await (const batch of loader)` makes one pass: the first pass is epoch 0 and each
// pass after it the next epoch, so a plain loop over epochs reshuffles every time; setEpoch(e) says
// which epoch the next pass is (DistributedSampler's set_epoch). Pass and epoch are the same thing:
// `for await` over epoch e yields exactly what epoch(e) does.
//
// Order. An epoch is a sequence of positions. For an indexed data set position p is sample
// `sampler.indices(epoch)[p]` (default sampler: sequential, or random keyed by (seed, epoch) with
// `shuffle`); for a stream it is the p-th record of the stream after a buffered shuffle keyed by
// (seed, epoch). Batch b is positions [bB, bB+B). Both are pure functions of (seed, epoch), so
// `skipBatches: k` starts at position kB and yields exactly the tail of a full epoch.
//
// Output. Samples are stacked as uint8 N×C×H×W and labels as int64 N; then the batch transforms
// (src/data/transforms/batch.ts) run, in order. With no `batchTransforms` the loader applies
// `toFloat()` (÷255 → float32 in [0, 1]); pass your own list (e.g. [randomCropFlip(), normalize(mean,
// std)]) to replace it, or [] to get the uint8 batch.
//
// Bad samples (a read or pipeline that rejects, or runs past `sampleTimeoutMs`). Policy 'skip':
// one warning per file through `logger`, an entry in `loader.badSamples`, and the hole is filled
// from the positions after the batch — the first good samples at positions bB+B, bB+B+1, ... (for
// indexed data wrapping to the epoch's start), tried in rounds of as many as there are holes and
// placed into the holes in position order. Since a batch's contents depend only on its own
// positions and the ones after it, never on what happened in earlier batches, resuming with
// skipBatches still gives the same batches. The price: a replacement sample is seen twice that
// epoch (once in its own batch). A stream that ends leaves its last batch short. Policy 'fail':
// the epoch throws a BadSampleError naming the sample. Either way the error budget applies. Bad
// samples are accounted when their batch is handed out, in position order (not in the order loads
// finish), so warnings, `badSamples` and budget aborts do not depend on the worker count.
//
// Whether a sample is bad never depends on the consumer: an error is the sample's own, and the time
// limit counts only the sample's work — time during which this thread was blocked (by a training
// step, say) does not count (limits.ts). So a slow model skips nothing a fast one keeps.
//
// Fast path. A tensor-backed data set (ArrayDataset, or a subset of one) with no pipeline is cut
// into batches by one index_select each: no per-sample reads, no workers, nothing that can go bad.
//
// Threads. With `workers: 0` the pipeline runs in this thread's async flow (fine for pipelines
// whose work is async, like sharp's decoder, and for tests). With `workers: N` N worker threads
// rebuild the pipeline from `pipeline.workerSpec()` and run it, so the event loop stays free;
// reads (`dataset.read`, the stream) stay in this thread. The results never depend on N: the
// pipeline sees only (input, { seed, epoch, index }). Call close() when done (idle workers never
// keep the process alive, so forgetting it does not hang a program).
//
// Ownership. Batch tensors are made outside every memory scope and belong to the consumer, who
// disposes them (disposeBatch). Everything else the loader makes is freed before a batch is yielded.
import { persist, scope } from '../../tensor/index.js';
import { DataError } from '../types.js';
import type { BadSample, Batch, BatchSource, Dataset, IndexedDataset, SampleInput, SamplePipeline, SampleRecord, StreamingDataset, RawImage } from '../types.js';
import { RandomStream } from '../random.js';
import { RandomSampler, SequentialSampler, type Sampler } from '../sampling/samplers.js';
import { toFloat, type BatchTransform, type XY } from '../transforms/batch.js';
import { isTensorBacked, type TensorBacked } from './array-dataset.js';
import { BadSampleTracker, errorReason } from './bad-samples.js';
import { collate, collateTargets, type LoadedSample } from './collate.js';
import { Limiter, withTimeout } from './limits.js';
import { resolveOptions, type DataLoaderOptions } from './options.js';
import { bufferedShuffle, StreamWindow } from './stream-order.js';
import { WorkerInitError, WorkerPool } from './worker-pool.js';

export type { DataLoaderOptions } from './options.js';

/** A configuration error found while loading (not a bad sample): the epoch stops. */
export class LoaderConfigError extends Error {
  override name = 'LoaderConfigError';
}

type Outcome = LoadedSample | { bad: BadSample };
const END = Symbol('end of stream');

/** How one epoch's positions turn into samples. */
interface EpochSource {
  /** Batches this epoch, when known. */
  batches: number | undefined;
  /** Positions in the epoch (indexed), or undefined (stream). */
  length: number | undefined;
  load(position: number): Promise<Outcome | typeof END>;
  release(before: number): void;
  close(): Promise<void>;
}

interface Assembled {
  batch: number;
  samples: LoadedSample[];
  /** Every sample tried for this batch, in a fixed order (its positions, then the candidates). */
  tried: Outcome[];
  ended: boolean;
}

export class DataLoader implements BatchSource {
  readonly classes: readonly string[];
  readonly batchesPerEpoch: number | undefined;
  readonly batchSize: number;
  readonly dropLast: boolean;
  readonly seed: number;
  readonly workers: number;
  readonly prefetch: number;
  /** Indexed data: the sampler in use. */
  readonly sampler: Sampler | undefined;

  private readonly tracker: BadSampleTracker;
  private readonly transforms: BatchTransform[];
  private readonly timeoutMs: number;
  private readonly limiter: Limiter;
  private readonly stream: { shuffle: boolean; buffer: number; rank: number; worldSize: number };
  private pool: WorkerPool | undefined;
  /** The epoch the next `for await` pass iterates. */
  private nextEpoch = 0;

  constructor(readonly dataset: Dataset, private readonly options: DataLoaderOptions) {
    const r = resolveOptions(dataset, options);
    this.batchSize = r.batchSize;
    this.dropLast = r.dropLast;
    this.seed = r.seed;
    this.workers = r.workers;
    this.prefetch = r.prefetch;
    this.timeoutMs = r.timeoutMs;
    this.limiter = new Limiter(r.maxInFlight);
    this.stream = { shuffle: r.shuffle, buffer: r.shuffleBuffer, rank: r.rank, worldSize: r.worldSize };
    this.tracker = new BadSampleTracker(options.badSamples, options.logger ?? console);
    this.transforms = options.batchTransforms ?? [toFloat()];
    this.classes = dataset.classes;
    if (dataset.kind === 'indexed') {
      if (options.sampler && r.shuffle) throw new RangeError('DataLoader: give either sampler or shuffle, not both (the sampler decides the order)');
      this.sampler = options.sampler ?? (r.shuffle ? new RandomSampler(dataset.length, { seed: this.seed }) : new SequentialSampler(dataset.length));
      const n = this.sampler.length;
      this.batchesPerEpoch = this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
    } else {
      if (options.sampler) throw new RangeError(`DataLoader: a streaming data set (${dataset.describe()}) is read in order; samplers need an indexed one`);
      this.sampler = undefined;
      const n = dataset.lengthHint;
      this.batchesPerEpoch = n === undefined ? undefined : this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
    }
  }

  /** Every distinct sample skipped so far, with the first reason seen. */
  get badSamples(): readonly BadSample[] {
    return this.tracker.list;
  }

  /** How many times a bad sample was skipped, over all epochs. */
  get badSampleCount(): number {
    return this.tracker.occurrences;
  }

  describe(): string {
    const how = this.sampler ? this.sampler.describe() : `stream${this.stream.shuffle ? `, shuffle buffer ${this.stream.buffer}` : ''}`;
    return `loader over ${this.dataset.describe()}: batches of ${this.batchSize}${this.dropLast ? ' (last short one dropped)' : ''}, ${how}, ${this.workers} workers`;
  }

  epoch(epoch: number, options: { skipBatches?: number; signal?: AbortSignal } = {}): AsyncIterable<Batch> {
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw new RangeError(`DataLoader.epoch: epoch must be a non-negative integer, got ${epoch}`);
    const skip = options.skipBatches ?? 0;
    if (!Number.isSafeInteger(skip) || skip < 0) throw new RangeError(`DataLoader.epoch: skipBatches must be a non-negative integer, got ${skip}`);
    const d = this.dataset;
    if (d.kind === 'indexed' && !this.options.pipeline && isTensorBacked(d)) return this.gathered(d, epoch, skip, options.signal);
    return this.assembled(epoch, skip, options.signal);
  }

  /** One pass: epoch 0 the first time, then the next epoch each time (see the header). */
  [Symbol.asyncIterator](): AsyncIterator<Batch> {
    return this.epoch(this.nextEpoch++)[Symbol.asyncIterator]();
  }

  /** Which epoch the next `for await` pass iterates (like DistributedSampler.set_epoch). */
  setEpoch(epoch: number): void {
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw new RangeError(`DataLoader.setEpoch: epoch must be a non-negative integer, got ${epoch}`);
    this.nextEpoch = epoch;
  }

  /** Stops the worker threads. The loader can still be used afterwards (it starts new ones). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The fast path: each batch is one index_select on the data set's tensors. */
  private async *gathered(d: IndexedDataset & TensorBacked, epoch: number, skip: number, signal: AbortSignal | undefined): AsyncGenerator<Batch> {
    const order = (this.sampler as Sampler).indices(epoch);
    const B = this.batchSize;
    for (let b = skip; b < (this.batchesPerEpoch as number); b++) {
      signal?.throwIfAborted();
      const idx = order.subarray(b * B, Math.min(order.length, (b + 1) * B));
      const indices = Array.from(idx);
      const out = scope(() => this.transform(d.gatherBatch(idx), epoch, b, indices));
      yield { x: persist(out.x), y: persist(out.y), indices, ids: indices.map((i) => d.sampleId(i)) };
    }
  }

  /** The general path: read, run the pipeline, collate — with prefetch, workers and bad-sample handling. */
  private async *assembled(epoch: number, skip: number, userSignal: AbortSignal | undefined): AsyncGenerator<Batch> {
    const pipeline = this.options.pipeline;
    if (pipeline && this.workers > 0 && !this.pool) {
      let spec;
      try {
        spec = pipeline.workerSpec();
      } catch (e) {
        throw new LoaderConfigError(`the pipeline cannot describe itself for worker threads (workerSpec): ${errorReason(e)}; use workers: 0`);
      }
      this.pool = new WorkerPool(spec, this.workers, this.timeoutMs);
    }
    const stop = new AbortController(); // cancels queued work when the consumer stops early
    const signal = userSignal ? AbortSignal.any([userSignal, stop.signal]) : stop.signal;
    const drop = () => this.pool?.drop(signal); // one listener an epoch, not one a sample
    signal.addEventListener('abort', drop, { once: true });
    this.tracker.startEpoch();
    const src = this.dataset.kind === 'indexed' ? this.indexedSource(this.dataset, epoch, signal) : this.streamSource(this.dataset, epoch, signal);
    const B = this.batchSize;
    const inflight: Promise<Assembled>[] = [];
    let next = skip;
    let ended = false;
    const fill = (): void => {
      while (!ended && inflight.length < this.prefetch && (src.batches === undefined || next < src.batches)) {
        const p = this.assemble(src, next++);
        p.catch(() => {}); // awaited in order below; a failure after the consumer stopped must not go unhandled
        inflight.push(p);
      }
    };
    try {
      src.release(skip * B);
      fill();
      while (inflight.length > 0) {
        userSignal?.throwIfAborted();
        let a: Assembled;
        try {
          a = await (inflight.shift() as Promise<Assembled>);
        } catch (e) {
          userSignal?.throwIfAborted();
          throw e;
        }
        // Bad samples are accounted here, in batch order and position order, never in the order
        // loads happen to finish: the warnings, the list and any budget abort are the same for any
        // worker count, and a resumed run reports what the uninterrupted one would from there on.
        for (const o of a.tried) {
          if ('bad' in o) this.tracker.bad(o.bad); // throws under policy 'fail' or when the budget runs out
          else this.tracker.good();
        }
        if (a.ended) ended = true;
        src.release((a.batch + 1) * B);
        fill();
        if (a.samples.length === 0 || (this.dropLast && a.samples.length < B)) continue;
        yield this.makeBatch(a.samples, epoch, a.batch);
      }
    } finally {
      stop.abort();
      signal.removeEventListener('abort', drop);
      await src.close();
    }
  }

  /** Batch b's samples: its own positions, holes filled from the positions after it (see the header). */
  private async assemble(src: EpochSource, b: number): Promise<Assembled> {
    const B = this.batchSize;
    const start = b * B;
    const end = src.length === undefined ? start + B : Math.min(start + B, src.length);
    const positions = Array.from({ length: end - start }, (_, i) => start + i);
    const tried: Outcome[] = [];
    const slots: (LoadedSample | undefined)[] = [];
    let ended = false;
    let badRun = 0; // bad samples in a row at the end of `tried`
    const record = (o: Outcome | typeof END): Outcome | undefined => {
      if (o === END) {
        ended = true;
        return undefined;
      }
      tried.push(o);
      badRun = 'bad' in o ? badRun + 1 : 0;
      return o;
    };
    for (const o of await Promise.all(positions.map((p) => src.load(p)))) {
      const r = record(o);
      if (r) slots.push('bad' in r ? undefined : r);
    }
    const holes = slots.flatMap((s, i) => (s ? [] : [i]));
    // Candidates: positions end, end+1, ...; indexed data wraps, but never back into this batch.
    // The search stops where the tracker will stop the epoch anyway (policy 'fail', or a run of
    // bad samples as long as the budget), so a data set of broken files cannot make it scan everything.
    let candidate = end;
    const budget = src.length === undefined ? Infinity : src.length - (end - start);
    let scanned = 0;
    const hopeless = () => this.tracker.policy === 'fail' || badRun >= this.tracker.maxConsecutive;
    while (holes.length > 0 && !ended && scanned < budget && !hopeless()) {
      const round = Math.min(holes.length, budget - scanned);
      const picks = Array.from({ length: round }, (_, i) => (src.length === undefined ? candidate + i : (candidate + i) % src.length));
      candidate += round;
      scanned += round;
      for (const o of await Promise.all(picks.map((p) => src.load(p)))) {
        const r = record(o);
        if (r && !('bad' in r)) slots[holes.shift() as number] = r;
      }
    }
    return { batch: b, samples: slots.filter((s): s is LoadedSample => s !== undefined), tried, ended };
  }

  private indexedSource(d: IndexedDataset, epoch: number, signal: AbortSignal): EpochSource {
    const order = (this.sampler as Sampler).indices(epoch);
    return {
      batches: this.batchesPerEpoch,
      length: order.length,
      load: (p) => {
        const index = order[p] as number;
        return this.process(epoch, index, d.sampleId?.(index) ?? `sample ${index} of ${d.describe()}`, () => d.read(index), signal);
      },
      release: () => {},
      close: async () => {},
    };
  }

  private streamSource(d: StreamingDataset, epoch: number, signal: AbortSignal): EpochSource {
    const { rank, worldSize } = this.stream;
    const records = d.stream({ epoch, seed: this.seed, rank, worldSize, signal });
    const size = this.stream.shuffle ? this.stream.buffer : 1;
    const order = new RandomStream({ seed: this.seed, purpose: 'streamShuffle', epoch, stream: rank });
    const window = new StreamWindow(bufferedShuffle(records, size, order)[Symbol.asyncIterator]());
    return {
      batches: undefined,
      length: undefined,
      load: async (p) => {
        const rec = await window.get(p);
        if (rec === undefined) return END;
        return this.process(epoch, rec.index, rec.id, async () => rec, signal);
      },
      release: (before) => window.release(before),
      close: () => window.close(),
    };
  }

  /** One sample: read it and run the pipeline — or the reason it is bad. */
  private process(epoch: number, index: number, fallbackId: string, read: () => Promise<SampleRecord>, signal: AbortSignal): Promise<Outcome> {
    return this.limiter.run(async () => {
      signal.throwIfAborted();
      // The report names the record's id once it is known (a pipeline does not know ids, and the
      // same failure must read the same with or without workers); before that, the reader's.
      let id: string | undefined;
      try {
        const record = await withTimeout(read(), this.timeoutMs, 'reading');
        id = record.id;
        const ctx = { seed: this.seed, epoch, index };
        const t = record.target;
        if (t?.kind === 'mask') return { ...(await this.runWithMask(record.input, t.mask, id, ctx, signal)), label: record.label, id, index };
        const image = await this.runPipeline(record.input, id, ctx, signal);
        return { image, label: record.label, id, index, ...(t?.kind === 'labels' ? { labels: t.labels } : {}) };
      } catch (e) {
        if (e instanceof LoaderConfigError || e instanceof WorkerInitError || signal.aborted) throw e;
        return { bad: { id: id ?? (e instanceof DataError ? e.id : fallbackId), index, reason: errorReason(e) } };
      }
    });
  }

  private runPipeline(input: SampleInput, id: string, ctx: { seed: number; epoch: number; index: number }, signal: AbortSignal): Promise<RawImage> {
    const pipeline = this.options.pipeline;
    if (!pipeline) {
      if (input.kind === 'pixels') return Promise.resolve(input.image);
      throw new LoaderConfigError(`${id} holds encoded file bytes, but the loader has no pipeline to decode them: pass { pipeline }`);
    }
    if (!this.pool) return withTimeout(pipeline.run(input, ctx), this.timeoutMs, 'the pipeline');
    return this.pool.run(input, ctx, signal);
  }

  /** A segmentation sample: image and mask through the pipeline's joint path (see SamplePipeline.runWithMask). */
  private runWithMask(input: SampleInput, mask: SampleInput, id: string, ctx: { seed: number; epoch: number; index: number }, signal: AbortSignal): Promise<{ image: RawImage; mask: RawImage }> {
    const pipeline = this.options.pipeline;
    if (!pipeline?.runWithMask) throw new LoaderConfigError(`${id} comes with a mask, but the loader's pipeline cannot transform masks with images: pass a joint pipeline (transforms/joint.ts)`);
    if (!this.pool) return withTimeout(pipeline.runWithMask(input, mask, ctx, id), this.timeoutMs, 'the pipeline');
    return this.pool.runWithMask(input, mask, ctx, signal);
  }

  private makeBatch(samples: LoadedSample[], epoch: number, b: number): Batch {
    const indices = samples.map((s) => s.index);
    const ids = samples.map((s) => s.id);
    const out = scope(() => this.transform({ x: collate(samples.map((s) => s.image), ids, `batch ${b}`), y: collateTargets(samples, `batch ${b}`) }, epoch, b, indices));
    return { x: persist(out.x), y: persist(out.y), indices, ids };
  }

  private transform(xy: XY, epoch: number, batch: number, indices: number[]): XY {
    let out = xy;
    this.transforms.forEach((t, position) => (out = t(out, { seed: this.seed, epoch, batch, indices, position })));
    return out;
  }
}
