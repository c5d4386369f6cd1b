// Photometric and occlusion transforms with torchvision's parameter sampling: ColorJitter (its four
// adjustments in random order), Grayscale/RandomGrayscale, GaussianBlur, Gaussian noise, RandomErasing
// and Cutout. All draw only from the sample's RandomStream.
import type { RandomStream } from '../random.js';
import type { RawImage } from '../types.js';
import { adjustBrightness, adjustContrast, adjustHue, adjustSaturation, erase, gaussianBlur as blurOp, grayscale as greyOp } from './ops-color.js';
import { range, roundHalfEven, specOf, type Transform, type TransformSpec } from './spec.js';

type Spec<T extends TransformSpec['type']> = Extract<TransformSpec, { type: T }>;

/** A jitter factor range, or undefined when it cannot change anything (torchvision then draws nothing). */
function jitterRange(v: Spec<'colorJitter'>['brightness'], center: number, name: string): [number, number] | undefined {
  if (v === undefined) return undefined;
  const r = center === 0 ? range(v) : range(v, center, 0);
  if (center === 0 && (r[0] < -0.5 || r[1] > 0.5)) throw new RangeError(`colorJitter: hue must lie in [-0.5, 0.5], got [${r[0]}, ${r[1]}]`);
  if (r[0] === center && r[1] === center) return undefined;
  if (center !== 0 && r[0] < 0) throw new RangeError(`colorJitter: ${name} factors must be non-negative, got [${r[0]}, ${r[1]}]`);
  return r;
}

export function colorJitter(spec: Omit<Spec<'colorJitter'>, 'type'>): Transform<Spec<'colorJitter'>> {
  const s = specOf('colorJitter', spec);
  const b = jitterRange(s.brightness, 1, 'brightness');
  const c = jitterRange(s.contrast, 1, 'contrast');
  const sat = jitterRange(s.saturation, 1, 'saturation');
  const h = s.hue === undefined ? undefined : jitterRange(s.hue, 0, 'hue');
  return {
    spec: s,
    apply(img, rng) {
      // ColorJitter.get_params: the order first, then each factor.
      const order = rng.permutation(4);
      const fb = b && rng.uniform(b[0], b[1]);
      const fc = c && rng.uniform(c[0], c[1]);
      const fs = sat && rng.uniform(sat[0], sat[1]);
      const fh = h && rng.uniform(h[0], h[1]);
      let out = img;
      for (const k of order) {
        if (k === 0 && fb !== undefined) out = adjustBrightness(out, fb);
        if (k === 1 && fc !== undefined) out = adjustContrast(out, fc);
        if (k === 2 && fs !== undefined) out = adjustSaturation(out, fs);
        if (k === 3 && fh !== undefined) out = adjustHue(out, fh);
      }
      return out;
    },
  };
}

/** Grayscale (p omitted: always, `channels` out, default 1) or RandomGrayscale (p given: keeps the channel count). */
export function grayscale(spec: Omit<Spec<'grayscale'>, 'type'> = {}): Transform<Spec<'grayscale'>> {
  const s = specOf('grayscale', spec);
  return {
    spec: s,
    apply(img, rng) {
      if (s.p !== undefined && !(rng.uniform() < s.p)) return img;
      return greyOp(img, s.channels ?? (s.p === undefined ? 1 : img.channels));
    },
  };
}

export function gaussianBlur(spec: Omit<Spec<'gaussianBlur'>, 'type'>): Transform<Spec<'gaussianBlur'>> {
  const s = specOf('gaussianBlur', spec);
  // torchvision: kernel_size is (x, y); both odd and positive.
  const k: [number, number] = typeof s.kernelSize === 'number' ? [s.kernelSize, s.kernelSize] : [s.kernelSize[0], s.kernelSize[1]];
  if (k.some((n) => !Number.isInteger(n) || n <= 0 || n % 2 === 0)) throw new RangeError(`gaussianBlur: kernel sizes must be odd positive integers, got ${JSON.stringify(s.kernelSize)}`);
  const sigma = s.sigma === undefined ? [0.1, 2] : typeof s.sigma === 'number' ? [s.sigma, s.sigma] : [s.sigma[0], s.sigma[1]];
  if (!((sigma[0] as number) > 0)) throw new RangeError(`gaussianBlur: sigma must be positive, got ${JSON.stringify(s.sigma)}`);
  return {
    spec: s,
    apply(img, rng) {
      const sg = rng.uniform(sigma[0], sigma[1]);
      return blurOp(img, k, [sg, sg]);
    },
  };
}

/** Adds N(mean, sigma²) noise, in units of the full range (sigma 0.1 = 25.5 levels), rounded and clipped. */
export function gaussianNoise(spec: Omit<Spec<'gaussianNoise'>, 'type'>): Transform<Spec<'gaussianNoise'>> {
  const s = specOf('gaussianNoise', spec);
  return {
    spec: s,
    apply(img, rng) {
      if (s.p !== undefined && !(rng.uniform() < s.p)) return img;
      const out = new Uint8Array(img.data.length);
      const mean = 255 * (s.mean ?? 0);
      const sd = 255 * s.sigma;
      for (let i = 0; i < out.length; i += 2) {
        // Box–Muller: two normals per pair of uniforms.
        const r = Math.sqrt(-2 * Math.log(1 - rng.float()));
        const t = 2 * Math.PI * rng.float();
        out[i] = Math.min(255, Math.max(0, Math.round((img.data[i] as number) + mean + sd * r * Math.cos(t))));
        if (i + 1 < out.length) out[i + 1] = Math.min(255, Math.max(0, Math.round((img.data[i + 1] as number) + mean + sd * r * Math.sin(t))));
      }
      return { ...img, data: out };
    },
  };
}

/** RandomErasing.get_params: a box of random area and log-uniform ratio, 10 tries, else no erase. */
export function erasingBox(img: { width: number; height: number }, rng: RandomStream, scale: readonly [number, number], ratio: readonly [number, number]): { top: number; left: number; height: number; width: number } | undefined {
  const area = img.width * img.height;
  const lr = [Math.log(ratio[0]), Math.log(ratio[1])] as const;
  for (let attempt = 0; attempt < 10; attempt++) {
    const eraseArea = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(lr[0], lr[1]));
    const h = roundHalfEven(Math.sqrt(eraseArea * aspect));
    const w = roundHalfEven(Math.sqrt(eraseArea / aspect));
    if (!(h < img.height && w < img.width)) continue;
    const top = rng.int(0, img.height - h + 1);
    const left = rng.int(0, img.width - w + 1);
    return { top, left, height: h, width: w };
  }
  return undefined;
}

/** RandomErasing on 8-bit pixels: value a level (0..255), one per channel, or 'random' (uniform bytes). */
export function randomErasing(spec: Omit<Spec<'randomErasing'>, 'type'> = {}): Transform<Spec<'randomErasing'>> {
  const s = specOf('randomErasing', spec);
  const scale = s.scale ?? [0.02, 0.33];
  const ratio = s.ratio ?? [0.3, 3.3];
  return {
    spec: s,
    apply(img, rng) {
      if (!(rng.uniform() < (s.p ?? 0.5))) return img;
      const box = erasingBox(img, rng, scale, ratio);
      if (!box) return img;
      const value = s.value ?? 0;
      const fill = value === 'random' ? () => rng.int(0, 256) : value;
      return erase(img, box.top, box.left, box.height, box.width, fill);
    },
  };
}

/** Cutout (DeVries & Taylor 2017): `holes` squares of side `size` at uniform centres, clipped to the image. */
export function cutout(spec: Omit<Spec<'cutout'>, 'type'>): Transform<Spec<'cutout'>> {
  const s = specOf('cutout', spec);
  return {
    spec: s,
    apply(img, rng) {
      if (s.p !== undefined && !(rng.uniform() < s.p)) return img;
      let out: RawImage = img;
      for (let k = 0; k < (s.holes ?? 1); k++) {
        const cy = rng.int(0, img.height);
        const cx = rng.int(0, img.width);
        const top = cy - Math.floor(s.size / 2);
        const left = cx - Math.floor(s.size / 2);
        out = erase(out, top, left, s.size, s.size, s.fill ?? 0);
      }
      return out;
    },
  };
}
