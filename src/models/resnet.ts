// ResNet (He et al. 2015) with torchvision's module names and initialisation, so torchvision
// weights load by key (`layer1.0.conv1.weight`, `fc.bias`) and, under the same seed, a fresh model
// has the same weights as torchvision's. `cifar: true` swaps the ImageNet stem (7×7/2 conv and
// 3×3/2 max pool) for a 3×3/1 conv and no pool, the usual variant for 32×32 inputs.
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

interface Block extends Module {
  forward(x: Tensor): Tensor;
}

/** Two 3×3 convolutions with an identity (or projected) shortcut. */
export class BasicBlock extends Module implements Block {
  static readonly expansion = 1;

  constructor(inC: number, planes: number, stride: number, downsample: Sequential | null) {
    super();
    this.registerModule('conv1', conv3x3(inC, planes, stride));
    this.registerModule('bn1', new BatchNorm2d(planes));
    this.registerModule('conv2', conv3x3(planes, planes));
    this.registerModule('bn2', new BatchNorm2d(planes));
    this.registerModule('downsample', downsample);
  }

  forward(x: Tensor): Tensor {
    const m = (n: string) => this.child(n);
    const out = m('bn2').forward(m('conv2').forward(relu(m('bn1').forward(m('conv1').forward(x)))));
    const shortcut = this.optionalChild('downsample')?.forward(x) ?? x;
    return relu(add(out, shortcut));
  }
}

/** 1×1 reduce, 3×3, 1×1 expand (×4), with the stride on the 3×3 as torchvision (ResNet v1.5). */
export class Bottleneck extends Module implements Block {
  static readonly expansion = 4;

  constructor(inC: number, planes: number, stride: number, downsample: Sequential | null) {
    super();
    this.registerModule('conv1', conv1x1(inC, planes));
    this.registerModule('bn1', new BatchNorm2d(planes));
    this.registerModule('conv2', conv3x3(planes, planes, stride));
    this.registerModule('bn2', new BatchNorm2d(planes));
    this.registerModule('conv3', conv1x1(planes, planes * 4));
    this.registerModule('bn3', new BatchNorm2d(planes * 4));
    this.registerModule('downsample', downsample);
  }

  forward(x: Tensor): Tensor {
    const m = (n: string) => this.child(n);
    let out = relu(m('bn1').forward(m('conv1').forward(x)));
    out = relu(m('bn2').forward(m('conv2').forward(out)));
    out = m('bn3').forward(m('conv3').forward(out));
    const shortcut = this.optionalChild('downsample')?.forward(x) ?? x;
    return relu(add(out, shortcut));
  }
}

type BlockClass = (typeof BasicBlock | typeof Bottleneck) & { expansion: number };

export interface ResNetOptions {
  numClasses?: number;
  /** 3×3 stride-1 stem without max pool, for 32×32 images (CIFAR). */
  cifar?: boolean;
  inChannels?: number;
}

export class ResNet extends Module {
  constructor(block: BlockClass, layers: readonly [number, number, number, number], options: ResNetOptions = {}) {
    super();
    const inChannels = options.inChannels ?? 3;
    this.registerModule('conv1', options.cifar ? conv3x3(inChannels, 64) : new Conv2d(inChannels, 64, 7, { stride: 2, padding: 3, bias: false }));
    this.registerModule('bn1', new BatchNorm2d(64));
    this.registerModule('maxpool', options.cifar ? new Identity() : new MaxPool2d(3, { stride: 2, padding: 1 }));
    let inC = 64;
    [64, 128, 256, 512].forEach((planes, i) => {
      const stride = i === 0 ? 1 : 2;
      const blocks: Block[] = [];
      for (let b = 0; b < (layers[i] as number); b++) {
        const s = b === 0 ? stride : 1;
        // torchvision builds the projection before the block, which matters for the RNG draw order.
        const needsProjection = b === 0 && (s !== 1 || inC !== planes * block.expansion);
        const downsample = needsProjection ? new Sequential(conv1x1(inC, planes * block.expansion, s), new BatchNorm2d(planes * block.expansion)) : null;
        blocks.push(new block(inC, planes, s, downsample));
        inC = planes * block.expansion;
      }
      this.registerModule(`layer${i + 1}`, new Sequential(...blocks));
    });
    this.registerModule('avgpool', new AdaptiveAvgPool2d([1, 1]));
    this.registerModule('fc', new Linear(512 * block.expansion, options.numClasses ?? 1000));
    // torchvision's re-initialisation: He-normal (fan_out) convolutions, unit-scale batch norms.
    for (const m of this.modules()) {
      if (m instanceof Conv2d) kaimingNormal_(m.param('weight'), { mode: 'fan_out', nonlinearity: 'relu' });
      else if (m instanceof BatchNorm2d) {
        constant_(m.param('weight'), 1);
        constant_(m.param('bias'), 0);
      }
    }
  }

  /** (B, C, H, W) → (B, numClasses) */
  forward(x: Tensor): Tensor {
    const m = (n: string) => this.child(n);
    let h = m('maxpool').forward(relu(m('bn1').forward(m('conv1').forward(x))));
    for (const l of ['layer1', 'layer2', 'layer3', 'layer4']) h = m(l).forward(h);
    return m('fc').forward(m('avgpool').forward(h).flatten(1));
  }
}

export const resnet18 = (o: ResNetOptions = {}) => new ResNet(BasicBlock, [2, 2, 2, 2], o);
export const resnet34 = (o: ResNetOptions = {}) => new ResNet(BasicBlock, [3, 4, 6, 3], o);
export const resnet50 = (o: ResNetOptions = {}) => new ResNet(Bottleneck, [3, 4, 6, 3], o);
