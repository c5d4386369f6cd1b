// Everything the doctor learns about one sample, from its bytes alone: whether it decodes, what it
// really is versus what its name says, its traits, size, SHA-256 and pHash. "Decodes" means what
// training means by it: a JPEG goes through the loader's native JPEG kernel (one small decode,
// DCT-scaled where the file is large, that checks every byte of the file and gives the 32×32 grey
// image the hash needs), and any file the kernel does not take or refuses goes through the
// loader's own decoder (image/decode.ts), as the loader does it, with the same limits
// (DECODE_LIMITS) — so the doctor and a training run agree on every file, with the same reasons.
import { createHash } from 'node:crypto';

import sharp, { type Metadata } from 'sharp';

import { DataError, type RawImage } from '../types.js';
import { DECODE_LIMITS, decodeImage, probeImage } from '../image/decode.js';
import { orientedSize, readHeader } from '../image/header.js';
import { decodeJpegBatch, resizeImageBatch } from '../image/jpeg-native.js';
import { formatFromName, hasEndMarker, type ImageFormat, sniffFormat } from '../image/magic.js';
import { HASH_SIDE, type PHash, phashFromGrey } from './phash.js';

export type IssueCode =
  | 'missing'
  | 'unreadable'
  | 'zero-byte'
  | 'not-an-image'
  | 'unsupported-format'
  | 'truncated'
  | 'corrupt'
  | 'too-large'
  | 'extension-mismatch'
  | 'tiny'
  /** A segmentation sample's mask that does not decode as class ids, or not at the image's size. */
  | 'bad-mask';

/** Errors make a sample unusable; warnings flag a sample that decodes but deserves a look. */
export const SEVERITY: Record<IssueCode, 'error' | 'warning'> = {
  missing: 'error',
  unreadable: 'error',
  'zero-byte': 'error',
  'not-an-image': 'error',
  'unsupported-format': 'error',
  truncated: 'error',
  corrupt: 'error',
  'too-large': 'error',
  'extension-mismatch': 'warning',
  tiny: 'warning',
  'bad-mask': 'error',
};

export const TRAITS = ['cmyk', 'sixteenBit', 'alpha', 'palette', 'grey', 'exifRotated', 'animated'] as const;
export type Trait = (typeof TRAITS)[number];

export interface Issue {
  code: IssueCode;
  message: string;
}

export interface FileFacts {
  bytes: number;
  sha256?: string;
  /** What the content is (from its signature, else from the decoder). */
  format?: string;
  /** Size as displayed, i.e. after EXIF orientation. */
  width?: number;
  height?: number;
  traits: Trait[];
  phash?: PHash;
  issues: Issue[];
}

export interface InspectOptions {
  /** Images whose shorter side is below this many pixels are flagged 'tiny'. */
  minSide: number;
  /** How strictly to decode (sharp's `failOn`; default DECODE_LIMITS, as training). */
  failOn?: 'truncated' | 'error' | 'warning';
  /** Largest width × height decoded (default DECODE_LIMITS, as training). */
  maxPixels?: number;
  /** Native threads that decode JPEGs and resize for the hash (default 1). */
  threads?: number;
}

/** Formats this build can decode: sharp's, plus BMP through our own decoder (image/bmp.ts). */
const LOADABLE: Partial<Record<ImageFormat, boolean>> = {
  jpeg: sharp.format.jpeg.input.buffer,
  png: sharp.format.png.input.buffer,
  gif: sharp.format.gif.input.buffer,
  webp: sharp.format.webp.input.buffer,
  tiff: sharp.format.tiff.input.buffer,
  avif: sharp.format.heif.input.buffer,
  heif: sharp.format.heif.input.buffer,
  bmp: true,
};

/** The first bytes, as text when printable, else hex: enough to recognise HTML, JSON, a Git LFS pointer. */
function preview(b: Uint8Array): string {
  const head = b.subarray(0, 16);
  const printable = head.every((c) => (c >= 0x20 && c < 0x7f) || c === 0x0a || c === 0x0d || c === 0x09);
  return printable ? JSON.stringify(Buffer.from(head).toString('latin1')) : Buffer.from(head).toString('hex').replace(/(..)/g, '$1 ').trim();
}

const sharpMessage = (e: unknown) => ((e as Error).message ?? String(e)).split('\n')[0] as string;

/** A failed decode of a recognised format: truncated when the end marker is missing, else corrupt. */
function decodeFailure(bytes: Uint8Array, format: ImageFormat | undefined, e: unknown): Issue {
  const why = sharpMessage(e);
  if (format !== undefined && hasEndMarker(bytes, format) === false) {
    return { code: 'truncated', message: `${format.toUpperCase()} ends before its end marker (${why})` };
  }
  return { code: 'corrupt', message: `does not decode (${why})` };
}

/**
 * The pHash of decoded pixels (upright, alpha flattened, as the decoder hands them out): resized to
 * 32×32 and made grey by the JPEG kernel's resize (PIL's bilinear, then PIL's luma), the same way a
 * JPEG's hash image is made, so a PNG and its JPEG copy hash alike.
 */
async function hashPixels(image: RawImage, threads: number): Promise<PHash> {
  const grey = new Uint8Array(HASH_SIDE * HASH_SIDE);
  await resizeImageBatch([{ image, id: 'hash' }], grey, { width: HASH_SIDE, height: HASH_SIDE, channels: 'grey', threads });
  return phashFromGrey(grey);
}

/**
 * A JPEG through the native kernel: the header's facts, and one decode of the whole file to the
 * 32×32 grey hash image (at a reduced DCT scale when the image is large: every byte of the file is
 * still decoded, so a truncated or damaged file fails here as in training). Undefined when the
 * kernel does not take the file (no readable header, over the pixel limit) or refuses it: the
 * caller then judges it as the loader does, through sharp.
 */
async function inspectJpeg(bytes: Uint8Array, name: string, opts: InspectOptions, facts: FileFacts): Promise<FileFacts | undefined> {
  const h = readHeader(bytes);
  if (!h) return undefined;
  const { width, height } = orientedSize(h);
  const maxPixels = opts.maxPixels ?? DECODE_LIMITS.maxPixels;
  if (width * height > maxPixels) return undefined;
  const grey = new Uint8Array(HASH_SIDE * HASH_SIDE);
  const [failed] = await decodeJpegBatch([{ bytes, id: name }], grey, {
    width: HASH_SIDE, height: HASH_SIDE, channels: 'grey', maxPixels, failOn: opts.failOn ?? DECODE_LIMITS.failOn, threads: opts.threads ?? 1,
  });
  if (failed) return undefined;
  facts.format = 'jpeg';
  const claimed = formatFromName(name);
  if (claimed !== undefined && claimed !== 'jpeg') facts.issues.push({ code: 'extension-mismatch', message: `named .${name.split('.').pop()} but the content is JPEG` });
  facts.phash = phashFromGrey(grey);
  facts.width = width;
  facts.height = height;
  // What libvips' metadata says of a JPEG, from the header: CMYK (4 components), grey (1), rotated.
  if (h.bands === 4) facts.traits.push('cmyk');
  if (h.bands === 1) facts.traits.push('grey');
  if (h.orientation > 1) facts.traits.push('exifRotated');
  tinyCheck(facts, opts.minSide);
  return facts;
}

/** The decoder's reason, without the id it starts with. */
const reasonOf = (e: unknown, id: string) => (e instanceof DataError && e.message.startsWith(`${id}: `) ? e.message.slice(id.length + 2) : sharpMessage(e));

/** Inspects an encoded file. `name` is the sample id (a path), used for the extension check. */
export async function inspectEncoded(bytes: Uint8Array, name: string, opts: InspectOptions): Promise<FileFacts> {
  const facts: FileFacts = { bytes: bytes.length, traits: [], issues: [] };
  if (bytes.length === 0) {
    facts.issues.push({ code: 'zero-byte', message: 'empty file (0 bytes)' });
    return facts;
  }
  facts.sha256 = createHash('sha256').update(bytes).digest('hex');
  const sniffed = sniffFormat(bytes);
  if (sniffed !== undefined && LOADABLE[sniffed] === false) {
    facts.format = sniffed;
    facts.issues.push({ code: 'unsupported-format', message: `${sniffed.toUpperCase()} file, which this build of sharp cannot decode` });
    return facts;
  }
  if (sniffed === 'jpeg') {
    const fast = await inspectJpeg(bytes, name, opts, facts);
    if (fast) return fast;
  }
  const decode = { id: name, channels: 'keep' as const, failOn: opts.failOn ?? DECODE_LIMITS.failOn, maxPixels: opts.maxPixels ?? DECODE_LIMITS.maxPixels };

  // The header, as the loader reads it: format, size and the pixel limit.
  let info;
  try {
    info = await probeImage(bytes, name, decode);
  } catch (e) {
    const why = reasonOf(e, name);
    facts.format = sniffed;
    if (/over the decompression limit/.test(why)) facts.issues.push({ code: 'too-large', message: `${why}; training refuses it too` });
    else facts.issues.push(sniffed === undefined ? { code: 'not-an-image', message: `not an image: no known image signature (starts with ${preview(bytes)})` } : decodeFailure(bytes, sniffed, e));
    return facts;
  }
  // Traits from libvips' header reading (BMP, which sharp cannot read, has none to report).
  let meta: Metadata | undefined;
  if (info.format !== 'bmp') meta = await sharp(bytes).metadata().catch(() => undefined);
  facts.format = sniffed ?? (meta?.format as string | undefined) ?? info.format;

  const claimed = formatFromName(name);
  const actual = (sniffed ?? (meta?.format === 'heif' ? 'heif' : (meta?.format as ImageFormat | undefined) ?? info.format)) as ImageFormat;
  const same = claimed === actual || (claimed === 'avif' && actual === 'heif') || (claimed === 'heif' && actual === 'avif');
  if (claimed !== undefined && !same) {
    facts.issues.push({ code: 'extension-mismatch', message: `named .${name.split('.').pop()} but the content is ${actual.toUpperCase()}` });
  }

  let image: RawImage;
  try {
    image = await decodeImage(bytes, decode);
  } catch (e) {
    facts.issues.push(decodeFailure(bytes, sniffed, new Error(reasonOf(e, name))));
    return facts;
  }
  facts.phash = await hashPixels(image, opts.threads ?? 1);
  facts.width = image.width;
  facts.height = image.height;
  const t = facts.traits;
  if (meta) {
    if (meta.space === 'cmyk') t.push('cmyk');
    if (meta.depth !== undefined && meta.depth !== 'uchar' && meta.depth !== 'char') t.push('sixteenBit');
    if (meta.hasAlpha) t.push('alpha');
    if (meta.isPalette) t.push('palette');
    if (meta.space === 'b-w' || meta.space === 'grey16') t.push('grey');
    if ((meta.orientation ?? 1) > 1) t.push('exifRotated');
    if ((meta.pages ?? 1) > 1) t.push('animated');
  }
  tinyCheck(facts, opts.minSide);
  return facts;
}

/** Inspects already-decoded pixels (IDX, CIFAR, NPY sources): hashes and size only. */
export async function inspectPixels(image: RawImage, opts: InspectOptions): Promise<FileFacts> {
  const facts: FileFacts = { bytes: image.data.length, traits: image.channels === 1 ? ['grey'] : [], issues: [] };
  facts.sha256 = createHash('sha256').update(image.data).digest('hex');
  facts.width = image.width;
  facts.height = image.height;
  facts.phash = await hashPixels(image, opts.threads ?? 1);
  tinyCheck(facts, opts.minSide);
  return facts;
}

function tinyCheck(facts: FileFacts, minSide: number): void {
  const w = facts.width ?? 0;
  const h = facts.height ?? 0;
  if (Math.min(w, h) < minSide) facts.issues.push({ code: 'tiny', message: `${w}×${h} pixels, smaller than ${minSide} on a side` });
}
