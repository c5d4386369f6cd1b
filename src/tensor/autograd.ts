// Autograd beyond Tensor.backward(): functional gradients (with create_graph for double backward,
// e.g. gradient penalties) and gradient-mode scopes that always restore the previous mode.
import { native } from './native.js';
import { Tensor } from './tensor.js';

export interface GradOptions {
  /** Gradients w.r.t. each output (required for non-scalar outputs). */
  gradOutputs?: (Tensor | null)[];
  /** Keep the graph for another backward (defaults to createGraph). */
  retainGraph?: boolean;
  /** Build a graph of the gradient computation itself, so the result can be differentiated again. */
  createGraph?: boolean;
  /** Return null for inputs the outputs do not depend on, instead of throwing. */
  allowUnused?: boolean;
}

/** Gradients of `outputs` w.r.t. `inputs` without touching `.grad` (PyTorch's `torch.autograd.grad`). */
export function grad(outputs: Tensor | Tensor[], inputs: Tensor | Tensor[], options: GradOptions = {}): (Tensor | null)[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const ins = Array.isArray(inputs) ? inputs : [inputs];
  const result = native.grad(
    outs.map((t) => t.handle),
    ins.map((t) => t.handle),
    options.gradOutputs?.map((g) => (g ? g.handle : null)),
    options.retainGraph,
    options.createGraph ?? false,
    options.allowUnused ?? false,
  );
  return result.map((h) => (h === null ? null : new Tensor(h)));
}

/** Backward from several tensors at once (PyTorch's `torch.autograd.backward`). */
export function backward(tensors: Tensor[], gradTensors?: (Tensor | null)[], options: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
  native.backward(
    tensors.map((t) => t.handle),
    (gradTensors ?? tensors.map(() => null)).map((g) => (g ? g.handle : null)),
    options.retainGraph,
    options.createGraph ?? false,
  );
}

export function isGradEnabled(): boolean {
  return native.isGradEnabled();
}

export function setGradEnabled(enabled: boolean): void {
  native.setGradEnabled(enabled);
}

function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const previous = native.isGradEnabled();
  native.setGradEnabled(enabled);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    native.setGradEnabled(previous);
    throw e;
  }
  if (result instanceof Promise) {
    // Grad mode is thread-global in LibTorch: an async body would leak the mode to whatever else
    // runs while it awaits. Refuse rather than silently compute gradients in the wrong mode.
    native.setGradEnabled(previous);
    throw new TypeError('noGrad/enableGrad take a synchronous function; wrap each synchronous step instead');
  }
  native.setGradEnabled(previous);
  return result;
}

/** Runs fn with gradient tracking off, restoring the previous mode afterwards (also on throw). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs fn with gradient tracking on, restoring the previous mode afterwards (also on throw). */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

/** A guard for `using`: `using _ = noGradGuard();` turns tracking off until the block ends. */
export function noGradGuard(): Disposable {
  return gradModeGuard(false);
}

export function enableGradGuard(): Disposable {
  return gradModeGuard(true);
}

function gradModeGuard(enabled: boolean): Disposable {
  const previous = native.isGradEnabled();
  native.setGradEnabled(enabled);
  let restored = false;
  return {
    [Symbol.dispose]() {
      if (restored) return;
      restored = true;
      native.setGradEnabled(previous);
    },
  };
}
