// Convolutions: Conv1d, Conv2d and ConvTranspose2d, sharing PyTorch's _ConvNd bookkeeping (weight
// shape, default init, description). Only zero padding is supported (`padding_mode='zeros'`).
import { empty } from '../../tensor/generated/ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import { conv1d, conv2d, convTranspose2d } from '../functional.js';
import { fans, kaimingUniform_, uniform_ } from '../init.js';
import { Module } from '../module.js';
import { ntuple, pyTuple } from '../repr.js';

export type PaddingString = 'same' | 'valid';

export interface ConvOptions {
  stride?: number | readonly number[];
  /** Zeros added on both sides, or 'same' (output size = input size; stride 1 only) or 'valid' (none). */
  padding?: number | readonly number[] | PaddingString;
  dilation?: number | readonly number[];
  groups?: number;
  bias?: boolean;
}

export interface ConvTransposeOptions extends Omit<ConvOptions, 'padding'> {
  padding?: number | readonly number[];
  /** Extra size added to one side of each output dimension (resolves the stride's ambiguity). */
  outputPadding?: number | readonly number[];
}

/** What the shared base reads: either kind of options. */
type AnyConvOptions = ConvOptions & { outputPadding?: number | readonly number[] };

abstract class ConvNd extends Module {
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[] | PaddingString;
  readonly dilation: number[];
  readonly outputPadding: number[];
  readonly groups: number;
  /** (out, in/groups, *k), or (in, out/groups, *k) when transposed */
  readonly weight: Tensor;
  /** (out), or null without bias */
  readonly bias: Tensor | null;

  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: number | readonly number[], dims: number, readonly transposed: boolean, o: AnyConvOptions) {
    super();
    const groups = o.groups ?? 1;
    if (inChannels % groups !== 0) throw new RangeError('in_channels must be divisible by groups');
    if (outChannels % groups !== 0) throw new RangeError('out_channels must be divisible by groups');
    this.groups = groups;
    this.kernelSize = ntuple(kernelSize, dims, 'kernel_size');
    this.stride = ntuple(o.stride ?? 1, dims, 'stride');
    this.dilation = ntuple(o.dilation ?? 1, dims, 'dilation');
    this.outputPadding = ntuple(o.outputPadding ?? 0, dims, 'output_padding');
    const padding = o.padding ?? 0;
    if (typeof padding === 'string') {
      if (padding !== 'same' && padding !== 'valid') throw new RangeError(`Invalid padding string '${padding as string}', should be one of ['valid', 'same']`);
      if (padding === 'same' && this.stride.some((s) => s !== 1)) throw new RangeError("padding='same' is not supported for strided convolutions");
      this.padding = padding;
    } else {
      this.padding = ntuple(padding, dims, 'padding');
    }
    // PyTorch's layout: (out, in/groups, *k) for convolutions, (in, out/groups, *k) for transposed ones.
    const shape = transposed ? [inChannels, outChannels / groups, ...this.kernelSize] : [outChannels, inChannels / groups, ...this.kernelSize];
    this.weight = this.registerParameter('weight', empty(shape));
    this.bias = this.registerParameter('bias', o.bias ?? true ? empty([outChannels]) : null);
    this.resetParameters();
  }

  /** W ~ U(-1/√fan_in, 1/√fan_in) (kaiming_uniform with a=√5), b ~ U(-1/√fan_in, 1/√fan_in); fan_in = weight.size(1)·∏k. */
  resetParameters(): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const { fanIn } = fans(this.weight);
      if (fanIn !== 0) uniform_(this.bias, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn));
    }
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${pyTuple(this.kernelSize)}, stride=${pyTuple(this.stride)}`;
    if (typeof this.padding === 'string') s += `, padding=${this.padding}`;
    else if (this.padding.some((p) => p !== 0)) s += `, padding=${pyTuple(this.padding)}`;
    if (this.dilation.some((d) => d !== 1)) s += `, dilation=${pyTuple(this.dilation)}`;
    if (this.outputPadding.some((p) => p !== 0)) s += `, output_padding=${pyTuple(this.outputPadding)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (this.bias === null) s += ', bias=False';
    return s;
  }
}

export class Conv1d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly number[], options: ConvOptions = {}) {
    super(inChannels, outChannels, kernelSize, 1, false, options);
  }

  /** (N, C_in, L) → (N, C_out, L_out) */
  forward(x: Tensor): Tensor {
    return typeof this.padding === 'string'
      ? conv1d(x, this.weight, this.bias, this.stride, this.padding, this.dilation, this.groups)
      : conv1d(x, this.weight, this.bias, this.stride, this.padding, this.dilation, this.groups);
  }
}

export class Conv2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly number[], options: ConvOptions = {}) {
    super(inChannels, outChannels, kernelSize, 2, false, options);
  }

  /** (N, C_in, H, W) → (N, C_out, H_out, W_out) */
  forward(x: Tensor): Tensor {
    return typeof this.padding === 'string'
      ? conv2d(x, this.weight, this.bias, this.stride, this.padding, this.dilation, this.groups)
      : conv2d(x, this.weight, this.bias, this.stride, this.padding, this.dilation, this.groups);
  }
}

export class ConvTranspose2d extends ConvNd {
  declare readonly padding: number[];

  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly number[], options: ConvTransposeOptions = {}) {
    super(inChannels, outChannels, kernelSize, 2, true, options);
  }

  /**
   * (N, C_in, H, W) → (N, C_out, H_out, W_out), H_out = (H-1)·stride - 2·padding + dilation·(k-1)
   * + output_padding + 1. `outputSize` ([H_out, W_out], optionally with N and C in front) picks
   * the output padding that yields it, as PyTorch's `forward(input, output_size)`.
   */
  forward(x: Tensor, outputSize?: readonly number[]): Tensor {
    const outputPadding = outputSize ? this.#outputPaddingFor(x, outputSize) : this.outputPadding;
    return convTranspose2d(x, this.weight, this.bias, this.stride, this.padding, outputPadding, this.groups, this.dilation);
  }

  #outputPaddingFor(x: Tensor, outputSize: readonly number[]): number[] {
    const nonSpatial = x.dim() === 4 ? 2 : 1;
    const size = outputSize.length === nonSpatial + 2 ? outputSize.slice(nonSpatial) : [...outputSize];
    if (size.length !== 2) throw new RangeError(`ConvTranspose2D: for ${x.dim()}D input, output_size must have 2 or ${nonSpatial + 2} elements (got ${outputSize.length})`);
    const min = size.map((_, d) => (x.size(d + nonSpatial) - 1) * (this.stride[d] as number) - 2 * (this.padding[d] as number) + (this.dilation[d] as number) * ((this.kernelSize[d] as number) - 1) + 1);
    const max = min.map((m, d) => m + (this.stride[d] as number) - 1);
    if (size.some((s, d) => s < (min[d] as number) || s > (max[d] as number)))
      throw new RangeError(`requested an output size of [${size.join(', ')}], but valid sizes range from [${min.join(', ')}] to [${max.join(', ')}]`);
    return size.map((s, d) => s - (min[d] as number));
  }
}
