// Memory-mapped reading, for packed shards and NPY arrays. The kernel's page cache holds the
// bytes: a file larger than RAM is paged in on demand, and every reader of the same file shares one
// copy. The mapping is private (copy-on-write), so writing into the returned bytes never changes
// the file; it is released when the returned buffer is garbage-collected.
import { native } from '../tensor/native.js';

/** The whole file as bytes, memory-mapped. Throws naming the path when it cannot be opened. */
export function mapFile(path: string): Uint8Array {
  return new Uint8Array(native.mapFile(path));
}
