// Segmentation masks: PNG files of class ids (one value per pixel, 255 = ignore), decoded to the
// ids themselves — never to colours. sharp cannot do that for the commonest kind: a palette PNG
// (Pascal VOC's masks) decodes to the palette's RGB colours, not to the indices that are the class
// ids. So masks are read here, with node's zlib: every PNG colour type, bit depths 1–16, not
// interlaced. Grey PNGs give their values; palette PNGs their indices; RGB(A) PNGs whose three
// channels agree (a grey mask saved as colour) their value; anything else is refused, naming the file.
// Lossy formats are refused too: JPEG's compression changes the ids along every edge.
//
// Also here: the colours masks are drawn with (report overlays, `tessera predict --overlay`).
import { inflateSync } from 'node:zlib';

import { DataError, type RawImage, type SampleInput } from '../types.js';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

interface Header {
  width: number;
  height: number;
  depth: number;
  colour: number;
}

function readChunks(bytes: Uint8Array, id: string): { header: Header; data: Buffer } {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) {
    const jpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
    throw new DataError(id, jpeg ? 'mask is a JPEG: masks must be PNG files (lossy compression changes the class ids along edges)' : 'mask is not a PNG file (masks are PNGs of class ids)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: Header | undefined;
  const idat: Uint8Array[] = [];
  for (let at = 8; at + 8 <= bytes.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const body = bytes.subarray(at + 8, at + 8 + length);
    if (body.length !== length) throw new DataError(id, `mask PNG is truncated (chunk ${type} at byte ${at})`);
    if (type === 'IHDR') {
      if (length < 13) throw new DataError(id, 'mask PNG has a short IHDR chunk');
      const b = new DataView(body.buffer, body.byteOffset, body.byteLength);
      header = { width: b.getUint32(0), height: b.getUint32(4), depth: body[8] as number, colour: body[9] as number };
      if (body[12] !== 0) throw new DataError(id, 'mask PNG is interlaced; save it without interlacing');
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    at += 12 + length;
  }
  if (!header) throw new DataError(id, 'mask PNG has no IHDR chunk');
  if (CHANNELS[header.colour] === undefined || ![1, 2, 4, 8, 16].includes(header.depth)) throw new DataError(id, `mask PNG has colour type ${header.colour} at bit depth ${header.depth}, which PNG does not define`);
  if (header.width === 0 || header.height === 0 || header.width * header.height > 100e6) throw new DataError(id, `mask PNG is ${header.width}x${header.height}: empty or over the decompression limit`);
  let data: Buffer;
  try {
    data = inflateSync(Buffer.concat(idat));
  } catch (e) {
    throw new DataError(id, `mask PNG's pixel data does not inflate: ${(e as Error).message}`);
  }
  return { header, data };
}

/** Undoes PNG's per-row filters in place; returns the rows without their filter bytes. */
function unfilter(data: Buffer, h: Header, id: string): Uint8Array {
  const channels = CHANNELS[h.colour] as number;
  const rowBytes = Math.ceil((h.width * channels * h.depth) / 8);
  const bpp = Math.max(1, (channels * h.depth) >> 3);
  if (data.length < h.height * (rowBytes + 1)) throw new DataError(id, `mask PNG holds ${data.length} bytes of pixels, ${h.height * (rowBytes + 1)} expected`);
  const out = new Uint8Array(h.height * rowBytes);
  for (let y = 0; y < h.height; y++) {
    const filter = data[y * (rowBytes + 1)] as number;
    const src = y * (rowBytes + 1) + 1;
    const row = y * rowBytes;
    const prev = row - rowBytes;
    for (let x = 0; x < rowBytes; x++) {
      const a = x >= bpp ? (out[row + x - bpp] as number) : 0;
      const b = y > 0 ? (out[prev + x] as number) : 0;
      const c = x >= bpp && y > 0 ? (out[prev + x - bpp] as number) : 0;
      const raw = data[src + x] as number;
      let v: number;
      switch (filter) {
        case 0: v = raw; break;
        case 1: v = raw + a; break;
        case 2: v = raw + b; break;
        case 3: v = raw + ((a + b) >> 1); break;
        case 4: {
          const p = a + b - c;
          const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
          v = raw + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
          break;
        }
        default: throw new DataError(id, `mask PNG row ${y} has filter type ${filter}, which PNG does not define`);
      }
      out[row + x] = v & 255;
    }
  }
  return out;
}

/** A mask file's class ids: one channel, one byte per pixel (see the header for what is accepted). */
export function decodeMaskPng(bytes: Uint8Array, id: string): RawImage {
  const { header: h, data } = readChunks(bytes, id);
  const rows = unfilter(data, h, id);
  const channels = CHANNELS[h.colour] as number;
  const rowBytes = Math.ceil((h.width * channels * h.depth) / 8);
  const out = new Uint8Array(h.width * h.height);
  // Sample s (of channel c at pixel x) of row y, at any bit depth.
  const sample = (y: number, x: number, c: number): number => {
    const i = x * channels + c;
    if (h.depth === 8) return rows[y * rowBytes + i] as number;
    if (h.depth === 16) return ((rows[y * rowBytes + 2 * i] as number) << 8) | (rows[y * rowBytes + 2 * i + 1] as number);
    const bit = i * h.depth;
    return ((rows[y * rowBytes + (bit >> 3)] as number) >> (8 - h.depth - (bit & 7))) & ((1 << h.depth) - 1);
  };
  for (let y = 0; y < h.height; y++)
    for (let x = 0; x < h.width; x++) {
      const v = sample(y, x, 0);
      if (h.colour === 2 || h.colour === 6) {
        if (sample(y, x, 1) !== v || sample(y, x, 2) !== v)
          throw new DataError(id, `mask is a colour image (pixel ${x},${y} is RGB ${v},${sample(y, x, 1)},${sample(y, x, 2)}): masks hold one class id per pixel (grey or palette PNG)`);
      }
      if (v > 255) throw new DataError(id, `mask pixel ${x},${y} is ${v}: class ids go up to 254 (255 = ignore)`);
      out[y * h.width + x] = v;
    }
  return { data: out, width: h.width, height: h.height, channels: 1 };
}

/** A mask as a source stores it (a PNG file, or one channel of pixels) → its class ids. */
export function decodeMask(input: SampleInput, id: string): RawImage {
  if (input.kind === 'encoded') return decodeMaskPng(input.bytes, id);
  const im = input.image;
  if (im.channels === 1) return im;
  throw new DataError(id, `mask has ${im.channels} channels: masks hold one class id per pixel`);
}

/** The colour of class k in overlays (Okabe–Ito first, then evenly spread hues); ignored pixels are not drawn. */
export function classColour(k: number): [number, number, number] {
  const base: [number, number, number][] = [[0, 0, 0], [230, 159, 0], [86, 180, 233], [0, 158, 115], [240, 228, 66], [0, 114, 178], [213, 94, 0], [204, 121, 167]];
  if (k < base.length) return base[k] as [number, number, number];
  const hue = ((k * 137.508) % 360) / 60;
  const f = (n: number) => Math.round(255 * (1 - Math.max(0, Math.min(1, Math.min(Math.abs(((n + hue) % 6) - 3) - 1, 1)))));
  return [255 - f(5), 255 - f(3), 255 - f(1)];
}

/**
 * The image (grey or RGB) with each pixel's class colour laid over it at `alpha` (class 0, the usual
 * background, and ignored pixels are left as they are; ignored ones are hatched grey when `showIgnored`).
 */
export function overlayMask(image: RawImage, mask: RawImage, o: { alpha?: number; showIgnored?: boolean } = {}): RawImage {
  if (mask.width !== image.width || mask.height !== image.height) throw new RangeError(`overlayMask: mask ${mask.width}x${mask.height} for an image of ${image.width}x${image.height}`);
  const alpha = o.alpha ?? 0.75;
  const out = new Uint8Array(image.width * image.height * 3);
  for (let p = 0; p < image.width * image.height; p++) {
    const k = mask.data[p] as number;
    const g = image.channels === 1 ? [image.data[p], image.data[p], image.data[p]] : [image.data[3 * p], image.data[3 * p + 1], image.data[3 * p + 2]];
    const colour = k === 255 ? (o.showIgnored && ((p % image.width) + Math.floor(p / image.width)) % 4 < 2 ? [128, 128, 128] : undefined) : k === 0 ? undefined : classColour(k);
    for (let c = 0; c < 3; c++) out[3 * p + c] = colour ? Math.round((1 - alpha) * (g[c] as number) + alpha * (colour[c] as number)) : (g[c] as number);
  }
  return { data: out, width: image.width, height: image.height, channels: 3 };
}
