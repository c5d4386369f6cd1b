// Reading an image's size, band count and EXIF orientation from its first bytes, in JS, without
// a call into sharp: the pipeline needs the (oriented) size before it can choose a random crop, and
// a synchronous look at a JPEG or PNG header costs microseconds where a sharp metadata() round trip
// through the thread pool costs ~0.1 ms. Formats not parsed here return undefined (ask sharp).

import { sniffFormat, type ImageFormat as KnownFormat } from './magic.js';

export type ImageFormat = KnownFormat | 'unknown';

export interface HeaderInfo {
  format: ImageFormat;
  /** Stored size, before EXIF orientation. */
  width: number;
  height: number;
  /** Colour bands before alpha removal: 1 grey, 3 colour, 4 CMYK (JPEG only). */
  bands: number;
  hasAlpha: boolean;
  /** EXIF orientation 1..8 (1 = as stored). */
  orientation: number;
}

/** The container format, from magic bytes only. */
/** The format the bytes start with; 'unknown' when no signature matches. */
export function formatOf(b: Uint8Array): ImageFormat {
  return sniffFormat(b) ?? 'unknown';
}

function ascii(b: Uint8Array, at: number, n: number): string {
  return String.fromCharCode(...b.subarray(at, at + n));
}

const be16 = (b: Uint8Array, i: number): number => ((b[i] as number) << 8) | (b[i + 1] as number);
const be32 = (b: Uint8Array, i: number): number => ((b[i] as number) * 0x1000000) + (((b[i + 1] as number) << 16) | ((b[i + 2] as number) << 8) | (b[i + 3] as number));

/** Size, bands and orientation of a JPEG or PNG; undefined for other formats or unusual files. */
export function readHeader(b: Uint8Array): HeaderInfo | undefined {
  const format = formatOf(b);
  if (format === 'jpeg') return jpegHeader(b);
  if (format === 'png') return pngHeader(b);
  return undefined;
}

function jpegHeader(b: Uint8Array): HeaderInfo | undefined {
  let i = 2;
  let orientation = 1;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return undefined; // not at a marker: let sharp judge the file
    const marker = b[i + 1] as number;
    if (marker === 0xff) { i++; continue; } // fill byte
    const len = be16(b, i + 2);
    // APP1 "Exif\0\0": the orientation tag lives in IFD0.
    if (marker === 0xe1 && len >= 8 && ascii(b, i + 4, 6) === 'Exif\0\0') orientation = exifOrientation(b, i + 10, i + 2 + len) ?? orientation;
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (i + 10 > b.length) return undefined;
      const height = be16(b, i + 5);
      const width = be16(b, i + 7);
      const comps = b[i + 9] as number;
      if (width === 0 || height === 0) return undefined; // height defined later (DNL): rare, ask sharp
      return { format: 'jpeg', width, height, bands: comps >= 3 ? comps : 1, hasAlpha: false, orientation };
    }
    if (marker === 0xda) return undefined; // scan before frame header: malformed
    i += 2 + len;
  }
  return undefined;
}

function exifOrientation(b: Uint8Array, tiff: number, end: number): number | undefined {
  if (tiff + 8 > end) return undefined;
  const le = b[tiff] === 0x49;
  const u16 = (i: number): number => (le ? (b[i] as number) | ((b[i + 1] as number) << 8) : be16(b, i));
  const u32 = (i: number): number => (le ? u16(i) + u16(i + 2) * 0x10000 : be32(b, i));
  const ifd = tiff + u32(tiff + 4);
  if (ifd + 2 > end) return undefined;
  const n = u16(ifd);
  for (let k = 0; k < n; k++) {
    const e = ifd + 2 + k * 12;
    if (e + 12 > end) return undefined;
    if (u16(e) === 0x0112) {
      const v = u16(e + 8);
      return v >= 1 && v <= 8 ? v : undefined;
    }
  }
  return undefined;
}

function pngHeader(b: Uint8Array): HeaderInfo | undefined {
  if (b.length < 33 || ascii(b, 12, 4) !== 'IHDR') return undefined;
  const width = be32(b, 16);
  const height = be32(b, 20);
  const colourType = b[25] as number;
  // 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA; a tRNS chunk adds alpha to 0, 2 and 3.
  let hasAlpha = colourType === 4 || colourType === 6;
  // Walk the chunks before IDAT: tRNS adds alpha; an eXIf chunk may carry an orientation, which
  // we leave to sharp rather than parse (rare in PNGs).
  let i = 8;
  while (i + 8 <= b.length) {
    const len = be32(b, i);
    const type = ascii(b, i + 4, 4);
    if (type === 'IDAT' || type === 'IEND') break;
    if (type === 'tRNS') hasAlpha = true;
    if (type === 'eXIf') return undefined;
    i += 12 + len;
  }
  return { format: 'png', width, height, bands: colourType === 0 || colourType === 4 ? 1 : 3, hasAlpha, orientation: 1 };
}

/** Size after applying EXIF orientation (5..8 swap the axes). */
export function orientedSize(h: { width: number; height: number; orientation: number }): { width: number; height: number } {
  return h.orientation >= 5 ? { width: h.height, height: h.width } : { width: h.width, height: h.height };
}
