// dist: data-parallel training over PyTorch's c10d (Gloo on CPU; NCCL in CUDA builds that have it).
//
//   await dist.init();                        // RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT from the env
//   const ddp = await dist.DataParallel.create(model);
//   ... loss.backward(); await ddp.syncGradients(); optimizer.step(); ...
//   await dist.destroy();
//
// `init` sets the default group that the functions below and DataParallel use, as PyTorch's
// `init_process_group` does; `launch` starts the ranks on this machine.
import type { Tensor } from '../tensor/tensor.js';
import { defaultGroup, type CollectiveOptions, type ReduceOp, type Work } from './group.js';
import { distNative } from './native.js';

export { DistError, type DistErrorReason } from './errors.js';
export { resolveInitOptions, type Backend, type InitOptions, type ResolvedInit } from './env.js';
export { init, destroy, isInitialized, defaultGroup, ProcessGroup, Work, type CollectiveOptions, type ReduceOp } from './group.js';
export { DataParallel, type DataParallelOptions, type BucketInfo } from './data-parallel.js';
export { assignBuckets, type Bucket, type BucketParam } from './buckets.js';
export { launch, type LaunchOptions, type LaunchResult, type RankExit } from './launch.js';
export { allGatherObject, broadcastObject } from './objects.js';
export { LockstepSource } from './lockstep.js';
export { SyncBatchNorm, convertSyncBatchNorm, type SyncBatchNormOptions } from './sync-batchnorm.js';

/** The backends this build of the addon can use ('gloo', and 'nccl' in CUDA builds with NCCL). */
export function availableBackends(): string[] {
  return distNative.distBackends();
}

// The default group's collectives (ProcessGroup's methods document them).

export function allReduce(tensor: Tensor, options: CollectiveOptions & { op?: ReduceOp } = {}): Work {
  return defaultGroup().allReduce(tensor, options);
}

export function broadcast(tensor: Tensor, options: CollectiveOptions & { src?: number } = {}): Work {
  return defaultGroup().broadcast(tensor, options);
}

export function allGather(tensor: Tensor, options: CollectiveOptions = {}): Work<Tensor[]> {
  return defaultGroup().allGather(tensor, options);
}

/** The default group's sum over ranks that autograd differentiates (ProcessGroup.allReduceDifferentiable). */
export function allReduceDifferentiable(tensor: Tensor, options: Pick<CollectiveOptions, 'timeoutMs'> = {}): Tensor {
  return defaultGroup().allReduceDifferentiable(tensor, options);
}

export function barrier(options: CollectiveOptions = {}): Work {
  return defaultGroup().barrier(options);
}
