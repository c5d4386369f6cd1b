// Encoding the other way: a RawImage (8-bit HWC, 1 or 3 channels) → PNG bytes, by sharp. Used for
// predicted masks, reconstructions and sample grids, and by programs that write image data sets.
import sharp from 'sharp';

import type { RawImage } from '../types.js';

/** PNG bytes of `image`; one channel stays one channel (grey, e.g. a mask of class ids). */
export function encodePng(image: RawImage): Promise<Buffer> {
  let img = sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });
  if (image.channels === 1) img = img.toColourspace('b-w');
  return img.png().toBuffer();
}
