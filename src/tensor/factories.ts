// Making tensors from JS data. `tensor()` always copies; `fromBufferShared()` is the one
// zero-copy path, named apart because the tensor then aliases memory that JS can still change.
import { dtypeCode, dtypeInfo, dtypeOfArray, type DType } from './dtype.js';
import type { DeviceLike } from './device.js';
import { native } from './native.js';
import { Tensor, type NestedArray } from './tensor.js';

export interface TensorOptions {
  dtype?: DType;
  device?: DeviceLike;
  requiresGrad?: boolean;
  /** For a flat TypedArray: the shape to give it (default: 1-D). */
  shape?: readonly number[];
}

type Data = NestedArray<number | boolean | bigint> | ArrayBufferView;

/** Shape of a nested array, checking that it is rectangular; names the path of the first ragged row. */
function inferShape(data: NestedArray<number | boolean | bigint>): number[] {
  const shape: number[] = [];
  let level: unknown = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  const check = (v: unknown, d: number, path: string): void => {
    if (d === shape.length) {
      if (Array.isArray(v)) throw new TypeError(`tensor(): ragged nested array: ${path} has more dimensions than ${path.replace(/\[\d+\]$/, '[0]')}`);
      if (typeof v !== 'number' && typeof v !== 'boolean' && typeof v !== 'bigint')
        throw new TypeError(`tensor(): element ${path} is ${v === null ? 'null' : typeof v}, expected a number, boolean or bigint`);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[d])
      throw new TypeError(`tensor(): ragged nested array: ${path} has ${Array.isArray(v) ? `length ${v.length}` : 'no elements'}, expected ${shape[d]}`);
    v.forEach((x, i) => check(x, d + 1, `${path}[${i}]`));
  };
  check(data, 0, 'data');
  return shape;
}

function flatten(data: NestedArray<number | boolean | bigint>, out: (number | boolean | bigint)[]): void {
  if (Array.isArray(data)) for (const d of data) flatten(d, out);
  else out.push(data);
}

/** PyTorch's inference: any float → float32, all booleans → bool, otherwise int64. */
function inferDType(values: (number | boolean | bigint)[]): DType {
  if (values.length > 0 && values.every((v) => typeof v === 'boolean')) return 'bool';
  if (values.some((v) => typeof v === 'number' && !Number.isInteger(v))) return 'float32';
  return values.length === 0 ? 'float32' : 'int64';
}

function fill(values: (number | boolean | bigint)[], dtype: DType): ArrayBufferView {
  const Ctor = dtype === 'float16' || dtype === 'bfloat16' ? Float32Array : dtypeInfo(dtype).array;
  const out = new Ctor(values.length);
  if (out instanceof BigInt64Array) values.forEach((v, i) => (out[i] = BigInt(typeof v === 'boolean' ? Number(v) : v)));
  else values.forEach((v, i) => ((out as Float32Array)[i] = Number(v)));
  return out;
}

function finish(t: Tensor, options: TensorOptions): Tensor {
  let out = t;
  if (options.device !== undefined && options.device !== 'cpu') {
    out = t.to({ device: options.device });
    t.dispose();
  }
  if (options.requiresGrad) out.requiresGrad_(true);
  return out;
}

/**
 * A new tensor holding a copy of `data`: a number, boolean, nested array or TypedArray.
 *
 *     tensor([[1, 2], [3, 4]])                  // int64, shape [2, 2]
 *     tensor([0.5, 1.5], { requiresGrad: true }) // float32
 *     tensor(new Float32Array(784), { shape: [1, 28, 28] })
 */
export function tensor(data: Data | number | boolean, options: TensorOptions = {}): Tensor {
  if (ArrayBuffer.isView(data)) {
    const natural = dtypeOfArray(data);
    const shape = options.shape ?? [data.byteLength / dtypeInfo(natural).bytes];
    const t = new Tensor(native.fromBuffer(data, dtypeCode(natural), shape));
    if (options.dtype && options.dtype !== natural) {
      const converted = t.to({ dtype: options.dtype });
      t.dispose();
      return finish(converted, options);
    }
    return finish(t, options);
  }
  const shape = inferShape(data as NestedArray<number | boolean | bigint>);
  const values: (number | boolean | bigint)[] = [];
  flatten(data as NestedArray<number | boolean | bigint>, values);
  const dtype = options.dtype ?? inferDType(values);
  // float16/bfloat16 have no JS array: build float32 and convert natively.
  const staging: DType = dtype === 'float16' || dtype === 'bfloat16' ? 'float32' : dtype;
  let t = new Tensor(native.fromBuffer(fill(values, staging), dtypeCode(staging), options.shape ?? shape));
  if (staging !== dtype) {
    const converted = t.to({ dtype });
    t.dispose();
    t = converted;
  }
  return finish(t, options);
}

/**
 * A CPU tensor over the same memory as `data` — no copy. Writes through either side are seen by
 * the other. The buffer is kept alive for as long as any tensor (or view) uses it. Use it for
 * large buffers you will not touch from JS while the tensor lives (decoded images, mmap'd files).
 */
export function fromBufferShared(data: ArrayBufferView, shape?: readonly number[], dtype?: DType): Tensor {
  const d = dtype ?? dtypeOfArray(data);
  const s = shape ?? [data.byteLength / dtypeInfo(d).bytes];
  return new Tensor(native.fromBufferShared(data, dtypeCode(d), s));
}

/** A 0-dim tensor holding one number (PyTorch's `torch.tensor(3.0)`). */
export function scalarTensor(value: number | boolean, options: TensorOptions = {}): Tensor {
  return tensor(value, options);
}
