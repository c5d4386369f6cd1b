// The native JPEG path: decode → crop → resize → flip → write into the batch, fused in one native
// call per batch (native/csrc/jpeg_*.cc, on Debian's libjpeg-turbo). Per sample it decodes only
// the rows and columns the crop needs, at the coarsest DCT scale (1/8, 1/4, 1/2 or 1) that still
// leaves the output's resolution, resizes with PIL's antialiased bilinear filter (what torchvision's
// RandomResizedCrop and Resize do on PIL images), mirrors, and writes CHW uint8 — or float32
// ((x/255 − mean)/std) — straight into its slot of a caller-provided batch buffer. The samples run
// on a native thread pool of `threads` threads, never on the event loop.
//
// How a loader uses it (RandomResizedCrop + flip, then the batch tensor without a copy):
//   const info = probeJpeg(bytes, id);           // size, orientation: microseconds; undefined → decodeImage
//   const crop = randomResizedCropBox(info, rng, scale, ratio);     // the same sampler as today
//   samples.push({ bytes, id, crop, flip: rng.bernoulli(0.5) });
//   const errors = await decodeJpegBatch(samples, out, { width: 224, height: 224, normalize, threads });
//   const x = fromBufferShared(out, [samples.length, 3, 224, 224]);
// Evaluation (Resize(256) + CenterCrop(224)): `{ bytes, id, ...resizeCenterCrop(info, 256, 224) }`.
// resizeImageBatch runs the same crop → resize → flip → write on pixels another decoder decoded
// (a PNG through sharp), so those get exactly the resize a JPEG gets (the dataset doctor's hash).
//
// Semantics, all in the upright image (EXIF orientation applied, as decodeImage does):
// - `crop` (default: the whole image) is resized to `resize` (default: the output size), and the
//   output-sized window at `offset` (default 0, 0) of the result is written, mirrored if `flip`.
// - Without DCT scaling the pixels equal PIL's `Image.open → exif_transpose → convert('RGB') →
//   crop → resize(BILINEAR)` bit for bit; with it they stay within the tolerance that
//   test/data/image/jpeg-native.test.ts states. Grey output is PIL's luma of the resized colour.
// - CMYK/YCCK and progressive JPEGs decode; a truncated file is an error under every `failOn`,
//   other libjpeg warnings only under failOn 'warning' (as the sharp path treats them).
import { native, type NativeJpegPool } from '../../tensor/native.js';
import { resizedSize } from '../transforms/geometric.js';
import { hw, roundHalfEven } from '../transforms/spec.js';
import { DataError, type RawImage } from '../types.js';
import { checkPixels, type Box, type ChannelMode, type DecodeOptions } from './decode.js';
import { orientedSize, readHeader } from './header.js';
import { sniffFormat } from './magic.js';

/** What a loader needs before it draws crop parameters: the upright size, from the header alone. */
export interface JpegInfo {
  /** Size after EXIF orientation: the frame crops refer to. */
  width: number;
  height: number;
  /** EXIF orientation 1..8 of the stored pixels. */
  orientation: number;
  /** 1 for grey files, 3 for colour (CMYK included: it decodes to RGB). */
  bands: 1 | 3;
}

export interface JpegSample {
  /** The encoded file. Leave it untouched until the batch resolves. */
  bytes: Uint8Array;
  /** Names the sample in errors (a path or key). */
  id: string;
  /** Region of the upright image to resize, in its pixels (integers). Default: the whole image. */
  crop?: Box;
  /** Size the crop is resized to. Default: the output size. */
  resize?: { width: number; height: number };
  /** Top-left corner, in the resized image, of the output-sized window written. Default 0, 0. */
  offset?: { left: number; top: number };
  /** Mirror left-right (after the resize). */
  flip?: boolean;
  /** Which sample of `out` to write. Default: the sample's index in the array. */
  slot?: number;
}

export interface JpegBatchOptions extends Pick<DecodeOptions, 'maxPixels' | 'failOn'> {
  /** Output size of every sample. */
  width: number;
  height: number;
  /** 'rgb' (default) 3 channels; 'grey' 1 (PIL's convert('L') luma). */
  channels?: Exclude<ChannelMode, 'keep'>;
  /**
   * Float32 output only: what each byte becomes — per-channel mean and std, applied as
   * (x/255 − mean)/std in float32 (torchvision's ToTensor + Normalize), or a table of 256 floats per
   * channel (channel c's value for byte v at c·256 + v: the loader's fused batch transform). Default x/255.
   */
  normalize?: { mean: readonly number[]; std: readonly number[] } | { table: Float32Array };
  /** Native threads that share the batch's samples (the loader's worker setting). Default 1. */
  threads?: number;
  /** Decode at 1/2, 1/4 or 1/8 scale when the crop is at least 2, 4 or 8 times its resized size on both axes. Default true. */
  dctScaling?: boolean;
}

/** Whether the bytes start with a JPEG signature (FF D8 FF). */
export function isJpeg(bytes: Uint8Array): boolean {
  return sniffFormat(bytes) === 'jpeg';
}

/**
 * Upright size, orientation and bands of a JPEG, from its header alone (microseconds, no decode),
 * for drawing crop parameters. Undefined when the bytes are not a JPEG whose header this path reads
 * (another format, an empty or damaged file, a header with the height defined later): route those
 * samples to decodeImage, which judges them as it always has. Throws a DataError naming `id` when
 * the image is over the pixel limit.
 */
export function probeJpeg(bytes: Uint8Array, id: string, opts: Pick<DecodeOptions, 'maxPixels'> = {}): JpegInfo | undefined {
  const h = isJpeg(bytes) ? readHeader(bytes) : undefined;
  if (!h) return undefined;
  const { width, height } = orientedSize(h);
  checkPixels(id, width, height, opts.maxPixels ?? 100e6);
  return { width, height, orientation: h.orientation, bands: h.bands === 1 ? 1 : 3 };
}

/**
 * torchvision's Resize(resize) + CenterCrop(crop) as one kernel call: the whole image is resized
 * (shorter side to `resize`, the longer one truncated) and the centred window is written. The
 * output size of the batch must be the crop's.
 */
export function resizeCenterCrop(info: { width: number; height: number }, resize: number, crop: number | readonly [number, number]): Required<Pick<JpegSample, 'resize' | 'offset'>> {
  const size = resizedSize({ type: 'resize', size: resize }, info);
  const [ch, cw] = hw(crop);
  if (cw > size.width || ch > size.height)
    throw new RangeError(`resizeCenterCrop: crop ${cw}x${ch} is larger than the resized ${size.width}x${size.height} image (torchvision would pad; the native path does not)`);
  return { resize: size, offset: { left: roundHalfEven((size.width - cw) / 2), top: roundHalfEven((size.height - ch) / 2) } };
}

// One pool per thread count, kept for the life of the process (or worker thread): an idle pool's
// threads sleep, and it does not keep the process alive.
const pools = new Map<number, NativeJpegPool>();

function poolFor(threads: number): NativeJpegPool {
  let p = pools.get(threads);
  if (!p) pools.set(threads, (p = native.jpegPoolCreate(threads)));
  return p;
}

function isInt(x: unknown, min: number): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= min;
}

/**
 * torchvision's ToTensor + Normalize of every byte value, per channel, in float32 arithmetic as
 * PyTorch does it: ((v/255) − mean)/std, each step rounded to float32. (Math.fround of a double
 * result is the correctly rounded float32 result for +, −, ×, ÷: a double carries more than twice
 * float32's precision.) Channel c's value for byte v is at c·256 + v.
 */
export function normalizationTable(mean: readonly number[], std: readonly number[]): Float32Array {
  if (mean.length !== std.length || mean.length === 0 || std.some((s) => s === 0 || !Number.isFinite(s)) || mean.some((m) => !Number.isFinite(m)))
    throw new RangeError(`normalizationTable: needs one finite mean and one non-zero std per channel, got mean ${JSON.stringify(mean)}, std ${JSON.stringify(std)}`);
  const f = Math.fround;
  const t = new Float32Array(256 * mean.length);
  mean.forEach((m, c) => {
    const m32 = f(m);
    const s32 = f(std[c] as number);
    for (let v = 0; v < 256; v++) t[c * 256 + v] = f(f(f(v / 255) - m32) / s32);
  });
  return t;
}

const NO_TABLE = new Float32Array(0); // uint8 output reads no table
const plainTables = new Map<number, Float32Array>(); // x/255, by channel count

/** The table float32 output goes through, for `channels` channels (see JpegBatchOptions.normalize). */
function floatTable(n: JpegBatchOptions['normalize'], channels: number): Float32Array {
  if (n === undefined) {
    let t = plainTables.get(channels);
    if (!t) plainTables.set(channels, (t = normalizationTable(new Array<number>(channels).fill(0), new Array<number>(channels).fill(1))));
    return t;
  }
  if ('table' in n) {
    if (!(n.table instanceof Float32Array) || n.table.length !== 256 * channels)
      throw new RangeError(`decodeJpegBatch: normalize.table must be a Float32Array of 256 values per channel (${256 * channels}), got ${n.table instanceof Float32Array ? n.table.length : typeof n.table}`);
    return n.table;
  }
  if (n.mean.length !== channels || n.std.length !== channels || n.std.some((s) => s === 0 || !Number.isFinite(s)) || n.mean.some((m) => !Number.isFinite(m)))
    throw new RangeError(`decodeJpegBatch: normalize needs ${channels} finite mean and non-zero std values (one per channel), got mean ${JSON.stringify(n.mean)}, std ${JSON.stringify(n.std)}`);
  return normalizationTable(n.mean, n.std);
}

/** What every sample of a batch becomes, checked: the output size, channels, float table, slots. */
function batchLayout(what: string, out: Uint8Array | Float32Array, options: Omit<JpegBatchOptions, 'maxPixels' | 'failOn' | 'dctScaling'>) {
  const { width, height } = options;
  if (!isInt(width, 1) || !isInt(height, 1)) throw new RangeError(`${what}: width and height must be positive integers, got ${width}x${height}`);
  const channels: 1 | 3 = options.channels === 'grey' ? 1 : 3;
  if (options.channels !== undefined && options.channels !== 'rgb' && options.channels !== 'grey') throw new RangeError(`${what}: channels must be 'rgb' or 'grey', got '${String(options.channels)}'`);
  const threads = options.threads ?? 1;
  if (!isInt(threads, 1) || threads > 256) throw new RangeError(`${what}: threads must be an integer 1..256, got ${threads}`);
  const isFloat = out instanceof Float32Array;
  if (!isFloat && !(out instanceof Uint8Array)) throw new TypeError(`${what}: out must be a Uint8Array or a Float32Array`);
  if (options.normalize && !isFloat) throw new TypeError(`${what}: normalize needs a Float32Array out (uint8 output is not normalised)`);
  const lut = isFloat ? floatTable(options.normalize, channels) : NO_TABLE;
  const per = channels * height * width;
  if (out.length % per !== 0) throw new RangeError(`${what}: out has ${out.length} elements, not a whole number of ${channels}×${height}×${width} samples`);
  return { width, height, channels, threads, lut, per, slots: out.length / per, used: new Set<number>() };
}

type Layout = ReturnType<typeof batchLayout>;
type Placement = Pick<JpegSample, 'id' | 'crop' | 'resize' | 'offset' | 'flip' | 'slot'>;

/** The slot sample i writes, checked (in range, not taken). */
function slotOf(what: string, s: Placement, i: number, L: Layout): number {
  const slot = s.slot ?? i;
  if (!isInt(slot, 0) || slot >= L.slots) throw new RangeError(`${what}: ${s.id}: slot ${slot} is outside out (${L.slots} samples)`);
  if (L.used.has(slot)) throw new RangeError(`${what}: ${s.id}: slot ${slot} is used by two samples`);
  L.used.add(slot);
  return slot;
}

/**
 * The 14 numbers per sample that jpeg_addon.cc reads, in its order: orientation, crop, resize,
 * offset, flip, slot, and the decoded pixels' width, height and channels (zeros for a JPEG).
 */
function sampleParams(what: string, s: Placement, slot: number, size: { width: number; height: number }, L: Layout, orientation: number, pixels: readonly [number, number, number]): number[] {
  const crop = s.crop ?? { left: 0, top: 0, width: size.width, height: size.height };
  if (!isInt(crop.left, 0) || !isInt(crop.top, 0) || !isInt(crop.width, 1) || !isInt(crop.height, 1) || crop.left + crop.width > size.width || crop.top + crop.height > size.height)
    throw new RangeError(`${what}: ${s.id}: crop ${crop.width}x${crop.height}+${crop.left}+${crop.top} does not fit in the ${size.width}x${size.height} (upright) image`);
  const resize = s.resize ?? { width: L.width, height: L.height };
  const offset = s.offset ?? { left: 0, top: 0 };
  if (!isInt(resize.width, 1) || !isInt(resize.height, 1) || !isInt(offset.left, 0) || !isInt(offset.top, 0) || offset.left + L.width > resize.width || offset.top + L.height > resize.height)
    throw new RangeError(`${what}: ${s.id}: the ${L.width}x${L.height} output at offset ${offset.left},${offset.top} does not fit in the ${resize.width}x${resize.height} resized image`);
  return [orientation, crop.left, crop.top, crop.width, crop.height, resize.width, resize.height, offset.left, offset.top, s.flip ? 1 : 0, slot, ...pixels];
}

/**
 * Decodes a batch of JPEGs into `out` (N × C × height × width, uint8 or float32 by its type) and
 * resolves once every sample is written, with one entry per sample: undefined, or the DataError
 * that names it (its slot is then all zeros). Bad options or geometry throw (they are the caller's
 * bug, not the data's). Do not touch `out` or the samples' bytes until the promise settles.
 */
export async function decodeJpegBatch(samples: readonly JpegSample[], out: Uint8Array | Float32Array, options: JpegBatchOptions): Promise<(DataError | undefined)[]> {
  const what = 'decodeJpegBatch';
  const L = batchLayout(what, out, options);
  const errors: (DataError | undefined)[] = new Array(samples.length).fill(undefined);
  const inputs: Uint8Array[] = [];
  const params: number[] = [];
  const which: number[] = [];
  samples.forEach((s, i) => {
    const slot = slotOf(what, s, i, L);
    let info: JpegInfo | undefined;
    try {
      info = probeJpeg(s.bytes, s.id, options);
      if (!info) throw new DataError(s.id, s.bytes.length === 0 ? 'empty file (0 bytes)' : isJpeg(s.bytes) ? 'cannot decode jpeg: no readable frame header (corrupt or unusual file)' : 'not a JPEG file (no FF D8 FF signature)');
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      errors[i] = e;
      out.fill(0, slot * L.per, (slot + 1) * L.per);
      return;
    }
    params.push(...sampleParams(what, s, slot, info, L, info.orientation, [0, 0, 0]));
    inputs.push(s.bytes);
    which.push(i);
  });
  if (inputs.length === 0) return errors;
  const layout = { width: L.width, height: L.height, channels: L.channels, maxPixels: options.maxPixels ?? 100e6, failOn: options.failOn ?? 'truncated', dctScaling: options.dctScaling ?? true, lut: L.lut };
  const messages = await native.jpegDecodeBatch(poolFor(L.threads), inputs, Int32Array.from(params), out, layout);
  messages.forEach((m, k) => {
    const i = which[k] as number;
    if (m !== null) errors[i] = new DataError((samples[i] as JpegSample).id, `cannot decode jpeg: ${m}`);
  });
  return errors;
}

/** An image another decoder decoded (upright, HWC), with the same geometry fields as a JpegSample. */
export interface ImageSample extends Omit<JpegSample, 'bytes'> {
  image: RawImage;
}

/**
 * The kernel's crop → resize (PIL's bilinear) → window → flip → write for decoded images: so an
 * image that is not a JPEG gets exactly the resize (and grey conversion) a JPEG gets from
 * decodeJpegBatch. Resolves once every sample is written. Do not touch `out` or the images until then.
 */
export async function resizeImageBatch(samples: readonly ImageSample[], out: Uint8Array | Float32Array, options: Omit<JpegBatchOptions, 'maxPixels' | 'failOn' | 'dctScaling'>): Promise<void> {
  const what = 'resizeImageBatch';
  const L = batchLayout(what, out, options);
  if (samples.length === 0) return;
  const params: number[] = [];
  samples.forEach((s, i) => {
    const { width, height, channels, data } = s.image;
    if (!isInt(width, 1) || !isInt(height, 1) || !(channels === 1 || channels === 3) || data.length !== width * height * channels)
      throw new RangeError(`${what}: ${s.id}: ${data.length} bytes for a ${width}x${height}x${channels} image (1 or 3 channels)`);
    params.push(...sampleParams(what, s, slotOf(what, s, i, L), s.image, L, 1, [width, height, channels]));
  });
  const layout = { width: L.width, height: L.height, channels: L.channels, maxPixels: Infinity, failOn: 'truncated' as const, dctScaling: false, lut: L.lut };
  const messages = await native.jpegDecodeBatch(poolFor(L.threads), samples.map((s) => s.image.data), Int32Array.from(params), out, layout);
  const failed = messages.findIndex((m) => m !== null);
  // Only the geometry can fail, and it was checked above: a message here is a bug.
  if (failed >= 0) throw new Error(`${what}: ${(samples[failed] as ImageSample).id}: ${messages[failed]}`);
}
