// Turning decoded samples into batch tensors. Pixels are stacked as N×H×W×C uint8 (one memcpy a
// sample) and LibTorch does the HWC → CHW transpose, multi-threaded, instead of a per-pixel JS loop.
import { fromBufferShared, tensor, type Tensor } from '../../tensor/index.js';
import type { RawImage } from '../types.js';

export interface LoadedSample {
  image: RawImage;
  label: number;
  id: string;
  /** Global index of the sample in the epoch's data set. */
  index: number;
}

/** A batch's samples could not be stacked: the pipeline does not end in a fixed-size image. */
export class CollateError extends Error {
  override name = 'CollateError';
}

/** uint8 N×C×H×W. */
export function collateImages(samples: readonly LoadedSample[], batch: number): Tensor {
  const first = samples[0];
  if (!first) throw new CollateError(`batch ${batch} is empty`);
  const { width: w, height: h, channels: c } = first.image;
  const size = w * h * c;
  const buf = new Uint8Array(samples.length * size);
  samples.forEach((s, i) => {
    const im = s.image;
    if (im.width !== w || im.height !== h || im.channels !== c)
      throw new CollateError(
        `cannot stack batch ${batch}: ${s.id} is ${im.width}×${im.height}×${im.channels} but ${first.id} is ${w}×${h}×${c}; end the pipeline in a fixed-size resize or crop`,
      );
    if (im.data.length !== size)
      throw new CollateError(`cannot stack batch ${batch}: ${s.id} says ${im.width}×${im.height}×${im.channels} (${size} bytes) but holds ${im.data.length} bytes`);
    buf.set(im.data, i * size);
  });
  const nhwc = fromBufferShared(buf, [samples.length, h, w, c]);
  if (c === 1) return nhwc.view([samples.length, 1, h, w]);
  return nhwc.permute([0, 3, 1, 2]).contiguous();
}

/** int64 N. */
export function collateLabels(samples: readonly LoadedSample[]): Tensor {
  const y = new BigInt64Array(samples.length);
  samples.forEach((s, i) => (y[i] = BigInt(s.label)));
  return tensor(y);
}
