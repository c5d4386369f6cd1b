// Structured (channel) pruning that really removes channels: in every group of channels that can
// go together (channel-groups.ts), the round(amount · C) channels of least importance are cut out of
// every tensor that has a slice for them — the producing convs' filters and biases, their batch
// norms, the next layers' input weights — so the model that remains is a smaller dense model, with
// fewer multiply-adds, that exports and runs as any other.
//
// Importance of a channel (Li et al., "Pruning Filters for Efficient ConvNets", 2017, with the batch
// norm folded in as in network slimming): over the group's producers, the L1 norm of the channel's
// filter times |γ|/√(σ²+ε) of the batch norm after it — the size of what the channel contributes
// before the bias. A channel whose filters are all zero and whose batch norm adds nothing (β = μ = 0)
// contributes exactly nothing, so removing it leaves the outputs as they were.
import type { Module } from '../nn/module.js';
import { noGrad } from '../tensor/autograd.js';
import { tensor } from '../tensor/factories.js';
import { indexSelect } from '../tensor/generated/ops.js';
import { scope } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { roundHalfEven } from '../export/quantize-math.js';
import { channelGroups, type ChannelGroup } from './channel-groups.js';
import { syncLayerSizes } from './resize.js';

export interface PrunedGroup {
  /** The producing layers' weights (state-dict keys). */
  producers: string[];
  before: number;
  after: number;
  /** The channels removed, by index in the original layer. */
  removed: number[];
}

export interface ChannelPruning {
  pruned: PrunedGroup[];
  /** Groups kept whole, and why. */
  kept: { producers: string[]; size: number; reason: string }[];
  /** The new shape of every tensor that changed, by state-dict key (saved in a pruned run's model.json). */
  shapes: Record<string, number[]>;
}

/**
 * Removes round(amount · C) channels (at most C − 1) from every prunable group of C channels of
 * `model`, traced on `example` (one input, e.g. zeros (1, C, H, W)). The model is changed in place.
 */
export function pruneChannels(model: Module, example: Tensor, amount: number): ChannelPruning {
  if (!(amount >= 0 && amount < 1)) throw new RangeError(`the pruning amount must be a fraction in [0, 1), got ${amount}`);
  const groups = channelGroups(model, example);
  const sd = model.stateDict();
  const plans = groups
    .filter((g) => g.pinned === null && g.producers.length > 0)
    .map((g) => {
      const score = importance(g, sd);
      const n = Math.min(g.size - 1, roundHalfEven(amount * g.size));
      const order = Array.from(score.keys()).sort((a, b) => (score[a] as number) - (score[b] as number) || a - b);
      const removed = order.slice(0, n).sort((a, b) => a - b);
      const gone = new Set(removed);
      return { g, removed, keep: Array.from({ length: g.size }, (_, c) => c).filter((c) => !gone.has(c)) };
    });
  const changed = new Set<string>();
  noGrad(() =>
    scope(() => {
      for (const { g, keep, removed } of plans) {
        if (removed.length === 0) continue;
        for (const s of g.slices) {
          const t = sd.get(s.key) as Tensor;
          const index = keep.flatMap((c) => Array.from({ length: s.block }, (_, j) => c * s.block + j));
          t.setData(indexSelect(t, s.dim, tensor(BigInt64Array.from(index, BigInt))).contiguous());
          changed.add(s.key);
        }
      }
    }),
  );
  syncLayerSizes(model);
  return {
    pruned: plans.filter((p) => p.removed.length > 0).map(({ g, removed }) => ({ producers: g.producers.map((p) => p.weight), before: g.size, after: g.size - removed.length, removed })),
    kept: groups.filter((g) => g.pinned !== null || g.producers.length === 0).map((g) => ({ producers: g.producers.map((p) => p.weight), size: g.size, reason: g.pinned ?? 'no layer makes these channels' })),
    shapes: Object.fromEntries([...changed].sort().map((k) => [k, (sd.get(k) as Tensor).shape])),
  };
}

/** Per channel: Σ over producers of ‖filter‖₁ · |γ|/√(σ²+ε) (see the header). */
function importance(g: ChannelGroup, sd: ReadonlyMap<string, Tensor>): Float64Array {
  const score = new Float64Array(g.size);
  noGrad(() =>
    scope(() => {
      for (const p of g.producers) {
        const w = sd.get(p.weight) as Tensor;
        const rows = w.transpose(0, p.dim).reshape([g.size, -1]).abs().sum(1); // (C,)
        let scaled = rows;
        if (p.norm) {
          const gamma = sd.get(p.norm.weight) as Tensor;
          const variance = sd.get(p.norm.runningVar) as Tensor;
          scaled = rows.mul(gamma.abs()).div(variance.add(p.norm.eps).sqrt());
        }
        (scaled.double().data() as Float64Array).forEach((v, c) => (score[c]! += v));
      }
    }),
  );
  return score;
}
