// Decoding encoded images into RawImage (8-bit HWC, 1 or 3 channels) with sharp, strictly: a
// truncated or corrupt file is a DataError naming the sample, never a half-grey image. The same
// entry point takes an optional geometry (crop → resize → crop), so a pipeline whose first steps are
// crops and resizes runs them inside the one sharp call that decodes the file (one trip through
// libuv's thread pool per sample, and JPEG shrink-on-load when the crop is much larger than the output).
import sharp, { type KernelEnum, type OutputInfo, type Sharp } from 'sharp';

import { DataError, type RawImage } from '../types.js';
import { decodeBmp, bmpSize } from './bmp.js';
import { formatOf, orientedSize, readHeader, type ImageFormat } from './header.js';
import { expandGrey, flattenAlpha, lumaPIL } from './pixels.js';

export type ChannelMode = 'rgb' | 'grey' | 'keep';
export type Interpolation = 'nearest' | 'bilinear' | 'bicubic' | 'lanczos';

/**
 * The limits every reader of image files shares — training's loader, the dataset doctor, packing,
 * predict — so they agree on which files are bad: at most 100 M pixels (from the header, before any
 * pixel is allocated), and libvips' 'error' strictness (a truncated or garbled file is an error,
 * never a half-grey image; mere warnings are not).
 */
export const DECODE_LIMITS = { maxPixels: 100e6, failOn: 'error' } as const;

export interface DecodeOptions {
  /** Decompression-bomb limit: width × height from the header, checked before any pixel is allocated. Default DECODE_LIMITS. */
  maxPixels?: number;
  /** 'rgb' (default) always gives 3 channels, 'grey' 1 (ITU-R 601-2 luma, as PIL's convert('L')), 'keep' 1 for grey sources else 3. */
  channels?: ChannelMode;
  /** What transparent pixels are flattened onto: a grey level or [r, g, b]. Default white. */
  background?: number | readonly [number, number, number];
  /** Reject (with a DataError) when one decode takes longer than this. */
  timeoutMs?: number;
  /** How strict to be with damaged files (sharp's failOn). Default DECODE_LIMITS ('error'); 'truncated' only refuses truncated data. */
  failOn?: 'truncated' | 'error' | 'warning';
  /** Allow JPEG shrink-on-load (decode at 1/2, 1/4, 1/8 DCT scale) when a crop is ≥3× its output size. Default true. */
  shrinkOnLoad?: boolean;
}

export interface Box { left: number; top: number; width: number; height: number }

/** Crop (in the oriented source) → resize → crop: what sharp can do in one call. */
export interface Geometry {
  pre?: Box;
  resize?: { width: number; height: number; interpolation: Interpolation };
  post?: Box;
}

export interface ImageInfo {
  format: ImageFormat;
  /** Size after EXIF orientation: the frame that crops refer to. */
  width: number;
  height: number;
  /** 1 for grey sources, 3 for colour (CMYK included: it is converted to sRGB). */
  bands: 1 | 3;
  hasAlpha: boolean;
  orientation: number;
}

const KERNEL: Record<Interpolation, keyof KernelEnum> = { nearest: 'nearest', bilinear: 'linear', bicubic: 'cubic', lanczos: 'lanczos3' };

function fail(id: string, err: unknown, format: string): never {
  if (err instanceof DataError) throw err;
  const msg = err instanceof Error ? err.message.trim().replace(/\s+/g, ' ') : String(err);
  throw new DataError(id, `cannot decode ${format === 'unknown' ? 'image (unrecognised format)' : format}: ${msg}`, { cause: err });
}

/** The decompression-bomb check: width × height from the header against `maxPixels`. */
export function checkPixels(id: string, width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels)
    throw new DataError(id, `image is ${width}x${height} = ${width * height} pixels, over the decompression limit of ${maxPixels} (maxPixels)`);
}

/** Size, bands and orientation, from the header (JS for JPEG/PNG/BMP, sharp's metadata otherwise). */
export async function probeImage(bytes: Uint8Array, id: string, opts: DecodeOptions = {}): Promise<ImageInfo> {
  const maxPixels = opts.maxPixels ?? DECODE_LIMITS.maxPixels;
  const format = formatOf(bytes);
  if (bytes.length === 0) throw new DataError(id, 'empty file (0 bytes)');
  let info: ImageInfo;
  if (format === 'bmp') {
    try {
      const s = bmpSize(bytes);
      info = { format, ...s, bands: 3, hasAlpha: false, orientation: 1 };
    } catch (e) {
      fail(id, e, format);
    }
  } else {
    const h = readHeader(bytes);
    if (h) info = { format: h.format, ...orientedSize(h), bands: h.bands === 1 ? 1 : 3, hasAlpha: h.hasAlpha, orientation: h.orientation };
    else {
      try {
        // Header only: the pixel limit is ours to check below, with a message that names the size.
        const m = await sharp(bytes, { failOn: opts.failOn ?? DECODE_LIMITS.failOn, limitInputPixels: false }).metadata();
        const orientation = m.orientation ?? 1;
        const grey = m.space === 'b-w' || m.space === 'grey16';
        info = {
          format: format === 'unknown' ? ((m.format as ImageFormat | undefined) ?? 'unknown') : format,
          ...orientedSize({ width: m.width ?? 0, height: m.height ?? 0, orientation }),
          bands: grey ? 1 : 3,
          hasAlpha: m.hasAlpha ?? false,
          orientation,
        };
      } catch (e) {
        fail(id, e, format);
      }
    }
  }
  checkPixels(id, info.width, info.height, maxPixels);
  return info;
}

function backgroundRGB(bg: DecodeOptions['background']): { r: number; g: number; b: number } {
  if (bg === undefined) return { r: 255, g: 255, b: 255 };
  if (typeof bg === 'number') return { r: bg, g: bg, b: bg };
  return { r: bg[0], g: bg[1], b: bg[2] };
}

async function withTimeout<T>(work: Promise<T>, ms: number | undefined, id: string): Promise<T> {
  if (ms === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DataError(id, `decoding took longer than ${ms} ms (timeoutMs)`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Decodes `bytes` into an 8-bit image with EXIF orientation applied and alpha flattened. */
export async function decodeImage(bytes: Uint8Array, opts: DecodeOptions & { id: string }): Promise<RawImage> {
  return decodeRegion(bytes, opts.id, opts, {});
}

/**
 * Decodes and applies `geometry` in the same sharp call. `info` (from probeImage) saves a second
 * header read when the caller already has it.
 */
export async function decodeRegion(bytes: Uint8Array, id: string, opts: DecodeOptions, geometry: Geometry, info?: ImageInfo): Promise<RawImage> {
  const work = (async (): Promise<RawImage> => {
    const meta = info ?? (await probeImage(bytes, id, opts));
    const want = opts.channels ?? 'rgb';
    let out: RawImage;
    if (meta.format === 'bmp') {
      let px;
      try {
        px = decodeBmp(bytes, opts.maxPixels ?? DECODE_LIMITS.maxPixels);
      } catch (e) {
        fail(id, e, 'bmp');
      }
      const flat = px.channels === 4 ? flattenAlpha(px.data, px.width, px.height, backgroundRGB(opts.background)) : px.data;
      out = await applyGeometry({ data: flat, width: px.width, height: px.height, channels: 3 }, geometry, id);
    } else {
      out = await sharpDecode(bytes, id, opts, withShrinkOnLoad(geometry, meta, opts), meta);
    }
    return toChannels(out, want);
  })();
  return withTimeout(work, opts.timeoutMs, id);
}

/**
 * Rewrites crop→resize as resize-whole→crop when that lets libjpeg decode at a reduced DCT scale:
 * sharp only shrinks on load when nothing is cropped before the resize. The crop's origin is then
 * rounded in output pixels (≤ 0.5 px of the output), which augmentation does not notice.
 */
function withShrinkOnLoad(g: Geometry, meta: ImageInfo, opts: DecodeOptions): Geometry {
  const { pre, resize } = g;
  if (opts.shrinkOnLoad === false || meta.format !== 'jpeg' || meta.orientation !== 1 || !pre || !resize || g.post) return g;
  const sx = resize.width / pre.width;
  const sy = resize.height / pre.height;
  if (1 / sx < 3 || 1 / sy < 3) return g;
  const width = Math.max(resize.width, Math.round(meta.width * sx));
  const height = Math.max(resize.height, Math.round(meta.height * sy));
  const left = Math.min(Math.round(pre.left * sx), width - resize.width);
  const top = Math.min(Math.round(pre.top * sy), height - resize.height);
  return { resize: { width, height, interpolation: resize.interpolation }, post: { left, top, width: resize.width, height: resize.height } };
}

async function sharpDecode(bytes: Uint8Array, id: string, opts: DecodeOptions, g: Geometry, meta: ImageInfo): Promise<RawImage> {
  try {
    let s = sharp(bytes, { failOn: opts.failOn ?? DECODE_LIMITS.failOn, limitInputPixels: opts.maxPixels ?? DECODE_LIMITS.maxPixels, autoOrient: true });
    if (opts.timeoutMs !== undefined) s = s.timeout({ seconds: Math.max(1, Math.ceil(opts.timeoutMs / 1000)) });
    if (meta.hasAlpha) s = s.flatten({ background: backgroundRGB(opts.background) });
    s = addGeometry(s, g);
    if (meta.bands === 1) s = s.toColourspace('b-w');
    const { data, info } = await s.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    return finish(data, info, id);
  } catch (e) {
    fail(id, e, meta.format);
  }
}

function addGeometry(s: Sharp, g: Geometry): Sharp {
  if (g.pre) s = s.extract(g.pre);
  if (g.resize) s = s.resize(g.resize.width, g.resize.height, { fit: 'fill', kernel: KERNEL[g.resize.interpolation] });
  if (g.post) s = s.extract(g.post);
  return s;
}

function finish(data: Buffer, info: OutputInfo, id: string): RawImage {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (info.channels === 1 || info.channels === 3) return { data: bytes, width: info.width, height: info.height, channels: info.channels };
  // Not expected after flatten and colourspace conversion; say so rather than hand out 2 or 4 bands.
  throw new DataError(id, `decoder produced ${info.channels} channels, expected 1 or 3`);
}

/** Runs crop → resize → crop on decoded pixels: crops alone in JS, anything with a resize in sharp. */
export async function applyGeometry(img: RawImage, g: Geometry, id = 'image'): Promise<RawImage> {
  if (!g.pre && !g.resize && !g.post) return img;
  if (!g.resize) {
    let out = img;
    if (g.pre) out = cropRaw(out, g.pre);
    if (g.post) out = cropRaw(out, g.post);
    return out;
  }
  try {
    let s = addGeometry(sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels } }), g);
    // libvips interprets one-band raw input as sRGB after resampling; keep grey images one band.
    if (img.channels === 1) s = s.toColourspace('b-w');
    const { data, info } = await s.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    return finish(data, info, id);
  } catch (e) {
    throw new DataError(id, `cannot resize ${img.width}x${img.height} image: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/** A copy of the box's pixels (the box must lie inside the image). */
export function cropRaw(img: RawImage, b: Box): RawImage {
  if (b.left < 0 || b.top < 0 || b.width <= 0 || b.height <= 0 || b.left + b.width > img.width || b.top + b.height > img.height)
    throw new RangeError(`crop ${b.width}x${b.height}+${b.left}+${b.top} does not fit in a ${img.width}x${img.height} image`);
  const c = img.channels;
  const out = new Uint8Array(b.width * b.height * c);
  const rowBytes = b.width * c;
  for (let y = 0; y < b.height; y++) {
    const src = ((b.top + y) * img.width + b.left) * c;
    out.set(img.data.subarray(src, src + rowBytes), y * rowBytes);
  }
  return { data: out, width: b.width, height: b.height, channels: c };
}

/** Converts between 1 and 3 channels as `mode` asks ('keep' leaves the image as it is). */
export function toChannels(img: RawImage, mode: ChannelMode): RawImage {
  if (mode === 'rgb' && img.channels === 1) return expandGrey(img);
  if (mode === 'grey' && img.channels === 3) return lumaPIL(img);
  return img;
}
