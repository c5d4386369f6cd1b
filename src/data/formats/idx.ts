// IDX files (the MNIST family's format), plain or gzip-compressed. Header: two zero bytes, a type
// byte, the number of dimensions, then one big-endian uint32 per dimension, then the data.
// Every check names the file and the field at fault; sizes are validated against the file length
// before anything is allocated, so a corrupt header cannot trigger a huge allocation.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

import { DataError } from '../types.js';

export interface IdxArray {
  shape: number[];
  /** Element type as stored; Fashion-MNIST images and labels are uint8. */
  type: 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/** A DataError whose `id` is the IDX file. */
export class IdxFormatError extends DataError {
  override name = 'IdxFormatError';
}

const TYPES: Record<number, { type: IdxArray['type']; bytes: number }> = {
  0x08: { type: 'uint8', bytes: 1 },
  0x09: { type: 'int8', bytes: 1 },
  0x0b: { type: 'int16', bytes: 2 },
  0x0c: { type: 'int32', bytes: 4 },
  0x0d: { type: 'float32', bytes: 4 },
  0x0e: { type: 'float64', bytes: 8 },
};

/** Largest decompressed file accepted (guards against gzip bombs). */
const MAX_BYTES = 4 * 1024 ** 3;

export function parseIdx(bytes: Uint8Array, name = '<buffer>'): IdxArray {
  const fail = (why: string): never => {
    throw new IdxFormatError(name, why);
  };
  if (bytes.length < 4) fail(`too short for an IDX header (${bytes.length} bytes)`);
  if (bytes[0] !== 0 || bytes[1] !== 0) fail('bad magic number: the first two bytes must be zero');
  const typeInfo = TYPES[bytes[2] as number] ?? fail(`unknown element type 0x${(bytes[2] as number).toString(16)}`);
  const ndim = bytes[3] as number;
  if (ndim === 0) fail('header declares zero dimensions');
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) fail(`truncated header: ${ndim} dimensions need ${headerBytes} bytes, file has ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  let count = 1;
  for (let i = 0; i < ndim; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    shape.push(d);
    count *= d;
  }
  const need = headerBytes + count * typeInfo.bytes;
  if (bytes.length !== need)
    fail(`shape [${shape.join(', ')}] of ${typeInfo.type} needs ${need} bytes, file has ${bytes.length}${bytes.length < need ? ' (truncated)' : ' (trailing data)'}`);
  const body = bytes.subarray(headerBytes);
  let data: IdxArray['data'];
  switch (typeInfo.type) {
    case 'uint8': data = new Uint8Array(body); break;
    case 'int8': data = new Int8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength)); break;
    default: {
      // Multi-byte IDX data is big-endian: swap into the platform's order.
      const Ctor = { int16: Int16Array, int32: Int32Array, float32: Float32Array, float64: Float64Array }[typeInfo.type];
      const out = new Ctor(count);
      const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
      for (let i = 0; i < count; i++) {
        const o = i * typeInfo.bytes;
        out[i] = typeInfo.type === 'int16' ? dv.getInt16(o, false) : typeInfo.type === 'int32' ? dv.getInt32(o, false)
          : typeInfo.type === 'float32' ? dv.getFloat32(o, false) : dv.getFloat64(o, false);
      }
      data = out;
    }
  }
  return { shape, type: typeInfo.type, data };
}

/** Reads an IDX file; `.gz` files (or any file starting with the gzip magic) are decompressed. */
export function readIdx(path: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new IdxFormatError(path, `cannot read: ${(e as Error).message}`, { cause: e });
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: MAX_BYTES });
    } catch (e) {
      throw new IdxFormatError(path, `corrupt gzip data: ${(e as Error).message}`, { cause: e });
    }
  }
  return parseIdx(bytes, path);
}
