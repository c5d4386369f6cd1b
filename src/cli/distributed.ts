// The launch flags of `tessera train` (data-parallel training, src/run/distributed.ts), and how a
// rank leaves a job it cannot go on with.
import { type Command, InvalidArgumentError } from 'commander';

import type { LaunchFlags, TrainingRole } from '../run/distributed.js';

function integerIn(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer in ${min}..${max}`);
    return n;
  };
}

export function addLaunchFlags(cmd: Command): Command {
  return cmd
    .option('--nproc-per-node <n>', 'data-parallel: ranks (processes) to start on this machine; --batch-size is the global batch, split over all ranks', integerIn('--nproc-per-node', 1, 1024))
    .option('--nnodes <n>', 'data-parallel: machines in the job, each running the same command with its own --node-rank', integerIn('--nnodes', 1, 65536))
    .option('--node-rank <k>', "data-parallel: this machine's index from 0 (node 0 hosts the rendezvous)", integerIn('--node-rank', 0, 65535))
    .option('--master-addr <host>', "data-parallel: node 0's address, reachable from every machine")
    .option('--master-port <port>', 'data-parallel: the rendezvous port on node 0 (default: a free one on one machine, 29500 on several)', integerIn('--master-port', 1, 65535))
    .option('--rendezvous-timeout <seconds>', 'data-parallel: how long a rank waits for node 0 and the other ranks (default 300)', (v) => {
      const n = Number(v);
      if (!(n > 0 && n <= 86_400)) throw new InvalidArgumentError('--rendezvous-timeout must be a number of seconds in (0, 86400]');
      return n;
    })
    .option('--sync-bn', "data-parallel: batch norm over the global batch (SyncBatchNorm: two all-reduces per layer per step) instead of each rank's share");
}

/** The launch flags among the parsed ones. */
export function launchFlags(flags: Record<string, unknown>): LaunchFlags {
  const keys = ['nprocPerNode', 'nnodes', 'nodeRank', 'masterAddr', 'masterPort', 'rendezvousTimeout', 'syncBn'] as const;
  return Object.fromEntries(keys.filter((k) => flags[k] !== undefined).map((k) => [k, flags[k]])) as LaunchFlags;
}

/**
 * Runs a rank's part. A rank that fails says so, naming itself, and exits at once: staying alive
 * (a collective still pending, the group's threads) would leave the other ranks waiting for it
 * until the collective timeout, where its exit makes the launcher (or their heartbeats) stop them.
 */
export async function asRank<T>(role: TrainingRole, run: () => Promise<T>): Promise<T> {
  if (role.kind !== 'rank') return run();
  try {
    return await run();
  } catch (e) {
    console.error(`tessera: rank ${role.rank}: ${(e as Error).message}`);
    process.exit(1);
  }
}
