// The one mutable TrainContext of a fit(), and the callback dispatcher. Values that cost a device
// synchronization (the loss as a number, the gradient norm) are read only when a callback asks,
// once per batch.
import type { Batch } from '../data/types.js';
import type { Metric } from '../metrics/types.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Tensor } from '../tensor/tensor.js';
import type { CheckpointSnapshot } from './checkpoint.js';
import { EVENTS, stronger, type Callback, type Cancel, type EventName, type TrainContext } from './events.js';
import type { Timings } from './timings.js';

export class Context implements TrainContext {
  phase: 'train' | 'validate' = 'train';
  epoch = 0;
  batch = 0;
  iteration = 0;
  step = 0;
  batchData: Batch | undefined = undefined;
  batchSize = 0;
  output: Tensor | undefined = undefined;
  stepped = false;
  pendingBatches = 0;
  logs: Record<string, number> = {};
  readonly state: Record<string, unknown> = {};
  stopped: { reason: string; epoch: number; batch: number } | undefined = undefined;
  #loss: Tensor | undefined = undefined;
  #lossValue: number | undefined = undefined;
  #gradNorm: Tensor | undefined = undefined;
  #gradNormValue: number | undefined = undefined;

  constructor(
    readonly model: Module,
    readonly optimizer: Optimizer,
    readonly epochs: number,
    readonly batchesPerEpoch: number | undefined,
    readonly metricList: readonly Metric[],
    readonly timings: Timings,
    readonly resumed: boolean,
    private readonly snapshot: () => CheckpointSnapshot,
  ) {}

  get loss(): Tensor | undefined {
    return this.#loss;
  }

  set loss(t: Tensor | undefined) {
    this.#loss = t;
    this.#lossValue = undefined;
  }

  get lossValue(): number {
    if (this.#lossValue === undefined) this.#lossValue = this.#loss ? Number(this.#loss.item()) : NaN;
    return this.#lossValue;
  }

  /** @internal Set by the trainer after clipping. */
  setGradNorm(t: Tensor | undefined): void {
    this.#gradNorm = t;
    this.#gradNormValue = undefined;
  }

  get gradNorm(): number | undefined {
    if (this.#gradNormValue === undefined && this.#gradNorm) this.#gradNormValue = Number(this.#gradNorm.item());
    return this.#gradNormValue;
  }

  get lrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  checkpoint(): CheckpointSnapshot {
    return this.snapshot();
  }

  /** @internal Forgets the batch's tensors (they die with the batch's scope). */
  clearBatch(): void {
    this.batchData = undefined;
    this.output = undefined;
    this.loss = undefined;
    this.setGradNorm(undefined);
  }
}

function asCancel(v: unknown): Cancel | undefined {
  return v && typeof v === 'object' && 'cancel' in v ? (v as Cancel) : undefined;
}

/** Callbacks grouped by event, in order, so an event nobody listens to costs a length check. */
export class Dispatcher {
  readonly callbacks: readonly Callback[];
  readonly #byEvent = new Map<EventName, Callback[]>();

  constructor(callbacks: readonly Callback[]) {
    const names = new Set<string>();
    for (const cb of callbacks) {
      if (names.has(cb.name)) throw new Error(`two callbacks are named '${cb.name}': names key their state in checkpoints and must be unique`);
      names.add(cb.name);
    }
    // A stable sort: equal orders keep the order given.
    this.callbacks = callbacks.map((cb, i) => ({ cb, i })).sort((a, b) => (a.cb.order ?? 0) - (b.cb.order ?? 0) || a.i - b.i).map((e) => e.cb);
    for (const e of EVENTS) this.#byEvent.set(e, this.callbacks.filter((cb) => typeof cb[e] === 'function'));
  }

  /**
   * Calls every listener of `event`; returns the strongest cancel signal any returned. Synchronous
   * unless a listener returns a promise (then the rest run after it settles), so an event nobody
   * awaits on costs no microtask.
   */
  emit(event: EventName, ctx: TrainContext): Cancel | undefined | Promise<Cancel | undefined> {
    const list = this.#byEvent.get(event) as Callback[];
    return list.length === 0 ? undefined : this.#run(list, 0, event, ctx, undefined);
  }

  #run(list: Callback[], from: number, event: EventName, ctx: TrainContext, signal: Cancel | undefined): Cancel | undefined | Promise<Cancel | undefined> {
    for (let i = from; i < list.length; i++) {
      const cb = list[i] as Callback;
      const r = (cb[event] as (c: TrainContext) => unknown).call(cb, ctx);
      if (r instanceof Promise)
        return r.then((v: unknown) => this.#run(list, i + 1, event, ctx, stronger(signal, asCancel(v))));
      signal = stronger(signal, asCancel(r));
    }
    return signal;
  }

  async error(ctx: TrainContext, error: unknown): Promise<void> {
    for (const cb of this.callbacks) {
      try {
        await cb.onError?.(ctx, error);
      } catch {
        // The original error is the one worth reporting.
      }
    }
  }
}
