// A process group: the ranks of one job and the collectives between them, over c10d.
//
// Collectives return a `Work` at once; the communication runs on c10d's threads, and waiting for
// it happens off the event loop (a `Work` is awaitable). Before each collective the ranks compare
// what they were asked to do (verify), because Gloo given mismatched sizes aborts the process from
// one of its threads. A failed or timed-out collective leaves the group unusable — c10d cannot
// cancel Gloo's part of it — so every later call fails with the first error, which names the lost
// rank when the heartbeats could tell.
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';

import { dtypeCode, dtypeName, isFloatingPoint } from '../tensor/dtype.js';
import { tensor as makeTensor } from '../tensor/factories.js';
import { persist, scope } from '../tensor/memory.js';
import type { Handle } from '../tensor/native.js';
import { Tensor } from '../tensor/tensor.js';
import { resolveInitOptions, type Backend, type InitOptions, type ResolvedInit } from './env.js';
import { DistError, toDistError } from './errors.js';
import { distNative, type NativeGroup, type NativeWork } from './native.js';

/** How `allReduce` combines the ranks' tensors; 'avg' is a sum divided by the world size. */
export type ReduceOp = 'sum' | 'avg' | 'max' | 'min';

/** Options every collective takes. */
export interface CollectiveOptions {
  /** Fail (and give up on the group) if the collective has not completed after this long (default: the group's timeoutMs). */
  timeoutMs?: number;
  /**
   * First compare the collective, dtype and shape across ranks with one small all-gather (default
   * true). A mismatch then fails on every rank with a message naming it; without the check, Gloo
   * aborts the process or hangs. Skip it only where the shapes are known to agree.
   */
  verify?: boolean;
}

/**
 * A collective in flight. `await work` (or `await work.wait()`) resolves once it has completed on
 * this rank, and rejects with a DistError if it failed or ran out of time; awaiting it again gives
 * the same outcome.
 */
export class Work<T = void> implements PromiseLike<T> {
  #native: NativeWork | undefined;
  readonly #done: Promise<T>;

  /** @internal Made by ProcessGroup's collectives. */
  constructor(launched: Promise<NativeWork>, timeoutMs: number, finish: (handles: Handle[] | undefined) => T) {
    this.#done = launched
      .then((native) => {
        this.#native = native;
        return distNative.distWait(native, timeoutMs);
      })
      .then(finish, (e: unknown) => {
        throw toDistError(e);
      });
    // Rejections are reported to whoever awaits; an unawaited failure still poisons the group.
    this.#done.catch(() => undefined);
  }

  /** Waits without blocking the event loop. */
  wait(): Promise<T> {
    return this.#done;
  }

  /** Whether the collective has finished (successfully or not) on this rank; never blocks. */
  isCompleted(): boolean {
    return this.#native !== undefined && distNative.distIsCompleted(this.#native);
  }

  then<R1 = T, R2 = never>(onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null, onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null): Promise<R1 | R2> {
    return this.#done.then(onFulfilled, onRejected);
  }
}

const OPS = ['allReduce', 'broadcast', 'allGather', 'barrier'] as const;
type Op = (typeof OPS)[number];
const REDUCE_OPS: ReduceOp[] = ['sum', 'avg', 'max', 'min'];
const MAX_DIMS = 8;

/**
 * What each rank must agree on for one collective, as a fixed-length int64 row: the collective and
 * its argument (reduce op, broadcast source), dtype, numel, ndim and the first dimensions.
 */
function fingerprint(op: Op, arg: number, t: Tensor | undefined): number[] {
  const shape = t?.shape ?? [];
  const dims = Array.from({ length: MAX_DIMS }, (_, i) => shape[i] ?? -1);
  return [OPS.indexOf(op), arg, t ? dtypeCode(t.dtype) : -1, t ? t.numel() : 0, shape.length, ...dims];
}

function describeFingerprint(f: number[]): string {
  const [op, arg, dtype, , ndim, ...dims] = f;
  const name = OPS[op!] ?? 'unknown';
  const detail = name === 'allReduce' ? `(${REDUCE_OPS[arg!]})` : name === 'broadcast' ? `(src ${arg})` : '';
  if (name === 'barrier') return 'barrier()';
  const shape = dims.slice(0, Math.min(ndim!, MAX_DIMS)).join(', ') + (ndim! > MAX_DIMS ? ', …' : '');
  return `${name}${detail} of ${dtypeName(dtype!)} [${shape}]`;
}

/** The ranks of one job. Made by `dist.init()`. */
export class ProcessGroup {
  readonly backend: Backend;
  readonly rank: number;
  readonly worldSize: number;
  /** Rank among the processes on this machine (e.g. to pick `cuda:${localRank}`). */
  readonly localRank: number;
  readonly localWorldSize: number;
  /** How long a collective may take before it fails (the default of each collective's timeoutMs). */
  readonly timeoutMs: number;
  #native: NativeGroup | undefined;
  // Collectives must start in the same order on every rank; a verified one starts only after its
  // check, so every launch waits for the one before it.
  #tail: Promise<unknown> = Promise.resolve();
  // Collectives queued on #tail and not yet handed to c10d: a synchronous one must not overtake them.
  #queued = 0;

  /** @internal Use `dist.init()`. */
  constructor(native: NativeGroup, o: ResolvedInit) {
    this.#native = native;
    this.backend = o.backend;
    this.rank = o.rank;
    this.worldSize = o.worldSize;
    this.localRank = o.localRank;
    this.localWorldSize = o.localWorldSize;
    this.timeoutMs = o.timeoutMs;
  }

  #group(op: string): NativeGroup {
    if (!this.#native) throw new DistError(`${op}: the process group was destroyed`, 'failed');
    return this.#native;
  }

  #launch<T>(op: Op, arg: number, tensor: Tensor | undefined, o: CollectiveOptions, start: (g: NativeGroup, t: Handle) => NativeWork, finish: (handles: Handle[] | undefined, t: Tensor | undefined) => T): Work<T> {
    const g = this.#group(op);
    const timeoutMs = o.timeoutMs ?? this.timeoutMs;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new DistError(`${op}: timeoutMs must be a positive integer, got ${timeoutMs}`, 'config');
    // Our own reference to the tensor, outside every scope: the collective may start, and finish,
    // after the caller's scope has disposed its handle.
    const held = tensor ? persist(tensor.shallowClone()) : undefined;
    const check = (o.verify ?? true) ? fingerprint(op, arg, tensor) : undefined;
    this.#queued++;
    const launched = this.#tail
      .then(async () => {
        this.#queued--;
        if (check) await this.#verify(g, op, check, timeoutMs);
        return start(g, held?.handle ?? 0);
      })
      .catch((e: unknown) => {
        throw toDistError(e);
      });
    this.#tail = launched.catch(() => undefined);
    const work = new Work(launched, timeoutMs, (handles) => finish(handles, held));
    void work.wait().then(
      () => held?.dispose(),
      () => held?.dispose(),
    );
    return work;
  }

  /** Fails on every rank alike, naming what differs, unless all ranks called the same collective on the same kind of tensor. */
  async #verify(g: NativeGroup, op: Op, mine: number[], timeoutMs: number): Promise<void> {
    const rows = await scope(async () => {
      const handles = await distNative.distWait(distNative.distAllGather(g, makeTensor(mine, { dtype: 'int64' }).handle, op), timeoutMs);
      return (handles ?? []).map((h) => {
        const t = new Tensor(h);
        return Array.from(t.data() as BigInt64Array, Number);
      });
    });
    const differ = rows.findIndex((row) => row.some((v, i) => v !== rows[0]![i]));
    if (differ < 0) return;
    const calls = rows.map((row, r) => `rank ${r}: ${describeFingerprint(row)}`).join('; ');
    throw new DistError(`ranks disagree on a collective (${calls}): every rank must make the same calls with tensors of the same dtype and shape`, 'mismatch');
  }

  /** Combines `tensor` across ranks in place: every rank ends with the same result. */
  allReduce(tensor: Tensor, options: CollectiveOptions & { op?: ReduceOp } = {}): Work {
    const op = options.op ?? 'sum';
    if (!REDUCE_OPS.includes(op)) throw new DistError(`allReduce: op must be 'sum', 'avg', 'max' or 'min', got '${op}'`, 'config');
    if (op === 'avg' && !isFloatingPoint(tensor.dtype)) throw new DistError(`allReduce: op 'avg' needs a floating-point tensor, got ${tensor.dtype}`, 'config');
    // Gloo has no average: sum, then divide once the sum has arrived.
    const native = op === 'avg' ? 'sum' : op;
    return this.#launch('allReduce', REDUCE_OPS.indexOf(op), tensor, options, (g, t) => distNative.distAllReduce(g, t, native), (_, t) => {
      if (op === 'avg') t!.div_(this.worldSize);
    });
  }

  /**
   * The sum of `tensor` over ranks as a new tensor that autograd differentiates: backward gives
   * each rank's input the sum of every rank's gradient (PyTorch's
   * `torch.distributed.nn.functional.all_reduce`). Blocks until done — forward here, and the
   * backward's all-reduce inside `backward()` — so every rank must run the same forward and
   * backward. The shape is not compared across ranks first (that would cost a round trip per call):
   * it must agree by construction, as SyncBatchNorm's statistics of one model do.
   */
  allReduceDifferentiable(tensor: Tensor, options: Pick<CollectiveOptions, 'timeoutMs'> = {}): Tensor {
    const g = this.#group('allReduceDifferentiable');
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new DistError(`allReduceDifferentiable: timeoutMs must be a positive integer, got ${timeoutMs}`, 'config');
    if (!isFloatingPoint(tensor.dtype)) throw new DistError(`allReduceDifferentiable: needs a floating-point tensor, got ${tensor.dtype}`, 'config');
    // Starting now while an earlier collective waits for its check would swap their order across ranks.
    if (this.#queued > 0) throw new DistError('allReduceDifferentiable: an earlier collective has not started yet; await it first (collectives must start in the same order on every rank)', 'config');
    try {
      return new Tensor(distNative.distAllReduceDifferentiable(g, tensor.handle, timeoutMs));
    } catch (e) {
      throw toDistError(e);
    }
  }

  /** Overwrites `tensor` on every rank with rank `src`'s (default 0), in place. */
  broadcast(tensor: Tensor, options: CollectiveOptions & { src?: number } = {}): Work {
    const src = options.src ?? 0;
    if (!Number.isInteger(src) || src < 0 || src >= this.worldSize) throw new DistError(`broadcast: src must be a rank in [0, ${this.worldSize}), got ${src}`, 'config');
    return this.#launch('broadcast', src, tensor, options, (g, t) => distNative.distBroadcast(g, t, src), () => undefined);
  }

  /** Every rank's `tensor` (same shape and dtype on all ranks), in rank order: new tensors. */
  allGather(tensor: Tensor, options: CollectiveOptions = {}): Work<Tensor[]> {
    return this.#launch('allGather', 0, tensor, options, (g, t) => distNative.distAllGather(g, t), (handles) => (handles ?? []).map((h) => new Tensor(h)));
  }

  /** Completes once every rank has called it. */
  barrier(options: CollectiveOptions = {}): Work {
    return this.#launch('barrier', 0, undefined, options, (g) => distNative.distBarrier(g), () => undefined);
  }

  /** Stops the heartbeat and frees Gloo's threads and connections. The group cannot be used afterwards. */
  async destroy(): Promise<void> {
    const g = this.#native;
    if (!g) return;
    this.#native = undefined;
    await this.#tail;
    await distNative.distDestroy(g).catch((e: unknown) => {
      throw toDistError(e);
    });
  }
}

const LOOPBACK = /^(127\.|localhost$|::1$)/;

/**
 * The local address that routes to the master: Gloo binds there, so on one machine it listens on
 * loopback only, and on several it is reachable where the store is (binding to the hostname's
 * address, c10d's default, gives 127.0.1.1 on Debian and a job that cannot connect).
 */
async function addressTowards(host: string, port: number): Promise<string> {
  if (LOOPBACK.test(host)) return '127.0.0.1';
  let target: { address: string; family: number };
  try {
    target = await lookup(host);
  } catch (e) {
    throw new DistError(`dist.init: MASTER_ADDR '${host}' does not resolve: ${(e as Error).message}`, 'config', [], { cause: e });
  }
  const socket = createSocket(target.family === 6 ? 'udp6' : 'udp4');
  try {
    // Connecting a UDP socket sends nothing; it only asks the kernel for the route.
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(port, target.address, () => resolve());
    });
    return socket.address().address;
  } catch (e) {
    throw new DistError(`dist.init: no route from this machine to MASTER_ADDR ${host}: ${(e as Error).message}`, 'config', [], { cause: e });
  } finally {
    socket.close();
  }
}

let current: ProcessGroup | undefined;
let joining = false;

/**
 * Joins the job — rendezvous at the store, Gloo connections to every rank, the heartbeat — and
 * makes the group the default one (PyTorch's `init_process_group`). Rejects with a DistError that
 * says what to fix.
 */
export async function init(options: InitOptions = {}): Promise<ProcessGroup> {
  if (current || joining) throw new DistError('dist.init: this process has already joined a group; call dist.destroy() first', 'config');
  joining = true;
  try {
    current = await join(options);
    return current;
  } finally {
    joining = false;
  }
}

export function isInitialized(): boolean {
  return current !== undefined;
}

/** The group of `dist.init()`. */
export function defaultGroup(): ProcessGroup {
  if (!current) throw new DistError('dist: no process group; call `await dist.init()` first', 'config');
  return current;
}

/** Leaves the job (a no-op when not initialized). */
export async function destroy(): Promise<void> {
  const g = current;
  current = undefined;
  await g?.destroy();
}

async function join(options: InitOptions): Promise<ProcessGroup> {
  const o = resolveInitOptions(options);
  const backends = distNative.distBackends();
  if (!backends.includes(o.backend)) throw new DistError(`dist.init: backend '${o.backend}' is not in this build of the addon (it has ${backends.join(', ')}); NCCL needs a CUDA LibTorch that ships nccl.h`, 'config');
  const hostname = o.interface ? undefined : await addressTowards(o.masterAddr, o.masterPort);
  try {
    const native = await distNative.distInit({
      backend: o.backend,
      rank: o.rank,
      size: o.worldSize,
      masterAddr: o.masterAddr,
      masterPort: o.masterPort,
      rendezvousTimeoutMs: o.rendezvousTimeoutMs,
      timeoutMs: o.timeoutMs,
      heartbeatMs: o.heartbeatMs,
      ...(o.interface ? { interface: o.interface } : { hostname }),
    });
    return new ProcessGroup(native, o);
  } catch (e) {
    throw toDistError(e);
  }
}
