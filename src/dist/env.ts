// Where a rank learns who it is: explicit options first, else the environment that torchrun (and
// Tessera's launcher) set — RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT, LOCAL_RANK,
// LOCAL_WORLD_SIZE — and GLOO_SOCKET_IFNAME, as PyTorch reads it. Every bad value is an error that
// names the option or variable at fault.
import { DistError } from './errors.js';

export type Backend = 'gloo' | 'nccl';

export interface InitOptions {
  /** 'gloo' (CPU; the default) or 'nccl' (CUDA builds of LibTorch that ship NCCL). */
  backend?: Backend;
  /** This process's rank in [0, worldSize) (env RANK). */
  rank?: number;
  /** Number of processes in the job (env WORLD_SIZE). */
  worldSize?: number;
  /** The host of rank 0, which serves the rendezvous store (env MASTER_ADDR). */
  masterAddr?: string;
  /** The store's TCP port on that host (env MASTER_PORT). */
  masterPort?: number;
  /** Rank on this machine (env LOCAL_RANK; default: rank, i.e. one machine). */
  localRank?: number;
  /** Ranks on this machine (env LOCAL_WORLD_SIZE; default: worldSize). */
  localWorldSize?: number;
  /** Network interface Gloo binds to (env GLOO_SOCKET_IFNAME); default: the one that reaches MASTER_ADDR. */
  interface?: string;
  /** How long one collective may take before it fails (default 30 min, as PyTorch). */
  timeoutMs?: number;
  /** How long to wait for the store and for every rank to arrive (default 5 min). */
  rendezvousTimeoutMs?: number;
  /** How often each rank signals it is alive; a rank silent for 3 beats is named as lost (default 1 s). */
  heartbeatMs?: number;
}

export interface ResolvedInit {
  backend: Backend;
  rank: number;
  worldSize: number;
  masterAddr: string;
  masterPort: number;
  localRank: number;
  localWorldSize: number;
  interface: string | undefined;
  timeoutMs: number;
  rendezvousTimeoutMs: number;
  heartbeatMs: number;
}

export const DEFAULT_TIMEOUT_MS = 30 * 60_000;
export const DEFAULT_RENDEZVOUS_TIMEOUT_MS = 5 * 60_000;
export const DEFAULT_HEARTBEAT_MS = 1000;

const HOW =
  'start this program with the launcher (dist.launch) or torchrun, or pass { rank, worldSize, masterAddr, masterPort } to dist.init';

function configError(message: string): DistError {
  return new DistError(`dist.init: ${message}`, 'config');
}

/** An integer from the option, else from the variable; `min`/`max` bound it. */
function integer(option: number | undefined, optionName: string, env: NodeJS.ProcessEnv, variable: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (option !== undefined) {
    if (!Number.isInteger(option) || option < min || option > max) throw configError(`option ${optionName} must be an integer in [${min}, ${max}], got ${option}`);
    return option;
  }
  const raw = env[variable];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < min || n > max) throw configError(`${variable} must be an integer in [${min}, ${max}], got '${raw}'`);
  return n;
}

function required<T>(value: T | undefined, variable: string, optionName: string): T {
  if (value === undefined) throw configError(`${variable} is not set and no ${optionName} option was given: ${HOW}`);
  return value;
}

function positiveMs(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw configError(`option ${name} must be a positive integer (milliseconds), got ${value}`);
  return value;
}

/** The init options with the environment filled in, checked. */
export function resolveInitOptions(options: InitOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedInit {
  const backend = options.backend ?? 'gloo';
  if (backend !== 'gloo' && backend !== 'nccl') throw configError(`option backend must be 'gloo' or 'nccl', got '${String(backend)}'`);
  const worldSize = required(integer(options.worldSize, 'worldSize', env, 'WORLD_SIZE', 1), 'WORLD_SIZE', 'worldSize');
  const rank = required(integer(options.rank, 'rank', env, 'RANK', 0), 'RANK', 'rank');
  if (rank >= worldSize) throw configError(`rank ${rank} is out of range for a world of ${worldSize} (RANK must be below WORLD_SIZE)`);
  const masterAddr = options.masterAddr ?? env.MASTER_ADDR;
  if (masterAddr === undefined || masterAddr.trim() === '') throw configError(`MASTER_ADDR is not set and no masterAddr option was given: ${HOW}`);
  const masterPort = required(integer(options.masterPort, 'masterPort', env, 'MASTER_PORT', 1, 65535), 'MASTER_PORT', 'masterPort');
  const localWorldSize = integer(options.localWorldSize, 'localWorldSize', env, 'LOCAL_WORLD_SIZE', 1) ?? worldSize;
  const localRank = integer(options.localRank, 'localRank', env, 'LOCAL_RANK', 0) ?? rank;
  if (localRank >= localWorldSize) throw configError(`local rank ${localRank} is out of range for ${localWorldSize} local ranks (LOCAL_RANK must be below LOCAL_WORLD_SIZE)`);
  const iface = options.interface ?? (env.GLOO_SOCKET_IFNAME || undefined);
  return {
    backend,
    rank,
    worldSize,
    masterAddr: masterAddr.trim(),
    masterPort,
    localRank,
    localWorldSize,
    interface: iface,
    timeoutMs: positiveMs(options.timeoutMs, 'timeoutMs', DEFAULT_TIMEOUT_MS),
    rendezvousTimeoutMs: positiveMs(options.rendezvousTimeoutMs, 'rendezvousTimeoutMs', DEFAULT_RENDEZVOUS_TIMEOUT_MS),
    heartbeatMs: positiveMs(options.heartbeatMs, 'heartbeatMs', DEFAULT_HEARTBEAT_MS),
  };
}
