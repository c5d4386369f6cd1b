// Geometric sample transforms with torchvision's semantics (parameter sampling included). Crops and
// resizes can fold into decoding (plan); flips and warps run in JS on the small decoded image.
import { applyGeometry, cropRaw, type Interpolation } from '../image/decode.js';
import type { RandomStream } from '../random.js';
import type { RawImage } from '../types.js';
import { affine as affineOp, cropPadded, hflip, rotate as rotateOp, vflip } from './ops-geometry.js';
import { hw, range, roundHalfEven, specOf, type GeometryOp, type Size, type Transform, type TransformSpec } from './spec.js';

type Spec<T extends TransformSpec['type']> = Extract<TransformSpec, { type: T }>;

/** Runs a planned op on pixels (the same op the decoder would have run). */
async function applyOp(img: RawImage, op: GeometryOp): Promise<RawImage> {
  if (op.kind === 'none') return img;
  if (op.kind === 'crop') return cropRaw(img, op.box);
  return applyGeometry(img, { resize: { width: op.width, height: op.height, interpolation: op.interpolation } });
}

/** torchvision's output size for Resize: an int resizes the shorter side (long side truncated), capped by maxSize. */
export function resizedSize(s: Spec<'resize'>, size: Size): Size {
  if (typeof s.size !== 'number') {
    const [h, w] = hw(s.size);
    return { width: w, height: h };
  }
  const { width: w, height: h } = size;
  const [short, long] = w <= h ? [w, h] : [h, w];
  let newShort = s.size;
  let newLong = Math.trunc((s.size * long) / short);
  if (s.maxSize !== undefined) {
    if (s.maxSize <= s.size) throw new RangeError(`resize: maxSize (${s.maxSize}) must be larger than size (${s.size})`);
    if (newLong > s.maxSize) [newShort, newLong] = [Math.trunc((s.maxSize * newShort) / newLong), s.maxSize];
  }
  return w <= h ? { width: newShort, height: newLong } : { width: newLong, height: newShort };
}

export function resize(spec: Omit<Spec<'resize'>, 'type'>): Transform<Spec<'resize'>> {
  const s = specOf('resize', spec);
  const interpolation: Interpolation = s.interpolation ?? 'bilinear';
  const plan = (size: Size): GeometryOp => {
    const out = resizedSize(s, size);
    // torchvision returns the image untouched when the size already matches.
    return out.width === size.width && out.height === size.height ? { kind: 'none' } : { kind: 'resize', ...out, interpolation };
  };
  return { spec: s, plan: (size) => [plan(size)], apply: (img) => applyOp(img, plan(img)) };
}

export function centerCrop(spec: Omit<Spec<'centerCrop'>, 'type'>): Transform<Spec<'centerCrop'>> {
  const s = specOf('centerCrop', spec);
  const [ch, cw] = hw(s.size);
  // torchvision: top = round((H − h)/2); a crop larger than the image pads with zeros first.
  const box = (size: Size): { left: number; top: number } => ({ left: roundHalfEven((size.width - cw) / 2), top: roundHalfEven((size.height - ch) / 2) });
  return {
    spec: s,
    plan: (size) => (cw <= size.width && ch <= size.height ? [{ kind: 'crop', box: { ...box(size), width: cw, height: ch } }] : undefined),
    apply(img) {
      if (cw <= img.width && ch <= img.height) return cropRaw(img, { ...box(img), width: cw, height: ch });
      // Pad (left = (cw − W) // 2 …) then crop centrally, as torchvision does.
      const pl = cw > img.width ? Math.floor((cw - img.width) / 2) : 0;
      const pt = ch > img.height ? Math.floor((ch - img.height) / 2) : 0;
      const padded = { width: Math.max(cw, img.width), height: Math.max(ch, img.height) };
      const b = box(padded);
      return cropPadded(img, b.left - pl, b.top - pt, cw, ch, 'constant', 0);
    },
  };
}

function paddingLTRB(p: number | readonly number[] | undefined): [number, number, number, number] {
  if (p === undefined) return [0, 0, 0, 0];
  if (typeof p === 'number') return [p, p, p, p];
  if (p.length === 2) return [p[0]!, p[1]!, p[0]!, p[1]!];
  if (p.length === 4) return [p[0]!, p[1]!, p[2]!, p[3]!];
  throw new RangeError(`randomCrop: padding must be a number, [lr, tb] or [l, t, r, b], got ${JSON.stringify(p)}`);
}

export function randomCrop(spec: Omit<Spec<'randomCrop'>, 'type'>): Transform<Spec<'randomCrop'>> {
  const s = specOf('randomCrop', spec);
  const [th, tw] = hw(s.size);
  const [pl, pt, pr, pb] = paddingLTRB(s.padding);
  // The box in the unpadded image's coordinates (it may reach into the padding).
  const params = (size: Size, rng: RandomStream): { left: number; top: number } => {
    let offX = pl;
    let offY = pt;
    let w = size.width + pl + pr;
    let h = size.height + pt + pb;
    // torchvision's pad_if_needed pads both sides by the whole shortfall.
    if (s.padIfNeeded && w < tw) { offX += tw - w; w += 2 * (tw - w); }
    if (s.padIfNeeded && h < th) { offY += th - h; h += 2 * (th - h); }
    if (h < th || w < tw) throw new RangeError(`randomCrop: crop ${th}x${tw} (h×w) is larger than the ${h}x${w} (padded) image; set padIfNeeded`);
    const i = h === th ? 0 : rng.int(0, h - th + 1);
    const j = w === tw ? 0 : rng.int(0, w - tw + 1);
    return { left: j - offX, top: i - offY };
  };
  return {
    spec: s,
    plan(size, rng) {
      const { left, top } = params(size, rng);
      const inside = left >= 0 && top >= 0 && left + tw <= size.width && top + th <= size.height;
      return inside ? [{ kind: 'crop', box: { left, top, width: tw, height: th } }] : undefined;
    },
    apply(img, rng) {
      const { left, top } = params(img, rng);
      return cropPadded(img, left, top, tw, th, s.paddingMode ?? 'constant', s.fill ?? 0);
    },
  };
}

/** torchvision RandomResizedCrop.get_params: 10 tries at a random area and log-uniform ratio, then a central fallback. */
export function randomResizedCropBox(size: Size, rng: RandomStream, scale: readonly [number, number], ratio: readonly [number, number]): { left: number; top: number; width: number; height: number } {
  const { width, height } = size;
  const area = width * height;
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])] as const;
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logRatio[0], logRatio[1]));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = rng.int(0, height - h + 1);
      const left = rng.int(0, width - w + 1);
      return { left, top, width: w, height: h };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < Math.min(...ratio)) h = roundHalfEven(w / Math.min(...ratio));
  else if (inRatio > Math.max(...ratio)) w = roundHalfEven(h * Math.max(...ratio));
  return { left: Math.floor((width - w) / 2), top: Math.floor((height - h) / 2), width: w, height: h };
}

export function randomResizedCrop(spec: Omit<Spec<'randomResizedCrop'>, 'type'>): Transform<Spec<'randomResizedCrop'>> {
  const s = specOf('randomResizedCrop', spec);
  const [th, tw] = hw(s.size);
  const scale = s.scale ?? [0.08, 1];
  const ratio = s.ratio ?? [3 / 4, 4 / 3];
  const interpolation = s.interpolation ?? 'bilinear';
  return {
    spec: s,
    plan(size, rng) {
      const box = randomResizedCropBox(size, rng, scale, ratio);
      return [{ kind: 'crop', box }, { kind: 'resize', width: tw, height: th, interpolation }];
    },
    async apply(img, rng) {
      const box = randomResizedCropBox(img, rng, scale, ratio);
      return applyGeometry(img, { pre: box, resize: { width: tw, height: th, interpolation } });
    },
  };
}

/** Whether a RandomHorizontalFlip with probability p (default ½) mirrors the sample: one draw from its stream. */
export function drawFlip(s: Spec<'horizontalFlip'>, rng: RandomStream): boolean {
  return rng.uniform() < (s.p ?? 0.5);
}

export function horizontalFlip(spec: Omit<Spec<'horizontalFlip'>, 'type'> = {}): Transform<Spec<'horizontalFlip'>> {
  const s = specOf('horizontalFlip', spec);
  return { spec: s, apply: (img, rng) => (drawFlip(s, rng) ? hflip(img) : img) };
}

export function verticalFlip(spec: Omit<Spec<'verticalFlip'>, 'type'> = {}): Transform<Spec<'verticalFlip'>> {
  const s = specOf('verticalFlip', spec);
  return { spec: s, apply: (img, rng) => (rng.uniform() < (s.p ?? 0.5) ? vflip(img) : img) };
}

/** RandomRotation: angle uniform in degrees (counter-clockwise), same size, nearest by default. */
export function rotation(spec: Omit<Spec<'rotation'>, 'type'>): Transform<Spec<'rotation'>> {
  const s = specOf('rotation', spec);
  const [lo, hi] = range(s.degrees);
  const center = s.center ? ([s.center[0], s.center[1]] as [number, number]) : undefined;
  return { spec: s, apply: (img, rng) => rotateOp(img, rng.uniform(lo, hi), s.interpolation ?? 'nearest', s.fill ?? 0, center) };
}

/** RandomAffine.get_params. */
export function affineParams(s: Spec<'affine'>, size: Size, rng: RandomStream): { angle: number; translate: [number, number]; scale: number; shear: [number, number] } {
  const [d0, d1] = range(s.degrees);
  const angle = rng.uniform(d0, d1);
  let translate: [number, number] = [0, 0];
  if (s.translate) {
    const maxDx = s.translate[0] * size.width;
    const maxDy = s.translate[1] * size.height;
    translate = [roundHalfEven(rng.uniform(-maxDx, maxDx)), roundHalfEven(rng.uniform(-maxDy, maxDy))];
  }
  const scale = s.scale ? rng.uniform(s.scale[0], s.scale[1]) : 1;
  const shear: [number, number] = [0, 0];
  if (s.shear !== undefined) {
    const sh = typeof s.shear === 'number' ? [-s.shear, s.shear] : s.shear.length === 1 ? [-s.shear[0]!, s.shear[0]!] : s.shear;
    shear[0] = rng.uniform(sh[0]!, sh[1]!);
    if (sh.length === 4) shear[1] = rng.uniform(sh[2]!, sh[3]!);
  }
  return { angle, translate, scale, shear };
}

export function affine(spec: Omit<Spec<'affine'>, 'type'>): Transform<Spec<'affine'>> {
  const s = specOf('affine', spec);
  const center = s.center ? ([s.center[0], s.center[1]] as [number, number]) : undefined;
  return { spec: s, apply: (img, rng) => affineOp(img, affineParams(s, img, rng), s.interpolation ?? 'nearest', s.fill ?? 0, center) };
}
