// The optimizer and LR schedule a run's config asks for. Weight decay skips norm layers and biases
// (the usual practice; decaying BatchNorm's scale only fights the normalisation), and the schedule
// steps once per optimizer step so one-cycle and warm-up have the resolution they need.
import type { Module } from '../nn/module.js';
import { weightDecayGroups } from '../nn/regularization.js';
import { Adam, AdamW } from '../optim/adam.js';
import { Lion } from '../optim/lion.js';
import type { Optimizer } from '../optim/optimizer.js';
import { RMSprop } from '../optim/rmsprop.js';
import type { Scheduler } from '../optim/schedulers/base.js';
import { ConstantLR, StepLR } from '../optim/schedulers/basic.js';
import { CosineAnnealingLR } from '../optim/schedulers/cosine.js';
import { OneCycleLR } from '../optim/schedulers/one-cycle.js';
import { withWarmup } from '../optim/schedulers/sequential.js';
import { SGD } from '../optim/sgd.js';
import type { RunConfig } from '../config/schema.js';
import type { Tensor } from '../tensor/tensor.js';

type OptimizerConfig = RunConfig['train']['optimizer'];
type ScheduleConfig = RunConfig['train']['schedule'];

/** A parameter group a run asks for: its tensors, and the lr and weight decay where they differ from the config's. */
export interface OptimizerGroup {
  params: Tensor[];
  lr?: number;
  weightDecay?: number;
}

/**
 * Parameter groups: decayed weights and undecayed norms/biases, or the groups given (transfer
 * learning: head and backbone, each split the same way; src/run/transfer.ts).
 */
export function buildOptimizer(model: Module, o: OptimizerConfig, groups?: OptimizerGroup[]): Optimizer {
  const params = groups ?? weightDecayGroups(model, o.weightDecay).filter((g) => g.params.length > 0);
  if (params.every((g) => g.params.length === 0)) throw new Error('the model has no trainable parameters (is the whole model frozen?)');
  switch (o.name) {
    case 'sgd':
      return new SGD(params, { lr: o.lr, momentum: o.momentum, nesterov: o.nesterov && o.momentum > 0, weightDecay: o.weightDecay });
    case 'adam':
      return new Adam(params, { lr: o.lr, weightDecay: o.weightDecay });
    case 'adamw':
      return new AdamW(params, { lr: o.lr, weightDecay: o.weightDecay });
    case 'rmsprop':
      return new RMSprop(params, { lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay });
    case 'lion':
      return new Lion(params, { lr: o.lr, weightDecay: o.weightDecay });
  }
}

/**
 * One-cycle moves momentum against the lr (PyTorch's OneCycleLR: 0.95 → 0.85 at the peak → 0.95).
 * For SGD and RMSprop the cycle is centred on their configured momentum, ±0.05 — 0.9, the default,
 * gives PyTorch's range exactly — so train.optimizer.momentum still means something, and momentum 0
 * stays 0. Adam-like optimizers cycle β1 over PyTorch's range.
 */
function cycledMomentum(optimizer: Optimizer): { cycleMomentum?: boolean; baseMomentum?: number; maxMomentum?: number } {
  const m = (optimizer.defaults as { momentum?: number }).momentum;
  if (m === undefined) return {};
  if (m === 0) return { cycleMomentum: false };
  return { baseMomentum: Math.max(0, (m * 100 - 5) / 100), maxMomentum: Math.min(1, (m * 100 + 5) / 100) };
}

/** A per-step schedule over `epochs × stepsPerEpoch` optimizer steps. */
export function buildSchedule(optimizer: Optimizer, s: ScheduleConfig, epochs: number, stepsPerEpoch: number): Scheduler {
  const total = Math.max(1, epochs * stepsPerEpoch);
  const warmupSteps = Math.round(s.warmup * total);
  switch (s.name) {
    case 'one-cycle':
      // Both phases need at least a step: a very short run (a smoke test) falls back to a constant LR.
      if (total < 4) return new ConstantLR(optimizer, { factor: 1, totalIters: 0 });
      return new OneCycleLR(optimizer, {
        maxLr: optimizer.paramGroups.map((g) => g.lr),
        totalSteps: total,
        pctStart: Math.min(Math.max(s.warmup, 2 / total), 1 - 2 / total),
        ...cycledMomentum(optimizer),
      });
    case 'cosine': {
      const main = new CosineAnnealingLR(optimizer, { tMax: Math.max(1, total - warmupSteps) });
      return warmupSteps > 0 ? withWarmup(main, { steps: warmupSteps }) : main;
    }
    case 'step':
      return new StepLR(optimizer, { stepSize: s.stepEpochs * stepsPerEpoch, gamma: s.gamma });
    case 'constant':
      return new ConstantLR(optimizer, { factor: 1, totalIters: 0 });
  }
}
