// A small BMP decoder, because the sharp 0.35 prebuilt libvips has no BMP loader (it ships without
// ImageMagick). Covers what cameras, scanners and old data sets write: uncompressed 24- and 32-bit
// (BI_RGB, or BI_BITFIELDS with 8-bit masks), and 1/4/8-bit palettes; bottom-up and top-down rows.
// Anything else (RLE, 16-bit, JPEG/PNG-in-BMP) is refused by name instead of decoded wrongly.

/** Decoded pixels before alpha flattening: HWC, 8-bit, 3 (BGR→RGB) or 4 (RGBA) bands. */
export interface BmpPixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3 | 4;
}

export class BmpError extends Error {}

const COMPRESSION = ['BI_RGB', 'BI_RLE8', 'BI_RLE4', 'BI_BITFIELDS', 'BI_JPEG', 'BI_PNG', 'BI_ALPHABITFIELDS'];

/** Reads the size from the header only (for the decompression-bomb check and for planning crops). */
export function bmpSize(b: Uint8Array): { width: number; height: number } {
  const v = view(b);
  if (b.length < 26) throw new BmpError(`truncated BMP header (${b.length} bytes)`);
  const dib = v.getUint32(14, true);
  if (dib === 12) return { width: v.getUint16(18, true), height: v.getUint16(20, true) };
  if (b.length < 30) throw new BmpError(`truncated BMP header (${b.length} bytes)`);
  return { width: Math.abs(v.getInt32(18, true)), height: Math.abs(v.getInt32(22, true)) };
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

export function decodeBmp(b: Uint8Array, maxPixels: number): BmpPixels {
  const v = view(b);
  const { width, height } = bmpSize(b);
  const dib = v.getUint32(14, true);
  const core = dib === 12;
  if (!core && dib < 40) throw new BmpError(`unsupported BMP header size ${dib}`);
  const topDown = !core && v.getInt32(22, true) < 0;
  const bpp = v.getUint16(core ? 24 : 28, true);
  const compression = core ? 0 : v.getUint32(30, true);
  if (width === 0 || height === 0) throw new BmpError(`BMP has an empty size ${width}x${height}`);
  if (width * height > maxPixels) throw new BmpError(`BMP is ${width}x${height} = ${width * height} pixels, over the limit of ${maxPixels}`);

  let masks: [number, number, number, number] | undefined;
  if (compression === 3 || compression === 6) {
    // Masks sit inside V4/V5 headers, or right after a 40-byte header.
    const n = compression === 6 || dib >= 56 ? 4 : 3;
    if (b.length < 54 + 4 * n) throw new BmpError('truncated BMP bit-field masks');
    masks = [v.getUint32(54, true), v.getUint32(58, true), v.getUint32(62, true), n === 4 ? v.getUint32(66, true) : 0];
  } else if (compression !== 0) {
    throw new BmpError(`unsupported BMP compression ${COMPRESSION[compression] ?? compression} (supported: uncompressed and bit fields)`);
  }
  const supported = bpp === 24 || bpp === 32 || ((bpp === 1 || bpp === 4 || bpp === 8) && !masks);
  if (!supported) throw new BmpError(`unsupported BMP bit depth ${bpp}${masks ? ' with bit fields' : ''} (supported: 1/4/8-bit palette, 24 and 32-bit)`);

  const offset = v.getUint32(10, true);
  const stride = Math.ceil((width * bpp) / 32) * 4;
  // The last row need not be padded; accept files that stop right after its pixels.
  const need = offset + stride * (height - 1) + Math.ceil((width * bpp) / 8);
  if (b.length < need) throw new BmpError(`truncated BMP: pixel data needs ${need} bytes, the file has ${b.length}`);

  let palette: Uint8Array | undefined;
  if (bpp <= 8) {
    const entry = core ? 3 : 4;
    const used = core ? 0 : v.getUint32(46, true);
    const count = used || 1 << bpp;
    const start = 14 + dib;
    if (start + count * entry > b.length) throw new BmpError('truncated BMP palette');
    palette = new Uint8Array(256 * 3); // unused indices read as black
    for (let k = 0; k < count && k < 256; k++) {
      palette[k * 3] = b[start + k * entry + 2] as number;
      palette[k * 3 + 1] = b[start + k * entry + 1] as number;
      palette[k * 3 + 2] = b[start + k * entry] as number;
    }
  }

  const alpha = masks !== undefined && masks[3] !== 0;
  const channels: 3 | 4 = alpha ? 4 : 3;
  const out = new Uint8Array(width * height * channels);
  const shifts = masks?.map(maskShift);
  for (let y = 0; y < height; y++) {
    const row = offset + (topDown ? y : height - 1 - y) * stride;
    let o = y * width * channels;
    for (let x = 0; x < width; x++, o += channels) {
      if (palette) {
        const bit = x * bpp;
        const byte = b[row + (bit >> 3)] as number;
        const idx = (byte >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1);
        out[o] = palette[idx * 3] as number;
        out[o + 1] = palette[idx * 3 + 1] as number;
        out[o + 2] = palette[idx * 3 + 2] as number;
      } else if (masks && shifts && bpp === 32) {
        const px = v.getUint32(row + x * 4, true);
        for (let c = 0; c < channels; c++) out[o + c] = extract(px, masks[c] as number, shifts[c] as number);
      } else {
        const p = row + x * (bpp >> 3);
        out[o] = b[p + 2] as number;
        out[o + 1] = b[p + 1] as number;
        out[o + 2] = b[p] as number;
      }
    }
  }
  return { data: out, width, height, channels };
}

function maskShift(mask: number): number {
  let s = 0;
  while (mask !== 0 && ((mask >>> s) & 1) === 0) s++;
  return s;
}

/** A masked field scaled to 8 bits (masks of any width, e.g. 10-bit fields). */
function extract(px: number, mask: number, shift: number): number {
  if (mask === 0) return 0;
  const max = mask >>> shift;
  return Math.round((((px & mask) >>> shift) * 255) / max);
}
