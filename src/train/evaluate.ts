// Evaluation and prediction over a BatchSource, and the small pieces the trainer shares with
// them: the loss and model types, mixed precision and moving batches to the device. Every batch
// runs in its own memory scope and is disposed after use, so callers dispose nothing.
import { disposeBatch, type Batch, type BatchSource } from '../data/types.js';
import type { Metric } from '../metrics/types.js';
import type { Module } from '../nn/module.js';
import { crossEntropy } from '../nn/losses.js';
import { noGrad } from '../tensor/autograd.js';
import { autocast } from '../tensor/autocast.js';
import { isFloatingPoint } from '../tensor/dtype.js';
import { scalarTensor } from '../tensor/factories.js';
import { persist, scope } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';

/** A model mapping a batch of inputs to N×K logits. */
export type Model = Module & { forward(x: Tensor): Tensor };

/** A loss: a function, or a loss module such as nn.CrossEntropyLoss. Returns a 0-dim tensor. */
export type LossFn = ((output: Tensor, target: Tensor) => Tensor) | { forward(output: Tensor, target: Tensor): Tensor };

export type MixedPrecision = 'bf16' | 'fp16' | false;

export function callLoss(loss: LossFn, output: Tensor, target: Tensor): Tensor {
  return typeof loss === 'function' ? loss(output, target) : loss.forward(output, target);
}

/** Runs fn under autocast for the given precision (a no-op for false). */
export function withPrecision<T>(precision: MixedPrecision, device: string, fn: () => T): T {
  if (!precision) return fn();
  const deviceType = device.startsWith('cuda') ? 'cuda' : 'cpu';
  if (precision === 'fp16' && deviceType === 'cpu') throw new Error("mixedPrecision 'fp16' needs a CUDA device; on CPU use 'bf16'");
  return autocast(fn, { deviceType, dtype: precision === 'bf16' ? 'bfloat16' : 'float16' });
}

/** The device of the model's first parameter (cpu for a model without parameters). */
export function modelDevice(model: Module): string {
  const first = model.parameters()[0];
  return first ? first.device : 'cpu';
}

/** The batch's tensors on `device` (the same tensors when already there). */
export function onDevice(batch: Batch, device: string): { x: Tensor; y: Tensor } {
  const move = (t: Tensor) => (t.device === device ? t : t.to({ device }));
  return { x: move(batch.x), y: move(batch.y) };
}

/** Whether metrics can use these targets: class indices (not MixUp's soft targets). */
export function hardTargets(y: Tensor): boolean {
  return !isFloatingPoint(y.dtype) && y.dim() === 1;
}

export interface EvaluateOptions {
  /** Default: cross-entropy. */
  loss?: LossFn;
  /** Default: the model's device. */
  device?: string;
  mixedPrecision?: MixedPrecision;
  /** The epoch index passed to the source (default 0). */
  epoch?: number;
}

export interface EvaluateResult {
  /** Mean loss over every sample (batches weighted by size). */
  loss: number;
  /** Each metric's value over the whole set, by name. */
  metrics: Record<string, number>;
  samples: number;
}

/** Loss and metrics of `model` over one pass of `source`, in eval mode, without gradients. The model's mode is restored. */
export async function evaluate(model: Model, source: BatchSource, metrics: readonly Metric[] = [], options: EvaluateOptions = {}): Promise<EvaluateResult> {
  const device = options.device ?? modelDevice(model);
  const loss = options.loss ?? ((o: Tensor, t: Tensor) => crossEntropy(o, t));
  const wasTraining = model.training;
  model.eval();
  for (const m of metrics) m.reset();
  // The sum stays on the device; it is read once at the end.
  const sum = persist(scalarTensor(0, { dtype: 'float64', device }));
  let samples = 0;
  try {
    for await (const batch of source.epoch(options.epoch ?? 0)) {
      try {
        const n = batch.x.shape[0] ?? 0;
        samples += n;
        noGrad(() =>
          scope(() => {
            const { x, y } = onDevice(batch, device);
            const out = withPrecision(options.mixedPrecision ?? false, device, () => model.forward(x));
            const l = withPrecision(options.mixedPrecision ?? false, device, () => callLoss(loss, out, y));
            sum.add_(l.detach().double().mul(n));
            if (hardTargets(y)) for (const m of metrics) m.update(out, y);
          }),
        );
      } finally {
        disposeBatch(batch);
      }
    }
    const result: Record<string, number> = {};
    for (const m of metrics) result[m.name] = samples ? m.compute() : NaN;
    return { loss: samples ? Number(sum.item()) / samples : NaN, metrics: result, samples };
  } finally {
    sum.dispose();
    model.train(wasTraining);
  }
}

export interface PredictOptions {
  /** How many classes to rank per sample (default 1, at most K). */
  topK?: number;
  device?: string;
  mixedPrecision?: MixedPrecision;
}

export interface Predictions {
  ids: string[];
  indices: number[];
  numClasses: number;
  /** Softmax probabilities, N×K row-major (float32). */
  probabilities: Float32Array;
  /** The top k classes of each sample, N×k row-major, best first, with their probabilities. */
  top: { k: number; classes: Int32Array; probabilities: Float32Array };
}

/** Softmax probabilities and top-k classes of every sample of one pass of `source`, in eval mode. */
export async function predict(model: Model, source: BatchSource, options: PredictOptions = {}): Promise<Predictions> {
  const device = options.device ?? modelDevice(model);
  const k = options.topK ?? 1;
  const wasTraining = model.training;
  model.eval();
  const ids: string[] = [];
  const indices: number[] = [];
  const probs: Float32Array[] = [];
  const topC: Int32Array[] = [];
  const topP: Float32Array[] = [];
  let numClasses = -1;
  try {
    for await (const batch of source.epoch(0)) {
      try {
        noGrad(() =>
          scope(() => {
            const { x } = onDevice(batch, device);
            const out = withPrecision(options.mixedPrecision ?? false, device, () => model.forward(x));
            const K = out.shape[1] ?? 0;
            if (out.dim() !== 2) throw new Error(`predict: the model's output has shape [${out.shape.join(', ')}], expected N×K logits`);
            if (numClasses >= 0 && K !== numClasses) throw new Error(`predict: batch ${ids.length} gives ${K} classes, earlier batches ${numClasses}`);
            numClasses = K;
            if (k < 1 || k > K) throw new RangeError(`predict: topK ${k} is outside 1..${K}`);
            const p = out.float().softmax(1).cpu();
            const [values, classes] = p.topk(k, 1);
            probs.push(p.data() as Float32Array);
            topP.push(values.data() as Float32Array);
            topC.push(Int32Array.from(classes.data() as BigInt64Array, Number));
          }),
        );
        ids.push(...batch.ids);
        indices.push(...batch.indices);
      } finally {
        disposeBatch(batch);
      }
    }
  } finally {
    model.train(wasTraining);
  }
  return { ids, indices, numClasses: Math.max(numClasses, 0), probabilities: concat(probs, Float32Array), top: { k, classes: concat(topC, Int32Array), probabilities: concat(topP, Float32Array) } };
}

function concat<T extends Float32Array | Int32Array>(parts: T[], Ctor: { new (n: number): T }): T {
  const out = new Ctor(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
