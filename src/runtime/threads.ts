// LibTorch's intra-op thread pool. Tessera sets it to the machine's cores when it loads
// (LibTorch's own default is the number of physical cores, often half the vCPUs on cloud machines);
// TESSERA_NUM_THREADS or OMP_NUM_THREADS override that.
import { availableParallelism } from 'node:os';

import { native } from '../tensor/native.js';

export function getNumThreads(): number {
  return native.getNumThreads();
}

export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`setNumThreads: expected a positive integer, got ${n}`);
  native.setNumThreads(n);
}

export function getNumInteropThreads(): number {
  return native.getNumInteropThreads();
}

/** The thread count Tessera starts with: the env override, else every available core. */
export function defaultNumThreads(env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = Number(env.TESSERA_NUM_THREADS ?? env.OMP_NUM_THREADS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : availableParallelism();
}

setNumThreads(defaultNumThreads());
