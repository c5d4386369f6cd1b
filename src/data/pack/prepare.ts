// One sample's way into a pack: decode, convert the channels, resize (and centre-crop) to the
// packed size, then keep the pixels (small images) or a JPEG of them (large ones). The geometry is
// torchvision's Resize + CenterCrop, as the transforms of src/data/transforms/ plan it, and a
// sample is decoded the way the training loader decodes it: a JPEG by the native JPEG kernel
// (decode, crop, PIL's bilinear resize in one call, straight into the sample's pixels), anything
// else — and a JPEG the kernel refuses, so a bad file gets sharp's verdict and reason — by
// decodeImage followed by those transforms.
//
// By default a JPEG is decoded at full resolution before it is resized, as PIL does (the kernel's
// pixels then equal PIL's). With `shrinkOnLoad`, libjpeg decodes large JPEGs at 1/2, 1/4 or 1/8
// scale when the output is that much smaller: several times faster on photos, at the cost of
// slightly softer, less exact pixels.
import sharp from 'sharp';

import { DECODE_LIMITS, decodeRegion, probeImage, toChannels, type ChannelMode, type Interpolation } from '../image/decode.js';
import { decodeJpegBatch, probeJpeg } from '../image/jpeg-native.js';
import { compose, foldGeometry, type ComposedPipeline } from '../transforms/compose.js';
import type { Transform, TransformSpec } from '../transforms/spec.js';
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
  /** Native threads decoding JPEGs (default 1). */
  threads?: number;
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

  /**
   * A JPEG through the kernel: the same geometry the transforms plan for its size, decoded (at full
   * scale unless shrinkOnLoad) straight into HWC pixels, with the header's facts. Undefined when the
   * kernel does not take the file, or refuses it: the sharp path then judges it.
   */
  const fixedSteps = transforms && (compose({ transforms }).transforms as Transform[]);
  const viaKernel = async (bytes: Uint8Array, id: string): Promise<{ image: RawImage; info: SourceFacts } | undefined> => {
    if (interpolation !== 'bilinear') return undefined;
    let info;
    try {
      info = probeJpeg(bytes, id);
    } catch {
      return undefined; // over the pixel limit: sharp says so
    }
    if (!info) return undefined;
    const steps = fixedSteps ?? (compose({ transforms: [{ type: 'resize', size: fitInside(size as [number, number], info.width, info.height), interpolation }] }).transforms as Transform[]);
    const { geometry: g, size: out, folded } = foldGeometry(steps, info, ctx, id);
    if (folded < steps.length) return undefined; // a crop larger than the image pads: sharp's transforms do that
    const c: 1 | 3 = channels === 'grey' || (channels === 'keep' && info.bands === 1) ? 1 : 3;
    const chw = new Uint8Array(c * out.width * out.height);
    const crop = g.pre ?? { left: 0, top: 0, width: info.width, height: info.height };
    const [failed] = await decodeJpegBatch(
      [{ bytes, id, crop, resize: g.resize ? { width: g.resize.width, height: g.resize.height } : { width: crop.width, height: crop.height }, offset: g.post ? { left: g.post.left, top: g.post.top } : { left: 0, top: 0 } }],
      chw,
      { width: out.width, height: out.height, channels: c === 1 ? 'grey' : 'rgb', dctScaling: o.shrinkOnLoad ?? false, failOn: DECODE_LIMITS.failOn, maxPixels: DECODE_LIMITS.maxPixels, threads: o.threads ?? 1 },
    );
    if (failed) return undefined;
    // CHW → HWC, the packed layout.
    const plane = out.width * out.height;
    const data = new Uint8Array(chw.length);
    for (let k = 0; k < c; k++) for (let p = 0; p < plane; p++) data[p * c + k] = chw[k * plane + p] as number;
    return { image: { data, width: out.width, height: out.height, channels: c }, info: { format: 'jpeg', ...info } };
  };

  return {
    description: describe(size, o.keepAspect ?? false, channels, rawMaxPixels, quality) + (o.shrinkOnLoad ? ', JPEG shrink-on-load' : ''),
    async prepare(input, id) {
      let image: RawImage;
      let info: SourceFacts | undefined;
      const kernel = input.kind === 'encoded' ? await viaKernel(input.bytes, id) : undefined;
      if (kernel) ({ image, info } = kernel);
      else if (input.kind === 'encoded') {
        const probed = await probeImage(input.bytes, id);
        info = probed;
        // Decoding the whole file is also the check that it is sound: a truncated file is a DataError here.
        if (o.shrinkOnLoad) image = await (fused ?? pipelineFor(probed.width, probed.height, channels)).run(input, ctx, id);
        else image = await onPixelsRun(await decodeRegion(input.bytes, id, { channels }, {}, probed), id);
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

/** What a source file's header says: enough to know whether the prepared image is the file itself. */
interface SourceFacts {
  format: string;
  width: number;
  height: number;
  bands: number;
  orientation: number;
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
