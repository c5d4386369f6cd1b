// Reading PyTorch .pt state dicts: the zip archive torch.save writes since PyTorch 1.6 (records
// `<archive>/data.pkl`, `<archive>/data/<key>` per storage, `<archive>/version`), from Python or
// from Tessera (pt-write.ts; older Tessera files were written by LibTorch's pickler and read too).
// Reading uses our restricted unpickler, because LibTorch 1.13's reader turns the OrderedDict of
// every Python state_dict into None, and because a pickle must never run code on load.
import { scope, type Tensor } from '../tensor/index.js';
import { WeightsFileError } from './errors.js';
import { aPyType, PyDict, pyTypeName, unpickle, type PyValue } from './pickle.js';
import { withSource, type ByteSource } from './source.js';
import { elementSize, invalidBoolAt, tensorFromBytes } from './tensor-bytes.js';
import { findGlobal, storageLoader, TensorRef, type StorageRef } from './torch-pickle.js';
import { readZipDirectory, readZipRecord, type ZipRecord } from './zip.js';

export interface LoadPtOptions {
  /**
   * A dotted path to the state dict inside a checkpoint dict, e.g. `'model'` for
   * `torch.save({'model': model.state_dict(), 'epoch': 3}, path)`. Without it, the file's top
   * object must itself be a dict of tensors.
   */
  select?: string;
}

/** Bytes that non-contiguous or partial tensors may be copied into, beyond the file's own size. */
const COPY_ALLOWANCE = 64 * 2 ** 20;

/**
 * Loads a state dict (a dict or OrderedDict of string → tensor) from a .pt file (a path) or bytes.
 *
 * Tensors come back on the CPU, detached, in the file's order. A tensor that covers its whole
 * storage shares it, as after torch.load (two keys saved from one tensor stay one tensor);
 * slices and non-contiguous tensors are copied out as contiguous tensors. Only the globals of a
 * tensor state dict are accepted: anything else (os.system, a pickled class) is an
 * UnsafePickleError, raised before anything is built. The legacy pre-1.6 format and TorchScript
 * archives are recognised and refused.
 */
export function loadPt(input: string | Uint8Array, options: LoadPtOptions = {}): Map<string, Tensor> {
  return withSource(input, (src) => {
    const fail = (problem: string): never => {
      throw new WeightsFileError(src.name, problem);
    };
    const magic = src.read(0, Math.min(src.size, 4), 'the file signature');
    // Legacy torch.save: a bare pickle starting with PROTO 2 and LONG1 (the magic number).
    if (magic[0] === 0x80 && magic[1] === 0x02 && magic[2] === 0x8a)
      fail('this is the legacy (pre-1.6) torch.save format, which Tessera does not read; re-save it with a current PyTorch (torch.save writes zip archives by default)');
    if (!(magic[0] === 0x50 && magic[1] === 0x4b)) fail('not a PyTorch .pt file: it is not a zip archive');
    const records = readZipDirectory(src);
    // TorchScript archives also have a data.pkl, of module objects: say what they are instead.
    if ([...records.keys()].some((n) => /^[^/]+\/constants\.pkl$/.test(n)))
      fail('this is a TorchScript archive (torch.jit.save); save its state_dict() with torch.save instead');
    const pkls = [...records.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
    if (pkls.length !== 1)
      fail(pkls.length === 0 ? 'the archive has no <archive>/data.pkl record' : `the archive has several data.pkl records (${pkls.join(', ')})`);
    const pkl = records.get(pkls[0] as string) as ZipRecord;
    const prefix = pkl.name.slice(0, -'data.pkl'.length);
    const order = records.get(`${prefix}byteorder`);
    if (order) {
      const text = new TextDecoder().decode(readZipRecord(src, order)).trim();
      if (text !== 'little') fail(`the archive's byteorder record says ${JSON.stringify(text.slice(0, 20))}; only little-endian archives are supported`);
    }
    const root = unpickle(readZipRecord(src, pkl), { file: src.name, findGlobal, persistentLoad: storageLoader() });
    const refs = stateDictRefs(src.name, root, options.select);
    return materialize(src, records, prefix, refs);
  });
}

/** The (key, tensor) pairs of the dict at `select`, or a message naming every non-tensor entry. */
function stateDictRefs(file: string, root: PyValue, select: string | undefined): [string, TensorRef][] {
  const fail = (problem: string): never => {
    throw new WeightsFileError(file, problem);
  };
  let node = root;
  let where = 'the top-level object';
  for (const part of select === undefined ? [] : select.split('.')) {
    if (!(node instanceof PyDict)) return fail(`cannot select '${select}': ${where} is ${aPyType(node)}, not a dict`);
    if (!node.items.has(part)) return fail(`cannot select '${select}': ${where} has no key '${part}' (keys: ${keysOf(node)})`);
    node = node.items.get(part) as PyValue;
    where = `'${part}'`;
  }
  if (!(node instanceof PyDict)) return fail(`${where} is ${aPyType(node)}, not a dict of tensors`);
  const refs: [string, TensorRef][] = [];
  const others: string[] = [];
  for (const [k, v] of node.items) {
    if (typeof k === 'string' && v instanceof TensorRef) refs.push([k, v]);
    else others.push(typeof k === 'string' ? `'${k}' (${pyTypeName(v)})` : `${aPyType(k)} key`);
  }
  if (others.length) {
    const dicts = [...node.items].filter(([k, v]) => typeof k === 'string' && v instanceof PyDict).map(([k]) => k as string);
    const hint = dicts.length ? `; if this is a checkpoint, pick its state dict with { select: '${select ? `${select}.` : ''}${dicts[0]}' }` : '';
    fail(`${where} is not a state dict: besides tensors it holds ${others.slice(0, 8).join(', ')}${others.length > 8 ? ', …' : ''}${hint}`);
  }
  return refs;
}

function keysOf(d: PyDict): string {
  const keys = [...d.items.keys()].map((k) => (typeof k === 'string' ? `'${k}'` : pyTypeName(k)));
  return keys.slice(0, 8).join(', ') + (keys.length > 8 ? ', …' : '');
}

/**
 * Reads each storage once and lays the tensors over it. Copies (of slices and non-contiguous
 * tensors) are budgeted: a pickle can describe many tensors over one storage, and the budget
 * keeps a small file from asking for unbounded memory.
 */
function materialize(src: ByteSource, records: Map<string, ZipRecord>, prefix: string, refs: [string, TensorRef][]): Map<string, Tensor> {
  let budget = src.size + COPY_ALLOWANCE;
  return scope(() => {
    const storages = new Map<string, Tensor>();
    const storageTensor = (s: StorageRef, name: string): Tensor => {
      const cached = storages.get(s.key);
      if (cached) return cached;
      const record = records.get(`${prefix}data/${s.key}`);
      if (!record) throw new WeightsFileError(src.name, `tensor '${name}': its storage record '${prefix}data/${s.key}' is missing from the archive`);
      const need = s.numel * elementSize(s.dtype);
      if (record.size !== need)
        throw new WeightsFileError(src.name, `record '${record.name}' has ${record.size} bytes, but a storage of ${s.numel} × ${s.dtype} needs ${need}`);
      const bytes = readZipRecord(src, record);
      const badBool = s.dtype === 'bool' ? invalidBoolAt(bytes) : -1;
      if (badBool >= 0) throw new WeightsFileError(src.name, `record '${record.name}': bool element ${badBool} is ${bytes[badBool]}, not 0 or 1`);
      const t = tensorFromBytes(bytes, s.dtype, [s.numel]);
      storages.set(s.key, t);
      return t;
    };
    const out = new Map<string, Tensor>();
    for (const [name, ref] of refs) {
      const storage = storageTensor(ref.storage, name);
      try {
        let t = storage.asStrided(ref.size, ref.stride, ref.offset);
        if (!(t.isContiguous() && ref.offset === 0 && ref.numel === ref.storage.numel)) {
          const bytes = ref.numel * elementSize(ref.storage.dtype);
          if (bytes > budget)
            throw new WeightsFileError(src.name, `tensor '${name}': copying it out needs ${bytes} bytes, more than this ${src.size}-byte file may ask for`);
          budget -= bytes;
          t = t.clone({ memoryFormat: 'contiguous' });
        }
        out.set(name, t);
      } catch (e) {
        if (e instanceof WeightsFileError) throw e;
        throw new WeightsFileError(src.name, `tensor '${name}': ${(e as Error).message}`);
      }
    }
    return out;
  });
}
