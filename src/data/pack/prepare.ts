// One sample's way into a pack: decode, convert the channels, resize (and centre-crop) to the
// packed size, then keep the pixels (small images) or a JPEG of them (large ones). The geometry is
// torchvision's Resize + CenterCrop, run by the transforms of src/data/transforms/, so a packed
// sample holds exactly what decodeImage followed by those transforms gives.
//
// By default a JPEG is decoded at full resolution before it is resized, as PIL does. With
// `shrinkOnLoad`, libjpeg decodes large JPEGs at 1/2, 1/4 or 1/8 scale when the output is that
// much smaller: several times faster on photos, at the cost of slightly softer, less exact pixels.
import sharp from 'sharp';

import { decodeRegion, probeImage, toChannels, type ChannelMode, type Interpolation } from '../image/decode.js';
import { compose, type ComposedPipeline } from '../transforms/compose.js';
import type { TransformSpec } from '../transforms/spec.js';
import { DataError, type RawImage, type SampleInput } from '../types.js';

export interface PrepareOptions {
  /**
   * The packed size. A number s: the shorter side is resized to s, then the centre s×s is cut
   * (torchvision Resize(s) + CenterCrop(s)). [h, w]: resized to exactly h×w. Absent: kept as is.
   */
  size?: number | readonly [number, number];
  /**
   * Never crop or distort: with a number, only the shorter side is resized (the longer follows);
   * with [h, w], the image is scaled to fit inside h×w. Default false.
   */
  keepAspect?: boolean;
  /** 'rgb', 'grey' (ITU-R 601-2 luma) or 'keep' (default: grey stays grey, colour stays colour). */
  channels?: ChannelMode;
  /** Resampling filter (default bilinear, as torchvision's Resize). */
  interpolation?: Interpolation;
  /** Images of at most this many pixels are stored as raw 8-bit pixels; larger ones as JPEG. Default 64×64. */
  rawMaxPixels?: number;
  /** Quality of the JPEGs written for large images, 1..100 (default 90). */
  jpegQuality?: number;
  /** Let large JPEGs decode at a reduced scale (faster, not bit-exact with a full decode). Default false. */
  shrinkOnLoad?: boolean;
}

/** What the writer takes: the pixels, plus a JPEG when the image is too large to store raw. */
export interface PreparedSample {
  image: RawImage;
  jpeg?: Uint8Array;
  /** True when `jpeg` is the source file itself (a JPEG already of the packed size and channels). */
  keptSourceJpeg?: boolean;
}

export interface Preparer {
  prepare(input: SampleInput, id: string): Promise<PreparedSample>;
  /** One line for the summary, e.g. `resize 32 + center crop 32×32, rgb, raw ≤ 4096 px else JPEG q90`. */
  readonly description: string;
}

/** Checks the options (RangeError naming the option) and returns the per-sample preparation. */
export function preparer(o: PrepareOptions = {}): Preparer {
  const channels = o.channels ?? 'keep';
  const rawMaxPixels = o.rawMaxPixels ?? 64 * 64;
  const quality = o.jpegQuality ?? 90;
  const interpolation = o.interpolation ?? 'bilinear';
  if (!['rgb', 'grey', 'keep'].includes(channels)) throw new RangeError(`channels must be 'rgb', 'grey' or 'keep', got ${JSON.stringify(channels)}`);
  if (!(Number.isInteger(rawMaxPixels) && rawMaxPixels >= 0)) throw new RangeError(`rawMaxPixels must be an integer ≥ 0, got ${rawMaxPixels}`);
  if (!(Number.isInteger(quality) && quality >= 1 && quality <= 100)) throw new RangeError(`jpegQuality must be an integer in 1..100, got ${quality}`);
  const size = o.size === undefined ? undefined : checkSize(o.size);

  // Fit-inside (pair + keepAspect) depends on each image's size: its pipeline is built per sample.
  const perSample = size !== undefined && o.keepAspect === true && Array.isArray(size);
  const transforms = perSample ? undefined : transformsFor(size, o.keepAspect ?? false, interpolation);
  const pipelineFor = (w: number, h: number, decodeChannels: ChannelMode): ComposedPipeline =>
    compose({ decode: { channels: decodeChannels }, transforms: transforms ?? [{ type: 'resize', size: fitInside(size as [number, number], w, h), interpolation }] });
  const onPixels = transforms && pipelineFor(0, 0, 'keep');
  const fused = transforms && pipelineFor(0, 0, channels);
  const ctx = { seed: 0, epoch: 0, index: 0 }; // no random transforms: the context is never drawn from
  const onPixelsRun = (img: RawImage, id: string): Promise<RawImage> =>
    (onPixels ?? pipelineFor(img.width, img.height, 'keep')).run({ kind: 'pixels', image: img }, ctx, id);

  return {
    description: describe(size, o.keepAspect ?? false, channels, rawMaxPixels, quality) + (o.shrinkOnLoad ? ', JPEG shrink-on-load' : ''),
    async prepare(input, id) {
      let image: RawImage;
      let info;
      if (input.kind === 'encoded') {
        info = await probeImage(input.bytes, id);
        // Decoding the whole file is also the check that it is sound: a truncated file is a DataError here.
        if (o.shrinkOnLoad) image = await (fused ?? pipelineFor(info.width, info.height, channels)).run(input, ctx, id);
        else image = await onPixelsRun(await decodeRegion(input.bytes, id, { channels }, {}, info), id);
      } else image = await onPixelsRun(toChannels(input.image, channels), id);
      if (image.width * image.height <= rawMaxPixels) return { image };
      // A JPEG source that the preparation left as it was is stored as is: no second lossy encoding.
      if (info && info.format === 'jpeg' && info.orientation === 1 && input.kind === 'encoded' &&
          image.width === info.width && image.height === info.height && image.channels === info.bands)
        return { image, jpeg: input.bytes, keptSourceJpeg: true };
      return { image, jpeg: await encodeJpeg(image, quality, id) };
    },
  };
}

/** The largest size of w:h proportions inside th×tw, as [height, width]. */
function fitInside([th, tw]: [number, number], w: number, h: number): [number, number] {
  const s = Math.min(th / h, tw / w);
  return [Math.max(1, Math.min(th, Math.round(h * s))), Math.max(1, Math.min(tw, Math.round(w * s)))];
}

function checkSize(size: number | readonly [number, number]): number | [number, number] {
  const ok = (n: unknown) => Number.isInteger(n) && (n as number) > 0;
  if (typeof size === 'number') {
    if (!ok(size)) throw new RangeError(`size must be a positive integer or [height, width], got ${size}`);
    return size;
  }
  if (!Array.isArray(size) || size.length !== 2 || !ok(size[0]) || !ok(size[1]))
    throw new RangeError(`size must be a positive integer or [height, width], got ${JSON.stringify(size)}`);
  return [size[0], size[1]];
}

function transformsFor(size: number | [number, number] | undefined, keepAspect: boolean, interpolation: Interpolation): TransformSpec[] {
  if (size === undefined) return [];
  if (typeof size === 'number') {
    const resize: TransformSpec = { type: 'resize', size, interpolation };
    return keepAspect ? [resize] : [resize, { type: 'centerCrop', size }];
  }
  return [{ type: 'resize', size, interpolation }];
}

async function encodeJpeg(img: RawImage, quality: number, id: string): Promise<Uint8Array> {
  try {
    let s = sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels } });
    if (img.channels === 1) s = s.toColourspace('b-w'); // a one-component JPEG, not grey stored as RGB
    return new Uint8Array(await s.jpeg({ quality }).toBuffer());
  } catch (e) {
    throw new DataError(id, `cannot encode the ${img.width}×${img.height} image as JPEG: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

function describe(size: number | [number, number] | undefined, keepAspect: boolean, channels: ChannelMode, rawMaxPixels: number, quality: number): string {
  const geometry = size === undefined ? 'original size'
    : typeof size === 'number' ? (keepAspect ? `shorter side ${size}` : `resize ${size} + center crop ${size}×${size}`)
    : keepAspect ? `fit inside ${size[0]}×${size[1]}` : `resize to ${size[0]}×${size[1]}`;
  return `${geometry}, channels ${channels}, raw up to ${rawMaxPixels} pixels else JPEG q${quality}`;
}
