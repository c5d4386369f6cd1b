// safetensors (https://github.com/huggingface/safetensors), read and written as its reference
// implementation does: 8 bytes of little-endian header length N, N bytes of JSON header, then
// the data buffer. The reader trusts nothing in the header: every size and offset is checked
// against the file's real length before anything is allocated, and the buffer must be covered
// exactly (no overlaps, no holes, no trailing bytes), as the spec requires.
import type { DType } from '../tensor/dtype.js';
import { scope, type Tensor } from '../tensor/index.js';
import { writeFileAtomic } from './atomic.js';
import { WeightsFileError } from './errors.js';
import { JsonInexact, JsonSyntaxError, parseJson, type JsonValue } from './json.js';
import { withSource, type ByteSource } from './source.js';
import { elementSize, invalidBoolAt, tensorBytes, tensorFromBytes } from './tensor-bytes.js';

/** The reference refuses headers above 100 MB (MAX_HEADER_SIZE): a size field cannot make us read more. */
export const MAX_HEADER_BYTES = 100_000_000;

const TO_DTYPE: Record<string, DType> = {
  F64: 'float64', F32: 'float32', F16: 'float16', BF16: 'bfloat16',
  I64: 'int64', I32: 'int32', I16: 'int16', I8: 'int8', U8: 'uint8', BOOL: 'bool',
};
const FROM_DTYPE = Object.fromEntries(Object.entries(TO_DTYPE).map(([k, v]) => [v, k])) as Record<DType, string>;
/** Valid in the spec, but with no Tessera dtype: named in the error rather than called unknown. */
const FOREIGN_DTYPES = new Set(['U16', 'U32', 'U64', 'C64', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F8_E4M3FNUZ', 'F8_E5M2FNUZ', 'F4', 'F6_E2M3', 'F6_E3M2']);
/** The reference's Dtype enum order (increasing alignment); the writer sorts by it, descending. */
const ALIGNMENT_RANK: Record<DType, number> = {
  bool: 0, uint8: 1, int8: 2, int16: 3, float16: 4, bfloat16: 5, int32: 6, float32: 7, float64: 8, int64: 9,
};

export interface SafetensorsEntry {
  name: string;
  dtype: DType;
  shape: number[];
  /** [begin, end) within the data buffer, which starts right after the header. */
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  tensors: SafetensorsEntry[];
  /** The `__metadata__` strings, or null when the file has none. */
  metadata: Record<string, string> | null;
  /** Where the data buffer starts in the file (8 + N). */
  dataStart: number;
}

export interface SafetensorsContents {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string> | null;
}

export type TensorsIn = ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>;

/** The (name, tensor) pairs of a Map or a plain object, in iteration order. */
export function entriesOf(tensors: TensorsIn): [string, Tensor][] {
  return tensors instanceof Map ? [...(tensors as ReadonlyMap<string, Tensor>).entries()] : Object.entries(tensors as Readonly<Record<string, Tensor>>);
}

export interface SaveSafetensorsOptions {
  /** Free-form strings stored under `__metadata__` (e.g. `{ format: 'pt' }`, as transformers writes). */
  metadata?: Readonly<Record<string, string>>;
}

// ---- reading ----

/** Parses and checks the header of a file (a path) or of bytes, without reading tensor data. */
export function readSafetensorsHeader(input: string | Uint8Array): SafetensorsHeader {
  return withSource(input, parseHeader);
}

/** Loads every tensor of a safetensors file (a path) or bytes, in header order, as new CPU tensors. */
export function loadSafetensors(input: string | Uint8Array): Map<string, Tensor> {
  return readSafetensors(input).tensors;
}

/** Like loadSafetensors, also returning the `__metadata__` strings. */
export function readSafetensors(input: string | Uint8Array): SafetensorsContents {
  return withSource(input, (src) => {
    const header = parseHeader(src);
    // On any failure the scope frees the tensors made so far.
    const tensors = scope(() => {
      const out = new Map<string, Tensor>();
      for (const e of header.tensors) {
        const [begin, end] = e.dataOffsets;
        const bytes = src.read(header.dataStart + begin, end - begin, `the data of tensor '${e.name}'`);
        const badBool = e.dtype === 'bool' ? invalidBoolAt(bytes) : -1;
        if (badBool >= 0) throw new WeightsFileError(src.name, `tensor '${e.name}': BOOL element ${badBool} is ${bytes[badBool]}, not 0 or 1`);
        out.set(e.name, tensorFromBytes(bytes, e.dtype, e.shape));
      }
      return out;
    });
    return { tensors, metadata: header.metadata };
  });
}

function parseHeader(src: ByteSource): SafetensorsHeader {
  const fail = (problem: string): never => {
    throw new WeightsFileError(src.name, problem);
  };
  if (src.size < 8) fail(`not a safetensors file: ${src.size} bytes, fewer than the 8-byte header length`);
  const lenBytes = src.read(0, 8, 'the header length');
  const n = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true);
  const zipHint = lenBytes[0] === 0x50 && lenBytes[1] === 0x4b ? ' (it starts like a zip archive: a PyTorch .pt file?)' : '';
  if (n > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n} is over the ${MAX_HEADER_BYTES}-byte limit${zipHint}`);
  const headerLen = Number(n);
  if (8 + headerLen > src.size) fail(`header length ${headerLen} runs past the end of the ${src.size}-byte file${zipHint}`);
  const raw = src.read(8, headerLen, 'the header');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
  } catch {
    return fail('the header is not valid UTF-8');
  }
  // The README says the header MUST start with '{', but the reference never enforced it and now
  // accepts leading whitespace on purpose (writers may pad to align the data): so do we.
  let json: JsonValue;
  try {
    json = parseJson(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) return fail(`the header is not valid JSON: ${e.message}`);
    throw e;
  }
  if (!(json instanceof Map)) return fail('the header is not a JSON object');

  const dataStart = 8 + headerLen;
  const dataLen = src.size - dataStart;
  let metadata: Record<string, string> | null = null;
  const tensors: SafetensorsEntry[] = [];
  for (const [name, v] of json) {
    if (name === '__metadata__') metadata = parseMetadata(v, fail);
    else tensors.push(parseEntry(name, v, dataLen, fail));
  }
  checkCoverage(tensors, dataLen, fail);
  return { tensors, metadata, dataStart };
}

function parseMetadata(v: JsonValue, fail: (p: string) => never): Record<string, string> {
  if (!(v instanceof Map)) return fail('__metadata__ is not an object of strings');
  const out: Record<string, string> = {};
  for (const [k, s] of v) {
    if (typeof s !== 'string') fail(`__metadata__ value '${k}' is ${describe(s)}, not a string`);
    out[k] = s as string;
  }
  return out;
}

function parseEntry(name: string, v: JsonValue, dataLen: number, fail: (p: string) => never): SafetensorsEntry {
  const bad = (problem: string): never => fail(`tensor '${name}': ${problem}`);
  if (!(v instanceof Map)) return bad(`its entry is ${describe(v)}, not an object`);
  const field = (k: string): JsonValue => (v.has(k) ? (v.get(k) as JsonValue) : bad(`no '${k}'`));
  const code = field('dtype');
  if (typeof code !== 'string') return bad(`dtype is ${describe(code)}, not a string`);
  const dtype = TO_DTYPE[code];
  if (dtype === undefined)
    return bad(FOREIGN_DTYPES.has(code) ? `dtype ${code} has no Tessera equivalent` : `unknown dtype ${JSON.stringify(code)} (expected one of ${Object.keys(TO_DTYPE).join(', ')})`);
  const shape = uintArray(field('shape'), 'shape', bad);
  const offsets = uintArray(field('data_offsets'), 'data_offsets', bad);
  if (offsets.length !== 2) bad(`data_offsets has ${offsets.length} numbers, not [begin, end]`);
  const [begin, end] = offsets as [number, number];
  if (begin > end) bad(`data_offsets [${begin}, ${end}] begin after end`);
  // numel × size, compared to the bytes it claims; it stops growing past 2^53 (where it could no
  // longer be exact, and no file is that large).
  let bytes = elementSize(dtype);
  if (shape.includes(0)) bytes = 0;
  else for (const d of shape) if ((bytes *= d) > Number.MAX_SAFE_INTEGER) break;
  if (bytes !== end - begin)
    bad(`shape [${shape.join(', ')}] of ${code} needs ${bytes > Number.MAX_SAFE_INTEGER ? 'more than 2^53' : bytes} bytes, but data_offsets [${begin}, ${end}] hold ${end - begin}`);
  if (end > dataLen) bad(`data_offsets [${begin}, ${end}] end beyond the ${dataLen}-byte data buffer`);
  return { name, dtype, shape, dataOffsets: [begin, end] };
}

function uintArray(v: JsonValue, what: string, bad: (p: string) => never): number[] {
  if (!Array.isArray(v)) return bad(`${what} is ${describe(v)}, not an array`);
  return v.map((x) => {
    if (typeof x === 'number' && x >= 0) return x; // the parser gives numbers only for exact integers
    const shown = x instanceof JsonInexact ? x.text : typeof x === 'number' ? String(x) : describe(x);
    return bad(`${what} [${v.map((y) => (y instanceof JsonInexact ? y.text : JSON.stringify(y))).join(', ')}] has ${shown}, not a non-negative integer below 2^53`);
  });
}

/** The spec: tensors tile the data buffer exactly, in some order, with nothing in between or after. */
function checkCoverage(tensors: SafetensorsEntry[], dataLen: number, fail: (p: string) => never): void {
  const byOffset = [...tensors].sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  let cursor = 0;
  let prev: SafetensorsEntry | undefined;
  for (const e of byOffset) {
    const [begin, end] = e.dataOffsets;
    if (begin < cursor) fail(`tensors '${prev?.name}' and '${e.name}' overlap (bytes ${begin}..${cursor} of the data buffer)`);
    if (begin > cursor) fail(`hole in the data buffer: bytes ${cursor}..${begin} before tensor '${e.name}' belong to no tensor`);
    cursor = end;
    prev = e;
  }
  if (cursor !== dataLen) fail(`the data buffer has ${dataLen - cursor} bytes after the last tensor that belong to no tensor`);
}

function describe(v: JsonValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Map) return 'an object';
  if (v instanceof JsonInexact) return `the number ${v.text}`;
  return typeof v === 'string' ? `the string ${JSON.stringify(v)}` : `${typeof v} ${String(v)}`;
}

// ---- writing ----

interface Planned {
  name: string;
  tensor: Tensor;
  nbytes: number;
}

/** Writes `tensors` to `path` atomically, laid out as the reference writer lays them out. */
export function saveSafetensors(path: string, tensors: TensorsIn, options: SaveSafetensorsOptions = {}): void {
  const { header, planned } = plan(path, tensors, options.metadata);
  writeFileAtomic(path, chunks(path, header, planned));
}

/** The bytes of a safetensors file holding `tensors` (for sending over a wire; files use saveSafetensors). */
export function serializeSafetensors(tensors: TensorsIn, options: SaveSafetensorsOptions = {}): Uint8Array {
  const { header, planned } = plan('<bytes>', tensors, options.metadata);
  const parts = [...chunks('<bytes>', header, planned)];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** UTF-8 byte order, as Rust compares Strings (JS's < compares UTF-16 units, which differs past U+FFFF). */
const utf8Order = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

function plan(file: string, tensors: TensorsIn, metadata: Readonly<Record<string, string>> | undefined): { header: Uint8Array; planned: Planned[] } {
  const fail = (problem: string): never => {
    throw new WeightsFileError(file, problem);
  };
  const planned = entriesOf(tensors).map(([name, tensor]): Planned & { dtype: DType; shape: number[] } => {
    if (name === '__metadata__') fail("'__metadata__' is reserved and cannot name a tensor");
    if (/\p{Cs}/u.test(name)) fail(`tensor name ${JSON.stringify(name)} has a lone surrogate and cannot be written as UTF-8`);
    if (tensor.disposed) fail(`tensor '${name}' was disposed`);
    const dtype = tensor.dtype;
    const shape = tensor.shape;
    return { name, tensor, dtype, shape, nbytes: shape.reduce((a, b) => a * b, 1) * elementSize(dtype) };
  });
  // The reference's order: larger alignment first, then by name; offsets follow that order.
  planned.sort((a, b) => ALIGNMENT_RANK[b.dtype] - ALIGNMENT_RANK[a.dtype] || utf8Order(a.name, b.name));
  const parts: string[] = [];
  if (metadata !== undefined) {
    const kv = Object.entries(metadata).sort(([a], [b]) => utf8Order(a, b));
    for (const [k, v] of kv) if (typeof v !== 'string') fail(`metadata value '${k}' is ${typeof v}, not a string`);
    parts.push(`"__metadata__":{${kv.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);
  }
  let offset = 0;
  for (const p of planned) {
    parts.push(`${JSON.stringify(p.name)}:{"dtype":"${FROM_DTYPE[p.dtype]}","shape":[${p.shape.join(',')}],"data_offsets":[${offset},${offset + p.nbytes}]}`);
    offset += p.nbytes;
  }
  // JSON.stringify escapes exactly as serde_json does (\" \\ \b \f \n \r \t, \u00xx lowercase).
  const json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  // Padded with spaces to a multiple of 8, so the data buffer starts aligned.
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const header = new Uint8Array(8 + padded).fill(0x20, 8 + json.byteLength);
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(json, 8);
  return { header, planned };
}

function* chunks(file: string, header: Uint8Array, planned: Planned[]): Generator<Uint8Array> {
  yield header;
  for (const p of planned) {
    const bytes = tensorBytes(p.tensor);
    // The header is already written: a tensor that changed size meanwhile must abort the write.
    if (bytes.byteLength !== p.nbytes) throw new WeightsFileError(file, `tensor '${p.name}' changed size while being written`);
    yield bytes;
  }
}
