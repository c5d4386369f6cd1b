// Upsample: F.interpolate as a layer, for 4-D inputs, modes 'nearest' and 'bilinear'.
import type { Tensor } from '../../tensor/tensor.js';
import { interpolate, type InterpolateMode } from '../functional.js';
import { Module } from '../module.js';
import { pyFloat, pyIntOrTuple } from '../repr.js';

export type UpsampleMode = InterpolateMode;

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
    // Refused here too, so a bad layer fails where it is built rather than at its first batch.
    if (this.mode === 'nearest' && this.alignCorners !== null)
      throw new RangeError('align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear');
    if ((this.size === null) === (this.scaleFactor === null)) throw new RangeError('Upsample: give exactly one of size and scaleFactor');
  }

  /** (N, C, H, W) → (N, C, H_out, W_out) */
  forward(x: Tensor): Tensor {
    return interpolate(x, { size: this.size, scaleFactor: this.scaleFactor, mode: this.mode, alignCorners: this.alignCorners });
  }

  override extraRepr(): string {
    const s = this.scaleFactor;
    const info = s !== null ? `scale_factor=${typeof s === 'number' ? pyFloat(s) : `(${s.map(pyFloat).join(', ')})`}` : `size=${pyIntOrTuple(this.size)}`;
    return `${info}, mode=${this.mode}`;
  }
}
