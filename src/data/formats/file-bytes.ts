// Random access to a data file's bytes, memory-mapped where possible. Mapping lets the page cache
// hold the data: a data set larger than RAM is paged in on demand and every loader of the same file
// shares one copy. A JavaScript typed array cannot exceed buffer.constants.MAX_LENGTH (4 GiB on
// Node 20), and mapFile aborts the process beyond it, so larger files are read with positioned
// reads instead: one syscall per sample, still never the whole file in memory.
import { constants } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

import { mapFile } from '../../io/mmap.js';
import { DataError } from '../types.js';

export interface FileBytes {
  /** The path: the id of every error about this file. */
  readonly path: string;
  readonly size: number;
  /** True when reads are views of a mapping (zero-copy); false for positioned reads. */
  readonly mapped: boolean;
  /**
   * `length` bytes at `offset`. Mapped files return a view into the mapping: treat it as read-only
   * and copy what you hand on. Throws a DataError naming `what` when the range is outside the file.
   */
  read(offset: number, length: number, what: string): Uint8Array;
}

/** Opens `path` for random access. Throws a DataError naming the path when it cannot be opened. */
export function openFileBytes(path: string, options: { mapLimit?: number } = {}): FileBytes {
  const mapLimit = options.mapLimit ?? constants.MAX_LENGTH;
  let size: number;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new DataError(path, `cannot open: ${(e as Error).message}`, { cause: e });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new DataError(path, 'not a regular file');
    size = st.size;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  const check = (offset: number, length: number, what: string): void => {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size)
      throw new DataError(path, `${what} (bytes ${offset}..${offset + length}) lies beyond the end of the ${size}-byte file`);
  };
  if (size <= mapLimit) {
    closeSync(fd);
    let bytes: Uint8Array;
    try {
      bytes = mapFile(path);
    } catch (e) {
      throw new DataError(path, `cannot map: ${(e as Error).message}`, { cause: e });
    }
    // The file may have changed between stat and map: trust the mapping's own length.
    size = bytes.byteLength;
    return {
      path, size, mapped: true,
      read(offset, length, what) {
        check(offset, length, what);
        return bytes.subarray(offset, offset + length);
      },
    };
  }
  // Too large to map into one typed array. The descriptor stays open while the reader lives (data
  // sets are opened once per process) and is closed when the reader is garbage-collected.
  const reader: FileBytes = {
    path, size, mapped: false,
    read(offset, length, what) {
      check(offset, length, what);
      const out = new Uint8Array(length);
      for (let done = 0; done < length; ) {
        const n = readSync(fd, out, done, Math.min(length - done, 2 ** 30), offset + done);
        if (n === 0) throw new DataError(path, `${what}: the file ended after ${offset + done} bytes while being read`);
        done += n;
      }
      return out;
    },
  };
  closer.register(reader, fd);
  return reader;
}

const closer = new FinalizationRegistry<number>((fd) => {
  try {
    closeSync(fd);
  } catch {
    // Already closed: nothing to release.
  }
});

/** Bytes already in memory behind the same interface (`path` names them in errors). */
export function memoryBytes(bytes: Uint8Array, path: string): FileBytes {
  return {
    path, size: bytes.length, mapped: false,
    read(offset, length, what) {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > bytes.length)
        throw new DataError(path, `${what} (bytes ${offset}..${offset + length}) lies beyond the end of the ${bytes.length} bytes`);
      return bytes.subarray(offset, offset + length);
    },
  };
}
