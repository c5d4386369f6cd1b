// N worker threads that each rebuild the sample pipeline from its workerSpec and run one sample at
// a time. One task per worker makes faults attributable: when a sample runs past its time limit
// (say a decoder stuck in native code) the pool terminates that worker — the only way to stop
// synchronous code — reports exactly that sample, and starts a replacement. A worker that crashes
// fails only the sample it was running.
//
// Idle workers are unref'd: a pool with nothing to do never keeps the process alive, so a program
// that forgets close() still exits. Tasks are served first come, first served, so the batch the
// consumer needs next is never starved by prefetching.
import { Worker } from 'node:worker_threads';

import type { RawImage, SampleContext, SampleInput } from '../types.js';
import { Deadline, SampleTimeoutError } from './limits.js';
import type { FromWorker, ToWorker, WorkerSpec } from './worker-main.js';

/** The pipeline could not be rebuilt in a worker: a configuration error, not a bad sample. */
export class WorkerInitError extends Error {
  override name = 'WorkerInitError';
}

interface Task {
  id: number;
  input: SampleInput;
  /** A segmentation mask that goes through the pipeline with the image (runWithMask). */
  mask: SampleInput | undefined;
  ctx: SampleContext;
  signal: AbortSignal | undefined;
  resolve(out: { image: RawImage; mask?: RawImage }): void;
  reject(e: Error): void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  task: Task | undefined;
  deadline: Deadline | undefined;
}

const workerUrl = new URL('./worker-main.js', import.meta.url);

/** The input without views into larger buffers (structured clone would copy a whole mmap'd file). */
function compactInput(input: SampleInput): { input: SampleInput; transfer: ArrayBuffer[] } {
  const bytes = input.kind === 'encoded' ? input.bytes : input.image.data;
  const own = new Uint8Array(bytes); // a copy the worker may take over
  const transfer = [own.buffer];
  return input.kind === 'encoded'
    ? { input: { kind: 'encoded', bytes: own }, transfer }
    : { input: { kind: 'pixels', image: { ...input.image, data: own } }, transfer };
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;
  private initError: WorkerInitError | undefined;

  constructor(private readonly spec: WorkerSpec, readonly size: number, private readonly timeoutMs: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`WorkerPool: size must be a positive integer, got ${size}`);
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  /** Runs the pipeline on one sample in some worker. Rejects with the pipeline's reason, a SampleTimeoutError, or a WorkerInitError. */
  run(input: SampleInput, ctx: SampleContext, signal?: AbortSignal): Promise<RawImage> {
    return this.submit(input, undefined, ctx, signal).then((out) => out.image);
  }

  /** Runs the pipeline's joint path (SamplePipeline.runWithMask) on an image and its mask in some worker. */
  runWithMask(input: SampleInput, mask: SampleInput, ctx: SampleContext, signal?: AbortSignal): Promise<{ image: RawImage; mask: RawImage }> {
    return this.submit(input, mask, ctx, signal).then((out) => {
      if (!out.mask) throw new Error('the worker returned no mask');
      return { image: out.image, mask: out.mask };
    });
  }

  private submit(input: SampleInput, mask: SampleInput | undefined, ctx: SampleContext, signal: AbortSignal | undefined): Promise<{ image: RawImage; mask?: RawImage }> {
    if (this.initError) return Promise.reject(this.initError);
    if (this.closed) return Promise.reject(new Error('WorkerPool: closed'));
    return new Promise((resolve, reject) => {
      const task: Task = { id: this.nextId++, input, mask, ctx, signal, resolve, reject };
      if (signal?.aborted) return reject(new Error('aborted'));
      this.queue.push(task);
      this.dispatch();
    });
  }

  /** Drops the queued tasks of `signal` (an epoch the consumer stopped); running ones finish. */
  drop(signal: AbortSignal): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const t = this.queue[i] as Task;
      if (t.signal !== signal) continue;
      this.queue.splice(i, 1);
      t.reject(new Error('aborted'));
    }
    this.updateRefs();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.queue.splice(0)) t.reject(new Error('WorkerPool: closed'));
    await Promise.all(this.slots.map(async (s) => {
      s.deadline?.cancel();
      s.task?.reject(new Error('WorkerPool: closed'));
      s.task = undefined;
      s.worker.ref(); // an unref'd worker would let the process exit before termination completes
      await s.worker.terminate();
    }));
  }

  private spawn(): Slot {
    const worker = new Worker(workerUrl, { workerData: this.spec });
    const slot: Slot = { worker, ready: false, task: undefined, deadline: undefined };
    worker.on('message', (m: FromWorker) => this.onMessage(slot, m));
    worker.on('error', (e) => this.onExit(slot, `worker crashed: ${e.message}`));
    worker.on('exit', (code) => this.onExit(slot, `worker exited with code ${code}`));
    worker.unref();
    if (this.queue.length > 0) worker.ref();
    return slot;
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    if (this.closed) return; // e.g. a 'ready' arriving during close(): it must not unref the workers being terminated
    if (m.type === 'ready') {
      slot.ready = true;
      this.dispatch();
      return;
    }
    if (m.type === 'init-error') {
      this.initError = new WorkerInitError(`cannot rebuild the sample pipeline in a worker (${this.spec.module}#${this.spec.export}): ${m.message}`);
      for (const t of this.queue.splice(0)) t.reject(this.initError);
      void this.close();
      return;
    }
    const task = slot.task;
    if (!task || task.id !== m.id) return; // a late answer for a task that already timed out
    this.finish(slot);
    if (m.type === 'done') task.resolve(m.mask ? { image: m.image, mask: m.mask } : { image: m.image });
    else task.reject(new Error(m.reason));
    this.dispatch();
  }

  /** The worker died (crash, or terminate() after a timeout): fail its task and replace it. */
  private onExit(slot: Slot, reason: string): void {
    const i = this.slots.indexOf(slot);
    if (i < 0 || this.closed) return; // already replaced, or shutting down
    if (!slot.ready) {
      // It died before it could say 'ready' or 'init-error' (e.g. the module crashed the thread):
      // respawning would loop forever.
      this.onMessage(slot, { type: 'init-error', message: reason });
      return;
    }
    const task = slot.task;
    this.finish(slot);
    this.slots[i] = this.spawn();
    task?.reject(new Error(reason));
    this.dispatch();
  }

  private finish(slot: Slot): void {
    slot.deadline?.cancel();
    slot.deadline = undefined;
    slot.task = undefined;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) break;
      if (!slot.ready || slot.task) continue;
      const task = this.queue.shift() as Task;
      slot.task = task;
      const { input, transfer } = compactInput(task.input);
      const mask = task.mask ? compactInput(task.mask) : undefined;
      slot.worker.postMessage({ id: task.id, input, ...(mask ? { mask: mask.input } : {}), ctx: task.ctx } satisfies ToWorker, [...transfer, ...(mask?.transfer ?? [])]);
      // Free time on this thread (limits.ts): a consumer blocking it cannot make a finished sample late.
      slot.deadline = new Deadline(this.timeoutMs, () => {
        if (slot.task !== task) return;
        const i = this.slots.indexOf(slot);
        this.finish(slot);
        if (i >= 0) this.slots[i] = this.spawn(); // replace first, so the exit of the old one is ignored
        void slot.worker.terminate();
        task.reject(new SampleTimeoutError(`took longer than ${this.timeoutMs} ms in the pipeline (worker stopped and replaced)`));
        this.dispatch();
      });
    }
    this.updateRefs();
  }

  /** Workers keep the process alive only while there is work. */
  private updateRefs(): void {
    if (this.closed) return; // close() holds every worker referenced until it has exited
    const busy = this.queue.length > 0 || this.slots.some((s) => s.task);
    for (const s of this.slots) {
      if (busy) s.worker.ref();
      else s.worker.unref();
    }
  }
}
