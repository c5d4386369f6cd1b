// VGG (Simonyan & Zisserman 2014) with batch norm, in torchvision's layout: `features.N` is a flat
// list of conv 3×3 (padding 1) → BN → ReLU triples and 2×2 max pools, `classifier.N` the head, with
// torchvision's initialisation. `vgg11Bn` … `vgg19Bn` are torchvision's `vgg*_bn`; `smallVgg` keeps
// the same features layout for 28×28 / 32×32 images and swaps the 7×7×512→4096→4096 head (~120 M
// parameters) for global average pooling and one linear layer.
import { adaptiveAvgPool2d } from '../tensor/generated/ops.js';
import type { Tensor } from '../tensor/tensor.js';
import { BatchNorm2d } from '../nn/layers/batchnorm.js';
import { Conv2d } from '../nn/layers/conv.js';
import { Dropout } from '../nn/layers/dropout.js';
import { Linear } from '../nn/layers/linear.js';
import { MaxPool2d } from '../nn/layers/pooling.js';
import { ReLU } from '../nn/layers/activation.js';
import { Sequential, type Layer } from '../nn/layers/container.js';
import { Module } from '../nn/module.js';
import { positiveInt, torchvisionInit } from './blocks.js';

/** A features configuration: channel counts for convolutions, 'M' for a 2×2 max pool. */
export type VggConfig = readonly (number | 'M')[];

/** torchvision's configurations A, B, D, E (VGG-11, -13, -16, -19). */
export const VGG_CONFIGS = {
  vgg11: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  vgg13: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  vgg16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
  vgg19: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
} as const satisfies Record<string, VggConfig>;

/** torchvision's `make_layers(cfg, batch_norm=True)`: returns the layers and the last channel count. */
export function vggFeatures(config: VggConfig, inChannels: number): { features: Sequential; channels: number } {
  const layers: Layer[] = [];
  let c = inChannels;
  for (const v of config) {
    if (v === 'M') layers.push(new MaxPool2d(2, { stride: 2 }));
    else {
      positiveInt('vgg', 'a channel count in the configuration', v);
      layers.push(new Conv2d(c, v, 3, { padding: 1 }), new BatchNorm2d(v), new ReLU());
      c = v;
    }
  }
  if (c === inChannels) throw new RangeError('vgg: the configuration has no convolution');
  return { features: new Sequential(...layers), channels: c };
}

export interface VggOptions {
  numClasses?: number;
  inChannels?: number;
  /** Dropout in the classifier (torchvision: 0.5). */
  dropout?: number;
}

/** torchvision's VGG with batch norm: features → adaptive average pool to 7×7 → 3-layer classifier. */
export class Vgg extends Module {
  readonly features: Sequential;
  readonly classifier: Sequential;

  constructor(config: VggConfig, options: VggOptions = {}) {
    super();
    const { features, channels } = vggFeatures(config, positiveInt('vgg', 'inChannels', options.inChannels ?? 3));
    const p = options.dropout ?? 0.5;
    this.features = this.registerModule('features', features);
    this.classifier = this.registerModule('classifier', new Sequential(
      new Linear(channels * 7 * 7, 4096), new ReLU(), new Dropout(p),
      new Linear(4096, 4096), new ReLU(), new Dropout(p),
      new Linear(4096, positiveInt('vgg', 'numClasses', options.numClasses ?? 1000)),
    ));
    torchvisionInit(this);
  }

  /** (B, C, H, W) → (B, numClasses); H, W ≥ 32 (five 2×2 pools). */
  forward(x: Tensor): Tensor {
    const h = this.features.forward(x);
    return this.classifier.forward(adaptiveAvgPool2d(h, [7, 7]).flatten(1)); // (B, 512·7·7)
  }
}

export const vgg11Bn = (o: VggOptions = {}) => new Vgg(VGG_CONFIGS.vgg11, o);
export const vgg13Bn = (o: VggOptions = {}) => new Vgg(VGG_CONFIGS.vgg13, o);
export const vgg16Bn = (o: VggOptions = {}) => new Vgg(VGG_CONFIGS.vgg16, o);
export const vgg19Bn = (o: VggOptions = {}) => new Vgg(VGG_CONFIGS.vgg19, o);

export interface SmallVggOptions extends VggOptions {
  /** Features configuration; default three blocks of two convolutions: 32·32·M·64·64·M·128·128·M. */
  config?: VggConfig;
}

export const SMALL_VGG_CONFIG: VggConfig = [32, 32, 'M', 64, 64, 'M', 128, 128, 'M'];

/**
 * VGG-style features (torchvision's layout) → global average pool → dropout → linear. For small
 * images: with the default configuration a 28×28 input ends as 3×3×128, a 32×32 one as 4×4×128.
 */
export class SmallVgg extends Module {
  readonly features: Sequential;
  readonly classifier: Sequential;

  constructor(options: SmallVggOptions = {}) {
    super();
    const { features, channels } = vggFeatures(options.config ?? SMALL_VGG_CONFIG, positiveInt('smallVgg', 'inChannels', options.inChannels ?? 1));
    this.features = this.registerModule('features', features);
    this.classifier = this.registerModule('classifier', new Sequential(new Dropout(options.dropout ?? 0.2), new Linear(channels, positiveInt('smallVgg', 'numClasses', options.numClasses ?? 10))));
    torchvisionInit(this);
  }

  /** (B, C, H, W) → (B, numClasses) */
  forward(x: Tensor): Tensor {
    const h = this.features.forward(x);
    return this.classifier.forward(adaptiveAvgPool2d(h, [1, 1]).flatten(1)); // (B, channels)
  }
}

export const smallVgg = (o: SmallVggOptions = {}) => new SmallVgg(o);
