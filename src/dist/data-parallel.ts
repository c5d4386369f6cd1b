// Data parallelism for a Tessera Module, as PyTorch's DistributedDataParallel does it, without
// wrapping the model (so state-dict keys stay as they are):
//   - at creation, every rank checks that its model has the same parameters and buffers as the
//     others', then takes rank 0's values (parameters and buffers broadcast from rank 0);
//   - after each backward, `syncGradients()` averages the gradients across ranks: copied into
//     buckets (buckets.ts), each scaled by 1/worldSize and summed with one all-reduce — the same
//     arithmetic as PyTorch, so two ranks give bit-identical results to PyTorch's DDP;
//   - then rank 0's buffers (batch-norm statistics) are broadcast, as DDP does before each forward;
//   - inside `noSync(fn)`, gradients only accumulate locally, for gradient accumulation.
//
// The all-reduces start after backward, not during it: Tessera's autograd has no per-parameter
// hook (the README's distributed section says what overlapping them with backward would take,
// and bench/dist-data-parallel.ts measures the most it could save). Create the DataParallel after
// moving the model to its device and dtype: the buckets are allocated like the parameters.
import type { Module } from '../nn/module.js';
import type { DType } from '../tensor/dtype.js';
import { scope } from '../tensor/memory.js';
import { tensor as makeTensor } from '../tensor/factories.js';
import type { Tensor } from '../tensor/tensor.js';
import { assignBuckets, DEFAULT_BUCKET_CAP_MB, DEFAULT_FIRST_BUCKET_CAP_MB, type Bucket } from './buckets.js';
import { DistError } from './errors.js';
import { FlatBuffer } from './flat.js';
import { defaultGroup, type ProcessGroup } from './group.js';

export interface DataParallelOptions {
  /** The ranks to average over (default: the group of `dist.init()`). */
  group?: ProcessGroup;
  /** Size of a gradient bucket in MiB (PyTorch's `bucket_cap_mb`, default 25). */
  bucketCapMB?: number;
  /** Size of the first bucket in MiB (PyTorch's `_DEFAULT_FIRST_BUCKET_BYTES`, default 1). */
  firstBucketCapMB?: number;
  /** Send rank 0's buffers to every rank after each synchronised step (default true, as PyTorch). */
  broadcastBuffers?: boolean;
}

/** What one gradient bucket holds, for inspection. */
export interface BucketInfo {
  parameters: string[];
  dtype: DType;
  bytes: number;
}

interface GradBucket {
  plan: Bucket;
  buffer: FlatBuffer;
  params: Tensor[];
  names: string[];
}

export class DataParallel {
  readonly model: Module;
  readonly group: ProcessGroup;
  readonly #buckets: GradBucket[];
  readonly #buffers: { buffer: FlatBuffer; tensors: Tensor[] }[];
  #noSyncDepth = 0;
  #syncing = false;

  private constructor(model: Module, group: ProcessGroup, buckets: GradBucket[], buffers: { buffer: FlatBuffer; tensors: Tensor[] }[]) {
    this.model = model;
    this.group = group;
    this.#buckets = buckets;
    this.#buffers = buffers;
  }

  /** Checks the model matches on every rank and gives it rank 0's parameters and buffers. */
  static async create(model: Module, options: DataParallelOptions = {}): Promise<DataParallel> {
    const group = options.group ?? defaultGroup();
    const named = [...model.namedParameters()];
    const buffers = [...model.namedBuffers()];
    const trained = named.filter(([, p]) => p.requiresGrad);
    const plan = assignBuckets(
      trained.map(([, p]) => ({ numel: p.numel(), dtype: p.dtype, device: p.device })),
      options.bucketCapMB ?? DEFAULT_BUCKET_CAP_MB,
      options.firstBucketCapMB ?? DEFAULT_FIRST_BUCKET_CAP_MB,
    );
    await checkSameModel(group, [...named, ...buffers]);
    // Parameters and buffers alike start as rank 0's: one broadcast per dtype.
    const everything = byDtype([...named, ...buffers].map(([, t]) => t));
    await broadcastFrom0(group, everything);
    for (const g of everything) g.buffer.dispose();

    const buckets = plan.map((b) => {
      const params = b.indices.map((i) => trained[i]![1]);
      return { plan: b, params, names: b.indices.map((i) => trained[i]![0]), buffer: new FlatBuffer(params.map((p) => p.shape), b.dtype, b.device) };
    });
    const shared = (options.broadcastBuffers ?? true) && group.worldSize > 1 ? byDtype(buffers.map(([, t]) => t)) : [];
    return new DataParallel(model, group, buckets, shared);
  }

  /** The gradient buckets, in the order their all-reduces are issued. */
  get buckets(): BucketInfo[] {
    return this.#buckets.map((b) => ({ parameters: [...b.names], dtype: b.plan.dtype, bytes: b.plan.bytes }));
  }

  /** Whether `syncGradients` communicates (false inside `noSync`). */
  get syncEnabled(): boolean {
    return this.#noSyncDepth === 0;
  }

  /**
   * Averages every trained parameter's gradient across the ranks (call after backward, before the
   * optimizer step), then broadcasts rank 0's buffers. Does nothing inside `noSync`, and nothing
   * with a single rank. Every trained parameter must have a gradient: one without (a layer the
   * forward did not use) is an error naming it, as with PyTorch's default DDP.
   */
  async syncGradients(): Promise<void> {
    if (this.#noSyncDepth > 0 || this.group.worldSize === 1) return;
    if (this.#syncing) throw new DistError('syncGradients: already running; await the previous call first', 'config');
    this.#syncing = true;
    try {
      await scope(async () => {
        // Every gradient is looked up before the first all-reduce starts, so that a missing one
        // fails here without leaving this rank's collectives out of step with the others'.
        const grads = this.#buckets.map((b) => b.params.map((p, i) => p.grad ?? missingGrad(b.names[i]!)));
        const scale = 1 / this.group.worldSize;
        const works = this.#buckets.map((b, i) => {
          b.buffer.gather(grads[i]!);
          b.buffer.flat.mul_(scale);
          return this.group.allReduce(b.buffer.flat, { verify: false });
        });
        for (const [i, work] of works.entries()) {
          await work;
          this.#buckets[i]!.buffer.scatter(grads[i]!);
        }
      });
      if (this.#buffers.length > 0) await broadcastFrom0(this.group, this.#buffers);
    } finally {
      this.#syncing = false;
    }
  }

  /**
   * Runs `fn` (sync or async) with gradient averaging off: backward passes inside only accumulate
   * gradients locally, and the next `syncGradients()` outside averages the sum (PyTorch's `no_sync`).
   */
  noSync<T>(fn: () => T): T {
    this.#noSyncDepth++;
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.#noSyncDepth--;
      throw e;
    }
    if (result instanceof Promise) return result.finally(() => this.#noSyncDepth--) as T;
    this.#noSyncDepth--;
    return result;
  }

  /** Frees the bucket memory. The model is untouched. */
  dispose(): void {
    for (const b of this.#buckets) b.buffer.dispose();
    for (const b of this.#buffers) b.buffer.dispose();
  }
}

function missingGrad(name: string): never {
  throw new DistError(
    `syncGradients: parameter '${name}' has no gradient after backward: every rank must produce a gradient for every trained parameter ` +
      '(freeze parameters the forward does not use with requiresGrad_(false) before DataParallel.create)',
    'config',
  );
}

/** Tensors grouped by dtype and device, each group with a flat buffer. */
function byDtype(tensors: Tensor[]): { buffer: FlatBuffer; tensors: Tensor[] }[] {
  const groups = new Map<string, Tensor[]>();
  for (const t of tensors) {
    const key = `${t.dtype}@${t.device}`;
    const group = groups.get(key);
    if (group) group.push(t);
    else groups.set(key, [t]);
  }
  return [...groups.values()].map((ts) => ({ tensors: ts, buffer: new FlatBuffer(ts.map((t) => t.shape), ts[0]!.dtype, ts[0]!.device) }));
}

/** Every rank's tensors become rank 0's: one broadcast per group, all in flight at once. */
async function broadcastFrom0(group: ProcessGroup, groups: { buffer: FlatBuffer; tensors: Tensor[] }[]): Promise<void> {
  if (group.rank === 0) for (const g of groups) g.buffer.gather(g.tensors);
  const works = groups.map((g) => group.broadcast(g.buffer.flat, { src: 0, verify: false }));
  for (const [i, work] of works.entries()) {
    await work;
    if (group.rank !== 0) groups[i]!.buffer.scatter(groups[i]!.tensors);
  }
}

/** A 32-bit FNV-1a hash of a string: enough to tell two model layouts apart. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * Fails on every rank, naming the first difference, unless all ranks hold the same parameter and
 * buffer names, dtypes and shapes (a rank built with other options would otherwise average
 * unrelated numbers, or deadlock on different bucket counts).
 */
async function checkSameModel(group: ProcessGroup, named: [string, Tensor][]): Promise<void> {
  const describe = ([name, t]: [string, Tensor]) => `'${name}' (${t.dtype} [${t.shape.join(', ')}])`;
  await scope(async () => {
    const counts = await group.allGather(makeTensor([named.length], { dtype: 'int64' }));
    const sizes = counts.map((c) => Number(c.item()));
    const odd = sizes.findIndex((n) => n !== named.length);
    if (odd >= 0) throw new DistError(`DataParallel: rank ${odd} has a model with ${sizes[odd]} parameters and buffers, rank ${group.rank} has ${named.length}: every rank must build the same model`, 'mismatch');
    const mine = named.map((e) => fnv1a(describe(e)));
    const all = await group.allGather(makeTensor(mine, { dtype: 'int64' }));
    for (const [r, theirs] of all.entries()) {
      const values = Array.from(theirs.data() as BigInt64Array, Number);
      const i = values.findIndex((v, k) => v !== mine[k]);
      if (i >= 0) throw new DistError(`DataParallel: rank ${r}'s model differs from rank ${group.rank}'s at ${describe(named[i]!)} here: every rank must build the same model`, 'mismatch');
    }
  });
}
