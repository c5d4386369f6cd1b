// `tessera train` on several processes: data-parallel training (src/dist) from the command line.
//
//   tessera train … --nproc-per-node 2         this process launches 2 ranks here and waits for them
//   tessera train … --nproc-per-node 2 --nnodes 2 --node-rank K --master-addr HOST [--master-port P]
//                                              the same on each machine, K = 0, 1
//   torchrun --nproc_per_node 2 --no_python tessera train …   torchrun launches; each process is a rank
//
// Who is who: a process whose environment has RANK and WORLD_SIZE (the launcher or torchrun set
// them) is a rank, and trains its shard. Otherwise, with launch flags, it is the launcher: it
// starts this machine's ranks with its own command line (dist.launch: threads per rank = cores ÷
// ranks, fail-fast) and exits as they do, naming the rank that failed. Without either it trains alone.
//
// What a rank does that a process training alone does not (runTraining calls RankRun's methods):
//   - checks that every rank runs the same config (a machine started with other flags is refused);
//   - takes rank 0's run directory; rank 0 alone locks it and writes there (config, splits, logs,
//     checkpoints, model, metrics, report); the other ranks print nothing unless they fail;
//   - sets up the data after rank 0 (which draws and saves the held-out splits and measures the
//     normalisation), then checks every rank has the same preprocessing and data;
//   - trains on its shard of every global batch (`train.batchSize` is the global batch: the same
//     command trains the same model on any number of ranks), in lockstep (LockstepSource), with
//     the DataParallel callbacks, validation summed over the ranks' shards;
//   - with --sync-bn, trains batch norm as SyncBatchNorm (the global batch's statistics);
//   - records the world size in the checkpoint fingerprint: resuming with another is refused, and
//     with --force continues at the same global batch (the same samples, re-split over the ranks);
//   - at the end sends its skipped files to rank 0 and leaves the group; rank 0 alone runs the
//     test pass (every sample's logits: ROC-AUC, calibration, the gallery) and writes the report.
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

import type { RunConfig } from '../config/schema.js';
import { DistError } from '../dist/errors.js';
import { destroy, init, type ProcessGroup } from '../dist/group.js';
import { launch } from '../dist/launch.js';
import { LockstepSource } from '../dist/lockstep.js';
import { convertSyncBatchNorm } from '../dist/sync-batchnorm.js';
import { allGatherObject, broadcastObject } from '../dist/objects.js';
import type { Shard } from '../data/pipeline/pipeline.js';
import type { BatchSource } from '../data/types.js';
import type { SumAcross } from '../metrics/reduce.js';
import type { Module } from '../nn/module.js';
import { diffFingerprints, listGenerations } from '../train/checkpoint.js';
import { ModelCheckpoint } from '../train/callbacks/checkpoint.js';
import { dataParallelCallbacks, sumAcrossRanks } from '../train/callbacks/data-parallel.js';
import { CsvLogger, JsonlLogger } from '../train/callbacks/logs.js';
import { Progress } from '../train/callbacks/progress.js';
import type { Callback } from '../train/events.js';
import type { RunData } from './data.js';

/** The launch flags of `tessera train` (torchrun's, spelt with dashes), and the rendezvous timeout. */
export interface LaunchFlags {
  nprocPerNode?: number;
  nnodes?: number;
  nodeRank?: number;
  masterAddr?: string;
  masterPort?: number;
  /** Seconds a rank waits for the rendezvous (the store at MASTER_ADDR, and every rank) before failing. */
  rendezvousTimeout?: number;
  /** Batch norm layers become SyncBatchNorm: statistics over the global batch, not each rank's share. */
  syncBn?: boolean;
}

export type TrainingRole =
  | { kind: 'alone' }
  | { kind: 'launcher'; nprocPerNode: number; nnodes: number; nodeRank: number; masterAddr?: string; masterPort?: number }
  | { kind: 'rank'; rank: number; worldSize: number; rendezvousTimeoutMs?: number; syncBatchNorm?: boolean };

const LAUNCH_FLAGS: [keyof LaunchFlags, string][] = [
  ['nprocPerNode', '--nproc-per-node'], ['nnodes', '--nnodes'], ['nodeRank', '--node-rank'], ['masterAddr', '--master-addr'], ['masterPort', '--master-port'],
];

/** What this process is in a data-parallel run (see the header); bad combinations are errors naming the flags. */
export function trainingRole(flags: LaunchFlags, env: NodeJS.ProcessEnv = process.env): TrainingRole {
  const given = LAUNCH_FLAGS.filter(([k]) => flags[k] !== undefined).map(([, name]) => name);
  const timeout = flags.rendezvousTimeout === undefined ? {} : { rendezvousTimeoutMs: Math.round(flags.rendezvousTimeout * 1000) };
  if (env.RANK !== undefined && env.WORLD_SIZE !== undefined) {
    // Started by the launcher (with the launcher's own flags, which must then agree) or by torchrun.
    const local = Number(env.LOCAL_WORLD_SIZE ?? env.WORLD_SIZE);
    const world = Number(env.WORLD_SIZE);
    const clash =
      (flags.nprocPerNode !== undefined && flags.nprocPerNode !== local ? `--nproc-per-node ${flags.nprocPerNode} (LOCAL_WORLD_SIZE is ${local})` : undefined) ??
      (flags.nnodes !== undefined && flags.nnodes * local !== world ? `--nnodes ${flags.nnodes} (WORLD_SIZE is ${world})` : undefined) ??
      (flags.nodeRank !== undefined && env.GROUP_RANK !== undefined && String(flags.nodeRank) !== env.GROUP_RANK ? `--node-rank ${flags.nodeRank} (GROUP_RANK is ${env.GROUP_RANK})` : undefined);
    if (clash) throw new Error(`${clash}: this process was started as rank ${env.RANK} of ${world} by a launcher (torchrun?), which decides the ranks; leave the launch flags out`);
    if (world === 1) return { kind: 'alone' }; // --sync-bn over one rank is batch norm
    return { kind: 'rank', rank: Number(env.RANK), worldSize: world, ...timeout, ...(flags.syncBn ? { syncBatchNorm: true } : {}) };
  }
  if (flags.nprocPerNode === undefined && flags.nnodes === undefined) {
    if (flags.rendezvousTimeout !== undefined) given.push('--rendezvous-timeout');
    if (flags.syncBn) given.push('--sync-bn');
    if (given.length > 0) throw new Error(`${given.join(', ')} ${given.length === 1 ? 'needs' : 'need'} --nproc-per-node (ranks on this machine) or --nnodes`);
    return { kind: 'alone' };
  }
  const nnodes = flags.nnodes ?? 1;
  const nodeRank = flags.nodeRank ?? 0;
  if (nodeRank >= nnodes) throw new Error(`--node-rank ${nodeRank} must be below --nnodes ${nnodes}`);
  if (nnodes > 1 && flags.masterAddr === undefined) throw new Error(`--nnodes ${nnodes} needs --master-addr: the address of node 0, which every node must reach`);
  const nprocPerNode = flags.nprocPerNode ?? 1;
  if (nnodes === 1 && nprocPerNode === 1) return { kind: 'alone' };
  return {
    kind: 'launcher', nprocPerNode, nnodes, nodeRank,
    ...(flags.masterAddr !== undefined ? { masterAddr: flags.masterAddr } : {}), ...(flags.masterPort !== undefined ? { masterPort: flags.masterPort } : {}),
  };
}

/** Refuses a global batch that does not split evenly over the ranks, naming the flag. */
export function checkBatchSplit(config: RunConfig, worldSize: number): void {
  const b = config.train.batchSize;
  if (b % worldSize !== 0)
    throw new Error(`--batch-size (train.batchSize) ${b} does not split evenly over ${worldSize} ranks: it is the global batch, so it must be a multiple of the number of ranks (e.g. ${Math.max(worldSize, Math.round(b / worldSize) * worldSize)})`);
}

/** Fails at once, naming the flag, when the store's port is taken here (rank 0 would fail after start-up). */
async function checkPortFree(port: number): Promise<void> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new Error(`--master-port ${port} is already in use on this machine: choose a free port (on one machine, leave --master-port out and a free one is picked)`) : e),
    );
    server.listen(port, () => server.close(() => resolve()));
  });
}

/**
 * The launcher: starts this machine's ranks with this process's own command line and waits for
 * them. Resolves to the exit code (0, or the failed rank's), after printing which rank failed.
 */
export async function launchTraining(role: Extract<TrainingRole, { kind: 'launcher' }>, config: RunConfig, o: { error?: (line: string) => void } = {}): Promise<number> {
  checkBatchSplit(config, role.nprocPerNode * role.nnodes);
  if (role.nodeRank === 0 && role.masterPort !== undefined) await checkPortFree(role.masterPort);
  const result = await launch({
    command: process.execPath,
    args: [...process.execArgv, ...process.argv.slice(1)],
    nprocPerNode: role.nprocPerNode,
    nnodes: role.nnodes,
    nodeRank: role.nodeRank,
    ...(role.masterAddr !== undefined ? { masterAddr: role.masterAddr } : {}),
    ...(role.masterPort !== undefined ? { masterPort: role.masterPort } : {}),
    ...(config.train.threads !== undefined ? { threadsPerRank: config.train.threads } : {}),
  });
  if (result.failure) {
    const killed = result.ranks.some((r) => r.signal === 'SIGKILL' && r.rank === result.failure?.rank);
    (o.error ?? ((l) => console.error(l)))(`tessera: ${result.failure.message}${killed ? '; run the same command again to resume from the last checkpoint' : ''}`);
  }
  return result.exitCode;
}

/** A file the run skipped, for metrics.json and the report. */
export interface SkippedFile {
  id: string;
  reason: string;
  split: 'train' | 'val' | 'test';
}

/** Per-machine settings that may differ between the ranks' configs. */
function shared(config: RunConfig): unknown {
  return { ...config, data: { ...config.data, workers: undefined }, train: { ...config.train, threads: undefined } };
}

/** One rank's part in a data-parallel `tessera train` (see the header). */
export class RankRun {
  readonly #sum: SumAcross;

  private constructor(
    readonly group: ProcessGroup,
    /** Batch norm layers become SyncBatchNorm (`--sync-bn`). */
    readonly syncBatchNorm: boolean,
  ) {
    this.#sum = sumAcrossRanks(group);
  }

  /** Joins the job whose ranks the environment describes (dist.init). */
  static async join(role: Extract<TrainingRole, { kind: 'rank' }>): Promise<RankRun> {
    return new RankRun(await init(role.rendezvousTimeoutMs === undefined ? {} : { rendezvousTimeoutMs: role.rendezvousTimeoutMs }), role.syncBatchNorm ?? false);
  }

  /** The model as this rank trains it: with `--sync-bn`, its batch norm layers as SyncBatchNorm over the group (before the optimizer is made). */
  model<M extends Module>(model: M): M {
    if (this.syncBatchNorm) convertSyncBatchNorm(model, this.group);
    return model;
  }

  get rank(): number {
    return this.group.rank;
  }

  get worldSize(): number {
    return this.group.worldSize;
  }

  /** Rank 0 writes the run's files and speaks. */
  get writes(): boolean {
    return this.group.rank === 0;
  }

  get shard(): Shard {
    return { rank: this.group.rank, worldSize: this.group.worldSize };
  }

  /** What the checkpoint fingerprint adds: a resume with another world size, or with --sync-bn added or left out, is refused unless forced. */
  get fingerprint(): { worldSize: number; syncBatchNorm?: true } {
    return { worldSize: this.group.worldSize, ...(this.syncBatchNorm ? { syncBatchNorm: true as const } : {}) };
  }

  /** The adder of Learner's `reduce`: validation summed over the ranks' shards. */
  get reduce(): SumAcross {
    return this.#sum;
  }

  /** `log` on rank 0; nothing elsewhere. */
  quiet(log: (line: string) => void): (line: string) => void {
    return this.writes ? log : () => {};
  }

  /** Refuses ranks whose configs differ (other than threads and workers), naming the fields. */
  async checkSameConfig(config: RunConfig): Promise<void> {
    checkBatchSplit(config, this.worldSize);
    const all = await allGatherObject(shared(config), this.group);
    const differ = all.findIndex((c) => diffFingerprints(all[0], c).length > 0);
    if (differ < 0) return;
    const fields = diffFingerprints(all[0], all[differ]).slice(0, 5).join('; ');
    throw new DistError(`rank ${differ} was started with another config than rank 0 (${fields}): every rank must run the same command (compare --print-config on each machine)`, 'mismatch');
  }

  /** `compute()` on rank 0 (e.g. choosing the run directory), its result on every rank. */
  async fromRank0<T>(compute: () => T): Promise<T> {
    return broadcastObject(this.writes ? compute() : (undefined as T), { group: this.group });
  }

  /** Runs `fn` on rank 0 first and on the others once it is done (they read what rank 0 wrote). */
  async rank0First<T>(fn: () => Promise<T>): Promise<T> {
    if (this.writes) {
      const r = await fn();
      await this.group.barrier();
      return r;
    }
    await this.group.barrier();
    return fn();
  }

  /** The splits file: rank 0's path; on the others only when it is there to read (never written by them). */
  splitsPath(path: string): string | undefined {
    return this.writes || existsSync(path) ? path : undefined;
  }

  /** Refuses ranks that set up other data or preprocessing (another data set at the same path, other splits). */
  async checkSameData(data: RunData): Promise<void> {
    const mine = { data: data.fingerprint, preprocessing: data.preprocessing.toJSON() };
    const all = await allGatherObject(mine, this.group);
    const differ = all.findIndex((d) => diffFingerprints(all[0], d).length > 0);
    if (differ >= 0)
      throw new DistError(`rank ${differ} sees other data than rank 0 (${diffFingerprints(all[0], all[differ]).slice(0, 5).join('; ')}): every rank must read the same data set`, 'mismatch');
  }

  /** The run's callbacks for this rank: the writers (progress, logs, checkpoints) on rank 0 only, and data parallelism everywhere. */
  callbacks(callbacks: readonly Callback[]): Callback[] {
    const writer = (c: Callback) => c instanceof Progress || c instanceof JsonlLogger || c instanceof CsvLogger || c instanceof ModelCheckpoint;
    return [...callbacks.filter((c) => this.writes || !writer(c)), ...dataParallelCallbacks(this.group)];
  }

  /** The training source, in lockstep with the other ranks. */
  trainSource(source: BatchSource): BatchSource {
    return new LockstepSource(source, this.group);
  }

  /**
   * What fit() resumes from: rank 0's checkpoint callback's directory ('auto'); on the others the
   * same directory when it holds checkpoints (they have no checkpoint callback). The DataParallel
   * callback then checks that every rank resumed at the same position.
   */
  resume(checkpointDir: string): 'auto' | string | undefined {
    if (this.writes) return 'auto';
    return listGenerations(checkpointDir).length > 0 ? checkpointDir : undefined;
  }

  /** Gathers the files the other ranks skipped (for rank 0's report) and leaves the group. */
  async finish(data: RunData): Promise<SkippedFile[]> {
    const mine = (['train', 'val'] as const).flatMap((split) => (data[split]?.badSamples ?? []).map((b) => ({ id: b.id, reason: b.reason, split })));
    const all = await allGatherObject(mine, this.group);
    await destroy();
    const seen = new Set(mine.map((s) => `${s.split}\0${s.id}`));
    const others: SkippedFile[] = [];
    for (const s of all.slice(1).flat()) {
      const key = `${s.split}\0${s.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      others.push(s);
    }
    return this.writes ? others : [];
  }
}
