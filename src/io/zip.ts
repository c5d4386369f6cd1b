// The zip container of PyTorch's .pt format, both ways. torch.save and LibTorch store every record
// uncompressed (so tensors can be memory-mapped), which keeps this small. Reading: find the central
// directory (zip64 included, for files over 4 GB), list the records, and read one record's bytes
// on demand; every offset and count is checked against the file size before it is used, and
// record contents are checked against their CRC-32 when Node provides zlib.crc32 (20.15+).
// Writing: stored records whose data start on 64-byte boundaries, as PyTorch's writer lays them
// out (so `torch.load(mmap=True)` can map them), produced one record at a time.
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

/** One record to write: its name and a function that produces its bytes when its turn comes. */
export interface ZipEntry {
  name: string;
  data: () => Uint8Array;
}

export interface ZipWriteOptions {
  /**
   * 'auto' (default) switches to zip64 fields only where a size, an offset or the record count
   * needs them (files over 4 GB); 'always' writes them for every record, as some tools prefer.
   */
  zip64?: 'auto' | 'always';
}

/** PyTorch aligns record data to this many bytes, padding the local header's extra field. */
const ALIGNMENT = 64;
const PAD_FIELD_ID = 0x4246; // 'FB', PyTorch's padding field
const MAX32 = 0xffffffff;
const VERSION_MADE_BY = 0x031e; // Unix, spec 3.0
const DOS_DATE = 0x21; // 1980-01-01: records carry no time, so archives of equal tensors are equal

/**
 * The bytes of a stored (uncompressed) zip archive holding `entries`, as a sequence of chunks:
 * each entry's `data()` is called when the writer reaches it, so only one record is in memory at
 * a time. Feed the chunks to `writeFileAtomic`, or concatenate them.
 */
export function* zipStoredChunks(entries: Iterable<ZipEntry>, options: ZipWriteOptions = {}): Generator<Uint8Array> {
  const always = options.zip64 === 'always';
  const crc = crc32 ?? ((): never => {
    throw new Error('writing zip archives needs zlib.crc32 (Node 20.15 or newer)');
  });
  const central: Uint8Array[] = [];
  const names = new Set<string>();
  let offset = 0;
  let count = 0;
  for (const entry of entries) {
    if (names.has(entry.name)) throw new Error(`zip: two records named '${entry.name}'`);
    names.add(entry.name);
    const data = entry.data();
    const sum = crc(data) >>> 0;
    const name = new TextEncoder().encode(entry.name);
    const big = always || data.byteLength >= MAX32 || offset >= MAX32;
    // Local zip64 field: uncompressed and compressed size, both always present.
    const local64 = big ? field(1, u64le(data.byteLength), u64le(data.byteLength)) : new Uint8Array(0);
    const unpadded = offset + 30 + name.byteLength + local64.byteLength;
    const pad = (ALIGNMENT - ((unpadded + 4) % ALIGNMENT)) % ALIGNMENT;
    const extra = concat([local64, field(PAD_FIELD_ID, new Uint8Array(pad))]);
    const size32 = big ? MAX32 : data.byteLength;
    const header = new Uint8Array(30 + name.byteLength + extra.byteLength);
    const h = view(header);
    h.setUint32(0, LOCAL_SIG, true);
    h.setUint16(4, big ? 45 : 20, true);
    h.setUint16(8, 0x0800, true); // names are UTF-8
    h.setUint16(12, DOS_DATE, true);
    h.setUint32(14, sum, true);
    h.setUint32(18, size32, true);
    h.setUint32(22, size32, true);
    h.setUint16(26, name.byteLength, true);
    h.setUint16(28, extra.byteLength, true);
    header.set(name, 30);
    header.set(extra, 30 + name.byteLength);
    // Central zip64 field: only the values that overflow (or all, under 'always'), in spec order.
    const offset64 = always || offset >= MAX32;
    const central64 = big || offset64 ? field(1, ...(big ? [u64le(data.byteLength), u64le(data.byteLength)] : []), ...(offset64 ? [u64le(offset)] : [])) : new Uint8Array(0);
    const entryBytes = new Uint8Array(46 + name.byteLength + central64.byteLength);
    const c = view(entryBytes);
    c.setUint32(0, CENTRAL_SIG, true);
    c.setUint16(4, VERSION_MADE_BY, true);
    c.setUint16(6, big || offset64 ? 45 : 20, true);
    c.setUint16(8, 0x0800, true);
    c.setUint16(14, DOS_DATE, true);
    c.setUint32(16, sum, true);
    c.setUint32(20, size32, true);
    c.setUint32(24, size32, true);
    c.setUint16(28, name.byteLength, true);
    c.setUint16(30, central64.byteLength, true);
    c.setUint32(42, offset64 ? MAX32 : offset, true);
    entryBytes.set(name, 46);
    entryBytes.set(central64, 46 + name.byteLength);
    central.push(entryBytes);
    yield header;
    yield data;
    offset += header.byteLength + data.byteLength;
    count++;
  }
  const cdSize = central.reduce((n, b) => n + b.byteLength, 0);
  yield* central;
  const needs64 = always || count >= 0xffff || cdSize >= MAX32 || offset >= MAX32;
  if (needs64) {
    const end64 = new Uint8Array(56);
    const e = view(end64);
    e.setUint32(0, ZIP64_EOCD_SIG, true);
    e.setBigUint64(4, 44n, true); // size of the rest of this record
    e.setUint16(12, VERSION_MADE_BY, true);
    e.setUint16(14, 45, true);
    e.setBigUint64(24, BigInt(count), true);
    e.setBigUint64(32, BigInt(count), true);
    e.setBigUint64(40, BigInt(cdSize), true);
    e.setBigUint64(48, BigInt(offset), true);
    const locator = new Uint8Array(20);
    const l = view(locator);
    l.setUint32(0, ZIP64_LOCATOR_SIG, true);
    l.setBigUint64(8, BigInt(offset + cdSize), true);
    l.setUint32(16, 1, true); // disks in all
    yield end64;
    yield locator;
  }
  const eocd = new Uint8Array(22);
  const d = view(eocd);
  d.setUint32(0, EOCD_SIG, true);
  d.setUint16(8, needs64 ? 0xffff : count, true);
  d.setUint16(10, needs64 ? 0xffff : count, true);
  d.setUint32(12, needs64 ? MAX32 : cdSize, true);
  d.setUint32(16, needs64 ? MAX32 : offset, true);
  yield eocd;
}

function u64le(n: number): Uint8Array {
  const b = new Uint8Array(8);
  view(b).setBigUint64(0, BigInt(n), true);
  return b;
}

/** An extra field: id, length, then the parts. */
function field(id: number, ...parts: Uint8Array[]): Uint8Array {
  const body = concat(parts);
  const out = new Uint8Array(4 + body.byteLength);
  view(out).setUint16(0, id, true);
  view(out).setUint16(2, body.byteLength, true);
  out.set(body, 4);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
