// The launcher: starts this machine's ranks as child processes with the environment torchrun's
// env:// rendezvous reads (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT, LOCAL_RANK,
// LOCAL_WORLD_SIZE, GROUP_RANK), so the same program runs under it and under
// `torchrun --no-python`. It fails fast: when one rank dies, the others are stopped (SIGTERM, then
// SIGKILL after a grace period) and the result names the rank that was lost. SIGINT and SIGTERM
// sent to the launcher are passed on to every rank.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { availableParallelism, constants } from 'node:os';

import { DistError } from './errors.js';

export interface LaunchOptions {
  /** The program each rank runs (an executable, as with `torchrun --no-python`), e.g. process.execPath. */
  command: string;
  args?: readonly string[];
  /** Ranks to start on this machine. */
  nprocPerNode: number;
  /** Machines in the job (default 1); each runs a launcher with the same options but its own nodeRank. */
  nnodes?: number;
  /** This machine's index in [0, nnodes) (default 0); node 0 hosts the rendezvous store. */
  nodeRank?: number;
  /** Node 0's address. Default 127.0.0.1 on one machine; required with several. */
  masterAddr?: string;
  /** The store's port. Default: a free port on one machine; 29500 (torchrun's) with several. */
  masterPort?: number;
  /**
   * LibTorch threads per rank (OMP_NUM_THREADS and TESSERA_NUM_THREADS). Default: this machine's
   * cores ÷ nprocPerNode (at least 1), unless the environment already sets either variable.
   */
  threadsPerRank?: number;
  /** The environment the ranks start from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** After a rank fails, how long the others get between SIGTERM and SIGKILL (default 5000 ms). */
  graceMs?: number;
}

export interface RankExit {
  rank: number;
  localRank: number;
  pid: number;
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LaunchResult {
  /** 0 when every rank exited with 0; else the failed rank's code (128 + signal number for a signal). */
  exitCode: number;
  ranks: RankExit[];
  /** The first rank that failed, or the signal that stopped the job; undefined on success. */
  failure?: { rank?: number; message: string };
}

function describe(e: RankExit): string {
  const how = e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
  return `rank ${e.rank} (local rank ${e.localRank}, pid ${e.pid}) ${how}`;
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  return signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 1);
}

/** A port nobody listens on right now (the kernel's pick), for the store of a one-machine job. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0);
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new DistError('launch: could not find a free port', 'config');
  return address.port;
}

function checked(value: number | undefined, name: string, min: number, max: number, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw new DistError(`launch: ${name} must be an integer in [${min}, ${max}], got ${value}`, 'config');
  return v;
}

/** Starts the ranks and resolves when all have exited (or were stopped after one failed). */
export async function launch(options: LaunchOptions): Promise<LaunchResult> {
  const nproc = checked(options.nprocPerNode, 'nprocPerNode', 1, 1024, 1);
  const nnodes = checked(options.nnodes, 'nnodes', 1, 65536, 1);
  const nodeRank = checked(options.nodeRank, 'nodeRank', 0, nnodes - 1, 0);
  const graceMs = checked(options.graceMs, 'graceMs', 0, 3_600_000, 5000);
  if (nnodes > 1 && !options.masterAddr) throw new DistError('launch: masterAddr (the address of node 0) is required when nnodes > 1', 'config');
  const masterAddr = options.masterAddr ?? '127.0.0.1';
  const masterPort = checked(options.masterPort, 'masterPort', 1, 65535, nnodes > 1 ? 29500 : await freePort());
  const base = options.env ?? process.env;
  const threads = options.threadsPerRank === undefined ? Math.max(1, Math.floor(availableParallelism() / nproc)) : checked(options.threadsPerRank, 'threadsPerRank', 1, 4096, 1);
  const threadEnv =
    options.threadsPerRank !== undefined
      ? { OMP_NUM_THREADS: String(threads), TESSERA_NUM_THREADS: String(threads) }
      : base.OMP_NUM_THREADS || base.TESSERA_NUM_THREADS
        ? {}
        : { OMP_NUM_THREADS: String(threads) };

  const children: { child: ChildProcess; rank: number; localRank: number }[] = [];
  const exits: RankExit[] = [];
  let failure: LaunchResult['failure'];
  let exitCode = 0;
  let killTimer: NodeJS.Timeout | undefined;

  // Only a rank that really started may be signalled. After a failed spawn (ENOENT) Node keeps the
  // process handle until its error is emitted on the next tick, and killing it then signals a
  // stray pid (observed: kill(2, SIGTERM)), which in a container can be the job's own shell.
  const running = (child: ChildProcess) => child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  const stopOthers = (signal: NodeJS.Signals) => {
    for (const { child } of children) if (running(child)) child.kill(signal);
    killTimer ??= setTimeout(() => {
      for (const { child } of children) if (running(child)) child.kill('SIGKILL');
    }, graceMs);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (!failure) {
      failure = { message: `the launcher received ${signal} and passed it on to every rank` };
      exitCode = exitCodeOf(null, signal);
    }
    stopOthers(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const done: Promise<void>[] = [];
    for (let localRank = 0; localRank < nproc; localRank++) {
      const rank = nodeRank * nproc + localRank;
      const env = {
        ...base,
        ...threadEnv,
        RANK: String(rank),
        WORLD_SIZE: String(nnodes * nproc),
        LOCAL_RANK: String(localRank),
        LOCAL_WORLD_SIZE: String(nproc),
        GROUP_RANK: String(nodeRank),
        MASTER_ADDR: masterAddr,
        MASTER_PORT: String(masterPort),
      };
      const child = spawn(options.command, [...(options.args ?? [])], { env, stdio: 'inherit' });
      children.push({ child, rank, localRank });
      done.push(
        new Promise<void>((resolve) => {
          child.once('error', (e) => {
            // The program could not start at all (no such file, not executable): no 'exit' follows.
            if (child.pid !== undefined) return;
            exits.push({ rank, localRank, pid: child.pid ?? -1, code: 127, signal: null });
            if (!failure) {
              failure = { rank, message: `rank ${rank} could not start '${options.command}': ${e.message}` };
              exitCode = 127;
            }
            stopOthers('SIGTERM');
            resolve();
          });
          child.once('exit', (code, signal) => {
            const e: RankExit = { rank, localRank, pid: child.pid ?? -1, code, signal };
            exits.push(e);
            if ((code !== 0 || signal) && !failure) {
              failure = { rank, message: `${describe(e)}; the other ranks were stopped` };
              exitCode = exitCodeOf(code, signal);
              stopOthers('SIGTERM');
            }
            resolve();
          });
        }),
      );
    }
    await Promise.all(done);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (killTimer) clearTimeout(killTimer);
  }
  exits.sort((a, b) => a.rank - b.rank);
  return { exitCode, ranks: exits, ...(failure ? { failure } : {}) };
}
