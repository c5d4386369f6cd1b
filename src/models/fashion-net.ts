// FashionNet: the default model of Tessera's main job, Fashion-MNIST (28×28×1, 10 classes) trained
// on two CPU cores in about five minutes (bf16, channels_last; README and BENCHMARKS.md). A ResNet-9 shrunk to 28×28 (Page's DAWNBench recipe: few
// layers, wide enough, BN everywhere, residuals on the cheap low-resolution maps):
//
//   stem   conv 1→w0 @28×28
//   stage1 max pool → conv w0→w1 @14×14 → residual (2 × conv w1)
//   stage2 max pool → conv w1→w2 @7×7   → residual (2 × conv w2)
//   head   global average pool → dropout → linear w2→classes
//
// Every conv is 3×3, padding 1, no bias, then BN and ReLU. The first conv runs at full resolution
// with a single input channel, so it is cheap; pooling before the widening convs keeps the costly
// layers at 14×14 and 7×7. Only NCHW-agnostic ops (conv, BN, ReLU, pools, add), so it runs
// unchanged on channels_last tensors — the main job's layout under bf16 (registry: `channelsLast`). PyTorch's default initialisation. Cost per 28×28 image:
// 36 M multiply-adds forward (stem 0.2 M, each stage 3.6 M + 14.5 M), 0.46 M parameters.
// `widths: [24, 48, 96]` (0.26 M parameters) trains ~1.6× faster; `residual: false` ~3× faster.
import { avgPool2d } from '../tensor/generated/ops.js';
import type { Tensor } from '../tensor/tensor.js';
import { Dropout } from '../nn/layers/dropout.js';
import { Linear } from '../nn/layers/linear.js';
import { MaxPool2d } from '../nn/layers/pooling.js';
import { Sequential, type Layer } from '../nn/layers/container.js';
import { Module } from '../nn/module.js';
import { convBnAct, positiveInt } from './blocks.js';
import { Residual } from './resnet9.js';

export interface FashionNetOptions {
  numClasses?: number;
  inChannels?: number;
  /** Channels of the stem and the two stages (default [32, 64, 128]). */
  widths?: readonly [number, number, number];
  /** Residual blocks in the stages (default true); false leaves a plain 3-conv VGG-style net. */
  residual?: boolean;
  /** Dropout before the linear head (default 0.1). */
  dropout?: number;
}

export class FashionNet extends Module {
  readonly stem: Sequential;
  readonly stage1: Sequential;
  readonly stage2: Sequential;
  readonly head: Sequential;

  constructor(options: FashionNetOptions = {}) {
    super();
    const [w0, w1, w2] = (options.widths ?? [32, 64, 128]).map((w) => positiveInt('fashionNet', 'a width', w)) as [number, number, number];
    const residual = options.residual ?? true;
    const stage = (inC: number, outC: number): Sequential => {
      const layers: Layer[] = [new MaxPool2d(2), ...convBnAct(inC, outC)];
      if (residual) layers.push(new Residual(outC));
      return new Sequential(...layers);
    };
    this.stem = this.registerModule('stem', convBnAct(positiveInt('fashionNet', 'inChannels', options.inChannels ?? 1), w0));
    this.stage1 = this.registerModule('stage1', stage(w0, w1));
    this.stage2 = this.registerModule('stage2', stage(w1, w2));
    this.head = this.registerModule('head', new Sequential(new Dropout(options.dropout ?? 0.1), new Linear(w2, positiveInt('fashionNet', 'numClasses', options.numClasses ?? 10))));
  }

  /** (B, C, H, W) → (B, numClasses); made for 28×28, works for any H, W ≥ 4. */
  forward(x: Tensor): Tensor {
    let h = this.stem.forward(x); // (B, w0, 28, 28)
    h = this.stage1.forward(h); // (B, w1, 14, 14)
    h = this.stage2.forward(h); // (B, w2, 7, 7)
    // Global average pooling as one window over the whole map (the same mean as adaptive pooling to
    // 1×1): LibTorch 1.13's avg_pool2d backward keeps a channels_last gradient channels_last, where
    // adaptive_avg_pool2d's hands back an NCHW one and every backward op of stage 2 then runs its
    // slow mixed-layout path (~20% of a bf16 channels_last step).
    const [height, width] = h.shape.slice(2) as [number, number];
    return this.head.forward(avgPool2d(h, [height, width]).flatten(1)); // (B, w2) → (B, classes)
  }
}

export const fashionNet = (o: FashionNetOptions = {}) => new FashionNet(o);
