// Atomic file replacement: a reader (or a crash) sees either the old file or the complete new
// one, never a half-written checkpoint. The data goes to a temporary file in the same directory
// (a rename is only atomic within one file system), is fsynced, renamed over the target, and the
// directory is fsynced so the rename itself survives a power cut.
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

import { FileWriteError } from './errors.js';

/**
 * Writes `chunks` (produced lazily, so a large file never needs to be in memory at once) to
 * `path` atomically. If producing or writing any chunk fails, the previous file is untouched and
 * the temporary file is removed; a system error (disk full, permissions) becomes a
 * FileWriteError naming `path`.
 */
export function writeFileAtomic(path: string, chunks: Iterable<Uint8Array>): void {
  try {
    writeAtomic(path, chunks);
  } catch (e) {
    // System errors name the temporary file, or no file at all (a failed write): name the target.
    throw (e as NodeJS.ErrnoException).syscall !== undefined ? new FileWriteError(path, e) : e;
  }
}

function writeAtomic(path: string, chunks: Iterable<Uint8Array>): void {
  // Replace what a symlink points to, not the link itself (as write-file-atomic does).
  let target = path;
  let mode: number | undefined;
  try {
    target = realpathSync(path);
    mode = statSync(target).mode & 0o7777;
  } catch {
    // No previous file: the new one gets the default mode (0666 less the umask).
  }
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`); // see isAtomicTemp
  const fd = openSync(tmp, 'wx');
  let closed = false;
  try {
    if (mode !== undefined) fchmodSync(fd, mode);
    for (const chunk of chunks) {
      let done = 0;
      while (done < chunk.byteLength) done += writeSync(fd, chunk, done, chunk.byteLength - done);
    }
    fsyncSync(fd);
    closeSync(fd);
    closed = true;
    renameSync(tmp, target);
  } catch (e) {
    if (!closed) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // Already renamed or never created: nothing to clean.
    }
    throw e;
  }
  syncDirectory(dir);
}

function syncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return; // Platforms that cannot open directories (Windows) order renames themselves.
  }
  try {
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on directories (EINVAL); the data itself is already synced.
  } finally {
    closeSync(fd);
  }
}

/** Whether `name` is a temporary file of writeFileAtomic (left behind only by a process that was killed mid-write). */
export function isAtomicTemp(name: string): boolean {
  return /^\..+\.\d+\.[0-9a-f]{12}\.tmp$/.test(name);
}
