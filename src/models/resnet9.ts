// ResNet-9, the CIFAR-10 network of David Page's DAWNBench entry ("How to train your ResNet",
// Myrtle.ai 2018): prep conv 64 → layer1 conv 128 + pool + residual (2 × conv 128) → layer2 conv
// 256 + pool → layer3 conv 512 + pool + residual (2 × conv 512) → global max pool → linear, with
// the logits scaled by 0.125 as in that entry (it keeps early softmax outputs soft with PyTorch's
// default init). Every conv is 3×3, padding 1, no bias, followed by BN and ReLU.
// No torchvision twin: the names are ours (`prep.0.weight`, `res1.0.0.weight`, `fc.weight`) and the
// initialisation is PyTorch's layer defaults, as in the original.
import { add } from '../tensor/generated/ops.js';
import type { Tensor } from '../tensor/tensor.js';
import { Linear } from '../nn/layers/linear.js';
import { AdaptiveMaxPool2d, MaxPool2d } from '../nn/layers/pooling.js';
import { Sequential } from '../nn/layers/container.js';
import { Module } from '../nn/module.js';
import { convBnAct, positiveInt } from './blocks.js';

/** x + f(x), f = two conv–BN–ReLU blocks keeping the channel count. */
export class Residual extends Sequential {
  constructor(channels: number) {
    super(convBnAct(channels, channels), convBnAct(channels, channels));
  }

  override forward(x: Tensor): Tensor {
    return add(x, super.forward(x));
  }
}

export interface ResNet9Options {
  numClasses?: number;
  inChannels?: number;
  /** Multiplies the logits (DAWNBench: 0.125); 1 disables it. */
  logitScale?: number;
}

export class ResNet9 extends Module {
  readonly logitScale: number;
  readonly prep: Sequential;
  readonly layer1: Sequential;
  readonly res1: Residual;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  readonly res3: Residual;
  readonly pool: AdaptiveMaxPool2d;
  readonly fc: Linear;

  constructor(options: ResNet9Options = {}) {
    super();
    this.logitScale = options.logitScale ?? 0.125;
    this.prep = this.registerModule('prep', convBnAct(positiveInt('resnet9', 'inChannels', options.inChannels ?? 3), 64));
    this.layer1 = this.registerModule('layer1', new Sequential(...convBnAct(64, 128), new MaxPool2d(2)));
    this.res1 = this.registerModule('res1', new Residual(128));
    this.layer2 = this.registerModule('layer2', new Sequential(...convBnAct(128, 256), new MaxPool2d(2)));
    this.layer3 = this.registerModule('layer3', new Sequential(...convBnAct(256, 512), new MaxPool2d(2)));
    this.res3 = this.registerModule('res3', new Residual(512));
    this.pool = this.registerModule('pool', new AdaptiveMaxPool2d(1));
    this.fc = this.registerModule('fc', new Linear(512, positiveInt('resnet9', 'numClasses', options.numClasses ?? 10), { bias: false }));
  }

  /** (B, C, H, W) → (B, numClasses); H, W ≥ 8 (three 2×2 pools). */
  forward(x: Tensor): Tensor {
    let h = this.layer1.forward(this.prep.forward(x)); // (B, 128, H/2, W/2)
    h = this.layer2.forward(this.res1.forward(h)); // (B, 256, H/4, W/4)
    h = this.pool.forward(this.res3.forward(this.layer3.forward(h))); // (B, 512, 1, 1)
    const logits = this.fc.forward(h.flatten(1)); // (B, 512) → (B, numClasses)
    return this.logitScale === 1 ? logits : logits.mul(this.logitScale);
  }
}

export const resnet9 = (o: ResNet9Options = {}) => new ResNet9(o);
