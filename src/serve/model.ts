// One served model version: its worker thread (which owns the model), the batcher in front of it,
// and the preprocessor that turns images into its input. Ready only once the worker has loaded and
// warmed up the model; a worker that dies is started again, and the model is unready meanwhile.
import type { ModelInfo, ModelSource } from './backend/types.js';
import { ModelWorker } from './backend/worker.js';
import { Batcher } from './batcher.js';
import { notFound, unavailable } from './errors.js';
import type { ServeMetrics } from './metrics.js';
import { imagePreprocessor, type EncodedImage, type Preprocessor } from './preprocess.js';

export type ModelState = 'loading' | 'ready' | 'restarting' | 'failed' | 'closed';

export interface ModelContext {
  metrics: ServeMetrics;
  maxPixels: number;
  log: (line: string) => void;
}

/** How long after a worker died it is started again. */
const RESTART_MS = 1000;

export class ServedModel {
  state: ModelState = 'loading';
  #worker: ModelWorker | undefined;
  #batcher: Batcher | undefined;
  #preprocessor: Preprocessor | undefined;
  #info: ModelInfo | undefined;

  constructor(
    readonly source: ModelSource,
    private readonly ctx: ModelContext,
  ) {}

  get name(): string {
    return this.source.name;
  }

  get version(): string {
    return this.source.version;
  }

  get ready(): boolean {
    return this.state === 'ready';
  }

  /** Known once loaded. */
  get info(): ModelInfo | undefined {
    return this.#info;
  }

  /** How long the current worker took to load and warm up the model (0 before it has). */
  get loadMs(): number {
    return this.#worker?.loadMs ?? 0;
  }

  get queued(): number {
    return this.#batcher?.queued ?? 0;
  }

  /** Starts the worker and waits until the model is loaded and warmed up; rejects with why it cannot load. */
  async load(): Promise<void> {
    let worker: ModelWorker;
    try {
      worker = await ModelWorker.start(this.source, (reason) => this.#stopped(reason));
    } catch (e) {
      if (this.state !== 'closed') this.state = 'failed';
      throw new Error(`model ${this.name} version ${this.version} (${this.source.path}): ${(e as Error).message}`, { cause: e });
    }
    if (this.state === 'closed') return void (await worker.close());
    this.#worker = worker;
    if (!this.#info) {
      this.#info = worker.info;
      const [c, h, w] = worker.info.input.shape;
      const labels = { model: this.name, version: this.version };
      const { metrics } = this.ctx;
      this.#batcher = new Batcher(c * h * w, worker.info.output.size, this.source.batching, (batch, n) => this.#run(batch, n), {
        queued: (s) => metrics.queueWait.observe(labels, s),
        ran: (n, s) => {
          metrics.batchSize.observe(labels, n);
          metrics.inference.observe(labels, s);
        },
      });
      if (worker.info.preprocessing) this.#preprocessor = imagePreprocessor(worker.info.preprocessing, { maxPixels: this.ctx.maxPixels });
    }
    this.state = 'ready';
  }

  #run(batch: Float32Array, n: number): Promise<{ logits: Float32Array; ms: number }> {
    const worker = this.#worker;
    if (!worker || this.state !== 'ready') return Promise.reject(unavailable(`model '${this.name}' is ${this.state}; retry later`, 5));
    const [c, h, w] = worker.info.input.shape;
    return worker.infer(batch, [n, c, h, w]);
  }

  #stopped(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'restarting';
    this.#worker = undefined;
    this.ctx.log(`model ${this.name} version ${this.version}: ${reason}; starting it again in ${RESTART_MS / 1000} s`);
    setTimeout(() => {
      if (this.state !== 'restarting') return;
      this.load().then(
        () => this.ctx.log(`model ${this.name} version ${this.version}: ready again`),
        (e: Error) => this.ctx.log(`cannot start it again: ${e.message}`),
      );
    }, RESTART_MS).unref();
  }

  /** Logits for n samples laid out in `data` ((n, C, H, W) float32); 503 when not ready, the queue is full, or not answered within waitMs. */
  infer(data: Float32Array, n: number, waitMs: number, timeoutMs = waitMs): Promise<Float32Array> {
    if (!this.ready || !this.#batcher) return Promise.reject(unavailable(`model '${this.name}' version ${this.version} is not ready (${this.state}); retry later`, 5));
    return this.#batcher.submit(data, n, waitMs, timeoutMs);
  }

  /** Images → input, as the model was evaluated; 404 for a model whose file says nothing about images. */
  prepare(images: readonly EncodedImage[]): Promise<Float32Array> {
    if (!this.#preprocessor)
      return Promise.reject(notFound(`model '${this.name}' takes tensors only (POST …/infer): its file carries no image preprocessing (export it with tessera export to have one)`));
    return this.#preprocessor.prepare(images);
  }

  /** Answers everything already accepted, then stops the worker. */
  async close(): Promise<void> {
    await this.#batcher?.drain();
    this.state = 'closed';
    await this.#worker?.close();
  }
}
