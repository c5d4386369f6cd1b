// Evaluation and prediction over a BatchSource, both one inference pass (inference.ts) with a
// per-batch hook: evaluate sums the loss and feeds the metrics, predict ranks the classes.
import type { BatchSource } from '../data/types.js';
import { sumMetrics, type SumAcross } from '../metrics/reduce.js';
import type { Metric } from '../metrics/types.js';
import { crossEntropy } from '../nn/losses.js';
import { isFloatingPoint } from '../tensor/dtype.js';
import { scalarTensor } from '../tensor/factories.js';
import { persist } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { inference, modelDevice, withPrecision, type LossFn, type MixedPrecision, type Model } from './inference.js';

export function callLoss(loss: LossFn, output: Tensor, target: Tensor): Tensor {
  return typeof loss === 'function' ? loss(output, target) : loss.forward(output, target);
}

/** Whether metrics can use these targets: class indices (not MixUp's soft targets). */
export function hardTargets(y: Tensor): boolean {
  return !isFloatingPoint(y.dtype) && y.dim() === 1;
}

/** Whether `metric` can use these targets: its task's own always, class indices unless they are soft (Metric.targets). */
export function metricTakes(metric: Metric, y: Tensor): boolean {
  return metric.targets === 'task' || hardTargets(y);
}

export interface EvaluateOptions {
  /** Default: cross-entropy. */
  loss?: LossFn;
  /** Default: the model's device. */
  device?: string;
  mixedPrecision?: MixedPrecision;
  /** The epoch index passed to the source (default 0). */
  epoch?: number;
  /**
   * Adds the pass's sums (loss, samples, metric states) across processes that each evaluated their
   * own shard of the set, so every one of them gets the loss and metrics of the whole set
   * (data-parallel validation). Every metric must then have `sums()` (src/metrics/reduce.ts).
   */
  reduce?: SumAcross;
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
  const precision = options.mixedPrecision ?? false;
  const loss = options.loss ?? ((o: Tensor, t: Tensor) => crossEntropy(o, t));
  for (const m of metrics) m.reset();
  // The sum stays on the device; it is read once at the end.
  const sum = persist(scalarTensor(0, { dtype: 'float64', device }));
  try {
    const samples = await inference(
      model,
      source,
      (out, { x, y }) => {
        const l = withPrecision(precision, device, () => callLoss(loss, out, y));
        sum.add_(l.detach().double().mul(x.shape[0] ?? 0));
        for (const m of metrics) if (metricTakes(m, y)) m.update(out, y);
      },
      { device, precision, epoch: options.epoch ?? 0 },
    );
    let [lossSum, n] = [Number(sum.item()), samples];
    if (options.reduce) [lossSum, n] = (await sumMetrics(metrics, [lossSum, samples], options.reduce)) as [number, number];
    const result: Record<string, number> = {};
    for (const m of metrics) result[m.name] = n ? m.compute() : NaN;
    return { loss: n ? lossSum / n : NaN, metrics: result, samples: n };
  } finally {
    sum.dispose();
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
  const k = options.topK ?? 1;
  const ids: string[] = [];
  const indices: number[] = [];
  const probs: Float32Array[] = [];
  const topC: Int32Array[] = [];
  const topP: Float32Array[] = [];
  let numClasses = -1;
  const onBatch = (out: Tensor, batch: { ids: readonly string[]; indices: readonly number[] }) => {
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
    ids.push(...batch.ids);
    indices.push(...batch.indices);
  };
  await inference(model, source, onBatch, { ...(options.device ? { device: options.device } : {}), precision: options.mixedPrecision ?? false });
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
