// What the pickle of a .pt state dict means: the few globals torch.save and LibTorch's pickler
// write, and nothing else. Tensors come out as descriptions (storage, offset, size, stride) with
// their bounds checked; pt.ts turns them into tensors once the whole pickle has been accepted.
import type { DType } from '../tensor/dtype.js';
import { aPyType, PickleRefusal, PyDict, PyGlobal, PyTuple, type HostValue, type PyValue } from './pickle.js';

const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'float32', DoubleStorage: 'float64', HalfStorage: 'float16', BFloat16Storage: 'bfloat16',
  LongStorage: 'int64', IntStorage: 'int32', ShortStorage: 'int16', CharStorage: 'int8', ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** torch.FloatStorage and friends: only ever a type tag inside a persistent id, never called. */
class StorageType extends PyGlobal {
  constructor(
    qualname: string,
    readonly dtype: DType,
  ) {
    super(qualname);
  }
}

/** One storage of the archive: the record `data/<key>`, holding `numel` elements of `dtype`. */
export class StorageRef implements HostValue {
  readonly pyType = 'torch.Storage';
  constructor(
    readonly key: string,
    readonly dtype: DType,
    readonly numel: number,
  ) {}
}

/** A tensor as `_rebuild_tensor_v2` describes it: a strided window on a storage. */
export class TensorRef implements HostValue {
  readonly pyType = 'torch.Tensor';
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
    /** Elements of the tensor (not of the storage): with stride 0 it can exceed the storage. */
    readonly numel: number,
  ) {}
}

const refuse = (problem: string): never => {
  throw new PickleRefusal(problem);
};

const uint = (v: PyValue, what: string): number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : refuse(`${what} is ${show(v)}, not a non-negative integer`);

const show = (v: PyValue): string => (typeof v === 'number' || typeof v === 'bigint' ? String(v) : aPyType(v));

function tensorArg(v: PyValue | undefined, fn: string): TensorRef {
  return v instanceof TensorRef ? v : refuse(`${fn} expects a tensor, got ${show(v ?? null)}`);
}

/**
 * _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]).
 * requires_grad and hooks are dropped: loaded weights are plain data, as after `load_state_dict`.
 */
function rebuildTensor(args: PyValue[]): TensorRef {
  if (args.length !== 6 && args.length !== 7) refuse(`_rebuild_tensor_v2 takes 6 or 7 arguments, got ${args.length}`);
  const [storage, offset, size, stride, requiresGrad] = args;
  if (!(storage instanceof StorageRef)) return refuse(`_rebuild_tensor_v2 expects a storage, got ${show(storage ?? null)}`);
  const off = uint(offset ?? null, 'storage_offset');
  if (!(size instanceof PyTuple) || !(stride instanceof PyTuple)) return refuse('size and stride must be tuples');
  const dims = size.items.map((d, i) => uint(d, `size[${i}]`));
  const steps = stride.items.map((s, i) => uint(s, `stride[${i}]`));
  if (dims.length !== steps.length) refuse(`size has ${dims.length} dimensions but stride has ${steps.length}`);
  if (typeof requiresGrad !== 'boolean') refuse('requires_grad is not a bool');
  let numel = 1;
  let last = off; // the highest element index the tensor reaches
  for (let i = 0; i < dims.length; i++) {
    const d = dims[i] as number;
    numel *= d;
    if (d > 0) last += (d - 1) * (steps[i] as number);
  }
  if (!Number.isSafeInteger(numel) || !Number.isSafeInteger(last)) refuse(`size [${dims}] with stride [${steps}] is too large`);
  if (numel > 0 ? last >= storage.numel : off > storage.numel)
    refuse(`a tensor of size [${dims}], stride [${steps}], offset ${off} reaches past its storage of ${storage.numel} elements`);
  return new TensorRef(storage, off, dims, steps, numel);
}

const ALLOWED: Record<string, (args: PyValue[]) => PyValue> = {
  'collections.OrderedDict': (args) => (args.length === 0 ? new PyDict() : refuse('OrderedDict(...) with arguments is not supported')),
  'torch._utils._rebuild_tensor_v2': rebuildTensor,
  // A Parameter is its data; requires_grad and hooks (and, in torch 2.x, extra state) are dropped.
  'torch._utils._rebuild_parameter': (args) => tensorArg(args[0], '_rebuild_parameter'),
  'torch._utils._rebuild_parameter_with_state': (args) => tensorArg(args[0], '_rebuild_parameter_with_state'),
  // LibTorch's pickler wraps typed dicts in restore_type_tag(dict, 'Dict[str, Tensor]'): the identity.
  'torch.jit._pickle.restore_type_tag': (args) =>
    args.length === 2 && typeof args[1] === 'string' ? (args[0] as PyValue) : refuse('restore_type_tag takes (value, type string)'),
};

export const ALLOWED_GLOBALS = [...Object.keys(ALLOWED), ...Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`)];

export function findGlobal(module: string, name: string): PyGlobal {
  const qualname = `${module}.${name}`;
  const call = ALLOWED[qualname];
  if (call) return new PyGlobal(qualname, call);
  const dtype = module === 'torch' ? STORAGE_DTYPES[name] : undefined;
  if (dtype) return new StorageType(qualname, dtype);
  throw new PickleRefusal(`refusing to load: the pickle references the global '${qualname}', which a tensor state dict never needs`, true);
}

/** Resolves torch.save's persistent ids ('storage', storage_type, key, location, numel), one StorageRef per key. */
export function storageLoader(): (pid: PyValue) => StorageRef {
  const seen = new Map<string, StorageRef>();
  return (pid) => {
    if (!(pid instanceof PyTuple) || pid.items.length !== 5 || pid.items[0] !== 'storage')
      return refuse(`persistent id ${show(pid)} is not ('storage', type, key, location, numel)`);
    const [, type, key, location, numel] = pid.items;
    if (!(type instanceof StorageType)) return refuse(`storage type is ${show(type ?? null)}, not a torch.*Storage`);
    if (typeof key !== 'string' || typeof location !== 'string') return refuse('storage key and location must be strings');
    const n = uint(numel ?? null, `numel of storage '${key}'`);
    const prev = seen.get(key);
    if (prev && (prev.dtype !== type.dtype || prev.numel !== n))
      return refuse(`storage '${key}' is used both as ${prev.numel} × ${prev.dtype} and ${n} × ${type.dtype}; not supported`);
    const ref = prev ?? new StorageRef(key, type.dtype, n);
    seen.set(key, ref);
    return ref;
  };
}
