// Test helpers for the trainer: a small deterministic in-memory BatchSource (batch order a pure
// function of (seed, epoch), honouring skipBatches), a tiny accuracy metric, a tiny model, a
// callback that records events, and SHA-256 hashes of every tensor of a run.
import { createHash } from 'node:crypto';

import type { Batch, BatchSource } from '../../src/data/types.js';
import type { Metric } from '../../src/metrics/types.js';
import { nn, optim, tensor, type Tensor } from '../../src/index.js';
import type { Callback, EventName, TrainContext } from '../../src/train/index.js';
import { RandomStream } from '../../src/data/random.js';

/** Uniforms in [0, 1) from the one generator (src/data/random.ts), so data and order need no torch RNG. */
export function prng(seed: number): () => number {
  const r = new RandomStream({ seed, purpose: 'test' });
  return () => r.float();
}

export interface MemorySourceOptions {
  samples?: number;
  batchSize?: number;
  features?: number;
  classes?: number;
  /** Drives the data and the shuffles. */
  seed?: number;
  shuffle?: boolean;
  /** A loader that forgets its position: yields from the start whatever skipBatches says (the teeth test). */
  ignoreSkip?: boolean;
  /** Make sample `i` of this list all NaN. */
  nanSamples?: readonly number[];
}

/**
 * `samples` points in `features` dimensions, labelled by which of `classes` fixed random
 * directions they align with most (learnable by a linear model). Epoch e's order is a
 * Fisher-Yates shuffle seeded by (seed, e); the last batch may be smaller.
 */
export class MemorySource implements BatchSource {
  readonly classes: readonly string[];
  readonly batchesPerEpoch: number;
  readonly seed: number;
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly epochsServed: { epoch: number; skip: number }[] = [];

  constructor(readonly o: MemorySourceOptions = {}) {
    const n = o.samples ?? 64;
    const f = o.features ?? 8;
    const k = o.classes ?? 3;
    this.seed = o.seed ?? 1;
    this.classes = Array.from({ length: k }, (_, i) => `c${i}`);
    this.batchesPerEpoch = Math.ceil(n / (o.batchSize ?? 8));
    const rand = prng(this.seed * 7919 + 13);
    const dirs = Array.from({ length: k * f }, () => rand() * 2 - 1);
    this.x = Float32Array.from({ length: n * f }, () => rand() * 2 - 1);
    this.y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let best = -Infinity;
      for (let c = 0; c < k; c++) {
        let dot = 0;
        for (let j = 0; j < f; j++) dot += (this.x[i * f + j] as number) * (dirs[c * f + j] as number);
        if (dot > best) {
          best = dot;
          this.y[i] = c;
        }
      }
    }
    for (const i of o.nanSamples ?? []) this.x.fill(NaN, i * f, (i + 1) * f);
  }

  order(epoch: number): number[] {
    const n = this.y.length;
    const idx = Array.from({ length: n }, (_, i) => i);
    if (this.o.shuffle === false) return idx;
    return new RandomStream({ seed: this.seed, purpose: 'test', epoch, stream: 1 }).shuffle_(idx);
  }

  async *epoch(epoch: number, options: { skipBatches?: number; signal?: AbortSignal } = {}): AsyncGenerator<Batch> {
    const skip = this.o.ignoreSkip ? 0 : (options.skipBatches ?? 0);
    this.epochsServed.push({ epoch, skip: options.skipBatches ?? 0 });
    const order = this.order(epoch);
    const bs = this.o.batchSize ?? 8;
    const f = this.o.features ?? 8;
    for (let b = skip; b * bs < order.length; b++) {
      if (options.signal?.aborted) return;
      const indices = order.slice(b * bs, (b + 1) * bs);
      const xs = new Float32Array(indices.length * f);
      indices.forEach((i, r) => xs.set(this.x.subarray(i * f, (i + 1) * f), r * f));
      yield {
        x: tensor(xs, { shape: [indices.length, f] }),
        y: tensor(BigInt64Array.from(indices, (i) => BigInt(this.y[i] as number))),
        indices,
        ids: indices.map((i) => `mem[${i}]`),
      };
    }
  }
}

/** Top-1 accuracy over everything seen since reset. */
export class TinyAccuracy implements Metric {
  readonly name = 'accuracy';
  readonly mode = 'max' as const;
  #correct = 0;
  #total = 0;
  update(output: Tensor, target: Tensor): void {
    const pred = output.argmax(1).data() as BigInt64Array;
    const t = target.data() as BigInt64Array;
    for (let i = 0; i < t.length; i++) if (pred[i] === t[i]) this.#correct++;
    this.#total += t.length;
  }
  compute(): number {
    return this.#total ? this.#correct / this.#total : NaN;
  }
  reset(): void {
    this.#correct = 0;
    this.#total = 0;
  }
}

/** Linear(8→16) ReLU Dropout(0.2) Linear(16→3): dropout makes the torch RNG matter for resume. */
export function tinyModel(options: { features?: number; classes?: number; dropout?: number } = {}): nn.Sequential & { forward(x: Tensor): Tensor } {
  return new nn.Sequential(
    new nn.Linear(options.features ?? 8, 16),
    new nn.ReLU(),
    new nn.Dropout(options.dropout ?? 0.2),
    new nn.Linear(16, options.classes ?? 3),
  ) as nn.Sequential & { forward(x: Tensor): Tensor };
}

export const ce = (o: Tensor, t: Tensor): Tensor => nn.functional.crossEntropy(o, t);

/** SHA-256 of every tensor of the model and the optimizer state, by name. */
export function hashRun(model: nn.Module, optimizer: optim.Optimizer): Record<string, string> {
  const out: Record<string, string> = {};
  const h = (t: Tensor) => createHash('sha256').update(new Uint8Array((t.detach().contiguous().data() as ArrayBufferView).buffer as ArrayBuffer)).digest('hex');
  for (const [k, t] of model.stateDict()) out[`model/${k}`] = h(t);
  const sd = optimizer.stateDict();
  for (const [id, s] of sd.state) for (const [k, v] of Object.entries(s)) out[`optimizer/${id}/${k}`] = typeof v === 'number' || v === null ? String(v) : h(v);
  sd.param_groups.forEach((g, i) => (out[`optimizer/group${i}`] = JSON.stringify(g)));
  return out;
}

/** Records every event as `event@epoch.batch`, and optionally answers one event with a value. */
export class Recorder implements Callback {
  readonly name: string;
  readonly log: string[] = [];
  constructor(
    name = 'recorder',
    readonly answer?: (event: EventName, ctx: TrainContext) => ReturnType<NonNullable<Callback['afterBatch']>>,
  ) {
    this.name = name;
    const events: EventName[] = ['beforeFit', 'beforeEpoch', 'beforeBatch', 'afterForward', 'afterLoss', 'afterBackward', 'afterStep', 'afterBatch', 'beforeValidate', 'afterValidate', 'afterEpoch', 'afterFit'];
    for (const e of events) {
      (this as unknown as Record<string, (ctx: TrainContext) => unknown>)[e] = (ctx: TrainContext) => {
        this.log.push(e === 'beforeFit' || e === 'afterFit' ? e : e.includes('Batch') || e.startsWith('after') && !e.includes('Epoch') && !e.includes('Validate') ? `${e}@${ctx.epoch}.${ctx.batch}` : `${e}@${ctx.epoch}`);
        return this.answer?.(e, ctx);
      };
    }
  }
}
