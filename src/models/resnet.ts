// ResNet (He et al. 2015) with torchvision's module names and initialisation, so torchvision
// weights load by key (`layer1.0.conv1.weight`, `fc.bias`) and, under the same seed, a fresh model
// has the same weights as torchvision's. The stem is an option: torchvision's ImageNet stem (7×7/2
// conv, 3×3/2 max pool), which its pretrained weights need, or the small-image stem (3×3/1 conv, no
// pool), the usual variant for 32×32 inputs, which keeps small images from shrinking 4× at once.
import { add, relu } from '../tensor/generated/ops.js';
import type { Tensor } from '../tensor/tensor.js';
import { constant_, kaimingNormal_ } from '../nn/init.js';
import { BatchNorm2d } from '../nn/layers/batchnorm.js';
import { Conv2d } from '../nn/layers/conv.js';
import { Linear } from '../nn/layers/linear.js';
import { AdaptiveAvgPool2d, MaxPool2d } from '../nn/layers/pooling.js';
import { Identity } from '../nn/layers/shape.js';
import { Sequential } from '../nn/layers/container.js';
import { Module } from '../nn/module.js';

const conv3x3 = (inC: number, outC: number, stride = 1) => new Conv2d(inC, outC, 3, { stride, padding: 1, bias: false });
const conv1x1 = (inC: number, outC: number, stride = 1) => new Conv2d(inC, outC, 1, { stride, bias: false });

/** Two 3×3 convolutions with an identity (or projected) shortcut. */
export class BasicBlock extends Module {
  static readonly expansion = 1;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  /** 1×1 conv + BN projecting the shortcut when the shape changes, else null. */
  readonly downsample: Sequential | null;

  constructor(inC: number, planes: number, stride: number, downsample: Sequential | null) {
    super();
    this.conv1 = this.registerModule('conv1', conv3x3(inC, planes, stride));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.conv2 = this.registerModule('conv2', conv3x3(planes, planes));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.downsample = this.registerModule('downsample', downsample);
  }

  /** (B, inC, H, W) → (B, planes, H/stride, W/stride) */
  forward(x: Tensor): Tensor {
    const out = this.bn2.forward(this.conv2.forward(relu(this.bn1.forward(this.conv1.forward(x)))));
    return relu(add(out, this.downsample?.forward(x) ?? x));
  }
}

/** 1×1 reduce, 3×3, 1×1 expand (×4), with the stride on the 3×3 as torchvision (ResNet v1.5). */
export class Bottleneck extends Module {
  static readonly expansion = 4;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  /** 1×1 conv + BN projecting the shortcut when the shape changes, else null. */
  readonly downsample: Sequential | null;

  constructor(inC: number, planes: number, stride: number, downsample: Sequential | null) {
    super();
    this.conv1 = this.registerModule('conv1', conv1x1(inC, planes));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.conv2 = this.registerModule('conv2', conv3x3(planes, planes, stride));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.conv3 = this.registerModule('conv3', conv1x1(planes, planes * 4));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(planes * 4));
    this.downsample = this.registerModule('downsample', downsample);
  }

  /** (B, inC, H, W) → (B, 4·planes, H/stride, W/stride) */
  forward(x: Tensor): Tensor {
    let out = relu(this.bn1.forward(this.conv1.forward(x)));
    out = relu(this.bn2.forward(this.conv2.forward(out)));
    out = this.bn3.forward(this.conv3.forward(out));
    return relu(add(out, this.downsample?.forward(x) ?? x));
  }
}

type BlockClass = typeof BasicBlock | typeof Bottleneck;

/**
 * The layers before `layer1`: 'imagenet' is torchvision's (conv1 7×7 stride 2 + 3×3/2 max pool:
 * 224 px → 56 px), 'small' a 3×3 stride-1 conv1 and no pool (32 px stays 32 px). They differ only
 * in conv1.weight: [64, C, 7, 7] vs [64, C, 3, 3].
 */
export type ResNetStem = 'imagenet' | 'small';

const STEM_KERNELS: Readonly<Record<ResNetStem, number>> = { imagenet: 7, small: 3 };

export interface ResNetOptions {
  numClasses?: number;
  /** Default 'imagenet' (torchvision's model, the one its pretrained weights fit). */
  stem?: ResNetStem;
  inChannels?: number;
}

export class ResNet extends Module {
  readonly stem: ResNetStem;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  /** A 3×3/2 max pool with the ImageNet stem, an Identity with the small one (keys are the same). */
  readonly maxpool: MaxPool2d | Identity;
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  readonly layer4: Sequential;
  readonly avgpool: AdaptiveAvgPool2d;
  readonly fc: Linear;

  constructor(block: BlockClass, layers: readonly [number, number, number, number], options: ResNetOptions = {}) {
    super();
    const inChannels = options.inChannels ?? 3;
    const stem = options.stem ?? 'imagenet';
    if (!Object.hasOwn(STEM_KERNELS, stem)) throw new RangeError(`ResNet: stem must be 'imagenet' or 'small', got '${String(stem)}'`);
    this.stem = stem;
    this.conv1 = this.registerModule('conv1', stem === 'small' ? conv3x3(inChannels, 64) : new Conv2d(inChannels, 64, 7, { stride: 2, padding: 3, bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(64));
    this.maxpool = this.registerModule('maxpool', stem === 'small' ? new Identity() : new MaxPool2d(3, { stride: 2, padding: 1 }));
    let inC = 64;
    // torchvision's _make_layer: the first block may stride and project; the projection is built
    // before the block, which matters for the RNG draw order.
    const makeLayer = (planes: number, blocks: number, stride: number): Sequential => {
      const out = planes * block.expansion;
      const built: (BasicBlock | Bottleneck)[] = [];
      for (let b = 0; b < blocks; b++) {
        const s = b === 0 ? stride : 1;
        const downsample = b === 0 && (s !== 1 || inC !== out) ? new Sequential(conv1x1(inC, out, s), new BatchNorm2d(out)) : null;
        built.push(new block(inC, planes, s, downsample));
        inC = out;
      }
      return new Sequential(...built);
    };
    this.layer1 = this.registerModule('layer1', makeLayer(64, layers[0], 1));
    this.layer2 = this.registerModule('layer2', makeLayer(128, layers[1], 2));
    this.layer3 = this.registerModule('layer3', makeLayer(256, layers[2], 2));
    this.layer4 = this.registerModule('layer4', makeLayer(512, layers[3], 2));
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d([1, 1]));
    this.fc = this.registerModule('fc', new Linear(512 * block.expansion, options.numClasses ?? 1000));
    // torchvision's re-initialisation: He-normal (fan_out) convolutions, unit-scale batch norms.
    for (const m of this.modules()) {
      if (m instanceof Conv2d) kaimingNormal_(m.weight, { mode: 'fan_out', nonlinearity: 'relu' });
      else if (m instanceof BatchNorm2d) {
        if (m.weight) constant_(m.weight, 1);
        if (m.bias) constant_(m.bias, 0);
      }
    }
  }

  /** (B, C, H, W) → (B, numClasses) */
  forward(x: Tensor): Tensor {
    let h = this.maxpool.forward(relu(this.bn1.forward(this.conv1.forward(x)))); // (B, 64, H/4, W/4), or (B, 64, H, W) with the small stem
    h = this.layer4.forward(this.layer3.forward(this.layer2.forward(this.layer1.forward(h)))); // (B, 512·expansion, H/32, W/32), or H/8
    return this.fc.forward(this.avgpool.forward(h).flatten(1));
  }
}

/** The stem a conv1.weight of this shape belongs to ([64, C, 7, 7]: 'imagenet', [64, C, 3, 3]: 'small'), or null. */
export function stemOfConv1(shape: readonly number[]): ResNetStem | null {
  if (shape.length !== 4 || shape[2] !== shape[3]) return null;
  return (Object.keys(STEM_KERNELS) as ResNetStem[]).find((s) => STEM_KERNELS[s] === shape[2]) ?? null;
}

/**
 * Which stem a ResNet state dict (e.g. `io.loadStateDictFile('resnet18.pt')`) was saved with, read
 * from its `conv1.weight`; null when it has no such key or another kernel. Build the model with
 * this stem for the weights to load (torchvision's files: 'imagenet').
 */
export function resnetStemOf(stateDict: ReadonlyMap<string, { readonly shape: readonly number[] }>): ResNetStem | null {
  const w = stateDict.get('conv1.weight');
  return w ? stemOfConv1(w.shape) : null;
}

export const resnet18 = (o: ResNetOptions = {}) => new ResNet(BasicBlock, [2, 2, 2, 2], o);
export const resnet34 = (o: ResNetOptions = {}) => new ResNet(BasicBlock, [3, 4, 6, 3], o);
export const resnet50 = (o: ResNetOptions = {}) => new ResNet(Bottleneck, [3, 4, 6, 3], o);
