// The distributed entry points of the native addon (native/csrc/dist*.cc), typed.
import { native, type Handle } from '../tensor/native.js';

declare const groupBrand: unique symbol;
declare const workBrand: unique symbol;
/** A c10d process group, opaque to JS. */
export type NativeGroup = { readonly [groupBrand]: true };
/** A collective in flight, opaque to JS. */
export type NativeWork = { readonly [workBrand]: true };

export interface NativeInitOptions {
  backend: string;
  rank: number;
  size: number;
  masterAddr: string;
  masterPort: number;
  rendezvousTimeoutMs: number;
  timeoutMs: number;
  heartbeatMs: number;
  /** Gloo binds to this network interface ... */
  interface?: string;
  /** ... or else to this address. */
  hostname?: string;
}

export interface NativeDist {
  distInit(options: NativeInitOptions): Promise<NativeGroup>;
  distAllReduce(group: NativeGroup, tensor: Handle, op: 'sum' | 'max' | 'min'): NativeWork;
  /** Blocks until done; returns a new tensor whose backward sums the gradients over ranks. */
  distAllReduceDifferentiable(group: NativeGroup, tensor: Handle, timeoutMs: number): Handle;
  distBroadcast(group: NativeGroup, tensor: Handle, root: number): NativeWork;
  /** `label` names the collective in failure messages (default 'allGather'). */
  distAllGather(group: NativeGroup, tensor: Handle, label?: string): NativeWork;
  distBarrier(group: NativeGroup): NativeWork;
  /** Resolves with the all-gather results, or undefined for the other collectives. */
  distWait(work: NativeWork, timeoutMs: number): Promise<Handle[] | undefined>;
  distIsCompleted(work: NativeWork): boolean;
  distDestroy(group: NativeGroup): Promise<void>;
  distBackends(): string[];
}

// The addon's own type lists the entry points the rest of Tessera shares; these are dist's alone.
export const distNative = native as unknown as NativeDist;
