// Two small classics: a multilayer perceptron and LeNet-5. Both use PyTorch's default layer
// initialisation (no re-initialisation), so the same seed gives the same weights as the PyTorch
// modules written out in their comments.
import type { Tensor } from '../tensor/tensor.js';
import { AvgPool2d } from '../nn/layers/pooling.js';
import { Conv2d } from '../nn/layers/conv.js';
import { Dropout } from '../nn/layers/dropout.js';
import { Linear } from '../nn/layers/linear.js';
import { ReLU, Tanh } from '../nn/layers/activation.js';
import { Sequential, type Layer } from '../nn/layers/container.js';
import { Module } from '../nn/module.js';
import { outSize, positiveInt, requireSize } from './blocks.js';

export interface MlpOptions {
  /** Input features (e.g. 784 for 28×28×1); inputs of any shape are flattened from dim 1. */
  inputs: number;
  /** Width of each hidden layer, in order; [] gives a linear (softmax-regression) model. */
  hidden: readonly number[];
  classes: number;
  /** Dropout after each hidden ReLU (0 or absent: none). */
  dropout?: number;
}

/**
 * (Linear → ReLU [→ Dropout]) per hidden layer, then Linear to the classes, held in `layers`:
 * PyTorch's `self.layers = nn.Sequential(...)`, keys `layers.0.weight`, `layers.2.weight`, ….
 */
export class Mlp extends Module {
  readonly layers: Sequential;

  constructor(readonly options: MlpOptions) {
    super();
    let inF = positiveInt('mlp', 'inputs', options.inputs);
    const p = options.dropout ?? 0;
    const layers: Layer[] = [];
    for (const h of options.hidden) {
      layers.push(new Linear(inF, positiveInt('mlp', 'a hidden width', h)), new ReLU());
      if (p > 0) layers.push(new Dropout(p));
      inF = h;
    }
    layers.push(new Linear(inF, positiveInt('mlp', 'classes', options.classes)));
    this.layers = this.registerModule('layers', new Sequential(...layers));
  }

  /** (B, …) with ∏… = inputs → (B, classes) */
  forward(x: Tensor): Tensor {
    const flat = x.flatten(1);
    if (flat.size(1) !== this.options.inputs)
      throw new RangeError(`mlp: expected ${this.options.inputs} input features per sample, got ${flat.size(1)} (input shape [${x.shape.join(', ')}])`);
    return this.layers.forward(flat);
  }
}

export const mlp = (o: MlpOptions) => new Mlp(o);

export interface LeNet5Options {
  numClasses?: number;
  inChannels?: number;
  /** 32 (the paper's input) or 28 (MNIST as is: the first convolution pads by 2 to keep 28×28). */
  imageSize?: number;
}

/**
 * LeNet-5 (LeCun et al. 1998) as usually rebuilt: C1 conv 6@5×5 → tanh → S2 2×2 average pool →
 * C3 conv 16@5×5 → tanh → S4 pool → C5 linear 400→120 → tanh → F6 120→84 → tanh → 84→classes.
 * (The paper's partial C3 connection table, scaled tanh and RBF output are left out, as in every
 * modern rebuild.) Keys `features.{0,3}`, `classifier.{0,2,4}`.
 */
export class LeNet5 extends Module {
  readonly features: Sequential;
  readonly classifier: Sequential;

  constructor(options: LeNet5Options = {}) {
    super();
    const size = options.imageSize ?? 32;
    const pad = size < 32 ? (32 - size) >> 1 : 0;
    const s = outSize(outSize(outSize(outSize(size, 5, 1, pad), 2, 2), 5), 2, 2);
    requireSize('lenet5', size, s);
    this.features = this.registerModule('features', new Sequential(
      new Conv2d(positiveInt('lenet5', 'inChannels', options.inChannels ?? 1), 6, 5, { padding: pad }), new Tanh(), new AvgPool2d(2),
      new Conv2d(6, 16, 5), new Tanh(), new AvgPool2d(2),
    ));
    this.classifier = this.registerModule('classifier', new Sequential(
      new Linear(16 * s * s, 120), new Tanh(),
      new Linear(120, 84), new Tanh(),
      new Linear(84, positiveInt('lenet5', 'numClasses', options.numClasses ?? 10)),
    ));
  }

  /** (B, C, 32, 32) or (B, C, 28, 28) → (B, numClasses) */
  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.features.forward(x).flatten(1)); // (B, 16·5·5)
  }
}

export const lenet5 = (o: LeNet5Options = {}) => new LeNet5(o);
