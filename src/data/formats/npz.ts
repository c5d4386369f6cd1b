// NumPy's .npz: a zip of .npy members (np.savez stores them, np.savez_compressed deflates them).
// The zip directory is read by src/io/zip.ts. Stored members are parsed in place, straight from the
// file's mapping; deflated ones must be inflated into memory, under a size cap so a zip bomb or a
// lying header cannot exhaust memory.
import * as zlib from 'node:zlib';

import { WeightsFileError } from '../../io/errors.js';
import { readZipDirectory, type ZipRecord } from '../../io/zip.js';
import { DataError } from '../types.js';
import { memoryBytes, openFileBytes } from './file-bytes.js';
import { parseNpy, type ByteRange, type NpyArray } from './npy.js';

export interface NpzOptions {
  /** Largest inflated size of one deflated member (default 2 GiB). */
  maxInflatedBytes?: number;
}

const crc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/**
 * The arrays of an .npz by key (`np.savez(f, x=...)` → `x`). Members are parsed when opened,
 * so a damaged member is reported here, naming `archive.npz#member.npy`.
 */
export function readNpz(path: string, options: NpzOptions = {}): Map<string, NpyArray> {
  const file = openFileBytes(path);
  return parseNpz({ name: path, size: file.size, read: (o, l, w) => file.read(o, l, w) }, options);
}

/** The same, over bytes already at hand (`file.name` names them in errors). */
export function parseNpz(file: ByteRange, options: NpzOptions = {}): Map<string, NpyArray> {
  const path = file.name;
  const cap = options.maxInflatedBytes ?? 2 * 1024 ** 3;
  const src = { ...file, read: (o: number, l: number, w: string) => file.read(o, l, w), close: () => {} };
  let records: Map<string, ZipRecord>;
  try {
    records = readZipDirectory(src);
  } catch (e) {
    if (e instanceof WeightsFileError) throw new DataError(path, e.message.replace(`${path}: `, ''), { cause: e });
    throw e;
  }
  const arrays = new Map<string, NpyArray>();
  for (const r of records.values()) {
    if (r.name.endsWith('/')) continue; // a directory entry
    const id = `${path}#${r.name}`;
    let member: ByteRange;
    if (r.method === 0) {
      // Stored: a window onto the file. Its CRC is not checked, since that would page in the whole
      // member (possibly larger than RAM) on open; the NPY header and size checks still apply.
      member = { name: id, size: r.size, read: (o, l, w) => readWithin(src.read, r, o, l, w, id) };
    } else if (r.method === 8) {
      let bytes: Uint8Array;
      try {
        bytes = zlib.inflateRawSync(file.read(r.dataOffset, r.size, `member ${r.name}`), { maxOutputLength: cap });
      } catch (e) {
        const code = (e as { code?: string }).code;
        throw new DataError(id, code === 'ERR_BUFFER_TOO_LARGE'
          ? `inflates to more than ${cap} bytes (the cap; raise maxInflatedBytes, or save with np.savez, uncompressed, to map it)`
          : `corrupt deflate data: ${(e as Error).message}`, { cause: e });
      }
      if (crc32 && crc32(bytes) >>> 0 !== r.crc32) throw new DataError(id, 'fails its CRC-32 check: the archive is corrupt');
      const inflated = memoryBytes(bytes, id);
      member = { name: id, size: bytes.length, read: (o, l, w) => inflated.read(o, l, w) };
    } else {
      throw new DataError(id, `compression method ${r.method} is not supported (only stored and deflated)`);
    }
    arrays.set(r.name.replace(/\.npy$/, ''), parseNpy(member));
  }
  return arrays;
}

function readWithin(read: (o: number, l: number, w: string) => Uint8Array, r: ZipRecord, o: number, l: number, what: string, id: string): Uint8Array {
  if (o < 0 || l < 0 || o + l > r.size) throw new DataError(id, `${what} (bytes ${o}..${o + l}) lies beyond the ${r.size}-byte member`);
  return read(r.dataOffset + o, l, what);
}
