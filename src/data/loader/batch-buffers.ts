// Batch memory for the loader's native JPEG path: samples are written straight into a batch-sized
// buffer (by the JPEG kernel's threads, or by writeSample for the samples that take the sharp
// path), and the batch tensor is a view of that memory — no collation copy. Buffers are recycled
// within an epoch, because a fresh 38 MB batch costs its page faults again every time.
//
// Recycling is safe because a buffer is reused only when nothing else can see it: no native write
// is still in flight into it, the batch it holds is not being assembled, and no tensor views it.
// The last is LibTorch's own count: the pool keeps one tensor over the whole buffer, every batch
// tensor is a view of it (same storage), so the storage has exactly one user — the pool's — once
// the consumer has disposed of every batch tensor and view over it. A batch the consumer keeps
// (a list of batches, a tensor stored somewhere) keeps its buffer out of the pool; past `capacity`
// buffers, new ones are made for one batch and left to the garbage collector with their tensor.
import { native } from '../../tensor/native.js';
import { fromBufferShared, persist, type Tensor } from '../../tensor/index.js';
import type { RawImage } from '../types.js';
import { CollateError } from './collate.js';

export interface BatchShape {
  /** Samples a buffer holds (the batch size). */
  slots: number;
  channels: 1 | 3;
  height: number;
  width: number;
}

/** One batch's memory: N×C×H×W uint8, or float32 through `table`. */
export class BatchBuffer {
  readonly data: Uint8Array | Float32Array;
  /** Native writes into this buffer not yet finished: it is not reused (nor freed) before they are. */
  pending = 0;
  /** Set while a batch is being assembled in it. */
  assembling = true;
  private whole: Tensor | undefined;

  constructor(readonly shape: BatchShape, readonly table: Float32Array | undefined, readonly pooled: boolean) {
    const n = shape.slots * shape.channels * shape.height * shape.width;
    this.data = table ? new Float32Array(n) : new Uint8Array(n);
    // Outside every memory scope: the consumer may ask for batches inside one (a training step's),
    // and the pool's tensor must outlive it.
    this.whole = persist(fromBufferShared(this.data, [shape.slots, shape.channels, shape.height, shape.width]));
  }

  /** Elements per sample. */
  get per(): number {
    return this.shape.channels * this.shape.height * this.shape.width;
  }

  /** Whether the buffer can take a new batch (see the header). */
  get free(): boolean {
    return this.whole !== undefined && !this.assembling && this.pending === 0 && native.storageOf(this.whole.handle).users === 1;
  }

  /** The first `n` samples as a tensor over this memory (N×C×H×W, no copy). */
  view(n: number): Tensor {
    if (!this.whole) throw new Error('BatchBuffer: used after release');
    return this.whole.narrow(0, 0, n);
  }

  /** Moves sample `from` to slot `to` (closing a hole left by a bad sample). */
  move(from: number, to: number): void {
    const p = this.per;
    this.data.copyWithin(to * p, from * p, (from + 1) * p);
  }

  /**
   * Writes a decoded HWC image into slot `i` as CHW: bytes as they are, or the table's floats. The
   * image must have the batch's size and channels (`id` names it in the CollateError otherwise).
   */
  writeSample(i: number, img: RawImage, id: string): void {
    const { channels: C, height: H, width: W } = this.shape;
    if (img.width !== W || img.height !== H || img.channels !== C || img.data.length !== W * H * C)
      throw new CollateError(`cannot stack ${id}: the pipeline gave ${img.width}×${img.height}×${img.channels} (${img.data.length} bytes) for a batch of ${W}×${H}×${C}`, id);
    const plane = W * H;
    const src = img.data;
    const base = i * C * plane;
    const t = this.table;
    for (let c = 0; c < C; c++) {
      const at = base + c * plane;
      if (t) for (let p = 0; p < plane; p++) this.data[at + p] = t[c * 256 + (src[p * C + c] as number)] as number;
      else for (let p = 0; p < plane; p++) this.data[at + p] = src[p * C + c] as number;
    }
  }

  /** Drops the pool's tensor: the memory lives on while a batch tensor still views it. */
  release(): void {
    this.whole?.dispose();
    this.whole = undefined;
  }
}

/** The buffers of one epoch (see the header). */
export class BatchBuffers {
  private readonly pool: BatchBuffer[] = [];

  constructor(readonly shape: BatchShape, readonly table: Float32Array | undefined, readonly capacity: number) {}

  /** A buffer for the next batch: a free pooled one, a new pooled one, or (pool full and busy) a new one-off one. */
  acquire(): BatchBuffer {
    for (const b of this.pool) {
      if (b.free) {
        b.assembling = true;
        return b;
      }
    }
    const pooled = this.pool.length < this.capacity;
    const b = new BatchBuffer(this.shape, this.table, pooled);
    if (pooled) this.pool.push(b);
    return b;
  }

  /** The batch in `b` was handed out (or abandoned): a one-off buffer lets go of its tensor. */
  done(b: BatchBuffer): void {
    b.assembling = false;
    if (!b.pooled) b.release();
  }

  /** Releases every pooled buffer's tensor (the end of the epoch). */
  close(): void {
    for (const b of this.pool.splice(0)) b.release();
  }
}
