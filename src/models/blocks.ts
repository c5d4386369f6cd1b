// Pieces the zoo's models share: conv–BN–activation stacks, the two initialisation recipes the
// zoo uses (torchvision's and Keras'), and output-size arithmetic.
import { constant_, kaimingNormal_, normal_, xavierUniform_, zeros_ } from '../nn/init.js';
import { BatchNorm2d } from '../nn/layers/batchnorm.js';
import { Conv2d } from '../nn/layers/conv.js';
import { Linear } from '../nn/layers/linear.js';
import { ReLU, ReLU6 } from '../nn/layers/activation.js';
import { Sequential } from '../nn/layers/container.js';
import type { Module } from '../nn/module.js';

/**
 * torchvision's Conv2dNormActivation: Conv2d (no bias, "same" padding for odd kernels) → BatchNorm2d
 * → activation, as a Sequential so the keys read `N.0.weight`, `N.1.running_mean`.
 */
export function convBnAct(inC: number, outC: number, o: { kernel?: number; stride?: number; groups?: number; act?: 'relu' | 'relu6' } = {}): Sequential {
  const k = o.kernel ?? 3;
  const conv = new Conv2d(inC, outC, k, { stride: o.stride ?? 1, padding: (k - 1) >> 1, groups: o.groups ?? 1, bias: false });
  return new Sequential(conv, new BatchNorm2d(outC), (o.act ?? 'relu') === 'relu6' ? new ReLU6() : new ReLU());
}

/**
 * torchvision's re-initialisation for VGG and MobileNetV2: convolutions He-normal (fan_out, ReLU
 * gain √2) with zero bias, norm layers scale 1 / shift 0, linear layers N(0, 0.01²) with zero bias.
 * Walks modules in registration order, as PyTorch's `self.modules()`, so the draws line up.
 */
export function torchvisionInit(model: Module): void {
  for (const m of model.modules()) {
    if (m instanceof Conv2d) {
      kaimingNormal_(m.weight, { mode: 'fan_out', nonlinearity: 'relu' });
      if (m.bias) zeros_(m.bias);
    } else if (m instanceof BatchNorm2d) {
      if (m.weight) constant_(m.weight, 1);
      if (m.bias) constant_(m.bias, 0);
    } else if (m instanceof Linear) {
      normal_(m.weight, 0, 0.01);
      if (m.bias) zeros_(m.bias);
    }
  }
}

/**
 * Keras' defaults for Conv2D and Dense: kernel glorot_uniform, U(±√(6/(fan_in+fan_out))), bias
 * zeros. (Keras counts fans as PyTorch does for these layers: in·k·k and out·k·k.)
 */
export function kerasInit(model: Module): void {
  for (const m of model.modules()) {
    if (m instanceof Conv2d || m instanceof Linear) {
      xavierUniform_(m.weight);
      if (m.bias) zeros_(m.bias);
    }
  }
}

/** Spatial size after a k×k convolution or pooling with the given stride and padding (floor mode). */
export function outSize(size: number, kernel: number, stride = 1, padding = 0): number {
  return Math.floor((size + 2 * padding - kernel) / stride) + 1;
}

/** Throws a clear error when an input size is too small for a model's fixed stack of layers. */
export function requireSize(model: string, imageSize: number, finalSize: number): void {
  if (!Number.isInteger(imageSize) || finalSize < 1)
    throw new RangeError(`${model}: an input of ${imageSize}×${imageSize} is too small for its layers (the last feature map would be ${finalSize}×${finalSize})`);
}

/** Accepts only positive integers for a size, channel or class count; names the option at fault. */
export function positiveInt(model: string, name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${model}: ${name} must be a positive integer, got ${v}`);
  return v;
}
