// RandAugment (Cubuk et al. 2019) and TrivialAugmentWide (Müller & Hutter 2021) with torchvision's
// op lists, magnitude bins and op semantics (transforms/autoaugment.py, torchvision 0.14).
import type { RandomStream } from '../random.js';
import type { RawImage } from '../types.js';
import { adjustBrightness, adjustContrast, adjustSaturation, adjustSharpness, autocontrast, equalize, posterize, solarize } from './ops-color.js';
import { affine, rotate, type Fill } from './ops-geometry.js';
import { specOf, type Transform, type TransformSpec } from './spec.js';

type Spec<T extends TransformSpec['type']> = Extract<TransformSpec, { type: T }>;

export type AugmentOp = 'Identity' | 'ShearX' | 'ShearY' | 'TranslateX' | 'TranslateY' | 'Rotate' | 'Brightness' | 'Color' | 'Contrast' | 'Sharpness' | 'Posterize' | 'Solarize' | 'AutoContrast' | 'Equalize';

/** Magnitudes per bin (empty: the op takes none) and whether a random sign applies. */
export type AugmentSpace = [AugmentOp, number[], boolean][];

/** torch.linspace in float32, by its CPU kernel's rule (start + step·i for the first half, end − step·(n−1−i) after). */
function linspace(a: number, b: number, n: number): number[] {
  if (n === 1) return [Math.fround(a)];
  const [fa, fb] = [Math.fround(a), Math.fround(b)];
  const step = Math.fround(Math.fround(fb - fa) / (n - 1));
  const half = Math.floor(n / 2);
  return Array.from({ length: n }, (_, i) => (i < half ? Math.fround(fa + Math.fround(step * i)) : Math.fround(fb - Math.fround(step * (n - 1 - i)))));
}

/** 8 − round(i / ((n−1)/k)), rounding halves to even like torch.round. */
function posterizeBits(n: number, k: number): number[] {
  return Array.from({ length: n }, (_, i) => {
    const x = Math.fround(i / ((n - 1) / k));
    const r = Math.round(x);
    return 8 - (Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r);
  });
}

export function randAugmentSpace(bins: number, height: number, width: number): AugmentSpace {
  return [
    ['Identity', [], false],
    ['ShearX', linspace(0, 0.3, bins), true],
    ['ShearY', linspace(0, 0.3, bins), true],
    ['TranslateX', linspace(0, (150 / 331) * width, bins), true],
    ['TranslateY', linspace(0, (150 / 331) * height, bins), true],
    ['Rotate', linspace(0, 30, bins), true],
    ['Brightness', linspace(0, 0.9, bins), true],
    ['Color', linspace(0, 0.9, bins), true],
    ['Contrast', linspace(0, 0.9, bins), true],
    ['Sharpness', linspace(0, 0.9, bins), true],
    ['Posterize', posterizeBits(bins, 4), false],
    ['Solarize', linspace(255, 0, bins), false],
    ['AutoContrast', [], false],
    ['Equalize', [], false],
  ];
}

export function trivialAugmentSpace(bins: number): AugmentSpace {
  return [
    ['Identity', [], false],
    ['ShearX', linspace(0, 0.99, bins), true],
    ['ShearY', linspace(0, 0.99, bins), true],
    ['TranslateX', linspace(0, 32, bins), true],
    ['TranslateY', linspace(0, 32, bins), true],
    ['Rotate', linspace(0, 135, bins), true],
    ['Brightness', linspace(0, 0.99, bins), true],
    ['Color', linspace(0, 0.99, bins), true],
    ['Contrast', linspace(0, 0.99, bins), true],
    ['Sharpness', linspace(0, 0.99, bins), true],
    ['Posterize', posterizeBits(bins, 6), false],
    ['Solarize', linspace(255, 0, bins), false],
    ['AutoContrast', [], false],
    ['Equalize', [], false],
  ];
}

/** torchvision's _apply_op on a PIL image. */
export function applyAugmentOp(img: RawImage, op: AugmentOp, magnitude: number, interpolation: 'nearest' | 'bilinear' = 'nearest', fill: Fill = 0): RawImage {
  const deg = (m: number): number => (Math.atan(m) * 180) / Math.PI;
  switch (op) {
    case 'Identity': return img;
    case 'ShearX': return affine(img, { angle: 0, translate: [0, 0], scale: 1, shear: [deg(magnitude), 0] }, interpolation, fill, [0, 0]);
    case 'ShearY': return affine(img, { angle: 0, translate: [0, 0], scale: 1, shear: [0, deg(magnitude)] }, interpolation, fill, [0, 0]);
    case 'TranslateX': return affine(img, { angle: 0, translate: [Math.trunc(magnitude), 0], scale: 1, shear: [0, 0] }, interpolation, fill);
    case 'TranslateY': return affine(img, { angle: 0, translate: [0, Math.trunc(magnitude)], scale: 1, shear: [0, 0] }, interpolation, fill);
    case 'Rotate': return rotate(img, magnitude, interpolation, fill);
    case 'Brightness': return adjustBrightness(img, 1 + magnitude);
    case 'Color': return adjustSaturation(img, 1 + magnitude);
    case 'Contrast': return adjustContrast(img, 1 + magnitude);
    case 'Sharpness': return adjustSharpness(img, 1 + magnitude);
    case 'Posterize': return posterize(img, Math.trunc(magnitude));
    case 'Solarize': return solarize(img, magnitude);
    case 'AutoContrast': return autocontrast(img);
    case 'Equalize': return equalize(img);
  }
}

function signed(rng: RandomStream, m: number, isSigned: boolean): number {
  return isSigned && rng.int(0, 2) === 1 ? -m : m;
}

export function randAugment(spec: Omit<Spec<'randAugment'>, 'type'> = {}): Transform<Spec<'randAugment'>> {
  const s = specOf('randAugment', spec);
  const bins = s.numMagnitudeBins ?? 31;
  const m = s.magnitude ?? 9;
  if (!(Number.isInteger(m) && m >= 0 && m < bins)) throw new RangeError(`randAugment: magnitude must be an integer in [0, ${bins}), got ${m}`);
  return {
    spec: s,
    apply(img, rng) {
      const space = randAugmentSpace(bins, img.height, img.width);
      let out = img;
      for (let k = 0; k < (s.numOps ?? 2); k++) {
        const [op, mags, sign] = space[rng.int(0, space.length)] as AugmentSpace[number];
        const magnitude = signed(rng, mags.length > 0 ? (mags[m] as number) : 0, sign);
        out = applyAugmentOp(out, op, magnitude, s.interpolation ?? 'nearest', s.fill ?? 0);
      }
      return out;
    },
  };
}

export function trivialAugmentWide(spec: Omit<Spec<'trivialAugmentWide'>, 'type'> = {}): Transform<Spec<'trivialAugmentWide'>> {
  const s = specOf('trivialAugmentWide', spec);
  const space = trivialAugmentSpace(s.numMagnitudeBins ?? 31);
  return {
    spec: s,
    apply(img, rng) {
      const [op, mags, sign] = space[rng.int(0, space.length)] as AugmentSpace[number];
      const magnitude = signed(rng, mags.length > 0 ? (mags[rng.int(0, mags.length)] as number) : 0, sign);
      return applyAugmentOp(img, op, magnitude, s.interpolation ?? 'nearest', s.fill ?? 0);
    },
  };
}
