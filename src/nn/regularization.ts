// Regularization helpers: explicit L1/L2 penalties to add to a loss, and the decay / no-decay split
// of parameters (nanoGPT's recipe) that optimizers take as parameter groups.
import type { Tensor } from '../tensor/tensor.js';
import { NormBase } from './layers/batchnorm.js';
import { GroupNorm, LayerNorm } from './layers/normalization.js';
import { Module } from './module.js';

function paramsOf(source: Module | Iterable<Tensor>): Tensor[] {
  return source instanceof Module ? source.parameters() : [...source];
}

function sumOver(params: Tensor[], term: (p: Tensor) => Tensor): Tensor {
  if (params.length === 0) throw new RangeError('penalty over no parameters');
  let total = term(params[0] as Tensor);
  for (const p of params.slice(1)) total = total.add(term(p));
  return total;
}

/** Σ_p Σ|p|: add λ·l1Penalty(model) to a loss for sparse weights. Differentiable (0-D tensor). */
export function l1Penalty(source: Module | Iterable<Tensor>): Tensor {
  return sumOver(paramsOf(source), (p) => p.abs().sum());
}

/** Σ_p Σp² (no ½): add λ·l2Penalty(model) to a loss. With plain SGD this equals weight decay 2λ. */
export function l2Penalty(source: Module | Iterable<Tensor>): Tensor {
  return sumOver(paramsOf(source), (p) => p.square().sum());
}

/** Norm layers: their scale/shift should not be pulled towards zero. */
export function isNormLayer(m: Module): boolean {
  return m instanceof NormBase || m instanceof LayerNorm || m instanceof GroupNorm;
}

export interface DecaySplit {
  decay: Tensor[];
  noDecay: Tensor[];
  /** State dict paths, in the same order (to check what went where). */
  decayNames: string[];
  noDecayNames: string[];
}

export interface DecaySplitOptions {
  /** Also exclude these parameters (e.g. embeddings, positional tables): (path, module) → true. */
  exclude?: (name: string, param: Tensor, module: Module) => boolean;
}

/**
 * Splits the trainable parameters (requiresGrad) into those that take weight decay and those that
 * do not: every parameter of a norm layer (BatchNorm*, InstanceNorm2d, LayerNorm, GroupNorm) and
 * every bias (a name starting with `bias`, which covers LSTM's `bias_ih_l0`). Shared parameters
 * are listed once.
 */
export function splitDecayParameters(model: Module, options: DecaySplitOptions = {}): DecaySplit {
  const out: DecaySplit = { decay: [], noDecay: [], decayNames: [], noDecayNames: [] };
  const seen = new Set<Tensor>();
  for (const [path, m] of model.namedModules()) {
    for (const [name, p] of m.namedParameters('', false)) {
      if (seen.has(p) || !p.requiresGrad) continue;
      seen.add(p);
      const full = path ? `${path}.${name}` : name;
      const skip = isNormLayer(m) || name.startsWith('bias') || (options.exclude?.(full, p, m) ?? false);
      (skip ? out.noDecay : out.decay).push(p);
      (skip ? out.noDecayNames : out.decayNames).push(full);
    }
  }
  return out;
}

export interface DecayGroup {
  params: Tensor[];
  weightDecay: number;
}

/** `[{params: decay, weightDecay}, {params: noDecay, weightDecay: 0}]`, for an optimizer. */
export function weightDecayGroups(model: Module, weightDecay: number, options: DecaySplitOptions = {}): DecayGroup[] {
  const { decay, noDecay } = splitDecayParameters(model, options);
  return [
    { params: decay, weightDecay },
    { params: noDecay, weightDecay: 0 },
  ];
}
