// U-Net (Ronneberger et al. 2015): an encoder of double convolutions and 2× poolings, a decoder that
// upsamples, concatenates the encoder's map of the same level (the skip connection) and convolves,
// and a 1×1 convolution to per-pixel class logits. Written as milesial/Pytorch-UNet writes it (the
// PyTorch implementation most people start from), with its module names, so its state dicts load by
// key: `inc.double_conv.0.weight`, `down1.maxpool_conv.1.double_conv.0.weight`, `up1.up.weight`,
// `up1.conv.double_conv.0.weight`, `outc.conv.weight`. Padded 3×3 convolutions without bias (the
// batch norm's shift replaces it), PyTorch's default initialisation.
//
// Options beyond milesial's (which fixes depth 4 and width 64): `depth` levels (down1…downD,
// up1…upD) and `baseWidth` (level i has baseWidth·2^i channels). At depth 4 and width 64 it is
// milesial's UNet(n_channels, n_classes, bilinear) exactly.
// Upsampling: 'transposed' (default; the paper's 2×2 up-convolution, halving the channels) or
// 'bilinear' (align_corners, no parameters; the deepest level and the decoder's convolutions are
// then half as wide, milesial's `factor`, so the concatenations add up).
// Sizes: any H, W ≥ 2^depth. Each pooling floors an odd size; after upsampling, the decoder's map is
// zero-padded to its skip connection's size (the difference split left/right and top/bottom, the
// extra pixel on the right/bottom), as milesial's Up does, so the output is always H×W.
import { cat, pad } from '../tensor/generated/ops.js';
import type { Tensor } from '../tensor/tensor.js';
import { BatchNorm2d } from '../nn/layers/batchnorm.js';
import { Conv2d, ConvTranspose2d } from '../nn/layers/conv.js';
import { MaxPool2d } from '../nn/layers/pooling.js';
import { ReLU } from '../nn/layers/activation.js';
import { Sequential } from '../nn/layers/container.js';
import { Upsample } from '../nn/layers/upsample.js';
import { Module } from '../nn/module.js';
import { positiveInt } from './blocks.js';

export type UNetUpsampling = 'transposed' | 'bilinear';

/** (conv 3×3 → BN → ReLU) × 2, in `double_conv`. */
export class DoubleConv extends Module {
  readonly doubleConv: Sequential;

  constructor(inC: number, outC: number, midC = outC) {
    super();
    this.doubleConv = this.registerModule(
      'double_conv',
      new Sequential(
        new Conv2d(inC, midC, 3, { padding: 1, bias: false }), new BatchNorm2d(midC), new ReLU(),
        new Conv2d(midC, outC, 3, { padding: 1, bias: false }), new BatchNorm2d(outC), new ReLU(),
      ),
    );
  }

  /** (B, inC, H, W) → (B, outC, H, W) */
  forward(x: Tensor): Tensor {
    return this.doubleConv.forward(x);
  }
}

/** 2×2 max pooling then a DoubleConv, in `maxpool_conv`. */
export class Down extends Module {
  readonly maxpoolConv: Sequential;

  constructor(inC: number, outC: number) {
    super();
    this.maxpoolConv = this.registerModule('maxpool_conv', new Sequential(new MaxPool2d(2), new DoubleConv(inC, outC)));
  }

  /** (B, inC, H, W) → (B, outC, ⌊H/2⌋, ⌊W/2⌋) */
  forward(x: Tensor): Tensor {
    return this.maxpoolConv.forward(x);
  }
}

/** Upsample the deeper map 2×, pad it to the skip's size, concatenate [skip, up] and DoubleConv. */
export class Up extends Module {
  readonly up: Upsample | ConvTranspose2d;
  readonly conv: DoubleConv;

  constructor(inC: number, outC: number, upsampling: UNetUpsampling) {
    super();
    if (upsampling === 'bilinear') {
      this.up = this.registerModule('up', new Upsample({ scaleFactor: 2, mode: 'bilinear', alignCorners: true }));
      this.conv = this.registerModule('conv', new DoubleConv(inC, outC, inC / 2));
    } else {
      this.up = this.registerModule('up', new ConvTranspose2d(inC, inC / 2, 2, { stride: 2 }));
      this.conv = this.registerModule('conv', new DoubleConv(inC, outC));
    }
  }

  /** deeper (B, C1, h, w), skip (B, C2, H, W) with H ≥ 2h, W ≥ 2w → (B, outC, H, W) */
  forward(deeper: Tensor, skip: Tensor): Tensor {
    let x = this.up.forward(deeper); // (B, ·, 2h, 2w)
    const dy = (skip.shape[2] as number) - (x.shape[2] as number);
    const dx = (skip.shape[3] as number) - (x.shape[3] as number);
    if (dy !== 0 || dx !== 0) x = pad(x, [dx >> 1, dx - (dx >> 1), dy >> 1, dy - (dy >> 1)]); // [left, right, top, bottom]
    return this.conv.forward(cat([skip, x], 1));
  }
}

/** 1×1 convolution to the class logits, in `conv`. */
export class OutConv extends Module {
  readonly conv: Conv2d;

  constructor(inC: number, outC: number) {
    super();
    this.conv = this.registerModule('conv', new Conv2d(inC, outC, 1));
  }

  forward(x: Tensor): Tensor {
    return this.conv.forward(x);
  }
}

export interface UNetOptions {
  /** Input channels (default 3). */
  inChannels?: number;
  /** Classes: output channels, one logit per class and pixel (default 2). */
  numClasses?: number;
  /** Channels of the first level (default 64). */
  baseWidth?: number;
  /** Number of poolings (default 4). */
  depth?: number;
  /** Default 'transposed'. */
  upsampling?: UNetUpsampling;
}

export class UNet extends Module {
  readonly inChannels: number;
  readonly numClasses: number;
  readonly depth: number;
  readonly upsampling: UNetUpsampling;
  readonly inc: DoubleConv;
  /** down1 … downD (registered under those names; replace them with setSubmodule and these entries go stale). */
  readonly downs: readonly Down[];
  /** up1 … upD, deepest first. */
  readonly ups: readonly Up[];
  readonly outc: OutConv;

  constructor(options: UNetOptions = {}) {
    super();
    const who = 'unet';
    this.inChannels = positiveInt(who, 'inChannels', options.inChannels ?? 3);
    this.numClasses = positiveInt(who, 'numClasses', options.numClasses ?? 2);
    const width = positiveInt(who, 'baseWidth', options.baseWidth ?? 64);
    this.depth = positiveInt(who, 'depth', options.depth ?? 4);
    this.upsampling = options.upsampling ?? 'transposed';
    if (this.upsampling !== 'transposed' && this.upsampling !== 'bilinear')
      throw new RangeError(`${who}: upsampling must be 'transposed' or 'bilinear', got '${String(this.upsampling)}'`);
    const factor = this.upsampling === 'bilinear' ? 2 : 1;
    const w = (level: number) => width * 2 ** level;

    this.inc = this.registerModule('inc', new DoubleConv(this.inChannels, width));
    const downs: Down[] = [];
    for (let i = 1; i <= this.depth; i++) downs.push(this.registerModule(`down${i}`, new Down(w(i - 1), i === this.depth ? w(i) / factor : w(i))));
    const ups: Up[] = [];
    for (let i = 1; i <= this.depth; i++) {
      const level = this.depth - i; // the level this Up brings the map back to
      ups.push(this.registerModule(`up${i}`, new Up(w(level + 1), i === this.depth ? w(level) : w(level) / factor, this.upsampling)));
    }
    this.downs = downs;
    this.ups = ups;
    this.outc = this.registerModule('outc', new OutConv(width, this.numClasses));
  }

  /** (B, inChannels, H, W) → (B, numClasses, H, W) logits */
  forward(x: Tensor): Tensor {
    const min = 2 ** this.depth;
    if (x.dim() !== 4 || x.shape[1] !== this.inChannels || (x.shape[2] as number) < min || (x.shape[3] as number) < min)
      throw new RangeError(`unet: input must be (B, ${this.inChannels}, H, W) with H, W ≥ 2^depth = ${min}, got shape [${x.shape.join(', ')}]`);
    const skips = [this.inc.forward(x)]; // level 0: (B, w, H, W)
    for (const d of this.downs) skips.push(d.forward(skips[skips.length - 1] as Tensor)); // level i: (B, w·2^i, H/2^i, W/2^i)
    let h = skips.pop() as Tensor;
    for (const u of this.ups) h = u.forward(h, skips.pop() as Tensor);
    return this.outc.forward(h);
  }

  override extraRepr(): string {
    return `depth=${this.depth}, upsampling=${this.upsampling}`;
  }
}

export const unet = (o: UNetOptions = {}) => new UNet(o);
