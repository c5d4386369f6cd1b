// What a sample transform is: a JSON-serialisable spec (so a worker thread can rebuild it) and the
// code that applies it. Geometric transforms may also "plan": say, before any pixel exists, which
// crop or resize they would do, so the pipeline can fold them into the sharp call that decodes.
import type { Box, Interpolation } from '../image/decode.js';
import { checkOptions, code, isOptionsObject, show } from '../options.js';
import type { RawImage } from '../types.js';
import type { Fill, PaddingMode } from './ops-geometry.js';
import type { RandomStream } from '../random.js';

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
type SpecOf<T extends TransformType> = Extract<TransformSpec, { type: T }>;

/**
 * Each transform's options — required or optional, checked against TransformSpec by the compiler —
 * and the one torchvision takes first, with a typical value, for messages like "write resize({ size: 32 })".
 */
type OptionTable = {
  [T in TransformType]: {
    first: Exclude<keyof SpecOf<T>, 'type'>;
    sample: unknown;
    options: { [K in Exclude<keyof SpecOf<T>, 'type'>]-?: undefined extends SpecOf<T>[K] ? 'optional' : 'required' };
  };
};

const OPTIONS: OptionTable = {
  resize: { first: 'size', sample: 32, options: { size: 'required', maxSize: 'optional', interpolation: 'optional' } },
  centerCrop: { first: 'size', sample: 224, options: { size: 'required' } },
  randomCrop: { first: 'size', sample: 32, options: { size: 'required', padding: 'optional', padIfNeeded: 'optional', fill: 'optional', paddingMode: 'optional' } },
  randomResizedCrop: { first: 'size', sample: 224, options: { size: 'required', scale: 'optional', ratio: 'optional', interpolation: 'optional' } },
  horizontalFlip: { first: 'p', sample: 0.5, options: { p: 'optional' } },
  verticalFlip: { first: 'p', sample: 0.5, options: { p: 'optional' } },
  rotation: { first: 'degrees', sample: 15, options: { degrees: 'required', interpolation: 'optional', fill: 'optional', center: 'optional' } },
  affine: { first: 'degrees', sample: 15, options: { degrees: 'required', translate: 'optional', scale: 'optional', shear: 'optional', interpolation: 'optional', fill: 'optional', center: 'optional' } },
  colorJitter: { first: 'brightness', sample: 0.4, options: { brightness: 'optional', contrast: 'optional', saturation: 'optional', hue: 'optional' } },
  grayscale: { first: 'channels', sample: 3, options: { channels: 'optional', p: 'optional' } },
  gaussianBlur: { first: 'kernelSize', sample: 5, options: { kernelSize: 'required', sigma: 'optional' } },
  gaussianNoise: { first: 'sigma', sample: 0.1, options: { sigma: 'required', mean: 'optional', p: 'optional' } },
  randomErasing: { first: 'p', sample: 0.5, options: { p: 'optional', scale: 'optional', ratio: 'optional', value: 'optional' } },
  cutout: { first: 'size', sample: 8, options: { size: 'required', holes: 'optional', fill: 'optional', p: 'optional' } },
  randAugment: { first: 'numOps', sample: 2, options: { numOps: 'optional', magnitude: 'optional', numMagnitudeBins: 'optional', interpolation: 'optional', fill: 'optional' } },
  trivialAugmentWide: { first: 'numMagnitudeBins', sample: 31, options: { numMagnitudeBins: 'optional', interpolation: 'optional', fill: 'optional' } },
};

/** Every transform type, for messages. */
export const TRANSFORM_TYPES = Object.keys(OPTIONS) as TransformType[];

/**
 * The spec of a `type` transform from the options its factory was called with, checked the way
 * plain JavaScript needs: `resize(32)` or `resize({ sizes: 32 })` get a message saying to write
 * `resize({ size: 32 })`. A spec that already names its type (a worker rebuilding it) passes too.
 */
export function specOf<T extends TransformType>(type: T, options: unknown): SpecOf<T> {
  const table = OPTIONS[type] as { first: string; sample: unknown; options: Record<string, 'required' | 'optional'> };
  const write = (v: unknown) => `${type}({ ${table.first}: ${code(v)} })`;
  const required = Object.keys(table.options).filter((k) => table.options[k] === 'required');
  if (options === undefined && required.length === 0) return { type } as SpecOf<T>;
  if (options === undefined) throw new TypeError(`${type} needs options: write ${write(table.sample)}`);
  // A bare value where the options object goes is torchvision's positional style: put it in its place.
  const positional = !isOptionsObject(options) && (typeof options === 'number' || typeof options === 'string' || typeof options === 'boolean' || Array.isArray(options));
  const { type: named, ...rest } = isOptionsObject(options) ? options : {};
  if (named !== undefined && named !== type) throw new RangeError(`${type}: the options say type ${show(named)}; leave type out (the factory sets it)`);
  const o = checkOptions(type, isOptionsObject(options) ? rest : options, Object.keys(table.options), write(positional ? options : table.sample));
  for (const k of required) if (o[k] === undefined) throw new TypeError(`${type}: option '${k}' is required, e.g. ${write(table.sample)}`);
  return { ...o, type } as SpecOf<T>;
}

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
  plan?(size: Size, rng: RandomStream): GeometryOp[] | undefined;
  apply(img: RawImage, rng: RandomStream): RawImage | Promise<RawImage>;
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
