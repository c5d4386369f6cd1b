// Dynamic batching for one model: requests (each of one or more samples) wait in a bounded FIFO
// queue and leave it together as one batch — up to maxBatchSize samples, as soon as the model is
// free and either a full batch is waiting or the oldest request has waited maxQueueDelayMs. One
// batch is in the worker at a time, so requests that arrive during a forward pass share the next.
// A full queue answers 503 at once; a request that outlives its deadline is answered 503 at it.
import { unavailable } from './errors.js';
import type { BatchingOptions } from './options.js';

/** Runs n samples laid out one after the other in `batch` (transferred); resolves to n × outSize logits. */
export type RunBatch = (batch: Float32Array, n: number) => Promise<{ logits: Float32Array; ms: number }>;

export interface BatchObserver {
  /** Seconds from submit to leaving the queue. */
  queued?(seconds: number): void;
  /** A batch of n samples took `seconds` in the model. */
  ran?(n: number, seconds: number): void;
}

interface Item {
  data: Float32Array;
  n: number;
  at: number;
  timer: NodeJS.Timeout;
  settled: boolean;
  resolve: (logits: Float32Array) => void;
  reject: (e: Error) => void;
}

export class Batcher {
  readonly #queue: Item[] = [];
  #queuedSamples = 0;
  #busy = false;
  #closed = false;
  #delayTimer: NodeJS.Timeout | undefined;
  #idle: (() => void)[] = [];
  /** Recent seconds per batch (exponentially weighted), for Retry-After. */
  #batchSeconds = 0.05;

  constructor(
    readonly sampleSize: number,
    readonly outSize: number,
    readonly options: Pick<BatchingOptions, 'maxBatchSize' | 'maxQueueDelayMs' | 'maxQueue'>,
    private readonly run: RunBatch,
    private readonly observer: BatchObserver = {},
  ) {}

  /** Samples waiting (not those in the model). */
  get queued(): number {
    return this.#queuedSamples;
  }

  /** A guess at how long until the queue has room: the batches ahead times the recent batch time. */
  #retryAfter(): number {
    return (this.#queuedSamples / this.options.maxBatchSize + 1) * this.#batchSeconds;
  }

  /**
   * `data` holds n samples of sampleSize values; resolves to their n × outSize logits, or rejects
   * with a 503 after `waitMs` (what is left of the request's `timeoutMs`, which the message names).
   */
  submit(data: Float32Array, n: number, waitMs: number, timeoutMs = waitMs): Promise<Float32Array> {
    if (this.#closed) return Promise.reject(unavailable('the server is shutting down'));
    if (n < 1 || n > this.options.maxBatchSize) return Promise.reject(new RangeError(`a request of ${n} samples; the batcher takes 1 to ${this.options.maxBatchSize}`));
    if (data.length !== n * this.sampleSize) return Promise.reject(new RangeError(`${data.length} values for ${n} samples of ${this.sampleSize}`));
    if (this.#queuedSamples + n > this.options.maxQueue)
      return Promise.reject(unavailable(`the queue is full (${this.#queuedSamples} of ${this.options.maxQueue} samples waiting); retry later`, this.#retryAfter()));
    return new Promise((resolve, reject) => {
      const item: Item = {
        data, n, at: performance.now(), settled: false, resolve, reject,
        timer: setTimeout(() => this.#expire(item, timeoutMs), waitMs),
      };
      this.#queue.push(item);
      this.#queuedSamples += n;
      this.#schedule();
    });
  }

  /** Stops taking requests; resolves when every accepted one has been answered. */
  async drain(): Promise<void> {
    this.#closed = true;
    if (!this.#busy && this.#queue.length === 0) return;
    await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  #expire(item: Item, timeoutMs: number): void {
    if (item.settled) return;
    const at = this.#queue.indexOf(item);
    if (at >= 0) {
      this.#queue.splice(at, 1);
      this.#queuedSamples -= item.n;
    }
    // A request already in the model is answered now; its logits are dropped when they arrive.
    this.#settle(item, unavailable(`no answer within ${timeoutMs} ms (the server's request timeout); retry later`, this.#retryAfter()));
    this.#checkIdle();
  }

  #settle(item: Item, result: Float32Array | Error): void {
    if (item.settled) return;
    item.settled = true;
    clearTimeout(item.timer);
    if (result instanceof Error) item.reject(result);
    else item.resolve(result);
  }

  #schedule(): void {
    if (this.#busy || this.#queue.length === 0) return;
    const oldest = this.#queue[0] as Item;
    const waited = performance.now() - oldest.at;
    const delay = this.options.maxQueueDelayMs;
    if (this.#queuedSamples < this.options.maxBatchSize && waited < delay) {
      // Wait for more requests, but no longer than the oldest one may wait.
      if (!this.#delayTimer) this.#delayTimer = setTimeout(() => ((this.#delayTimer = undefined), this.#schedule()), delay - waited);
      return;
    }
    clearTimeout(this.#delayTimer);
    this.#delayTimer = undefined;
    this.#dispatch();
  }

  #dispatch(): void {
    const items: Item[] = [];
    let n = 0;
    while (this.#queue.length > 0 && n + (this.#queue[0] as Item).n <= this.options.maxBatchSize) {
      const item = this.#queue.shift() as Item;
      items.push(item);
      n += item.n;
    }
    this.#queuedSamples -= n;
    const now = performance.now();
    const batch = new Float32Array(n * this.sampleSize);
    let at = 0;
    for (const item of items) {
      this.observer.queued?.((now - item.at) / 1000);
      batch.set(item.data, at);
      at += item.data.length;
    }
    this.#busy = true;
    this.run(batch, n).then(
      ({ logits, ms }) => {
        this.#batchSeconds = 0.8 * this.#batchSeconds + 0.2 * (ms / 1000);
        this.observer.ran?.(n, ms / 1000);
        const k = this.outSize;
        let row = 0;
        for (const item of items) {
          this.#settle(item, logits.slice(row * k, (row + item.n) * k));
          row += item.n;
        }
      },
      (e: Error) => items.forEach((item) => this.#settle(item, e)),
    ).finally(() => {
      this.#busy = false;
      this.#schedule();
      this.#checkIdle();
    });
  }

  #checkIdle(): void {
    if (this.#busy || this.#queue.length > 0) return;
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}
