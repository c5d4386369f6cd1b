// Geometric pixel operations on RawImage, in JS: crops with padding, flips and affine warps. Each
// follows torchvision's functional API on PIL images (same parameters, same coordinate conventions),
// so a transform built on them can be checked against torchvision pixel for pixel.
import type { RawImage } from '../types.js';

export type PaddingMode = 'constant' | 'edge' | 'reflect' | 'symmetric';
export type Fill = number | readonly number[];

function fillFor(fill: Fill, c: number): number {
  return typeof fill === 'number' ? fill : (fill[c] ?? fill[0] ?? 0);
}

/** Maps an out-of-range coordinate into [0, n) by the padding rule (undefined: use the fill). */
function padIndex(i: number, n: number, mode: PaddingMode): number | undefined {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case 'constant': return undefined;
    case 'edge': return i < 0 ? 0 : n - 1;
    case 'reflect': { // … 2 1 | 0 1 2 … (edge not repeated)
      if (n === 1) return 0;
      const p = 2 * (n - 1);
      const m = ((i % p) + p) % p;
      return m < n ? m : p - m;
    }
    case 'symmetric': { // … 1 0 | 0 1 2 … (edge repeated)
      const p = 2 * n;
      const m = ((i % p) + p) % p;
      return m < n ? m : p - 1 - m;
    }
  }
}

/**
 * The box (left, top, width, height) of `img`, where parts outside the image are filled by `mode`
 * (torchvision's F.crop pads with zeros outside; pad + crop gives the other modes).
 */
export function cropPadded(img: RawImage, left: number, top: number, width: number, height: number, mode: PaddingMode = 'constant', fill: Fill = 0): RawImage {
  const c = img.channels;
  const out = new Uint8Array(width * height * c);
  for (let y = 0; y < height; y++) {
    const sy = padIndex(top + y, img.height, mode);
    for (let x = 0; x < width; x++) {
      const sx = padIndex(left + x, img.width, mode);
      const o = (y * width + x) * c;
      if (sx === undefined || sy === undefined) for (let k = 0; k < c; k++) out[o + k] = fillFor(fill, k);
      else {
        const s = (sy * img.width + sx) * c;
        for (let k = 0; k < c; k++) out[o + k] = img.data[s + k] as number;
      }
    }
  }
  return { data: out, width, height, channels: c };
}

/** Pads by (left, top, right, bottom). */
export function pad(img: RawImage, l: number, t: number, r: number, b: number, mode: PaddingMode = 'constant', fill: Fill = 0): RawImage {
  return cropPadded(img, -l, -t, img.width + l + r, img.height + t + b, mode, fill);
}

export function hflip(img: RawImage): RawImage {
  const { width: w, height: h, channels: c } = img;
  const out = new Uint8Array(img.data.length);
  for (let y = 0; y < h; y++) {
    const row = y * w * c;
    for (let x = 0; x < w; x++) {
      const s = row + x * c;
      const d = row + (w - 1 - x) * c;
      for (let k = 0; k < c; k++) out[d + k] = img.data[s + k] as number;
    }
  }
  return { data: out, width: w, height: h, channels: c };
}

export function vflip(img: RawImage): RawImage {
  const rowBytes = img.width * img.channels;
  const out = new Uint8Array(img.data.length);
  for (let y = 0; y < img.height; y++) out.set(img.data.subarray(y * rowBytes, (y + 1) * rowBytes), (img.height - 1 - y) * rowBytes);
  return { data: out, width: img.width, height: img.height, channels: img.channels };
}

/** An inverse affine map [a, b, c, d, e, f]: output (x, y) samples input (a·x + b·y + c, d·x + e·y + f). */
export type InverseMatrix = [number, number, number, number, number, number];

/**
 * torchvision's `_get_inverse_affine_matrix` (rotation clockwise in degrees as F.affine takes it,
 * translate in pixels, scale, shear in degrees (x, y)) about `center`.
 */
export function inverseAffineMatrix(center: [number, number], angle: number, translate: [number, number], scale: number, shear: [number, number]): InverseMatrix {
  const rot = (angle * Math.PI) / 180;
  const sx = (shear[0] * Math.PI) / 180;
  const sy = (shear[1] * Math.PI) / 180;
  const [cx, cy] = center;
  const [tx, ty] = translate;
  // Rotation-scale-shear without the scale: RSS = R · SHy · SHx.
  const a = Math.cos(rot - sy) / Math.cos(sy);
  const b = (-Math.cos(rot - sy) * Math.tan(sx)) / Math.cos(sy) - Math.sin(rot);
  const c = Math.sin(rot - sy) / Math.cos(sy);
  const d = (-Math.sin(rot - sy) * Math.tan(sx)) / Math.cos(sy) + Math.cos(rot);
  // Inverse: RSS⁻¹ (det = 1) / scale, then undo the translation and the centre.
  const m: InverseMatrix = [d / scale, -b / scale, 0, -c / scale, a / scale, 0];
  m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty);
  m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty);
  m[2] += cx;
  m[5] += cy;
  return m;
}

/** PIL's Image.rotate matrix (counter-clockwise degrees about the centre, sin/cos rounded to 15 places as PIL does). */
export function rotationMatrix(angle: number, width: number, height: number, center?: [number, number]): InverseMatrix {
  const [cx, cy] = center ?? [width / 2, height / 2];
  const r = (-angle * Math.PI) / 180;
  const round15 = (v: number): number => Math.round(v * 1e15) / 1e15;
  const m: InverseMatrix = [round15(Math.cos(r)), round15(Math.sin(r)), 0, round15(-Math.sin(r)), round15(Math.cos(r)), 0];
  m[2] = m[0] * -cx + m[1] * -cy + cx;
  m[5] = m[3] * -cx + m[4] * -cy + cy;
  return m;
}

/**
 * Warps by an inverse matrix as PIL's Image.transform(AFFINE) does: the output pixel centre
 * (x + 0.5, y + 0.5) maps into the input; 'nearest' takes the pixel containing that point,
 * 'bilinear' interpolates between the four around it. Points outside the input take `fill`.
 */
export function warpAffine(img: RawImage, m: InverseMatrix, interpolation: 'nearest' | 'bilinear' = 'nearest', fill: Fill = 0, size?: { width: number; height: number }): RawImage {
  const { width: w, height: h, channels: c } = img;
  const ow = size?.width ?? w;
  const oh = size?.height ?? h;
  const out = new Uint8Array(ow * oh * c);
  const src = img.data;
  const [a, b, cc, d, e, f] = m;
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const xi = a * (x + 0.5) + b * (y + 0.5) + cc;
      const yi = d * (x + 0.5) + e * (y + 0.5) + f;
      const o = (y * ow + x) * c;
      if (interpolation === 'nearest') {
        const px = Math.floor(xi);
        const py = Math.floor(yi);
        if (px >= 0 && px < w && py >= 0 && py < h) {
          const s = (py * w + px) * c;
          for (let k = 0; k < c; k++) out[o + k] = src[s + k] as number;
        } else for (let k = 0; k < c; k++) out[o + k] = fillFor(fill, k);
        continue;
      }
      // Bilinear on pixel centres; outside the input entirely → fill, near the border → clamp.
      if (xi < 0 || yi < 0 || xi >= w || yi >= h) {
        for (let k = 0; k < c; k++) out[o + k] = fillFor(fill, k);
        continue;
      }
      const fx = xi - 0.5;
      const fy = yi - 0.5;
      const x0 = Math.floor(fx);
      const y0 = Math.floor(fy);
      const tx = fx - x0;
      const ty = fy - y0;
      const xa = Math.min(Math.max(x0, 0), w - 1);
      const xb = Math.min(Math.max(x0 + 1, 0), w - 1);
      const ya = Math.min(Math.max(y0, 0), h - 1);
      const yb = Math.min(Math.max(y0 + 1, 0), h - 1);
      for (let k = 0; k < c; k++) {
        const p00 = src[(ya * w + xa) * c + k] as number;
        const p01 = src[(ya * w + xb) * c + k] as number;
        const p10 = src[(yb * w + xa) * c + k] as number;
        const p11 = src[(yb * w + xb) * c + k] as number;
        const top = p00 + (p01 - p00) * tx;
        const bot = p10 + (p11 - p10) * tx;
        out[o + k] = Math.round(top + (bot - top) * ty);
      }
    }
  }
  return { data: out, width: ow, height: oh, channels: c };
}

/** torchvision F.affine on a PIL image: angle clockwise in degrees, centre default (w/2, h/2). */
export function affine(img: RawImage, p: { angle: number; translate: [number, number]; scale: number; shear: [number, number] }, interpolation: 'nearest' | 'bilinear' = 'nearest', fill: Fill = 0, center?: [number, number]): RawImage {
  const m = inverseAffineMatrix(center ?? [img.width * 0.5, img.height * 0.5], p.angle, p.translate, p.scale, p.shear);
  return warpAffine(img, m, interpolation, fill);
}

/** torchvision F.rotate on a PIL image (PIL's Image.rotate): counter-clockwise degrees, same size. */
export function rotate(img: RawImage, angle: number, interpolation: 'nearest' | 'bilinear' = 'nearest', fill: Fill = 0, center?: [number, number]): RawImage {
  return warpAffine(img, rotationMatrix(angle, img.width, img.height, center), interpolation, fill);
}
