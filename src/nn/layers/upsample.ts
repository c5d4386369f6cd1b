// Upsample (F.interpolate) for 4-D inputs, modes 'nearest' and 'bilinear'.
import { upsampleBilinear2d, upsampleNearest2d } from '../../tensor/generated/ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { ntuple, pyFloat, pyIntOrTuple } from '../repr.js';

export type UpsampleMode = 'nearest' | 'bilinear';

export interface UpsampleOptions {
  /** Output [H, W] (or one int for both). Exactly one of size and scaleFactor. */
  size?: number | readonly [number, number];
  /** Output = floor(input · scale); the scale itself (not the rounded size) drives the sampling. */
  scaleFactor?: number | readonly [number, number];
  mode?: UpsampleMode;
  /** bilinear only: align the corner pixels' centers of input and output (default false). */
  alignCorners?: boolean;
}

export class Upsample extends Module {
  readonly size: number | readonly [number, number] | null;
  readonly scaleFactor: number | readonly [number, number] | null;
  readonly mode: UpsampleMode;
  readonly alignCorners: boolean | null;

  constructor(options: UpsampleOptions) {
    super();
    this.size = options.size ?? null;
    // PyTorch stores a zero scale as None (`float(s) if s else None`).
    this.scaleFactor = options.scaleFactor || null;
    this.mode = options.mode ?? 'nearest';
    this.alignCorners = options.alignCorners ?? null;
    if (this.mode === 'nearest' && this.alignCorners !== null)
      throw new RangeError('align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear');
    if ((this.size === null) === (this.scaleFactor === null)) throw new RangeError('Upsample: give exactly one of size and scaleFactor');
  }

  /** (N, C, H, W) → (N, C, H_out, W_out) */
  forward(x: Tensor): Tensor {
    if (x.dim() !== 4) throw new RangeError(`Upsample(mode=${this.mode}) supports 4-D input (N, C, H, W), got ${x.dim()}-D`);
    const size = this.size === null ? null : ntuple(this.size, 2, 'size');
    const scales = this.scaleFactor === null ? null : ntuple(this.scaleFactor, 2, 'scale_factor');
    return this.mode === 'nearest' ? upsampleNearest2d(x, size, scales) : upsampleBilinear2d(x, size, this.alignCorners ?? false, scales);
  }

  override extraRepr(): string {
    const s = this.scaleFactor;
    const info = s !== null ? `scale_factor=${typeof s === 'number' ? pyFloat(s) : `(${s.map(pyFloat).join(', ')})`}` : `size=${pyIntOrTuple(this.size)}`;
    return `${info}, mode=${this.mode}`;
  }
}
