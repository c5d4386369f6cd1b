// 2-D pooling. Arguments print as given (an int stays an int), as in PyTorch's repr.
import type { Tensor } from '../../tensor/tensor.js';
import { adaptiveAvgPool2d, adaptiveMaxPool2d, avgPool2d, maxPool2d } from '../functional.js';
import { Module } from '../module.js';
import { pyBool, pyIntOrTuple } from '../repr.js';

type IntOrPair = number | readonly [number, number];

export interface MaxPool2dOptions {
  /** Default: kernelSize. */
  stride?: IntOrPair | null;
  padding?: IntOrPair;
  dilation?: IntOrPair;
  /** Round the output size up instead of down. */
  ceilMode?: boolean;
}

/** Max over each kernelSize window. */
export class MaxPool2d extends Module {
  readonly stride: IntOrPair;
  readonly padding: IntOrPair;
  readonly dilation: IntOrPair;
  readonly ceilMode: boolean;

  constructor(readonly kernelSize: IntOrPair, options: MaxPool2dOptions = {}) {
    super();
    this.stride = options.stride ?? kernelSize;
    this.padding = options.padding ?? 0;
    this.dilation = options.dilation ?? 1;
    this.ceilMode = options.ceilMode ?? false;
  }

  /** (N, C, H, W) → (N, C, H_out, W_out) */
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.stride, this.padding, this.dilation, this.ceilMode);
  }

  override extraRepr(): string {
    return `kernel_size=${pyIntOrTuple(this.kernelSize)}, stride=${pyIntOrTuple(this.stride)}, padding=${pyIntOrTuple(this.padding)}, dilation=${pyIntOrTuple(this.dilation)}, ceil_mode=${pyBool(this.ceilMode)}`;
  }
}

export interface AvgPool2dOptions {
  /** Default: kernelSize. */
  stride?: IntOrPair | null;
  padding?: IntOrPair;
  ceilMode?: boolean;
  /** Count the zero padding in the divisor. */
  countIncludePad?: boolean;
  /** Divide by this instead of the window size. */
  divisorOverride?: number | null;
}

/** Mean over each kernelSize window. */
export class AvgPool2d extends Module {
  readonly stride: IntOrPair;
  readonly padding: IntOrPair;
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | null;

  constructor(readonly kernelSize: IntOrPair, options: AvgPool2dOptions = {}) {
    super();
    this.stride = options.stride ?? kernelSize;
    this.padding = options.padding ?? 0;
    this.ceilMode = options.ceilMode ?? false;
    this.countIncludePad = options.countIncludePad ?? true;
    this.divisorOverride = options.divisorOverride ?? null;
  }

  /** (N, C, H, W) → (N, C, H_out, W_out) */
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.stride, this.padding, this.ceilMode, this.countIncludePad, this.divisorOverride);
  }

  override extraRepr(): string {
    return `kernel_size=${pyIntOrTuple(this.kernelSize)}, stride=${pyIntOrTuple(this.stride)}, padding=${pyIntOrTuple(this.padding)}`;
  }
}

/** Mean pooling to a fixed output size, whatever the input size; a null entry keeps that input dim. */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: number | readonly [number | null, number | null]) {
    super();
  }

  /** (N, C, H, W) → (N, C, *outputSize) */
  forward(x: Tensor): Tensor {
    const o = this.outputSize;
    const size = typeof o === 'number' ? [o, o] : o.map((s, i) => s ?? x.size(x.dim() - 2 + i));
    return adaptiveAvgPool2d(x, size);
  }

  override extraRepr(): string {
    return `output_size=${pyIntOrTuple(this.outputSize)}`;
  }
}

/** Max over each of an output-size grid of windows, whatever the input size. */
export class AdaptiveMaxPool2d extends Module {
  constructor(readonly outputSize: number | readonly [number, number]) {
    super();
  }

  /** (N, C, H, W) → (N, C, *outputSize) */
  forward(x: Tensor): Tensor {
    const [out, indices] = adaptiveMaxPool2d(x, typeof this.outputSize === 'number' ? [this.outputSize, this.outputSize] : this.outputSize);
    indices.dispose(); // only the backward needs them, and autograd keeps its own reference
    return out;
  }

  override extraRepr(): string {
    return `output_size=${pyIntOrTuple(this.outputSize)}`;
  }
}
