// Turning decoded samples into batch tensors — the one collation the loader and prediction share.
// Pixels are stacked as N×H×W×C uint8 (one memcpy a sample) and LibTorch does the HWC → CHW
// transpose, multi-threaded, instead of a per-pixel JS loop.
import { fromBufferShared, scope, tensor, type Tensor } from '../../tensor/index.js';
import type { RawImage } from '../types.js';

export interface LoadedSample {
  image: RawImage;
  label: number;
  /** Segmentation: the mask after the sample's transforms (one channel of class ids). */
  mask?: RawImage;
  /** Multi-label: 0/1 per class. */
  labels?: Uint8Array;
  id: string;
  /** Global index of the sample in the epoch's data set. */
  index: number;
}

/** A batch's images could not be stacked (the pipeline does not end in a fixed size); `id` names the first that does not fit. */
export class CollateError extends Error {
  override name = 'CollateError';
  constructor(message: string, readonly id: string) {
    super(message);
  }
}

/**
 * uint8 N×C×H×W from images of one size and channel count. `ids` name the samples in the error
 * (default `sample i`), `what` the batch (e.g. `batch 3`).
 */
export function collate(images: readonly RawImage[], ids?: readonly string[], what = 'the batch'): Tensor {
  const first = images[0];
  if (!first) throw new CollateError(`cannot stack ${what}: it has no images`, '');
  const { width: w, height: h, channels: c } = first;
  const size = w * h * c;
  const name = (i: number) => ids?.[i] ?? `sample ${i}`;
  const buf = new Uint8Array(images.length * size);
  images.forEach((im, i) => {
    if (im.width !== w || im.height !== h || im.channels !== c)
      throw new CollateError(`cannot stack ${what}: ${name(i)} is ${im.width}×${im.height}×${im.channels} but ${name(0)} is ${w}×${h}×${c} (images ${i} and 0); end the pipeline in a fixed-size resize or crop`, name(i));
    if (im.data.length !== size) throw new CollateError(`cannot stack ${what}: ${name(i)} says ${im.width}×${im.height}×${im.channels} (${size} bytes) but holds ${im.data.length} bytes`, name(i));
    buf.set(im.data, i * size);
  });
  return scope(() => {
    const nhwc = fromBufferShared(buf, [images.length, h, w, c]);
    return c === 1 ? nhwc.view([images.length, 1, h, w]) : nhwc.permute([0, 3, 1, 2]).contiguous();
  });
}

/** int64 N. */
export function collateLabels(samples: readonly { label: number }[]): Tensor {
  const y = new BigInt64Array(samples.length);
  samples.forEach((s, i) => (y[i] = BigInt(s.label)));
  return tensor(y);
}

/**
 * The batch's targets: int64 N×H×W masks when the samples carry masks, float32 N×K 0/1 when they
 * carry several labels, else the int64 N class indices of collateLabels. A batch mixing kinds is a
 * source bug, named.
 */
export function collateTargets(samples: readonly Omit<LoadedSample, 'image'>[], what = 'the batch'): Tensor {
  const masks = samples.filter((s) => s.mask).length;
  const multi = samples.filter((s) => s.labels).length;
  if ((masks > 0 && masks < samples.length) || (multi > 0 && multi < samples.length) || (masks > 0 && multi > 0))
    throw new CollateError(`cannot stack ${what}: ${masks} of its ${samples.length} samples carry masks and ${multi} several labels; a source gives every sample the same kind of target`, samples[0]?.id ?? '');
  if (masks > 0) {
    const first = samples[0]?.mask as RawImage;
    return scope(() => collate(samples.map((s) => s.mask as RawImage), samples.map((s) => s.id), `the masks of ${what}`).view([samples.length, first.height, first.width]).long());
  }
  if (multi > 0) {
    const k = (samples[0]?.labels as Uint8Array).length;
    const y = new Float32Array(samples.length * k);
    samples.forEach((s, i) => {
      const l = s.labels as Uint8Array;
      if (l.length !== k) throw new CollateError(`cannot stack ${what}: ${s.id} has ${l.length} labels, ${samples[0]?.id} has ${k}`, s.id);
      y.set(l, i * k);
    });
    return tensor(y, { shape: [samples.length, k] });
  }
  return collateLabels(samples);
}
