// Everything the doctor learns about one sample, from its bytes alone: whether it decodes (fully —
// libvips is lenient by default and hands back a half-grey image for a truncated JPEG, so we decode
// with `failOn`), what it really is versus what its name says, its traits, size, SHA-256 and pHash.
import { createHash } from 'node:crypto';

import sharp, { type Metadata, type Sharp } from 'sharp';

import type { RawImage } from '../types.js';
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
  | 'extension-mismatch'
  | 'tiny';

/** Errors make a sample unusable; warnings flag a sample that decodes but deserves a look. */
export const SEVERITY: Record<IssueCode, 'error' | 'warning'> = {
  missing: 'error',
  unreadable: 'error',
  'zero-byte': 'error',
  'not-an-image': 'error',
  'unsupported-format': 'error',
  truncated: 'error',
  corrupt: 'error',
  'extension-mismatch': 'warning',
  tiny: 'warning',
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
  /** How strictly to decode (sharp's `failOn`); 'truncated' is the most lenient allowed. */
  failOn: 'truncated' | 'error' | 'warning';
}

const LOADABLE: Partial<Record<ImageFormat, boolean>> = {
  jpeg: sharp.format.jpeg.input.buffer,
  png: sharp.format.png.input.buffer,
  gif: sharp.format.gif.input.buffer,
  webp: sharp.format.webp.input.buffer,
  tiff: sharp.format.tiff.input.buffer,
  avif: sharp.format.heif.input.buffer,
  heif: sharp.format.heif.input.buffer,
  bmp: sharp.format.magick.input.buffer,
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

async function greyForHash(img: Sharp): Promise<PHash> {
  const { data, info } = await img
    .autoOrient()
    .flatten({ background: '#ffffff' })
    .greyscale()
    .resize(HASH_SIDE, HASH_SIDE, { fit: 'fill' })
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 1 || data.length !== HASH_SIDE * HASH_SIDE) {
    throw new Error(`internal: hash image came out ${info.width}×${info.height}×${info.channels}`);
  }
  return phashFromGrey(data);
}

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

  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch (e) {
    facts.issues.push(
      sniffed === undefined
        ? { code: 'not-an-image', message: `not an image: no known image signature (starts with ${preview(bytes)})` }
        : decodeFailure(bytes, sniffed, e),
    );
    return facts;
  }
  facts.format = sniffed ?? meta.format;

  const claimed = formatFromName(name);
  const actual = sniffed ?? (meta.format === 'heif' ? 'heif' : (meta.format as ImageFormat));
  const same = claimed === actual || (claimed === 'avif' && actual === 'heif') || (claimed === 'heif' && actual === 'avif');
  if (claimed !== undefined && !same) {
    facts.issues.push({ code: 'extension-mismatch', message: `named .${name.split('.').pop()} but the content is ${actual.toUpperCase()}` });
  }

  try {
    facts.phash = await greyForHash(sharp(bytes, { failOn: opts.failOn }));
  } catch (e) {
    facts.issues.push(decodeFailure(bytes, sniffed, e));
    return facts;
  }

  const turned = (meta.orientation ?? 1) >= 5; // orientations 5–8 swap width and height
  facts.width = turned ? meta.height : meta.width;
  facts.height = turned ? meta.width : meta.height;
  const t = facts.traits;
  if (meta.space === 'cmyk') t.push('cmyk');
  if (meta.depth !== undefined && meta.depth !== 'uchar' && meta.depth !== 'char') t.push('sixteenBit');
  if (meta.hasAlpha) t.push('alpha');
  if (meta.isPalette) t.push('palette');
  if (meta.space === 'b-w' || meta.space === 'grey16') t.push('grey');
  if ((meta.orientation ?? 1) > 1) t.push('exifRotated');
  if ((meta.pages ?? 1) > 1) t.push('animated');
  tinyCheck(facts, opts.minSide);
  return facts;
}

/** Inspects already-decoded pixels (IDX, CIFAR, NPY sources): hashes and size only. */
export async function inspectPixels(image: RawImage, opts: InspectOptions): Promise<FileFacts> {
  const facts: FileFacts = { bytes: image.data.length, traits: image.channels === 1 ? ['grey'] : [], issues: [] };
  facts.sha256 = createHash('sha256').update(image.data).digest('hex');
  facts.width = image.width;
  facts.height = image.height;
  facts.phash = await greyForHash(sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } }));
  tinyCheck(facts, opts.minSide);
  return facts;
}

function tinyCheck(facts: FileFacts, minSide: number): void {
  const w = facts.width ?? 0;
  const h = facts.height ?? 0;
  if (Math.min(w, h) < minSide) facts.issues.push({ code: 'tiny', message: `${w}×${h} pixels, smaller than ${minSide} on a side` });
}
