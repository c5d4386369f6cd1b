// A convolutional autoencoder, and its denoising variant (the same model with `noise` > 0).
//
//   encoder: per width w: Conv2d(c→w, 3×3, pad 1) ReLU MaxPool2d(2, ceil)   28×28 → 14 → 7 → 4 (widths [32, 16, 8])
//   decoder: ConvTranspose2d(3×3, stride 2, output padding 1: ×2) ReLU per pooling, back to each
//            encoder level's size → 7 → 14 → 28,
//            then Conv2d(w0→C, 3×3, pad 1) [Sigmoid]
// The default widths end in a 4×4×8 = 128-value code for a 28×28 image (6× fewer values than
// pixels): a plain autoencoder needs that bottleneck, or it learns the identity. Pooling rounds up
// (Keras' 'same') and each transposed convolution is asked for the size its encoder level had
// (`ConvTranspose2d.forward(x, outputSize)`), so any input size comes back at its own size.
//
// Output: 'sigmoid' (default) gives values in [0, 1], for images scaled to [0, 1] and a BCE (or MSE)
// reconstruction loss; 'linear' leaves them unbounded, for normalised (e.g. zero-mean) images and MSE.
//
// Denoising (Vincent et al. 2008): with `noise` = σ > 0 the model corrupts its input with N(0, σ²)
// noise in training mode only, and learns to reconstruct the clean image (the loss compares the
// output with the uncorrupted input). In eval mode it reconstructs what it is given. `corrupt(x)` is
// the corruption itself, for showing noisy inputs next to outputs.
import { randnLike } from '../tensor/generated/ops.js';
import type { Tensor } from '../tensor/tensor.js';
import { Conv2d, ConvTranspose2d } from '../nn/layers/conv.js';
import { MaxPool2d } from '../nn/layers/pooling.js';
import { ReLU, Sigmoid } from '../nn/layers/activation.js';
import { Sequential, type Layer } from '../nn/layers/container.js';
import { Module } from '../nn/module.js';
import { positiveInt } from './blocks.js';

export type ReconstructionOutput = 'sigmoid' | 'linear';

export interface ConvAutoencoderOptions {
  /** Image channels (default 1). */
  inChannels?: number;
  /** Encoder widths, one 2× pooling each (default [32, 16, 8]). */
  widths?: readonly number[];
  /** 'sigmoid' (default): outputs in [0, 1]; 'linear': unbounded. */
  output?: ReconstructionOutput;
  /** Standard deviation of the Gaussian noise added to the input in training (default 0: a plain autoencoder). */
  noise?: number;
}

export class ConvAutoencoder extends Module {
  readonly inChannels: number;
  readonly output: ReconstructionOutput;
  readonly noise: number;
  readonly encoder: Sequential;
  readonly decoder: Sequential;

  constructor(options: ConvAutoencoderOptions = {}) {
    super();
    const who = 'convAutoencoder';
    this.inChannels = positiveInt(who, 'inChannels', options.inChannels ?? 1);
    const widths = (options.widths ?? [32, 16, 8]).map((w) => positiveInt(who, 'a width', w));
    if (widths.length === 0) throw new RangeError(`${who}: widths must name at least one encoder width`);
    this.output = options.output ?? 'sigmoid';
    if (this.output !== 'sigmoid' && this.output !== 'linear') throw new RangeError(`${who}: output must be 'sigmoid' or 'linear', got '${String(this.output)}'`);
    this.noise = options.noise ?? 0;
    if (!(Number.isFinite(this.noise) && this.noise >= 0)) throw new RangeError(`${who}: noise must be a standard deviation ≥ 0, got ${this.noise}`);

    const enc: Layer[] = [];
    let c = this.inChannels;
    for (const w of widths) {
      enc.push(new Conv2d(c, w, 3, { padding: 1 }), new ReLU(), new MaxPool2d(2, { ceilMode: true }));
      c = w;
    }
    const dec: Layer[] = [];
    for (let i = widths.length - 1; i >= 0; i--) {
      const out = widths[Math.max(i - 1, 0)] as number; // mirror the widths; the last one up keeps w0
      dec.push(new ConvTranspose2d(c, out, 3, { stride: 2, padding: 1, outputPadding: 1 }), new ReLU());
      c = out;
    }
    dec.push(new Conv2d(c, this.inChannels, 3, { padding: 1 }));
    if (this.output === 'sigmoid') dec.push(new Sigmoid());
    this.encoder = this.registerModule('encoder', new Sequential(...enc));
    this.decoder = this.registerModule('decoder', new Sequential(...dec));
  }

  /** The training input: x + N(0, σ²) noise in training mode with noise σ > 0, else x itself. */
  corrupt(x: Tensor): Tensor {
    return this.training && this.noise > 0 ? x.add(randnLike(x).mul(this.noise)) : x;
  }

  /** (B, C, H, W) → the code and the sizes [H, W] of each level, from the input down. */
  encode(x: Tensor): { code: Tensor; sizes: [number, number][] } {
    if (x.dim() !== 4 || x.shape[1] !== this.inChannels)
      throw new RangeError(`convAutoencoder: input must be (B, ${this.inChannels}, H, W), got shape [${x.shape.join(', ')}]`);
    const sizes: [number, number][] = [];
    let h = x;
    for (const m of this.encoder) {
      if (m instanceof MaxPool2d) sizes.push([h.shape[2] as number, h.shape[3] as number]);
      h = m.forward(h);
    }
    return { code: h, sizes };
  }

  /** The code back to images; `sizes` (from encode) fixes each level's size, else each doubles. */
  decode(code: Tensor, sizes?: readonly (readonly [number, number])[]): Tensor {
    let level = sizes ? sizes.length : 0;
    let h = code;
    for (const m of this.decoder) h = m instanceof ConvTranspose2d && sizes ? m.forward(h, sizes[--level] as [number, number]) : m.forward(h);
    return h;
  }

  /** (B, C, H, W) → (B, C, H, W) reconstructions of the (in training, corrupted) input */
  forward(x: Tensor): Tensor {
    const { code, sizes } = this.encode(this.corrupt(x));
    return this.decode(code, sizes);
  }

  override extraRepr(): string {
    return `output=${this.output}, noise=${this.noise}`;
  }
}

export const convAutoencoder = (o: ConvAutoencoderOptions = {}) => new ConvAutoencoder(o);

/** The denoising variant: a ConvAutoencoder with `noise` 0.3 unless given. */
export const denoisingAutoencoder = (o: ConvAutoencoderOptions = {}) => new ConvAutoencoder({ ...o, noise: o.noise ?? 0.3 });
