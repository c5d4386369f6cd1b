// Byte sources for the readers: a file read with positioned reads, or bytes already in memory.
// Every read is checked against the real size first, so no header field, however large, can make
// a reader allocate more than the file holds.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

import { WeightsFileError } from './errors.js';

export interface ByteSource {
  /** The path, or `<bytes>`: the prefix of every error message. */
  readonly name: string;
  readonly size: number;
  /** Exactly `length` bytes at `offset` (may share memory with the source: read only); throws if out of range. */
  read(offset: number, length: number, what: string): Uint8Array;
  close(): void;
}

function checkRange(src: { name: string; size: number }, offset: number, length: number, what: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > src.size)
    throw new WeightsFileError(src.name, `${what} (bytes ${offset}..${offset + length}) lies beyond the end of the ${src.size}-byte file`);
}

export function fileSource(path: string): ByteSource {
  const fd = openSync(path, 'r');
  let size: number;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new WeightsFileError(path, 'not a regular file');
    size = st.size;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  const src: ByteSource = {
    name: path,
    size,
    read(offset, length, what) {
      checkRange(src, offset, length, what);
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        // At most 1 GiB a call: a single read of 2 GiB or more is out of range for libuv.
        const n = readSync(fd, out, done, Math.min(length - done, 2 ** 30), offset + done);
        // The file shrank under us: report it like any truncation.
        if (n === 0) throw new WeightsFileError(path, `${what}: the file ended after ${offset + done} bytes while being read`);
        done += n;
      }
      return out;
    },
    close: () => closeSync(fd),
  };
  return src;
}

export function memorySource(bytes: Uint8Array, name = '<bytes>'): ByteSource {
  const src: ByteSource = {
    name,
    size: bytes.byteLength,
    read(offset, length, what) {
      checkRange(src, offset, length, what);
      return bytes.subarray(offset, offset + length);
    },
    close: () => {},
  };
  return src;
}

/** Runs `fn` on the source for a path or bytes, closing the file whatever happens. */
export function withSource<T>(input: string | Uint8Array, fn: (src: ByteSource) => T): T {
  const src = typeof input === 'string' ? fileSource(input) : memorySource(input);
  try {
    return fn(src);
  } finally {
    src.close();
  }
}
