// One sample's way into a pack: decode, resize (and centre-crop) to the packed size, convert the
// channels, then keep the pixels (small images) or a JPEG of them (large ones). The geometry is
// torchvision's Resize + CenterCrop, run through the same compose() pipeline that training uses,
// so a packed sample holds exactly the pixels the unpacked pipeline would have produced.
import sharp from 'sharp';

import { probeImage, type ChannelMode, type Interpolation } from '../image/decode.js';
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
  const fixed = size === undefined || !(o.keepAspect && Array.isArray(size)) ? pipelineFor(transformsFor(size, o.keepAspect ?? false, interpolation), channels) : undefined;
  const fit = (w: number, h: number): ComposedPipeline => {
    const [th, tw] = size as [number, number];
    const s = Math.min(th / h, tw / w);
    const nh = Math.max(1, Math.min(th, Math.round(h * s)));
    const nw = Math.max(1, Math.min(tw, Math.round(w * s)));
    return pipelineFor([{ type: 'resize', size: [nh, nw], interpolation }], channels);
  };

  return {
    description: describe(size, o.keepAspect ?? false, channels, rawMaxPixels, quality),
    async prepare(input, id) {
      let pipeline = fixed;
      let info;
      if (input.kind === 'encoded') {
        info = await probeImage(input.bytes, id);
        pipeline ??= fit(info.width, info.height);
      } else pipeline ??= fit(input.image.width, input.image.height);
      // Decoding fully is also the check that the file is sound: a truncated file is a DataError here.
      const image = await pipeline.run(input, { seed: 0, epoch: 0, index: 0 }, id);
      if (image.width * image.height <= rawMaxPixels) return { image };
      // A JPEG source that the preparation left as it was is stored as is: no second lossy encoding.
      if (info && info.format === 'jpeg' && info.orientation === 1 && input.kind === 'encoded' &&
          image.width === info.width && image.height === info.height && image.channels === info.bands)
        return { image, jpeg: input.bytes, keptSourceJpeg: true };
      return { image, jpeg: await encodeJpeg(image, quality, id) };
    },
  };
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

function pipelineFor(transforms: TransformSpec[], channels: ChannelMode): ComposedPipeline {
  return compose({ decode: { channels }, transforms });
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
