// A run directory while a command writes into it: created if needed, locked against a second
// process (lock.ts), cleared of the temporary files a killed run left behind, and — when the
// command fails before the run saved anything worth keeping — removed again, so a failed
// `tessera train` leaves no half-made folder that a later run would mistake for its own.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { isAtomicTemp } from '../io/atomic.js';
import { lockRunDirectory, type LockOptions, type RunLock } from './lock.js';

/** What a killed run can leave: atomic-write temporaries, checkpoints not yet renamed into place (train/checkpoint.ts), lock candidates (lock.ts). */
function isLeftover(name: string, ageMs: number): boolean {
  if (isAtomicTemp(name) || /^\..+\.incoming\.ckpt$/.test(name)) return true;
  // A lock candidate exists for a moment while another process tries the lock; only old ones are left over.
  return /^\.lock\.[0-9a-f]{16}$/.test(name) && ageMs > 60_000;
}

export interface RunDirectory extends Disposable {
  readonly dir: string;
  /** This command made the directory (it did not exist before). */
  readonly created: boolean;
  readonly lock: RunLock;
  /** The leftovers removed when the directory was opened. */
  readonly removed: readonly string[];
}

/**
 * Creates (or opens) `dir`, takes its lock, and removes what a killed run left. Disposing it
 * releases the lock and, if this command created the directory and no checkpoint or metrics.json
 * was written into it, removes the directory: whatever happened, it holds nothing to resume.
 */
export function openRunDirectory(dir: string, options: LockOptions & { log?: (line: string) => void } = {}): RunDirectory {
  const created = !existsSync(dir);
  mkdirSync(dir, { recursive: true });
  let lock: RunLock;
  try {
    lock = lockRunDirectory(dir, {
      ...options,
      onTakeover: (why, previous) => options.log?.(`taking over the lock of ${dir}${previous ? ` from process ${previous.pid} on ${previous.host}` : ''}: ${why}`),
    });
  } catch (e) {
    if (created) rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const removed: string[] = [];
  for (const sub of [dir, join(dir, 'checkpoints')]) {
    if (!existsSync(sub)) continue;
    for (const name of readdirSync(sub)) {
      const p = join(sub, name);
      if (isLeftover(name, Date.now() - statSync(p).mtimeMs)) {
        rmSync(p, { force: true });
        removed.push(p);
      }
    }
  }
  if (removed.length > 0) options.log?.(`removed ${removed.length} temporary file${removed.length === 1 ? '' : 's'} left by an earlier run that was stopped`);
  return {
    dir,
    created,
    lock,
    removed,
    [Symbol.dispose]() {
      const checkpoints = join(dir, 'checkpoints');
      const kept = existsSync(join(dir, 'metrics.json')) || (existsSync(checkpoints) && readdirSync(checkpoints).some((f) => f.endsWith('.ckpt')));
      if (created && !kept) rmSync(dir, { recursive: true, force: true });
      lock.release();
    },
  };
}
