// DataLoader: the epochs of a data set as batches of tensors (the BatchSource a trainer consumes).
// This file decides which samples make each batch and assembles it; one sample's work (reading,
// decoding, time limits, worker threads) is sample-runner.ts's.
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
// Native JPEG path. When the pipeline is one the JPEG kernel can run (decode → crop/resize →
// flip; jpeg-plan.ts decides once, `loader.jpegPlan` says what and why), each JPEG sample is
// decoded, cropped, resized and flipped by the kernel on its own threads (as many as `workers`,
// at least one) straight into its slot of the batch's buffer — normalised floats when the first
// batch transform is a byte-wise one (toFloat, normalize), which is then skipped — and the batch
// tensor is a view of that buffer (batch-buffers.ts recycles it once nothing views it). Crop boxes
// and flips are drawn exactly as the pipeline draws them. Every other sample (another format, a
// file the kernel refuses) runs the pipeline as below and is written into its slot, so bad files
// get the same verdicts, reasons and replacements. The kernel's work is bounded (the pixel limit,
// at most 500 progressive scans) and is not cut off by sampleTimeoutMs.
//
// Threads. With `workers: 0` the pipeline runs in this thread's async flow (fine for pipelines
// whose work is async, like sharp's decoder, and for tests). With `workers: N` N worker threads
// (started when the first sample needs the pipeline) rebuild it from `pipeline.workerSpec()` and
// run it, so the event loop stays free;
// reads (`dataset.read`, the stream) stay in this thread. The results never depend on N: the
// pipeline sees only (input, { seed, epoch, index }). Call close() when done (idle workers never
// keep the process alive, so forgetting it does not hang a program).
//
// Ownership. Batch tensors are made outside every memory scope and belong to the consumer, who
// disposes them (disposeBatch). Everything else the loader makes is freed before a batch is yielded.
import { persist, scope } from '../../tensor/index.js';
import type { BadSample, Batch, BatchSource, Dataset, IndexedDataset, RawImage, StreamingDataset } from '../types.js';
import { RandomStream } from '../random.js';
import { RandomSampler, SequentialSampler, type Sampler } from '../sampling/samplers.js';
import { toFloat, type BatchTransform, type XY } from '../transforms/batch.js';
import { isTensorBacked, type TensorBacked } from './array-dataset.js';
import { BadSampleTracker } from './bad-samples.js';
import { BatchBuffers, type BatchBuffer } from './batch-buffers.js';
import { collate, collateTargets } from './collate.js';
import { notNative, planJpegPath, type JpegPlan, type NativePlan } from './jpeg-plan.js';
import { resolveOptions, type DataLoaderOptions } from './options.js';
import { SampleRunner, type Loaded, type Outcome, type Slot } from './sample-runner.js';
import { bufferedShuffle, StreamWindow } from './stream-order.js';

export type { DataLoaderOptions } from './options.js';
export { LoaderConfigError } from './sample-runner.js';

const END = Symbol('end of stream');

/** How one epoch's positions turn into samples. */
interface EpochSource {
  /** Batches this epoch, when known. */
  batches: number | undefined;
  /** Positions in the epoch (indexed), or undefined (stream). */
  length: number | undefined;
  /** `into`: the slot of the batch buffer the sample is written to (native JPEG path), else it comes back as pixels. */
  load(position: number, into?: Slot): Promise<Outcome | typeof END>;
  release(before: number): void;
  close(): Promise<void>;
}

interface Assembled {
  batch: number;
  /** Native JPEG path: the buffer whose first samples.length slots hold the batch, in order. */
  buffer: BatchBuffer | undefined;
  samples: Loaded[];
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
  /** Whether and how samples go through the native JPEG kernel (jpeg-plan.ts): decided once, here. */
  readonly jpegPlan: JpegPlan;

  private readonly tracker: BadSampleTracker;
  private readonly transforms: BatchTransform[];
  private readonly runner: SampleRunner;
  private readonly stream: { shuffle: boolean; buffer: number; rank: number; worldSize: number };
  /** The epoch the next `for await` pass iterates. */
  private nextEpoch = 0;

  constructor(readonly dataset: Dataset, private readonly options: DataLoaderOptions) {
    const r = resolveOptions(dataset, options);
    this.batchSize = r.batchSize;
    this.dropLast = r.dropLast;
    this.seed = r.seed;
    this.workers = r.workers;
    this.prefetch = r.prefetch;
    this.stream = { shuffle: r.shuffle, buffer: r.shuffleBuffer, rank: r.rank, worldSize: r.worldSize };
    this.tracker = new BadSampleTracker(options.badSamples, options.logger ?? console);
    this.transforms = options.batchTransforms ?? [toFloat()];
    this.jpegPlan = r.nativeJpeg ? planJpegPath(options.pipeline, this.transforms, this.workers) : notNative('nativeJpeg: false');
    this.runner = new SampleRunner({ pipeline: options.pipeline, plan: this.jpegPlan, workers: this.workers, timeoutMs: r.timeoutMs, maxInFlight: r.maxInFlight, seed: this.seed });
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

  /** Samples decoded so far by the JPEG kernel and by the pipeline (bad ones included). */
  get decoded(): { readonly kernel: number; readonly pipeline: number } {
    return this.runner.decoded;
  }

  /** Stops the worker threads. The loader can still be used afterwards (it starts new ones). */
  async close(): Promise<void> {
    await this.runner.close();
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
    this.runner.prepare();
    // Native JPEG path: batches are assembled in recycled buffers (batch-buffers.ts). Worker threads
    // start when the first sample needs the pipeline (on this path, only if some sample needs sharp).
    const plan = this.jpegPlan.native ? this.jpegPlan : undefined;
    const buffers = plan ? new BatchBuffers({ slots: this.batchSize, channels: plan.channels, height: plan.height, width: plan.width }, plan.table, this.prefetch + 2) : undefined;
    const stop = new AbortController(); // cancels queued work when the consumer stops early
    const signal = userSignal ? AbortSignal.any([userSignal, stop.signal]) : stop.signal;
    const drop = () => this.runner.drop(signal); // one listener an epoch, not one a sample
    signal.addEventListener('abort', drop, { once: true });
    this.tracker.startEpoch();
    const src = this.dataset.kind === 'indexed' ? this.indexedSource(this.dataset, epoch, signal) : this.streamSource(this.dataset, epoch, signal);
    const B = this.batchSize;
    const inflight: Promise<Assembled>[] = [];
    let next = skip;
    let ended = false;
    const fill = (): void => {
      while (!ended && inflight.length < this.prefetch && (src.batches === undefined || next < src.batches)) {
        const p = this.assemble(src, next++, buffers?.acquire());
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
        let batch: Batch | undefined;
        try {
          if (a.samples.length > 0 && !(this.dropLast && a.samples.length < B)) batch = this.makeBatch(a, epoch);
        } finally {
          if (a.buffer) buffers?.done(a.buffer);
        }
        if (batch) yield batch;
      }
    } finally {
      stop.abort();
      signal.removeEventListener('abort', drop);
      // Batches still being assembled give their buffers back when they settle (their native writes done).
      for (const p of inflight) p.then((a) => a.buffer && buffers?.done(a.buffer), () => {});
      buffers?.close();
      await src.close();
    }
  }

  /**
   * Batch b's samples: its own positions, holes filled from the positions after it (see the header).
   * With a buffer (native JPEG path) position i is written to slot i and a candidate to the hole it
   * is tried for; when an earlier candidate of its round was bad, a good one moves down into the
   * hole it fills, so the buffer ends up in the order `samples` has.
   */
  private async assemble(src: EpochSource, b: number, buffer: BatchBuffer | undefined): Promise<Assembled> {
    const B = this.batchSize;
    const start = b * B;
    const end = src.length === undefined ? start + B : Math.min(start + B, src.length);
    const positions = Array.from({ length: end - start }, (_, i) => start + i);
    const tried: Outcome[] = [];
    const slots: (Loaded | undefined)[] = [];
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
    const into = (slot: number): Slot | undefined => (buffer ? { buffer, slot } : undefined);
    // A stream's END comes only after its last record, so slot i stays position i.
    for (const o of await Promise.all(positions.map((p, i) => src.load(p, into(i))))) {
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
      const targets = holes.slice(0, round);
      candidate += round;
      scanned += round;
      for (const [k, o] of (await Promise.all(picks.map((p, k) => src.load(p, into(targets[k] as number))))).entries()) {
        const r = record(o);
        if (!r || 'bad' in r) continue;
        const hole = holes.shift() as number;
        slots[hole] = r;
        if (buffer && hole !== targets[k]) buffer.move(targets[k] as number, hole);
      }
    }
    const samples: Loaded[] = [];
    slots.forEach((s, i) => {
      if (!s) return;
      if (buffer && i !== samples.length) buffer.move(i, samples.length); // holes left unfilled (a stream ended): close them up
      samples.push(s);
    });
    return { batch: b, buffer, samples, tried, ended };
  }

  private indexedSource(d: IndexedDataset, epoch: number, signal: AbortSignal): EpochSource {
    const order = (this.sampler as Sampler).indices(epoch);
    return {
      batches: this.batchesPerEpoch,
      length: order.length,
      load: (p, into) => {
        const index = order[p] as number;
        return this.runner.run(epoch, index, d.sampleId?.(index) ?? `sample ${index} of ${d.describe()}`, () => d.read(index), signal, into);
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
      load: async (p, into) => {
        const rec = await window.get(p);
        if (rec === undefined) return END;
        return this.runner.run(epoch, rec.index, rec.id, async () => rec, signal, into);
      },
      release: (before) => window.release(before),
      close: () => window.close(),
    };
  }

  private makeBatch(a: Assembled, epoch: number): Batch {
    const { samples, batch: b, buffer } = a;
    const indices = samples.map((s) => s.index);
    const ids = samples.map((s) => s.id);
    const out = scope(() => {
      const y = collateTargets(samples, `batch ${b}`);
      // Native path: the batch is a view of the buffer the samples were written into, and the
      // transforms the kernel already did (a fused normalisation) are skipped.
      if (buffer) return this.transform({ x: buffer.view(samples.length), y }, epoch, b, indices, (this.jpegPlan as NativePlan).fused);
      return this.transform({ x: collate(samples.map((s) => s.image as RawImage), ids, `batch ${b}`), y }, epoch, b, indices);
    });
    return { x: persist(out.x), y: persist(out.y), indices, ids };
  }

  /** Runs the batch transforms from `from` on (each keeps its position in the list: its random stream's key). */
  private transform(xy: XY, epoch: number, batch: number, indices: number[], from = 0): XY {
    let out = xy;
    this.transforms.forEach((t, position) => {
      if (position >= from) out = t(out, { seed: this.seed, epoch, batch, indices, position });
    });
    return out;
  }
}
