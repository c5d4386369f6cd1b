// The main thread's handle on a model's worker thread (worker-main.ts): start it and wait until the
// model is loaded and warmed up, send batches (their buffers transferred), and notice when the thread
// dies, so the requests it held are answered 503 and the model can be started again.
import { Worker } from 'node:worker_threads';

import { unavailable } from '../errors.js';
import type { ModelInfo, ModelSource } from './types.js';
import type { BatchShape, FromWorker, ToWorker, WorkerInit } from './worker-main.js';

interface Pending {
  resolve: (r: { logits: Float32Array; ms: number }) => void;
  reject: (e: Error) => void;
}

/** How long a closing worker may take to release its model before it is terminated. */
const CLOSE_MS = 10_000;

export class ModelWorker {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closing = false;
  readonly exited: Promise<void>;

  private constructor(
    worker: Worker,
    readonly info: ModelInfo,
    /** Loading and warming up the model, in the worker. */
    readonly loadMs: number,
    onStop: (reason: string) => void,
  ) {
    this.#worker = worker;
    worker.on('message', (m: FromWorker) => {
      if (m.type !== 'result' && m.type !== 'failed') return;
      const p = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      if (m.type === 'result') p?.resolve({ logits: m.logits, ms: m.ms });
      else p?.reject(new Error(m.message));
    });
    let error: Error | undefined;
    worker.on('error', (e) => (error = e));
    this.exited = new Promise((resolve) =>
      worker.once('exit', (code) => {
        const reason = error ? `the model worker failed: ${error.message}` : `the model worker exited with code ${code}`;
        for (const p of this.#pending.values()) p.reject(unavailable(`${reason}; the model is being restarted`, 5));
        this.#pending.clear();
        if (!this.#closing) onStop(reason);
        resolve();
      }),
    );
  }

  /** Resolves once the model is loaded and warmed up; rejects with the worker's reason when it cannot load. */
  static start(source: ModelSource, onStop: (reason: string) => void): Promise<ModelWorker> {
    const worker = new Worker(new URL('./worker-main.js', import.meta.url), { workerData: { source } satisfies WorkerInit });
    return new Promise((resolve, reject) => {
      // Only our own listeners come off: Worker keeps listeners of its own on itself.
      const detach = () => {
        worker.off('error', fail);
        worker.off('exit', exited);
        worker.off('message', first);
      };
      function fail(e: Error) {
        detach();
        void worker.terminate();
        reject(e);
      }
      function exited(code: number) {
        fail(new Error(`the model worker exited with code ${code} while loading ${source.path}`));
      }
      function first(m: FromWorker) {
        detach();
        if (m.type === 'ready') resolve(new ModelWorker(worker, m.info, m.loadMs, onStop));
        else fail(new Error(m.type === 'init-error' ? m.message : `unexpected message '${m.type}' from the model worker`));
      }
      worker.on('error', fail);
      worker.on('exit', exited);
      worker.on('message', first);
    });
  }

  /** Runs one batch; `batch` is transferred (unusable here afterwards). */
  infer(batch: Float32Array, shape: BatchShape): Promise<{ logits: Float32Array; ms: number }> {
    if (this.#closing) return Promise.reject(unavailable('the model is shutting down'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ type: 'infer', id, batch, shape } satisfies ToWorker, [batch.buffer as ArrayBuffer]);
    });
  }

  /** Lets the worker release its model, then waits for the thread to end (terminated after 10 s). */
  async close(): Promise<void> {
    if (this.#closing) return this.exited;
    this.#closing = true;
    this.#worker.postMessage({ type: 'close' } satisfies ToWorker);
    const timer = setTimeout(() => void this.#worker.terminate(), CLOSE_MS);
    await this.exited;
    clearTimeout(timer);
  }
}
