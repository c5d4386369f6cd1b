// What a sample transform is: a JSON-serialisable spec (so a worker thread can rebuild it) and the
// code that applies it. Geometric transforms may also "plan": say, before any pixel exists, which
// crop or resize they would do, so the pipeline can fold them into the sharp call that decodes.
import type { Box, Interpolation } from '../image/decode.js';
import type { RawImage } from '../types.js';
import type { Fill, PaddingMode } from './ops-geometry.js';
import type { Rng } from './rng.js';

export type Size2 = number | readonly [number, number];
export type Range = number | readonly [number, number];

export type TransformSpec =
  | { type: 'resize'; size: Size2; maxSize?: number; interpolation?: Interpolation }
  | { type: 'centerCrop'; size: Size2 }
  | { type: 'randomCrop'; size: Size2; padding?: number | readonly number[]; padIfNeeded?: boolean; fill?: Fill; paddingMode?: PaddingMode }
  | { type: 'randomResizedCrop'; size: Size2; scale?: readonly [number, number]; ratio?: readonly [number, number]; interpolation?: Interpolation }
  | { type: 'horizontalFlip'; p?: number }
  | { type: 'verticalFlip'; p?: number }
  | { type: 'rotation'; degrees: Range; interpolation?: 'nearest' | 'bilinear'; fill?: Fill; center?: readonly [number, number] }
  | { type: 'affine'; degrees: Range; translate?: readonly [number, number]; scale?: readonly [number, number]; shear?: number | readonly number[]; interpolation?: 'nearest' | 'bilinear'; fill?: Fill; center?: readonly [number, number] }
  | { type: 'colorJitter'; brightness?: Range; contrast?: Range; saturation?: Range; hue?: Range }
  | { type: 'grayscale'; channels?: 1 | 3; p?: number }
  | { type: 'gaussianBlur'; kernelSize: Size2; sigma?: Range }
  | { type: 'gaussianNoise'; sigma: number; mean?: number; p?: number }
  | { type: 'randomErasing'; p?: number; scale?: readonly [number, number]; ratio?: readonly [number, number]; value?: number | readonly number[] | 'random' }
  | { type: 'cutout'; size: number; holes?: number; fill?: Fill; p?: number }
  | { type: 'randAugment'; numOps?: number; magnitude?: number; numMagnitudeBins?: number; interpolation?: 'nearest' | 'bilinear'; fill?: Fill }
  | { type: 'trivialAugmentWide'; numMagnitudeBins?: number; interpolation?: 'nearest' | 'bilinear'; fill?: Fill };

export type TransformType = TransformSpec['type'];

export interface Size { width: number; height: number }

/** A geometric step the decoder can run: a crop of the current image, a resize, or nothing. */
export type GeometryOp = { kind: 'crop'; box: Box } | { kind: 'resize'; width: number; height: number; interpolation: Interpolation } | { kind: 'none' };

export interface Transform<S extends TransformSpec = TransformSpec> {
  readonly spec: S;
  /**
   * For transforms that may fold into decoding: the geometry they would apply to an image of
   * `size` (in order), drawing from `rng` exactly as `apply` would; undefined when they cannot fold (then
   * `apply` runs on pixels, with a fresh rng of the same stream, so the result is the same).
   */
  plan?(size: Size, rng: Rng): GeometryOp[] | undefined;
  apply(img: RawImage, rng: Rng): RawImage | Promise<RawImage>;
}

/** (height, width) from an int or a pair, as torchvision reads `size`. */
export function hw(size: Size2): [number, number] {
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  if (!(Number.isInteger(h) && Number.isInteger(w) && h > 0 && w > 0)) throw new RangeError(`size must be positive integers, got ${JSON.stringify(size)}`);
  return [h, w];
}

/** A [lo, hi] range; a single number v means [center − v, center + v] (clamped below at `min`). */
export function range(v: Range, center = 0, min = -Infinity): [number, number] {
  if (typeof v === 'number') {
    if (v < 0) throw new RangeError(`expected a non-negative number, got ${v}`);
    return [Math.max(min, center - v), center + v];
  }
  if (!(v[0] <= v[1])) throw new RangeError(`expected a range [lo, hi] with lo <= hi, got [${v[0]}, ${v[1]}]`);
  return [v[0], v[1]];
}

/** Python's round(): halves to even (torchvision's crop arithmetic uses it). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
