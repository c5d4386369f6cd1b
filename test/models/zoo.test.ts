// Every zoo model against its PyTorch twin (see twin.ts for what is checked and the tolerances):
// torchvision's own mobilenet_v2 and vgg11_bn, and for the rest the PyTorch modules in twins.py
// (the seeds' Keras programs translated layer for layer, the seed 004 PyTorch class verbatim).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { getNumThreads, models, setNumThreads, type Tensor } from '../../src/index.js';
import { assertTwin, runTwins, type TwinCase, type TwinResult } from './twin.js';

const CASES: TwinCase[] = [
  { name: 'fashion-net', build: () => models.fashionNet(), twin: 'FashionNet()', seed: 1, input: [3, 1, 28, 28] },
  { name: 'mlp', build: () => models.mlp({ inputs: 784, hidden: [64, 32], classes: 10, dropout: 0.5 }), twin: 'Mlp(784, [64, 32], 10, 0.5)', seed: 2, input: [3, 1, 28, 28] },
  { name: 'lenet5-28', build: () => models.lenet5({ imageSize: 28 }), twin: 'LeNet5(pad=2)', seed: 3, input: [3, 1, 28, 28] },
  { name: 'lenet5-32-rgb', build: () => models.lenet5({ inChannels: 3, numClasses: 4 }), twin: 'LeNet5(num_classes=4, in_channels=3)', seed: 4, input: [2, 3, 32, 32] },
  { name: 'resnet9', build: () => models.resnet9(), twin: 'ResNet9()', seed: 5, input: [2, 3, 32, 32] },
  { name: 'mobilenet-v2', build: () => models.mobilenetV2(), twin: 'torchvision.models.mobilenet_v2()', seed: 6, input: [2, 3, 64, 64] },
  { name: 'mobilenet-v2-x0.5', build: () => models.mobilenetV2({ widthMult: 0.5, numClasses: 10 }), twin: 'torchvision.models.mobilenet_v2(num_classes=10, width_mult=0.5)', seed: 7, input: [2, 3, 32, 32] },
  { name: 'mobilenet-v2-x1.4', build: () => models.mobilenetV2({ widthMult: 1.4, numClasses: 10 }), twin: 'torchvision.models.mobilenet_v2(num_classes=10, width_mult=1.4)', seed: 8 },
  // 129 M parameters: both sides draw them from the seed instead of moving 0.5 GB through a file.
  { name: 'vgg11-bn', build: () => models.vgg11Bn({ numClasses: 10 }), twin: 'torchvision.models.vgg11_bn(num_classes=10)', seed: 9, input: [1, 3, 32, 32], weights: 'seed' },
  { name: 'small-vgg', build: () => models.smallVgg(), twin: "SmallVgg([32, 32, 'M', 64, 64, 'M', 128, 128, 'M'])", seed: 10, input: [3, 1, 28, 28] },
  { name: 'small-vgg-rgb', build: () => models.smallVgg({ inChannels: 3, config: [16, 'M', 32, 'M'], numClasses: 3 }), twin: "SmallVgg([16, 'M', 32, 'M'], num_classes=3, in_channels=3)", seed: 11, input: [2, 3, 32, 32] },
  { name: 'seed-cifar-cnn', build: () => models.seedCifarCnn(), twin: "KerasSequential([32, 'M', 64, 'M'], [128], 3, 32, 10)", seed: 12, input: [2, 3, 32, 32] },
  { name: 'seed-cifar-cnn-pytorch-init', build: () => models.seedCifarCnn({ init: 'pytorch' }), twin: "KerasSequential([32, 'M', 64, 'M'], [128], 3, 32, 10, init='pytorch')", seed: 13 },
  { name: 'seed-mnist-cnn', build: () => models.seedMnistCnn(), twin: "KerasSequential([32, 'M', 64, 'M', 128, 'M'], [128], 1, 28, 10)", seed: 14, input: [2, 1, 28, 28] },
  { name: 'seed-mnist-fcn', build: () => models.seedMnistFcn(), twin: '(lambda m: (keras_init(m), m)[1])(Mlp(784, [128], 10))', seed: 15, input: [2, 1, 28, 28] },
  { name: 'seed-face-crop-cnn', build: () => models.seedFaceCropCnn(), twin: "KerasSequential([32, 'M'], [512], 3, 32, 10)", seed: 16, input: [2, 3, 32, 32] },
  { name: 'seed-faces-cnn', build: () => models.seedFacesCnn(), twin: "KerasSequential([32, 'M', 64, 'M', 128, 'M'], [128], 3, 64, 5)", seed: 17, input: [2, 3, 64, 64] },
  { name: 'seed-imagenet64-cnn', build: () => models.seedImagenet64Cnn(), twin: "KerasSequential([32, 'M', 64, 'M', 64], [64], 3, 64, 10)", seed: 18, input: [2, 3, 64, 64] },
  { name: 'seed-mlp', build: () => models.seedMlp(), twin: 'Net()', seed: 19, input: [3, 1, 28, 28] },
];

describe('zoo models vs their PyTorch twins', () => {
  let results = new Map<string, TwinResult>();
  const threads = getNumThreads();
  before(() => {
    setNumThreads(1);
    results = runTwins(CASES);
  });
  after(() => {
    setNumThreads(threads);
    for (const r of results.values()) if (r.forward) for (const t of Object.values(r.forward) as Tensor[]) t.dispose();
  });

  for (const c of CASES)
    it(`${c.name}: keys, shapes, parameter count, same-seed init${c.input ? ', eval forward and input gradient' : ''}`, () => {
      const r = results.get(c.name);
      assert.ok(r, `no result for ${c.name}`);
      assertTwin(c.name, r);
    });

  it("the seeds' models have the parameter counts of the articles' Keras/PyTorch programs", () => {
    // Keras model.summary() totals, by hand: conv 3·3·in·out + out, dense in·out + out.
    const expected: Record<string, number> = {
      'seed-cifar-cnn': 896 + 18_496 + (64 * 6 * 6 * 128 + 128) + 1_290, // 000: 315,722
      'seed-mnist-cnn': 320 + 18_496 + 73_856 + (128 * 128 + 128) + 1_290, // 001: 110,474
      'seed-face-crop-cnn': 896 + (32 * 15 * 15 * 512 + 512) + 5_130, // 002: 3,692,938
      'seed-faces-cnn': 896 + 18_496 + 73_856 + (128 * 6 * 6 * 128 + 128) + 645, // 002: 683,845
      'seed-imagenet64-cnn': 896 + 18_496 + 36_928 + (64 * 12 * 12 * 64 + 64) + 650, // 003: 646,858
      'seed-mlp': 784 * 500 + 500 + 500 * 10 + 10, // 004: 397,510
    };
    for (const [name, n] of Object.entries(expected)) assert.equal(results.get(name)?.ours.numParameters, n, name);
  });
});
