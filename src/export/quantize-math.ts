// The arithmetic of linear 8-bit quantization, as ONNX Runtime's quantizer does it
// (onnxruntime/python/tools/quantization/quant_utils.py: compute_scale_zp, quantize_nparray,
// quantize_bias_static), so a file quantized here holds what ORT's own tool would write for the
// same ranges:
//   real ≈ scale · (q − zero_point)
//   activations: uint8, asymmetric: the range widened to include 0, scale = (max − min) / 255,
//                zero_point = round(−min / scale)  (0 stays exact: zero padding and ReLU's floor);
//   weights:     int8, symmetric, per output channel: scale = max|w| / 127, zero_point 0, so the
//                codes are [−127, 127] (−128 unused, as ORT: int8·int8 products cannot overflow
//                the pairwise sums of the kernels);
//   biases:      int32, scale = input scale · weight scale of the channel, zero_point 0, so the
//                convolution's int32 accumulator adds it as it is.
// Rounding is half to even (numpy.round, and ONNX's QuantizeLinear); scales are float32.

/** A calibrated range of an activation tensor. */
export interface Range {
  readonly min: number;
  readonly max: number;
}

export interface QuantParams {
  /** float32 */
  readonly scale: number;
  /** An integer in the type's range. */
  readonly zeroPoint: number;
}

export const UINT8 = { min: 0, max: 255 } as const;
/** Symmetric int8 (ORT's get_qmin_qmax_for_qType(INT8, symmetric=True)). */
export const INT8_SYMMETRIC = { min: -127, max: 127 } as const;
const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 } as const;

/** Rounds half to even, as numpy.round and ONNX QuantizeLinear. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The smallest positive normal float32 (numpy.finfo(float32).tiny): a scale below it means an all-zero range. */
const FLOAT32_TINY = 1.1754943508222875e-38;

/**
 * ORT's compute_scale_zp: the range is widened to include 0 (and made ±max|·| when symmetric);
 * scale = range / (qmax − qmin) in float64 then stored as float32; an empty range gets scale 1, zero point 0.
 */
export function scaleZeroPoint(range: Range, q: { min: number; max: number }, symmetric: boolean): QuantParams {
  if (!Number.isFinite(range.min) || !Number.isFinite(range.max) || range.min > range.max) throw new RangeError(`cannot quantize the range [${range.min}, ${range.max}]`);
  let rmin = Math.fround(Math.min(range.min, 0));
  let rmax = Math.fround(Math.max(range.max, 0));
  if (symmetric) {
    const absmax = Math.max(Math.abs(rmin), Math.abs(rmax));
    [rmin, rmax] = [-absmax, absmax];
  }
  const scale = (rmax - rmin) / (q.max - q.min);
  if (scale < FLOAT32_TINY) return { scale: 1, zeroPoint: 0 };
  const zeroPoint = symmetric ? roundHalfEven((q.min + q.max) / 2) : roundHalfEven(q.min - rmin / scale);
  return { scale: Math.fround(scale), zeroPoint: Math.min(q.max, Math.max(q.min, zeroPoint)) };
}

/** uint8 activation parameters for a calibrated range. */
export function activationParams(range: Range): QuantParams {
  return scaleZeroPoint(range, UINT8, false);
}

/** q = clamp(round(x / scale) + zero_point): the division in float32, as numpy on float32 arrays. */
export function quantizeValue(x: number, p: QuantParams, q: { min: number; max: number }): number {
  return Math.min(q.max, Math.max(q.min, roundHalfEven(Math.fround(Math.fround(x) / p.scale)) + p.zeroPoint));
}

/** Elements of a row-major tensor of `shape` grouped by their index along `axis`. */
function channelOf(shape: readonly number[], axis: number): (i: number) => number {
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const size = shape[axis] as number;
  return (i) => Math.floor(i / inner) % size;
}

export interface QuantizedWeight {
  /** int8 codes, row-major as the weight. */
  values: Int8Array;
  /** float32 per channel along `axis`. */
  scales: Float32Array;
  axis: number;
}

/** Per-channel symmetric int8 along `axis`: scale_c = max|w_c| / 127, zero point 0. */
export function quantizeWeightPerChannel(w: Float32Array, shape: readonly number[], axis: number): QuantizedWeight {
  const channels = shape[axis] as number;
  const channel = channelOf(shape, axis);
  const absmax = new Float64Array(channels);
  w.forEach((v, i) => {
    const c = channel(i);
    absmax[c] = Math.max(absmax[c] as number, Math.abs(v));
  });
  const params = Array.from(absmax, (m) => scaleZeroPoint({ min: -m, max: m }, INT8_SYMMETRIC, true));
  return weightCodes(w, shape, axis, Float32Array.from(params, (p) => p.scale));
}

/** The int8 codes of `w` for given per-channel scales (zero points 0). */
export function weightCodes(w: Float32Array, shape: readonly number[], axis: number, scales: Float32Array): QuantizedWeight {
  const channel = channelOf(shape, axis);
  const values = Int8Array.from(w, (v, i) => quantizeValue(v, { scale: scales[channel(i)] as number, zeroPoint: 0 }, INT8_SYMMETRIC));
  return { values, scales, axis };
}

/**
 * int32 bias codes with scale_c = input scale · weight scale_c (float32). Where a bias would not fit
 * int32 (a channel whose weights are all tiny), that channel's weight scale is raised until it does,
 * as ORT does (its weight codes must then be recomputed with the returned scales).
 */
export function quantizeBias(b: Float32Array, inputScale: number, weightScales: Float32Array): { values: Int32Array; scales: Float32Array; weightScales: Float32Array } {
  const adjusted = Float32Array.from(weightScales);
  const scales = new Float32Array(b.length);
  const values = new Int32Array(b.length);
  b.forEach((v, c) => {
    let s = Math.fround(inputScale * (adjusted[c] as number));
    if (Math.abs(v) / s > INT32.max) {
      adjusted[c] = Math.fround((Math.abs(v) / INT32.max / inputScale) * (1 + 1e-6));
      s = Math.fround(inputScale * (adjusted[c] as number));
    }
    scales[c] = s;
    values[c] = Math.min(INT32.max, Math.max(INT32.min, roundHalfEven(Math.fround(Math.fround(v) / s))));
  });
  return { values, scales, weightScales: adjusted };
}
