// One process at a time in a run directory. Two `tessera train --name x` at once would otherwise
// both write checkpoints, logs and the model into the same folder. The lock is a file, `.lock`,
// holding who took it (pid, host, start time, command); it is created with link(2), which is
// atomic on local and network file systems alike, so exactly one of two racing processes wins.
//
// A lock whose holder is gone is taken over:
//   - same host: the holder's pid is not running, or is running but started at another time than
//     the lock records (the pid was reused by a later process);
//   - another host (a shared file system): pids mean nothing here, so the holder refreshes the
//     lock file's mtime every HEARTBEAT_MS, and a lock not refreshed for STALE_MS is stale.
// Judging a lock stale and removing it happens under a second, short-lived lock (`.lock.takeover`),
// so two processes cannot both remove a stale lock and then one of them remove the other's fresh one.
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** How often a holder refreshes its lock's mtime. */
export const HEARTBEAT_MS = 30_000;
/** A lock from another host that has not been refreshed for this long is stale (20 missed heartbeats). */
export const STALE_MS = 10 * 60_000;
/** A takeover lock older than this was left by a process that died while taking over. */
const TAKEOVER_STALE_MS = 10_000;

export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  started: string;
  /** The command line of the holder, for the message a refused process prints. */
  command: string;
  /** Tells one taking of the lock from another (a pid can take a lock, lose it and take it again). */
  token: string;
  /** Linux: the holder process's start time in clock ticks since boot (/proc/<pid>/stat field 22). */
  processStart?: string;
}

export class RunLockedError extends Error {
  override name = 'RunLockedError';
  constructor(
    readonly dir: string,
    readonly holder: LockHolder,
  ) {
    super(
      `run directory ${dir} is in use by process ${holder.pid} on ${holder.host} (since ${holder.started}: ${holder.command}); ` +
        'wait for it to finish, stop it, or give this run another --name',
    );
  }
}

export interface RunLock {
  readonly path: string;
  readonly holder: LockHolder;
  /** Stops the heartbeat and removes the lock (if it is still this process's). Idempotent. */
  release(): void;
}

export interface LockOptions {
  heartbeatMs?: number;
  staleMs?: number;
}

/** Start time of process `pid` (Linux /proc), or undefined where it cannot be read. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (the command name) may hold spaces and parentheses: count fields after its last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether the process that wrote `h` (on this host) still runs. */
function alive(h: LockHolder): boolean {
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false; // ESRCH: no such process
  }
  const now = processStart(h.pid);
  return h.processStart === undefined || now === undefined || now === h.processStart;
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    if (typeof h.pid === 'number' && typeof h.host === 'string' && typeof h.token === 'string') return h as LockHolder;
  } catch {
    // Missing (released meanwhile) or not ours to read: treated below.
  }
  return undefined;
}

/** Why a lock held by `h`, last refreshed `age` ms ago, is stale; undefined while its holder may still be working. */
function staleness(h: LockHolder | undefined, age: number, staleMs: number): string | undefined {
  if (h === undefined) return age > staleMs ? 'it is unreadable and old' : undefined;
  if (h.host === hostname()) return alive(h) ? undefined : `process ${h.pid} is gone`;
  return age > staleMs ? `${h.host} has not refreshed it for ${Math.round(age / 1000)} s` : undefined;
}

/** Milliseconds since the file at `path` was last modified, or undefined when it does not exist. */
function ageOf(path: string): number | undefined {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Removes the lock at `path` if it is still the stale one we judged (`token`), under the takeover lock. */
function removeStale(path: string, token: string | undefined, staleMs: number): void {
  const takeover = `${path}.takeover`;
  let fd: number;
  try {
    fd = openSync(takeover, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    try {
      if (Date.now() - statSync(takeover).mtimeMs > TAKEOVER_STALE_MS) unlinkSync(takeover);
    } catch {
      // Gone already: the other taker finished.
    }
    return sleep(20); // someone else is taking over: look again
  }
  try {
    const now = readHolder(path);
    const age = ageOf(path);
    if (age !== undefined && now?.token === token && staleness(now, age, staleMs) !== undefined) unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  } finally {
    closeSync(fd);
    unlinkSync(takeover);
  }
}

/**
 * Takes the lock of run directory `dir` (which must exist), or throws a RunLockedError naming the
 * process that holds it. A stale lock (see the top of this file) is taken over, with `onTakeover`
 * told why.
 */
export function lockRunDirectory(dir: string, options: LockOptions & { onTakeover?: (why: string, previous: LockHolder | undefined) => void } = {}): RunLock {
  const path = join(dir, '.lock');
  const staleMs = options.staleMs ?? STALE_MS;
  const holder: LockHolder = {
    pid: process.pid,
    host: hostname(),
    started: new Date().toISOString(),
    command: process.argv.slice(1).map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' '),
    token: randomBytes(8).toString('hex'),
  };
  const start = processStart(process.pid);
  if (start !== undefined) holder.processStart = start;
  // The whole record is written before link() publishes it: a reader never sees half a lock.
  const candidate = join(dir, `.lock.${holder.token}`);
  writeFileSync(candidate, `${JSON.stringify(holder)}\n`, { flag: 'wx' });
  try {
    for (let attempt = 0; ; attempt++) {
      // Each round either wins, is refused, or found the lock changing under it: give up eventually.
      if (attempt > 100) throw new Error(`cannot lock ${dir}: ${path} keeps changing (another process is taking it over?)`);
      try {
        linkSync(candidate, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const age = ageOf(path);
      if (age === undefined) continue; // released meanwhile: try again
      const other = readHolder(path);
      const why = staleness(other, age, staleMs);
      if (why === undefined) {
        if (other) throw new RunLockedError(dir, other);
        // Locks are complete before they appear (link), so this one is damaged or not ours to read.
        throw new Error(`cannot lock ${dir}: ${path} exists but cannot be read; if no run uses this directory, delete it`);
      }
      options.onTakeover?.(why, other);
      removeStale(path, other?.token, staleMs);
    }
  } finally {
    unlinkSync(candidate);
  }
  const heartbeat = setInterval(() => {
    try {
      const t = new Date();
      utimesSync(path, t, t);
    } catch {
      // The lock was removed under us (the directory deleted): nothing left to keep fresh.
    }
  }, options.heartbeatMs ?? HEARTBEAT_MS);
  heartbeat.unref();
  let released = false;
  return {
    path,
    holder,
    release() {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      if (readHolder(path)?.token === holder.token) {
        try {
          unlinkSync(path);
        } catch {
          // Already gone (the directory was removed): released either way.
        }
      }
    },
  };
}
