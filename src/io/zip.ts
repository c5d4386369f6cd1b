// Reading the zip container of PyTorch's .pt format. torch.save and LibTorch store every record
// uncompressed (so tensors can be memory-mapped), which keeps this reader small: find the central
// directory (zip64 included, for files over 4 GB), list the records, and read one record's bytes
// on demand. Every offset and count is checked against the file size before it is used, and
// record contents are checked against their CRC-32 when Node provides zlib.crc32 (20.15+).
import * as zlib from 'node:zlib';

import { WeightsFileError } from './errors.js';
import type { ByteSource } from './source.js';

export interface ZipRecord {
  name: string;
  /** Where the record's bytes start in the file (past its local header). */
  dataOffset: number;
  size: number;
  crc32: number;
  /** 0 = stored. Others (TorchScript's code records are deflated) are refused when read. */
  method: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const crc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Reads a zip's central directory. Records by name, in directory order. */
export function readZipDirectory(src: ByteSource): Map<string, ZipRecord> {
  const fail = (problem: string): never => {
    throw new WeightsFileError(src.name, problem);
  };
  // The end-of-central-directory record: 22 bytes plus a comment of up to 65535, at the very end.
  const tailLen = Math.min(src.size, 22 + 0xffff);
  const tail = src.read(src.size - tailLen, tailLen, 'the end of the zip');
  const tv = view(tail);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === EOCD_SIG && i + 22 + tv.getUint16(i + 20, true) === tailLen) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail('not a zip archive: no end-of-central-directory record (truncated download?)');
  if (tv.getUint16(eocd + 4, true) !== 0 || tv.getUint16(eocd + 6, true) !== 0) fail('multi-part zip archives are not supported');
  let count: number = tv.getUint16(eocd + 10, true);
  let cdSize: number = tv.getUint32(eocd + 12, true);
  let cdOffset: number = tv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    // zip64: a locator just before the EOCD points to the 64-bit end record.
    const locAt = src.size - tailLen + eocd - 20;
    if (locAt < 0) fail('zip64 archive without its zip64 locator');
    const loc = view(src.read(locAt, 20, 'the zip64 locator'));
    if (loc.getUint32(0, true) !== ZIP64_LOCATOR_SIG) fail('zip64 archive without its zip64 locator');
    const end = view(src.read(u64(loc, 8, fail), 56, 'the zip64 end record'));
    if (end.getUint32(0, true) !== ZIP64_EOCD_SIG) fail('the zip64 end record is missing');
    count = u64(end, 32, fail);
    cdSize = u64(end, 40, fail);
    cdOffset = u64(end, 48, fail);
  }
  // Each directory entry takes at least 46 bytes: a count cannot make us loop past the data.
  if (count > cdSize / 46) fail(`the zip directory claims ${count} records in ${cdSize} bytes`);
  const cd = src.read(cdOffset, cdSize, 'the zip central directory');
  const dv = view(cd);
  const names = new TextDecoder('utf-8', { fatal: true });
  const records = new Map<string, ZipRecord>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.byteLength || dv.getUint32(p, true) !== CENTRAL_SIG) fail(`zip directory entry ${i} is damaged`);
    const flags = dv.getUint16(p + 8, true);
    const method = dv.getUint16(p + 10, true);
    const crc = dv.getUint32(p + 16, true);
    let csize: number = dv.getUint32(p + 20, true);
    let usize: number = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let local: number = dv.getUint32(p + 42, true);
    const next = p + 46 + nameLen + extraLen + commentLen;
    if (next > cd.byteLength) fail(`zip directory entry ${i} is damaged`);
    let name: string;
    try {
      name = names.decode(cd.subarray(p + 46, p + 46 + nameLen));
    } catch {
      return fail(`zip directory entry ${i} has a name that is not UTF-8`);
    }
    // zip64 sizes and offset live in extra field 0x0001, present only for the fields set to ~0.
    for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen; ) {
      const id = dv.getUint16(e, true);
      const len = dv.getUint16(e + 2, true);
      if (id === 1) {
        let f = e + 4;
        const take = (): number => {
          if (f + 8 > e + 4 + len) fail(`zip64 field of record '${name}' is too short`);
          const v = u64(dv, f, fail);
          f += 8;
          return v;
        };
        if (usize === 0xffffffff) usize = take();
        if (csize === 0xffffffff) csize = take();
        if (local === 0xffffffff) local = take();
      }
      e += 4 + len;
    }
    if (flags & 1) fail(`record '${name}' is encrypted`);
    if (method === 0 && csize !== usize) fail(`record '${name}' is stored with ${csize} bytes but says it holds ${usize}`);
    if (records.has(name)) fail(`the zip has two records named '${name}'`);
    // The data starts after the record's local header, whose own name and extra lengths count
    // (PyTorch pads records to 64 bytes with a local-only extra field).
    const lh = view(src.read(local, 30, `the local header of record '${name}'`));
    if (lh.getUint32(0, true) !== LOCAL_SIG) fail(`record '${name}' has no local header at byte ${local}`);
    const dataOffset = local + 30 + lh.getUint16(26, true) + lh.getUint16(28, true);
    if (dataOffset + csize > src.size) fail(`record '${name}' (${csize} bytes at byte ${dataOffset}) runs past the end of the ${src.size}-byte file`);
    records.set(name, { name, dataOffset, size: csize, crc32: crc, method });
    p = next;
  }
  return records;
}

/** The bytes of one record, checked against its CRC-32 (a flipped bit is an error, not a wrong weight). */
export function readZipRecord(src: ByteSource, r: ZipRecord): Uint8Array {
  if (r.method !== 0)
    throw new WeightsFileError(src.name, `record '${r.name}' is compressed (method ${r.method}); PyTorch archives store records uncompressed`);
  const bytes = src.read(r.dataOffset, r.size, `record '${r.name}'`);
  if (crc32 && crc32(bytes) >>> 0 !== r.crc32)
    throw new WeightsFileError(src.name, `record '${r.name}' fails its CRC-32 check: the file is corrupt`);
  return bytes;
}

function u64(dv: DataView, at: number, fail: (p: string) => never): number {
  const v = dv.getBigUint64(at, true);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? fail(`zip64 field at ${at} is ${v}, beyond any file size`) : Number(v);
}
