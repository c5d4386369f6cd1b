// Calibration: the ranges of a model's activations on representative inputs, measured by running
// the fp32 ONNX model in ONNX Runtime with the tensors to quantize (quantize.ts names them) added as
// graph outputs — what ORT's calibrators do, with graph optimizations off so every tensor is the
// one the quantized graph will hold. Two methods, as ORT's:
//   'minmax'     the smallest and largest value seen over all the samples;
//   'percentile' a 2048-bin histogram over [min, max] of each tensor (a second pass), and the
//                range that cuts (100 − p)/2 % of the values off each end (ORT's default p = 99.999).
//                It spends the 256 codes on where the values are rather than on a few outliers: worth
//                trying when MinMax loses accuracy on a model with long-tailed activations.
import { clone, create, toBinary } from '@bufbuild/protobuf';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';

import { ModelProtoSchema, TensorProto_DataType as DataType, ValueInfoProtoSchema, type ModelProto } from './generated/onnx_pb.js';
import type { Range } from './quantize-math.js';

export const CALIBRATION_METHODS = ['minmax', 'percentile'] as const;
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];

export interface CalibrationOptions {
  /** Default 'minmax'. */
  method?: CalibrationMethod;
  /** 'percentile': the share of values kept, in percent (default 99.999). */
  percentile?: number;
  /** ONNX Runtime's intra-op threads (default: its own choice). */
  threads?: number;
}

/** One batch of the model's (single) input: float32, row-major. */
export interface InputBatch {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

const BINS = 2048;

/** The range of each named tensor over every batch (see the header). */
export async function calibrate(model: ModelProto, tensors: readonly string[], batches: readonly InputBatch[], options: CalibrationOptions = {}): Promise<Map<string, Range>> {
  const method = options.method ?? 'minmax';
  if (!CALIBRATION_METHODS.includes(method)) throw new RangeError(`calibration method must be one of ${CALIBRATION_METHODS.join(', ')}, got '${String(method)}'`);
  const percentile = options.percentile ?? 99.999;
  if (!(percentile > 50 && percentile <= 100)) throw new RangeError(`percentile must be in (50, 100], got ${percentile}`);
  if (batches.length === 0) throw new RangeError('calibration needs at least one batch of inputs');
  const g = model.graph;
  if (!g || g.input.length !== 1) throw new RangeError(`calibration feeds one input; the model has ${g?.input.length ?? 0}`);
  const inputName = g.input[0]?.name as string;

  const probe = clone(ModelProtoSchema, model);
  const graph = probe.graph as NonNullable<ModelProto['graph']>;
  const outputs = new Set(graph.output.map((o) => o.name));
  const fetched = tensors.filter((t) => t !== inputName);
  for (const t of fetched)
    if (!outputs.has(t)) graph.output.push(create(ValueInfoProtoSchema, { name: t, type: { value: { case: 'tensorType', value: { elemType: DataType.FLOAT } } } }));

  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(toBinary(ModelProtoSchema, probe), {
    graphOptimizationLevel: 'disabled',
    ...(options.threads ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {}),
  });
  try {
    const pass = async (visit: (name: string, values: Float32Array) => void) => {
      for (const b of batches) {
        if (tensors.includes(inputName)) visit(inputName, b.data);
        const out = await session.run({ [inputName]: new ort.Tensor('float32', b.data, b.dims) } as InferenceSession.FeedsType, fetched);
        for (const t of fetched) visit(t, (out[t] as OrtTensor).data as Float32Array);
      }
    };
    const ranges = new Map<string, Range>();
    await pass((name, values) => {
      let { min, max } = ranges.get(name) ?? { min: Infinity, max: -Infinity };
      for (const v of values) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
      ranges.set(name, { min, max });
    });
    for (const [name, r] of ranges) if (!Number.isFinite(r.min) || !Number.isFinite(r.max)) throw new Error(`calibration: tensor '${name}' holds non-finite values (range [${r.min}, ${r.max}])`);
    if (method === 'minmax') return ranges;

    const histograms = new Map([...ranges.keys()].map((name) => [name, new Float64Array(BINS)]));
    await pass((name, values) => {
      const { min, max } = ranges.get(name) as Range;
      const h = histograms.get(name) as Float64Array;
      const width = (max - min) / BINS;
      for (const v of values) h[width > 0 ? Math.min(BINS - 1, Math.floor((v - min) / width)) : 0]! += 1;
    });
    return new Map([...ranges].map(([name, r]) => [name, percentileRange(histograms.get(name) as Float64Array, r, percentile)]));
  } finally {
    await session.release();
  }
}

/**
 * ORT's HistogramCalibrater.compute_percentile for asymmetric ranges: the bin edges where the
 * cumulative share first reaches (100 − p)/200 and 1 − (100 − p)/200, kept within [min, max].
 */
export function percentileRange(histogram: Float64Array, r: Range, percentile: number): Range {
  const total = histogram.reduce((a, b) => a + b, 0);
  const cut = (100 - percentile) / 200;
  const width = (r.max - r.min) / histogram.length;
  const edge = (share: number) => {
    let cdf = 0;
    for (let i = 0; i < histogram.length; i++) {
      cdf += (histogram[i] as number) / total;
      if (cdf >= share) return r.min + i * width;
    }
    return r.max;
  };
  return { min: Math.max(r.min, edge(cut)), max: Math.min(r.max, edge(1 - cut)) };
}
