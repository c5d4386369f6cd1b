// Photometric pixel operations on RawImage, following PIL's ImageEnhance/ImageOps arithmetic (what
// torchvision calls for PIL images), so colour jitter and the AutoAugment family match torchvision.
import { lumaPIL } from '../image/pixels.js';
import type { RawImage } from '../types.js';

function like(img: RawImage, data: Uint8Array): RawImage {
  return { data, width: img.width, height: img.height, channels: img.channels };
}

const clip8 = (v: number): number => (v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v));

/** PIL Image.blend(degenerate, img, f): degenerate + f·(img − degenerate), truncated to 8 bits (Blend.c). */
export function blend(img: RawImage, degenerate: Uint8Array | number, f: number): RawImage {
  const out = new Uint8Array(img.data.length);
  const src = img.data;
  // PIL computes in C float (float32): the factor and each step are rounded to float32.
  const a = Math.fround(f);
  const one = (d: number, x: number): number => clip8(Math.fround(d + Math.fround(a * (x - d))));
  if (typeof degenerate === 'number') for (let i = 0; i < src.length; i++) out[i] = one(degenerate, src[i] as number);
  else for (let i = 0; i < src.length; i++) out[i] = one(degenerate[i] as number, src[i] as number);
  return like(img, out);
}

/** Grey levels repeated to the image's channel count (PIL's convert('L').convert(mode)). */
function greyDegenerate(img: RawImage): Uint8Array {
  if (img.channels === 1) return img.data;
  const l = lumaPIL(img).data;
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < l.length; i++) out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = l[i] as number;
  return out;
}

export function adjustBrightness(img: RawImage, f: number): RawImage {
  return blend(img, 0, f);
}

/** Blend with the mean grey level (PIL: int(mean of convert('L') + 0.5)). */
export function adjustContrast(img: RawImage, f: number): RawImage {
  const l = img.channels === 1 ? img.data : lumaPIL(img).data;
  let sum = 0;
  for (let i = 0; i < l.length; i++) sum += l[i] as number;
  return blend(img, Math.trunc(sum / l.length + 0.5), f);
}

export function adjustSaturation(img: RawImage, f: number): RawImage {
  if (img.channels === 1) return img;
  return blend(img, greyDegenerate(img), f);
}

/** PIL's RGB → HSV → RGB round trip (Convert.c), shifting the 8-bit hue by hue·255 (wrapping). */
export function adjustHue(img: RawImage, hue: number): RawImage {
  if (img.channels === 1) return img;
  if (hue < -0.5 || hue > 0.5) throw new RangeError(`adjustHue: hue factor must be in [-0.5, 0.5], got ${hue}`);
  const shift = ((Math.trunc(hue * 255) % 256) + 256) % 256; // numpy's uint8 wrap of the shift
  const src = img.data;
  const out = new Uint8Array(src.length);
  for (let p = 0; p < src.length; p += 3) {
    const r = src[p] as number;
    const g = src[p + 1] as number;
    const b = src[p + 2] as number;
    const maxc = Math.max(r, g, b);
    const minc = Math.min(r, g, b);
    let uh = 0;
    let us = 0;
    if (maxc !== minc) {
      const cr = maxc - minc;
      const s = Math.fround(cr / maxc);
      const rc = Math.fround((maxc - r) / cr);
      const gc = Math.fround((maxc - g) / cr);
      const bc = Math.fround((maxc - b) / cr);
      let h = r === maxc ? bc - gc : g === maxc ? 2 + rc - bc : 4 + gc - rc;
      h = Math.fround(h);
      h = (h / 6 + 1) % 1;
      uh = clip8(Math.trunc(h * 255));
      us = clip8(Math.trunc(s * 255));
    }
    uh = (uh + shift) & 255;
    // HSV → RGB
    if (us === 0) {
      out[p] = out[p + 1] = out[p + 2] = maxc;
      continue;
    }
    const v = maxc;
    const i = Math.floor((uh * 6) / 255);
    const f = Math.fround((uh * 6) / 255) - i;
    const fs = us / 255;
    const pp = clip8(Math.round(v * (1 - fs)));
    const q = clip8(Math.round(v * (1 - fs * f)));
    const t = clip8(Math.round(v * (1 - fs * (1 - f))));
    const rgb = [[v, t, pp], [q, v, pp], [pp, v, t], [pp, q, v], [t, pp, v], [v, pp, q]][i % 6] as number[];
    out[p] = rgb[0] as number;
    out[p + 1] = rgb[1] as number;
    out[p + 2] = rgb[2] as number;
  }
  return like(img, out);
}

/** Blend with PIL's SMOOTH-filtered image (3×3 kernel 1 1 1 / 1 5 1 / 1 1 1, ÷13), border pixels kept. */
export function adjustSharpness(img: RawImage, f: number): RawImage {
  const { width: w, height: h, channels: c } = img;
  const src = img.data;
  const smooth = Uint8Array.from(src);
  for (let y = 1; y < h - 1; y++)
    for (let x = 1; x < w - 1; x++)
      for (let k = 0; k < c; k++) {
        let s = 4 * (src[(y * w + x) * c + k] as number);
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) s += src[((y + dy) * w + x + dx) * c + k] as number;
        smooth[(y * w + x) * c + k] = clip8(s / 13 + 0.5);
      }
  return blend(img, smooth, f);
}

function lut(img: RawImage, table: (v: number, channel: number) => number, perChannel = false): RawImage {
  const c = img.channels;
  const tables = Array.from({ length: perChannel ? c : 1 }, (_, ch) => Uint8Array.from({ length: 256 }, (_, v) => table(v, ch)));
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = (tables[perChannel ? i % c : 0] as Uint8Array)[img.data[i] as number] as number;
  return like(img, out);
}

/** Keep the top `bits` bits of each value. */
export function posterize(img: RawImage, bits: number): RawImage {
  const mask = ~((1 << (8 - bits)) - 1) & 255;
  return lut(img, (v) => v & mask);
}

/** Invert every value at or above the threshold. */
export function solarize(img: RawImage, threshold: number): RawImage {
  return lut(img, (v) => (v < threshold ? v : 255 - v));
}

export function invert(img: RawImage): RawImage {
  return lut(img, (v) => 255 - v);
}

function histograms(img: RawImage): Uint32Array[] {
  const c = img.channels;
  const h = Array.from({ length: c }, () => new Uint32Array(256));
  for (let i = 0; i < img.data.length; i++) {
    const hist = h[i % c] as Uint32Array;
    const v = img.data[i] as number;
    hist[v] = (hist[v] as number) + 1;
  }
  return h;
}

/** PIL ImageOps.autocontrast(cutoff=0): stretch each channel's [min, max] to [0, 255]. */
export function autocontrast(img: RawImage): RawImage {
  const hs = histograms(img);
  const range = hs.map((h) => {
    let lo = 0;
    while (lo < 255 && h[lo] === 0) lo++;
    let hi = 255;
    while (hi > 0 && h[hi] === 0) hi--;
    return [lo, hi] as const;
  });
  return lut(img, (v, ch) => {
    const [lo, hi] = range[ch] as readonly [number, number];
    if (hi <= lo) return v;
    const scale = 255 / (hi - lo);
    return Math.min(255, Math.max(0, Math.trunc(v * scale - lo * scale)));
  }, true);
}

/** PIL ImageOps.equalize: per channel, map through the cumulative histogram (PIL 9's step rule, ÷255). */
export function equalize(img: RawImage): RawImage {
  const tables = histograms(img).map((h) => {
    const nonzero = [...h].filter((n) => n > 0);
    const identity = Uint8Array.from({ length: 256 }, (_, i) => i);
    if (nonzero.length <= 1) return identity;
    const step = Math.floor((nonzero.reduce((s, n) => s + n, 0) - (nonzero[nonzero.length - 1] as number)) / 255);
    if (step === 0) return identity;
    const t = new Uint8Array(256);
    let n = Math.floor(step / 2);
    for (let i = 0; i < 256; i++) {
      t[i] = Math.min(255, Math.floor(n / step));
      n += h[i] as number;
    }
    return t;
  });
  return lut(img, (v, ch) => (tables[ch] as Uint8Array)[v] as number, true);
}

/** Grey image with `channels` output channels (1, or 3 equal ones), ITU-R 601-2 luma. */
export function grayscale(img: RawImage, channels: 1 | 3 = 1): RawImage {
  if (channels === 1) return lumaPIL(img);
  return like({ ...img, channels: 3 }, img.channels === 1 ? Uint8Array.from({ length: img.data.length * 3 }, (_, i) => img.data[Math.floor(i / 3)] as number) : greyDegenerate(img));
}

/** torchvision's 1-D Gaussian kernel: exp(-x²/2σ²) on x = -(k-1)/2 … (k-1)/2, normalised. */
export function gaussianKernel(size: number, sigma: number): Float64Array {
  const k = new Float64Array(size);
  const half = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const x = -half + i;
    k[i] = Math.exp(-0.5 * (x / sigma) ** 2);
    sum += k[i] as number;
  }
  for (let i = 0; i < size; i++) (k as Float64Array)[i] = (k[i] as number) / sum;
  return k;
}

/** torchvision F.gaussian_blur: separable Gaussian, reflect padding, rounded back to 8 bits. */
export function gaussianBlur(img: RawImage, kernel: [number, number], sigma: [number, number]): RawImage {
  const { width: w, height: h, channels: c } = img;
  const kx = gaussianKernel(kernel[0], sigma[0]);
  const ky = gaussianKernel(kernel[1], sigma[1]);
  const reflect = (i: number, n: number): number => (n === 1 ? 0 : i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
  const tmp = new Float32Array(w * h * c);
  const rx = (kernel[0] - 1) / 2;
  const ry = (kernel[1] - 1) / 2;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let i = 0; i < kernel[0]; i++) s += (kx[i] as number) * (img.data[(y * w + reflect(x + i - rx, w)) * c + ch] as number);
        tmp[(y * w + x) * c + ch] = s;
      }
  const out = new Uint8Array(w * h * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let i = 0; i < kernel[1]; i++) s += (ky[i] as number) * (tmp[(reflect(y + i - ry, h) * w + x) * c + ch] as number);
        out[(y * w + x) * c + ch] = Math.min(255, Math.max(0, Math.round(s)));
      }
  return like(img, out);
}

/** Sets the box (rows top..top+height, columns left..left+width) to `value` per channel (torchvision F.erase). */
export function erase(img: RawImage, top: number, left: number, height: number, width: number, value: number | readonly number[] | ((i: number) => number)): RawImage {
  const out = Uint8Array.from(img.data);
  const c = img.channels;
  let n = 0;
  for (let y = Math.max(0, top); y < Math.min(img.height, top + height); y++)
    for (let x = Math.max(0, left); x < Math.min(img.width, left + width); x++)
      for (let k = 0; k < c; k++) {
        const v = typeof value === 'function' ? value(n++) : typeof value === 'number' ? value : (value[k] ?? value[0] ?? 0);
        out[(y * img.width + x) * c + k] = v;
      }
  return like(img, out);
}
