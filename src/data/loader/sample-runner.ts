// One sample's work for the loader: read it, then decode and transform it — by the native JPEG
// kernel straight into its batch slot when the plan says so (jpeg-plan.ts), else by the pipeline,
// in this thread or on worker threads — within the time limits (limits.ts) and the in-flight cap;
// or say why the sample is bad. Which samples make a batch, in which order, is the loader's.
import { decodeJpegBatch } from '../image/jpeg-native.js';
import { DataError, type BadSample, type RawImage, type SampleContext, type SampleInput, type SamplePipeline, type SampleRecord } from '../types.js';
import { errorReason } from './bad-samples.js';
import type { BatchBuffer } from './batch-buffers.js';
import { CollateError, type LoadedSample } from './collate.js';
import type { JpegPlan, NativePlan } from './jpeg-plan.js';
import { Limiter, withTimeout } from './limits.js';
import type { WorkerSpec } from './worker-main.js';
import { WorkerInitError, WorkerPool } from './worker-pool.js';

/** A configuration error found while loading (not a bad sample): the epoch stops. */
export class LoaderConfigError extends Error {
  override name = 'LoaderConfigError';
}

/** A sample ready for its batch: its pixels, or (native JPEG path) none, being in the batch buffer already. */
export type Loaded = Omit<LoadedSample, 'image'> & { image?: RawImage };
export type Outcome = Loaded | { bad: BadSample };

/** Where a sample of the native JPEG path goes: slot `slot` of a batch buffer. */
export interface Slot {
  buffer: BatchBuffer;
  slot: number;
}

export class SampleRunner {
  /** Samples decoded so far by the JPEG kernel and by the pipeline (bad ones included). */
  readonly decoded = { kernel: 0, pipeline: 0 };
  private readonly limiter: Limiter;
  private pool: WorkerPool | undefined;
  private workerSpec: WorkerSpec | undefined;

  constructor(private readonly o: { pipeline: SamplePipeline | undefined; plan: JpegPlan; workers: number; timeoutMs: number; maxInFlight: number; seed: number }) {
    this.limiter = new Limiter(o.maxInFlight);
  }

  /** Checks, before an epoch, that worker threads can rebuild the pipeline (they start with the first sample that needs it). */
  prepare(): void {
    const { pipeline, workers } = this.o;
    if (!pipeline || workers === 0 || this.workerSpec) return;
    try {
      this.workerSpec = pipeline.workerSpec();
    } catch (e) {
      throw new LoaderConfigError(`the pipeline cannot describe itself for worker threads (workerSpec): ${errorReason(e)}; use workers: 0`);
    }
  }

  /** Drops the queued worker tasks of an epoch the consumer stopped. */
  drop(signal: AbortSignal): void {
    this.pool?.drop(signal);
  }

  /** Stops the worker threads (new ones start when needed). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }

  /** One sample: read it and run the pipeline (or the kernel, into its slot) — or the reason it is bad. */
  run(epoch: number, index: number, fallbackId: string, read: () => Promise<SampleRecord>, signal: AbortSignal, into?: Slot): Promise<Outcome> {
    return this.limiter.run(async () => {
      signal.throwIfAborted();
      // The report names the record's id once it is known (a pipeline does not know ids, and the
      // same failure must read the same with or without workers); before that, the reader's.
      let id: string | undefined;
      try {
        const record = await withTimeout(read(), this.o.timeoutMs, 'reading');
        id = record.id;
        const ctx = { seed: this.o.seed, epoch, index };
        const t = record.target;
        if (t?.kind === 'mask') {
          // Segmentation: image and mask through the pipeline's joint geometry (the kernel knows no
          // masks); on the native path the image is then written into its slot like sharp's.
          const { image, mask } = await this.runWithMask(record.input, t.mask, id, ctx, signal);
          if (!into) return { image, mask, label: record.label, id, index };
          into.buffer.writeSample(into.slot, image, id);
          return { mask, label: record.label, id, index };
        }
        const labels = t?.kind === 'labels' ? { labels: t.labels } : {};
        if (into) {
          await this.intoSlot(record.input, id, ctx, signal, into);
          return { label: record.label, id, index, ...labels };
        }
        const image = await this.runPipeline(record.input, id, ctx, signal);
        return { image, label: record.label, id, index, ...labels };
      } catch (e) {
        if (e instanceof LoaderConfigError || e instanceof WorkerInitError || e instanceof CollateError || signal.aborted) throw e;
        return { bad: { id: id ?? (e instanceof DataError ? e.id : fallbackId), index, reason: errorReason(e) } };
      }
    });
  }

  /**
   * The native JPEG path for one sample: the kernel writes it into its slot; a sample the plan
   * leaves to sharp, and one the kernel fails on, runs the pipeline (so sharp judges a bad file,
   * with its reason, as without the kernel) and its pixels are written into the slot.
   */
  private async intoSlot(input: SampleInput, id: string, ctx: SampleContext, signal: AbortSignal, { buffer, slot }: Slot): Promise<void> {
    const plan = this.o.plan as NativePlan;
    const sample = input.kind === 'encoded' ? plan.sample(input.bytes, ctx, id) : undefined;
    if (sample) {
      let failed: DataError | undefined;
      buffer.pending++; // the buffer is not reused while the kernel may write into it
      try {
        [failed] = await decodeJpegBatch([{ ...sample, slot }], buffer.data, { ...plan.options, ...(buffer.table ? { normalize: { table: buffer.table } } : {}) });
      } finally {
        buffer.pending--;
      }
      if (!failed) {
        this.decoded.kernel++;
        return;
      }
    }
    buffer.writeSample(slot, await this.runPipeline(input, id, ctx, signal), id);
  }

  private runPipeline(input: SampleInput, id: string, ctx: SampleContext, signal: AbortSignal): Promise<RawImage> {
    const pipeline = this.o.pipeline;
    if (!pipeline) {
      if (input.kind === 'pixels') return Promise.resolve(input.image);
      throw new LoaderConfigError(`${id} holds encoded file bytes, but the loader has no pipeline to decode them: pass { pipeline }`);
    }
    this.decoded.pipeline++;
    if (!this.workerSpec) return withTimeout(pipeline.run(input, ctx), this.o.timeoutMs, 'the pipeline');
    this.pool ??= new WorkerPool(this.workerSpec, this.o.workers, this.o.timeoutMs);
    return this.pool.run(input, ctx, signal);
  }

  /** A segmentation sample: image and mask through the pipeline's joint path (see SamplePipeline.runWithMask). */
  private runWithMask(input: SampleInput, mask: SampleInput, id: string, ctx: SampleContext, signal: AbortSignal): Promise<{ image: RawImage; mask: RawImage }> {
    const pipeline = this.o.pipeline;
    if (!pipeline?.runWithMask) throw new LoaderConfigError(`${id} comes with a mask, but the loader's pipeline cannot transform masks with images: pass a joint pipeline (transforms/joint.ts)`);
    this.decoded.pipeline++;
    if (!this.workerSpec) return withTimeout(pipeline.runWithMask(input, mask, ctx, id), this.o.timeoutMs, 'the pipeline');
    this.pool ??= new WorkerPool(this.workerSpec, this.o.workers, this.o.timeoutMs);
    return this.pool.runWithMask(input, mask, ctx, signal);
  }
}
