// Dynamic loss scaling for float16 training, with the semantics of PyTorch 1.13's
// torch.cuda.amp.GradScaler (grad_scaler.py and the CUDA kernels _amp_update_scale_ and
// _amp_foreach_non_finite_check_and_unscale_ in AmpKernels.cu).
//
// Small float16 gradients underflow to zero. Multiplying the loss by a scale S (65536 at first)
// keeps them representable; the gradients are divided by S again before the update. When a
// gradient overflows (inf/nan) the step is skipped and S is halved; after `growthInterval`
// consecutive good steps S is doubled:
//   found inf:  S ← S·backoff,  tracker ← 0
//   otherwise:  tracker ← tracker + 1;  if tracker = growthInterval: S ← S·growth (unless that
//               overflows float32), tracker ← 0
// S is a float32 value, as PyTorch's scale tensor is.
//
//   const scaled = scaler.scale(loss); scaled.backward();
//   scaler.unscale_(opt); clipGradNorm_(params, 1.0);    // optional: clip the true gradients
//   if (scaler.step(opt)) scheduler.step();              // skip the schedule when the step was skipped
//   scaler.update();
//
// Differences from PyTorch: the scale is kept on the host (PyTorch keeps it on the device), and
// unscale_() reads the inf flag back immediately (PyTorch reads it in step()); both run once per
// iteration, so the number of device synchronizations is the same: one.
import { noGrad } from '../tensor/autograd.js';
import { scalarTensor } from '../tensor/factories.js';
import { stack } from '../tensor/generated/ops.js';
import { scope } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';

export interface GradScalerOptions {
  initScale?: number;
  growthFactor?: number;
  backoffFactor?: number;
  growthInterval?: number;
  /** false: every method is a pass-through (scale returns the loss, step always steps). */
  enabled?: boolean;
}

/** What the scaler needs of an optimizer (any Optimizer fits). */
export interface ScalableOptimizer {
  readonly paramGroups: readonly { readonly params: readonly Tensor[] }[];
  step(): unknown;
}

export interface GradScalerStateDict {
  scale: number;
  growth_factor: number;
  backoff_factor: number;
  growth_interval: number;
  _growth_tracker: number;
}

type Stage = 'ready' | 'unscaled' | 'stepped';

export class GradScaler {
  readonly enabled: boolean;
  growthFactor: number;
  backoffFactor: number;
  growthInterval: number;
  #scale: number;
  #growthTracker = 0;
  /** Per optimizer since the last update(): where it is in the iteration, and whether its grads overflowed. */
  #perOptimizer = new Map<ScalableOptimizer, { stage: Stage; foundInf: boolean | null }>();

  constructor(options: GradScalerOptions = {}) {
    this.enabled = options.enabled ?? true;
    this.#scale = Math.fround(options.initScale ?? 2 ** 16);
    this.growthFactor = options.growthFactor ?? 2.0;
    this.backoffFactor = options.backoffFactor ?? 0.5;
    this.growthInterval = options.growthInterval ?? 2000;
    if (!(this.growthFactor > 1)) throw new RangeError('GradScaler: the growth factor must be > 1.0');
    if (!(this.backoffFactor < 1)) throw new RangeError('GradScaler: the backoff factor must be < 1.0');
  }

  /** loss·S, in float32 (so a float16 loss cannot overflow while being scaled). */
  scale(outputs: Tensor): Tensor;
  scale(outputs: Tensor[]): Tensor[];
  scale(outputs: Tensor | Tensor[]): Tensor | Tensor[] {
    if (!this.enabled) return outputs;
    const one = (t: Tensor) => scope(() => t.mul(scalarTensor(this.#scale, { dtype: 'float32', device: t.device })));
    return Array.isArray(outputs) ? outputs.map(one) : one(outputs);
  }

  /**
   * Divides the optimizer's gradients by S in place and records whether any was inf/nan. Call it
   * before clipping or inspecting gradients; step() calls it if you did not. Once per iteration.
   */
  unscale_(optimizer: ScalableOptimizer): void {
    if (!this.enabled) return;
    const state = this.#stateOf(optimizer);
    if (state.stage === 'unscaled') throw new Error('GradScaler: unscale_() has already been called on this optimizer since the last update()');
    if (state.stage === 'stepped') throw new Error('GradScaler: unscale_() is being called after step()');
    // PyTorch takes the reciprocal in float64, then rounds to float32.
    state.foundInf = unscaleGrads(optimizer, Math.fround(1 / this.#scale));
    state.stage = 'unscaled';
  }

  /**
   * Whether unscale_() found an inf/nan among the optimizer's gradients in this iteration: null
   * before unscale_() (or when it had no gradients), always false when disabled. A trainer that
   * calls optimizer.step() itself skips the step when this is true, as step() would.
   */
  foundInf(optimizer: ScalableOptimizer): boolean | null {
    if (!this.enabled) return false;
    return this.#perOptimizer.get(optimizer)?.foundInf ?? null;
  }

  /**
   * Unscales (if not done yet) and calls optimizer.step() unless a gradient was inf/nan. Returns
   * whether it stepped: skip whatever should follow only a real step (an LR schedule's step).
   */
  step(optimizer: ScalableOptimizer): boolean {
    if (!this.enabled) {
      optimizer.step();
      return true;
    }
    const state = this.#stateOf(optimizer);
    if (state.stage === 'stepped') throw new Error('GradScaler: step() has already been called since the last update()');
    if (state.stage === 'ready') this.unscale_(optimizer);
    if (state.foundInf === null) throw new Error('GradScaler: no inf checks were recorded for this optimizer (none of its parameters has a gradient)');
    const stepped = !state.foundInf;
    if (stepped) optimizer.step();
    state.stage = 'stepped';
    return stepped;
  }

  /** Adjusts S for the next iteration from every optimizer's inf flag (or sets it to `newScale`). */
  update(newScale?: number): void {
    if (!this.enabled) return;
    if (newScale !== undefined) {
      this.#scale = Math.fround(newScale);
    } else {
      const flags = [...this.#perOptimizer.values()].map((s) => s.foundInf).filter((f): f is boolean => f !== null);
      if (flags.length === 0) throw new Error('GradScaler: no inf checks were recorded prior to update()');
      if (flags.some((f) => f)) {
        this.#scale = Math.fround(this.#scale * this.backoffFactor);
        this.#growthTracker = 0;
      } else {
        const successful = this.#growthTracker + 1;
        if (successful === this.growthInterval) {
          const grown = Math.fround(this.#scale * this.growthFactor);
          if (Number.isFinite(grown)) this.#scale = grown; // never grow past float32's range
          this.#growthTracker = 0;
        } else {
          this.#growthTracker = successful;
        }
      }
    }
    this.#perOptimizer.clear();
  }

  /** The current scale S (1 when disabled). */
  getScale(): number {
    return this.enabled ? this.#scale : 1.0;
  }

  /** Consecutive good steps since S last changed. */
  getGrowthTracker(): number {
    return this.enabled ? this.#growthTracker : 0;
  }

  /** PyTorch's keys; empty when disabled. */
  stateDict(): GradScalerStateDict | Record<string, never> {
    if (!this.enabled) return {};
    return { scale: this.#scale, growth_factor: this.growthFactor, backoff_factor: this.backoffFactor, growth_interval: this.growthInterval, _growth_tracker: this.#growthTracker };
  }

  loadStateDict(sd: GradScalerStateDict | Record<string, never>): void {
    if (!this.enabled) return;
    if (!('scale' in sd)) throw new Error('GradScaler.loadStateDict: the state dict is empty, possibly saved from a disabled GradScaler');
    this.#scale = Math.fround(sd.scale);
    this.growthFactor = sd.growth_factor;
    this.backoffFactor = sd.backoff_factor;
    this.growthInterval = sd.growth_interval;
    this.#growthTracker = sd._growth_tracker;
  }

  #stateOf(optimizer: ScalableOptimizer): { stage: Stage; foundInf: boolean | null } {
    let s = this.#perOptimizer.get(optimizer);
    if (!s) {
      s = { stage: 'ready', foundInf: null };
      this.#perOptimizer.set(optimizer, s);
    }
    return s;
  }
}

/**
 * grad ← grad·invScale for every gradient (even when some overflowed, as PyTorch does); returns
 * whether any element was inf/nan, or null when no parameter had a gradient.
 */
function unscaleGrads(optimizer: ScalableOptimizer, invScale: number): boolean | null {
  return noGrad(() =>
    scope(() => {
      const nonFinite: Tensor[] = [];
      let device: string | undefined;
      for (const group of optimizer.paramGroups) {
        for (const p of group.params) {
          const g = p.grad;
          if (!g) continue;
          // float16 parameters need float32 master copies: their update would lose the small steps.
          if (g.dtype === 'float16') throw new Error('GradScaler: attempting to unscale FP16 gradients');
          device ??= g.device;
          const flag = g.isfinite().all().logicalNot();
          nonFinite.push(flag.device === device ? flag : flag.to({ device }));
          if (invScale !== 1) g.mul_(invScale);
        }
      }
      if (nonFinite.length === 0) return null;
      return Boolean(stack(nonFinite).any().item()); // the one device synchronization
    }),
  );
}
