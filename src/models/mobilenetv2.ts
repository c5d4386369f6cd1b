// MobileNetV2 (Sandler et al. 2018) with torchvision's module names (`features.N.conv.M...`,
// `classifier.1`) and initialisation, so torchvision weights load by key and the same seed gives the
// same weights. Inverted residual: 1×1 expand (ReLU6) → 3×3 depthwise (ReLU6) → 1×1 linear
// projection, with a skip connection when the shape is unchanged.
import { add, adaptiveAvgPool2d } from '../tensor/generated/ops.js';
import type { Tensor } from '../tensor/tensor.js';
import { BatchNorm2d } from '../nn/layers/batchnorm.js';
import { Conv2d } from '../nn/layers/conv.js';
import { Dropout } from '../nn/layers/dropout.js';
import { Linear } from '../nn/layers/linear.js';
import { Sequential, type Layer } from '../nn/layers/container.js';
import { Module } from '../nn/module.js';
import { convBnAct, positiveInt, torchvisionInit } from './blocks.js';

/**
 * torchvision's `_make_divisible`: the nearest multiple of `divisor` (at least `divisor`), rounded
 * up one step if rounding down lost more than 10%.
 */
export function makeDivisible(v: number, divisor = 8): number {
  let n = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * v) n += divisor;
  return n;
}

export class InvertedResidual extends Module {
  readonly useResidual: boolean;
  readonly conv: Sequential;

  constructor(inC: number, outC: number, stride: number, expandRatio: number) {
    super();
    if (stride !== 1 && stride !== 2) throw new RangeError(`InvertedResidual: stride should be 1 or 2, got ${stride}`);
    // Python's round(): ties to even. Ratios in the table are integers, so this is exact there.
    const hidden = roundHalfEven(inC * expandRatio);
    this.useResidual = stride === 1 && inC === outC;
    const layers: Layer[] = [];
    if (expandRatio !== 1) layers.push(convBnAct(inC, hidden, { kernel: 1, act: 'relu6' }));
    layers.push(convBnAct(hidden, hidden, { stride, groups: hidden, act: 'relu6' }));
    layers.push(new Conv2d(hidden, outC, 1, { bias: false }), new BatchNorm2d(outC));
    this.conv = this.registerModule('conv', new Sequential(...layers));
  }

  /** (B, inC, H, W) → (B, outC, H/stride, W/stride) */
  forward(x: Tensor): Tensor {
    const y = this.conv.forward(x);
    return this.useResidual ? add(x, y) : y;
  }
}

export interface MobileNetV2Options {
  numClasses?: number;
  /** Scales every layer's channels (rounded to multiples of 8); 1.0 is the paper's network. */
  widthMult?: number;
  /** Dropout before the classifier (torchvision: 0.2). */
  dropout?: number;
  inChannels?: number;
}

/** (expansion t, channels c, repeats n, first stride s) per stage, from the paper's Table 2. */
const SETTINGS: readonly (readonly [number, number, number, number])[] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

export class MobileNetV2 extends Module {
  readonly lastChannel: number;
  readonly features: Sequential;
  readonly classifier: Sequential;

  constructor(options: MobileNetV2Options = {}) {
    super();
    const width = options.widthMult ?? 1;
    if (!(width > 0)) throw new RangeError(`MobileNetV2: widthMult must be positive, got ${width}`);
    const numClasses = positiveInt('MobileNetV2', 'numClasses', options.numClasses ?? 1000);
    let inC = makeDivisible(32 * width);
    this.lastChannel = makeDivisible(1280 * Math.max(1, width));
    const features: Layer[] = [convBnAct(positiveInt('MobileNetV2', 'inChannels', options.inChannels ?? 3), inC, { stride: 2, act: 'relu6' })];
    for (const [t, c, n, s] of SETTINGS) {
      const outC = makeDivisible(c * width);
      for (let i = 0; i < n; i++) {
        features.push(new InvertedResidual(inC, outC, i === 0 ? s : 1, t));
        inC = outC;
      }
    }
    features.push(convBnAct(inC, this.lastChannel, { kernel: 1, act: 'relu6' }));
    this.features = this.registerModule('features', new Sequential(...features));
    this.classifier = this.registerModule('classifier', new Sequential(new Dropout(options.dropout ?? 0.2), new Linear(this.lastChannel, numClasses)));
    torchvisionInit(this);
  }

  /** (B, C, H, W) → (B, numClasses); any H, W ≥ 1 (the features end in a global average pool). */
  forward(x: Tensor): Tensor {
    const h = this.features.forward(x); // (B, lastChannel, H/32, W/32)
    return this.classifier.forward(adaptiveAvgPool2d(h, [1, 1]).flatten(1));
  }
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export const mobilenetV2 = (o: MobileNetV2Options = {}) => new MobileNetV2(o);
