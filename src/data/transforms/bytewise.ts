// Batch transforms that turn each byte of a channel into one float by itself, whatever the rest of
// the batch holds (toFloat, normalize: batch.ts registers them). The data loader may fold such a
// first transform into decoding: it runs the transform once on the 256 byte values (byteTable) and
// the JPEG kernel writes those floats straight into the batch — the same numbers the transform
// gives, by construction. Internal: not part of `transforms.batch`'s public names.
import { scope, tensor } from '../../tensor/index.js';
import type { BatchTransform } from './batch.js';

const bytewise = new WeakSet<BatchTransform>();

/** Marks `t` as byte-wise (see the header) and returns it. */
export function registerBytewise(t: BatchTransform): BatchTransform {
  bytewise.add(t);
  return t;
}

/**
 * For a transform that maps each byte of a channel to one float by itself (toFloat, normalize):
 * the float32 it gives byte v of channel c, at c·256 + v, for `channels` channels — computed by
 * running the transform on a 1×channels×1×256 uint8 batch of those values. Undefined for every
 * other transform.
 */
export function byteTable(t: BatchTransform, channels: number): Float32Array | undefined {
  if (!bytewise.has(t)) return undefined;
  return scope(() => {
    const bytes = Uint8Array.from({ length: channels * 256 }, (_, i) => i % 256);
    const out = t({ x: tensor(bytes, { shape: [1, channels, 1, 256] }), y: tensor(new BigInt64Array(1)) }, { seed: 0, epoch: 0, batch: 0, indices: [0], position: 0 }).x;
    return out.dtype === 'float32' ? (out.contiguous().data() as Float32Array) : undefined;
  });
}
