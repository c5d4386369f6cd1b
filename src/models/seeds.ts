// The seed articles' models (/work/shared/seeds/00{0..4}_*.txt), translated layer for layer.
// Articles 000–003 are Keras `Sequential` programs; 004 is PyTorch. Each translation keeps the
// article's layer order and sizes; what Keras does differently from PyTorch, and what we chose:
//
// - Padding: every Conv2D uses Keras' default padding='valid' (no padding) → PyTorch padding 0;
//   MaxPooling2D((2,2)) has strides = pool size and 'valid' padding → nn.MaxPool2d(2) (floor).
// - Layout: Keras is channels-last (B, H, W, C); we take PyTorch's (B, C, H, W). Keras' Flatten
//   therefore orders features as (H, W, C) and ours as (C, H, W): the first dense layer's weights
//   of a trained Keras model need a permutation to load here (the architecture is the same).
// - Output: the articles end in Dense(…, activation='softmax') trained with (sparse_)categorical
//   cross-entropy. We return logits and leave the softmax to the loss (crossEntropy, as PyTorch
//   does), which is the same model and numerically safer; apply softmax for probabilities.
// - Initialisation: Keras' defaults are glorot_uniform kernels and zero biases; PyTorch's are
//   kaiming_uniform(a=√5) weights and U(±1/√fan_in) biases. `init: 'keras'` (the default for the
//   Keras articles, faithful to them) or `init: 'pytorch'`. Article 004 is PyTorch: its default.
// - Article 001 also builds an MLP (create_fcn: Dense 128 → Dense 10, input size inferred by Keras),
//   translated as `seedMnistFcn` on flattened 28×28 input, and a GAN that cannot run as written
//   (see gan-seed.ts for the two changes that make it run).
// - Article 002's first model is trained against 6-class labels with a 10-way output (a bug in the
//   article); we keep its 10 outputs by default and let `numClasses` change it.
import { relu } from '../tensor/generated/ops.js';
import type { Tensor } from '../tensor/tensor.js';
import { Conv2d } from '../nn/layers/conv.js';
import { Linear } from '../nn/layers/linear.js';
import { MaxPool2d } from '../nn/layers/pooling.js';
import { ReLU } from '../nn/layers/activation.js';
import { Sequential, type Layer } from '../nn/layers/container.js';
import { Module } from '../nn/module.js';
import { Mlp } from './classic.js';
import { kerasInit, outSize, positiveInt, requireSize } from './blocks.js';

export type SeedInit = 'keras' | 'pytorch';

export interface SeedCnnOptions {
  numClasses?: number;
  inChannels?: number;
  /** Square input side; the article's size by default. Others work if the feature map stays ≥ 1×1. */
  imageSize?: number;
  init?: SeedInit;
}

/** A Keras-style stack: conv widths (3×3 'valid' + ReLU) with 'M' for 2×2 max pools, then dense widths. */
export interface SeedCnnSpec {
  name: string;
  features: readonly (number | 'M')[];
  dense: readonly number[];
  /** [channels, size, classes] of the article. */
  defaults: readonly [number, number, number];
}

/**
 * features = Sequential(Conv2d(c, f, 3), ReLU, MaxPool2d(2), …); classifier = Sequential(Linear,
 * ReLU, …, Linear): the PyTorch translation of a Keras Sequential of Conv2D / MaxPooling2D /
 * Flatten / Dense, keys `features.0.weight`, `classifier.0.weight`, ….
 */
export class SeedCnn extends Module {
  readonly features: Sequential;
  readonly classifier: Sequential;

  constructor(readonly spec: SeedCnnSpec, options: SeedCnnOptions = {}) {
    super();
    const [c0, size0, k0] = spec.defaults;
    let c = positiveInt(spec.name, 'inChannels', options.inChannels ?? c0);
    const imageSize = positiveInt(spec.name, 'imageSize', options.imageSize ?? size0);
    let s = imageSize;
    const features: Layer[] = [];
    for (const v of spec.features) {
      if (v === 'M') {
        features.push(new MaxPool2d(2));
        s = outSize(s, 2, 2);
      } else {
        features.push(new Conv2d(c, v, 3), new ReLU());
        s = outSize(s, 3);
        c = v;
      }
      requireSize(spec.name, imageSize, s);
    }
    const head: Layer[] = [];
    let inF = c * s * s;
    for (const d of spec.dense) {
      head.push(new Linear(inF, d), new ReLU());
      inF = d;
    }
    head.push(new Linear(inF, positiveInt(spec.name, 'numClasses', options.numClasses ?? k0)));
    this.features = this.registerModule('features', new Sequential(...features));
    this.classifier = this.registerModule('classifier', new Sequential(...head));
    if ((options.init ?? 'keras') === 'keras') kerasInit(this);
    else if (options.init !== 'pytorch') throw new RangeError(`${spec.name}: init must be 'keras' or 'pytorch', got '${String(options.init)}'`);
  }

  /** (B, C, H, W) → (B, numClasses) logits */
  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.features.forward(x).flatten(1)); // Keras' Flatten
  }
}

/** 000: CIFAR-10, 32×32×3: conv32 → pool → conv64 → pool → dense128 → dense10. */
export const SEED_CIFAR_CNN: SeedCnnSpec = { name: 'seedCifarCnn', features: [32, 'M', 64, 'M'], dense: [128], defaults: [3, 32, 10] };
/** 001 (create_cnn): 28×28×1: conv32 → pool → conv64 → pool → conv128 → pool → dense128 → dense10. */
export const SEED_MNIST_CNN: SeedCnnSpec = { name: 'seedMnistCnn', features: [32, 'M', 64, 'M', 128, 'M'], dense: [128], defaults: [1, 28, 10] };
/** 002 (first): face crops, 32×32×3: conv32 → pool → dense512 → dense10. */
export const SEED_FACE_CROP_CNN: SeedCnnSpec = { name: 'seedFaceCropCnn', features: [32, 'M'], dense: [512], defaults: [3, 32, 10] };
/** 002 (build_model): faces, 64×64×3: conv32 → pool → conv64 → pool → conv128 → pool → dense128 → dense5. */
export const SEED_FACES_CNN: SeedCnnSpec = { name: 'seedFacesCnn', features: [32, 'M', 64, 'M', 128, 'M'], dense: [128], defaults: [3, 64, 5] };
/** 003: "ImageNet" at 64×64×3: conv32 → pool → conv64 → pool → conv64 (no pool) → dense64 → dense10. */
export const SEED_IMAGENET64_CNN: SeedCnnSpec = { name: 'seedImagenet64Cnn', features: [32, 'M', 64, 'M', 64], dense: [64], defaults: [3, 64, 10] };

export const seedCifarCnn = (o: SeedCnnOptions = {}) => new SeedCnn(SEED_CIFAR_CNN, o);
export const seedMnistCnn = (o: SeedCnnOptions = {}) => new SeedCnn(SEED_MNIST_CNN, o);
export const seedFaceCropCnn = (o: SeedCnnOptions = {}) => new SeedCnn(SEED_FACE_CROP_CNN, o);
export const seedFacesCnn = (o: SeedCnnOptions = {}) => new SeedCnn(SEED_FACES_CNN, o);
export const seedImagenet64Cnn = (o: SeedCnnOptions = {}) => new SeedCnn(SEED_IMAGENET64_CNN, o);

/** 001 (create_fcn): Dense 128 (ReLU) → Dense 10 on flattened 28×28×1 input, as an Mlp (`layers.{0,2}`). */
export function seedMnistFcn(o: { inputs?: number; numClasses?: number; init?: SeedInit } = {}): Mlp {
  const m = new Mlp({ inputs: o.inputs ?? 784, hidden: [128], classes: o.numClasses ?? 10 });
  if ((o.init ?? 'keras') === 'keras') kerasInit(m);
  return m;
}

export interface SeedMlpOptions {
  inputs?: number;
  hidden?: number;
  numClasses?: number;
  init?: SeedInit;
}

/**
 * 004 (PyTorch, verbatim): fc1 = Linear(784, 500), fc2 = Linear(500, 10); forward relu(fc1(x)) → fc2.
 * The article feeds flat 784-vectors; we flatten (B, 1, 28, 28) images first.
 */
export class SeedMlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(options: SeedMlpOptions = {}) {
    super();
    const hidden = positiveInt('seedMlp', 'hidden', options.hidden ?? 500);
    this.fc1 = this.registerModule('fc1', new Linear(positiveInt('seedMlp', 'inputs', options.inputs ?? 784), hidden));
    this.fc2 = this.registerModule('fc2', new Linear(hidden, positiveInt('seedMlp', 'numClasses', options.numClasses ?? 10)));
    if (options.init === 'keras') kerasInit(this);
  }

  /** (B, …) → (B, numClasses) */
  forward(x: Tensor): Tensor {
    return this.fc2.forward(relu(this.fc1.forward(x.flatten(1))));
  }
}

export const seedMlp = (o: SeedMlpOptions = {}) => new SeedMlp(o);
