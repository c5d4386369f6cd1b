// The one inference pass: a model over every batch of a source, for evaluation, prediction, the
// run report's test pass and gallery; its per-batch function (inferenceForward) is what export
// traces and the server's torch back end runs. It owns what each of them would otherwise repeat,
// and get subtly wrong:
//   - eval mode for the pass, the previous mode restored afterwards (also on error);
//   - no autograd graph;
//   - each batch moved to the model's device (or the one given);
//   - autocast for mixed precision;
//   - one memory scope per batch, and the batch disposed after it, so callers dispose nothing.
// What a caller does with the outputs is its per-batch hook, which sees (output, batch) with the
// batch's tensors on the device; tensors it wants to keep past the hook must be persist()ed.
import { disposeBatch, type Batch, type BatchSource } from '../data/types.js';
import type { Module } from '../nn/module.js';
import { noGrad } from '../tensor/autograd.js';
import { autocast } from '../tensor/autocast.js';
import { scope } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';

/** A model mapping a batch of inputs to outputs (N×K logits for a classifier). */
export type Model = Module & { forward(x: Tensor): Tensor };

/** A loss: a function, or a loss module such as nn.CrossEntropyLoss. Returns a 0-dim tensor. */
export type LossFn = ((output: Tensor, target: Tensor) => Tensor) | { forward(output: Tensor, target: Tensor): Tensor };

export type MixedPrecision = 'bf16' | 'fp16' | false;

/** Runs fn under autocast for the given precision (a no-op for false). */
export function withPrecision<T>(precision: MixedPrecision, device: string, fn: () => T): T {
  if (!precision) return fn();
  const deviceType = device.startsWith('cuda') ? 'cuda' : 'cpu';
  if (precision === 'fp16' && deviceType === 'cpu') throw new Error("mixed precision 'fp16' needs a CUDA device; on CPU use 'bf16'");
  return autocast(fn, { deviceType, dtype: precision === 'bf16' ? 'bfloat16' : 'float16' });
}

/** The device of the model's first parameter (cpu for a model without parameters). */
export function modelDevice(model: Module): string {
  const first = model.parameters()[0];
  return first ? first.device : 'cpu';
}

/** The batch with its tensors on `device` (the same tensors when already there). */
export function onDevice(batch: Batch, device: string): Batch {
  if (batch.x.device === device && batch.y.device === device) return batch;
  const move = (t: Tensor) => (t.device === device ? t : t.to({ device }));
  return { ...batch, x: move(batch.x), y: move(batch.y) };
}

export interface InferenceOptions {
  /** Default: the model's device. */
  device?: string;
  /** Autocast for the forward pass (default none). */
  precision?: MixedPrecision;
  /** The epoch index passed to the source (default 0). */
  epoch?: number;
  /**
   * Test-time flip: the output is the mean of the outputs for the batch and for its mirror image
   * (flipped along the width), in float32. For models trained with horizontal flips.
   */
  flip?: boolean;
}

/**
 * What the pass computes for one batch already on the device: the model's forward under the
 * precision's autocast, and with `flip` the mean of the outputs for the batch and for its mirror
 * image, (f(x) + f(flip_W(x))) / 2 in float32. Export traces this function and the server's torch
 * back end calls it, so a deployed model answers as eval and predict do. No grad or eval mode here:
 * the caller's (inference() sets both).
 */
export function inferenceForward(model: Model, options: Omit<InferenceOptions, 'epoch'> = {}): (x: Tensor) => Tensor {
  const device = options.device ?? modelDevice(model);
  const precision = options.precision ?? false;
  const forward = (x: Tensor) => withPrecision(precision, device, () => model.forward(x));
  // (B, C, H, W): flip([-1]) mirrors the width.
  return options.flip ? (x) => forward(x).float().add(forward(x.flip([-1])).float()).mul(0.5) : forward;
}

/** Called with each batch's output and the batch (on the device), inside the batch's memory scope. */
export type InferenceHook = (output: Tensor, batch: Batch) => void;

/** Runs `model` over one pass of `source` without gradients, in eval mode; returns the samples seen. */
export async function inference(model: Model, source: BatchSource, onBatch: InferenceHook, options: InferenceOptions = {}): Promise<number> {
  const device = options.device ?? modelDevice(model);
  const forward = inferenceForward(model, { ...options, device });
  const wasTraining = model.training;
  model.eval();
  let samples = 0;
  try {
    for await (const batch of source.epoch(options.epoch ?? 0)) {
      try {
        noGrad(() =>
          scope(() => {
            const b = onDevice(batch, device);
            onBatch(forward(b.x), b);
          }),
        );
        samples += batch.x.shape[0] ?? 0;
      } finally {
        disposeBatch(batch);
      }
    }
  } finally {
    model.train(wasTraining);
  }
  return samples;
}
