// Channel conversions on decoded pixels, done in JS on the (small) decoded output rather than as
// extra sharp stages: one pass over the bytes, no trip through the thread pool.
import type { RawImage } from '../types.js';

/** Grey → RGB by repeating the level. */
export function expandGrey(img: RawImage): RawImage {
  const n = img.width * img.height;
  const out = new Uint8Array(n * 3);
  const src = img.data;
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const v = src[i] as number;
    out[o] = v;
    out[o + 1] = v;
    out[o + 2] = v;
  }
  return { data: out, width: img.width, height: img.height, channels: 3 };
}

/**
 * RGB → grey with ITU-R 601-2 luma, L = R·299/1000 + G·587/1000 + B·114/1000, in PIL's fixed point
 * (convert('L')), so results match torchvision's Grayscale on PIL images bit for bit.
 */
export function lumaPIL(img: RawImage): RawImage {
  if (img.channels === 1) return img;
  const n = img.width * img.height;
  const out = new Uint8Array(n);
  const src = img.data;
  for (let i = 0, p = 0; i < n; i++, p += 3)
    out[i] = ((src[p] as number) * 19595 + (src[p + 1] as number) * 38470 + (src[p + 2] as number) * 7471 + 0x8000) >>> 16;
  return { data: out, width: img.width, height: img.height, channels: 1 };
}

/** RGBA → RGB over a solid background: out = a·fg + (1-a)·bg, rounded. */
export function flattenAlpha(rgba: Uint8Array, width: number, height: number, bg: { r: number; g: number; b: number }): Uint8Array {
  const n = width * height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const a = (rgba[i * 4 + 3] as number) / 255;
    out[i * 3] = Math.round((rgba[i * 4] as number) * a + bg.r * (1 - a));
    out[i * 3 + 1] = Math.round((rgba[i * 4 + 1] as number) * a + bg.g * (1 - a));
    out[i * 3 + 2] = Math.round((rgba[i * 4 + 2] as number) * a + bg.b * (1 - a));
  }
  return out;
}
