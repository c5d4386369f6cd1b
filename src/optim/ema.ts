// An exponential moving average of a model's weights (Polyak averaging), kept beside the model
// and used for evaluation; in the manner of timm's ModelEmaV2/V3.
//
// After each optimizer step, for every floating-point parameter and buffer w of the model:
//   ŵ ← d·ŵ + (1 − d)·w            (computed as ŵ.lerp_(w, 1 − d))
// Integer buffers (batch norm's num_batches_tracked) are copied, not averaged.
//
// With warm-up the decay grows with n, the number of updates already made (timm ModelEmaV3):
//   d_n = clamp(1 − (1 + n/γ)^(−p), minDecay, decay)
// so the first update copies the weights (d_0 = 0) and early averages do not remember the random
// initialisation for thousands of steps. p = 2/3 reaches d = 0.999 after ~31.6k updates and
// 0.9999 after ~1M; p = 3/4 reaches them after ~10k and ~215k (timm's guidance: 2/3 for long
// runs, 3/4 for short ones). Without warm-up d_n = decay.
import type { Module } from '../nn/module.js';
import { noGrad } from '../tensor/autograd.js';
import { isFloatingPoint } from '../tensor/dtype.js';
import { persist, scope } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';

export interface EMAOptions {
  /** The decay d (default 0.9999). */
  decay?: number;
  /** Ramp the decay up as described above: true for γ = 1, p = 2/3, or give them. */
  warmup?: boolean | { gamma?: number; power?: number };
  /** Lower bound of the warmed-up decay (default 0). */
  minDecay?: number;
}

export interface EMAStateDict {
  /** The averaged weights under the model's state-dict keys (loadable into the model itself). */
  weights: Map<string, Tensor>;
  /** Updates made so far (drives the warm-up). */
  updates: number;
}

export class ModelEMA {
  readonly decay: number;
  readonly minDecay: number;
  readonly warmup: { gamma: number; power: number } | null;
  /** The averaged copy of every entry of the model's stateDict (owned by this object). */
  readonly weights = new Map<string, Tensor>();
  updates = 0;

  constructor(model: Module, options: EMAOptions = {}) {
    this.decay = options.decay ?? 0.9999;
    this.minDecay = options.minDecay ?? 0;
    const w = options.warmup ?? false;
    this.warmup = w === false ? null : { gamma: (w === true ? undefined : w.gamma) ?? 1, power: (w === true ? undefined : w.power) ?? 2 / 3 };
    if (!(this.decay >= 0 && this.decay <= 1)) throw new RangeError(`ModelEMA: decay must be in [0, 1], got ${this.decay}`);
    noGrad(() => {
      for (const [k, v] of model.stateDict()) this.weights.set(k, persist(v.clone())); // no grad: a plain copy
    });
  }

  /** The decay the next update will use. */
  currentDecay(): number {
    if (!this.warmup) return this.decay;
    const d = 1 - (1 + this.updates / this.warmup.gamma) ** -this.warmup.power;
    return Math.max(Math.min(d, this.decay), this.minDecay);
  }

  /** Folds the model's current weights into the average (call after optimizer.step()). */
  update(model: Module): void {
    const d = this.currentDecay();
    noGrad(() =>
      scope(() => {
        for (const [k, v] of model.stateDict()) {
          const avg = this.weights.get(k);
          if (!avg) throw new Error(`ModelEMA.update: the model has '${k}', which the average does not`);
          if (isFloatingPoint(avg.dtype)) avg.lerp_(v, 1 - d);
          else avg.copy_(v);
        }
      }),
    );
    this.updates += 1;
  }

  /** Writes the averaged weights into `model` (e.g. an evaluation copy). */
  copyTo(model: Module): void {
    model.loadStateDict(this.weights);
  }

  /** The averaged weights (this object's own tensors, not copies) and the update count. */
  stateDict(): EMAStateDict {
    return { weights: new Map(this.weights), updates: this.updates };
  }

  loadStateDict(sd: EMAStateDict): void {
    for (const k of this.weights.keys()) if (!sd.weights.has(k)) throw new Error(`ModelEMA.loadStateDict: missing '${k}'`);
    for (const k of sd.weights.keys()) if (!this.weights.has(k)) throw new Error(`ModelEMA.loadStateDict: unexpected '${k}'`);
    noGrad(() => {
      for (const [k, v] of sd.weights) this.weights.get(k)?.copy_(v);
    });
    this.updates = sd.updates;
  }

  dispose(): void {
    for (const t of this.weights.values()) t.dispose();
    this.weights.clear();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
