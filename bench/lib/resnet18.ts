// What the ResNet-18 benches share: Tessera's model and optimizer, and the run lengths.
//
// Model: models.resnet18({ numClasses: 10, stem: 'small' }): torchvision's names and init, with the
// small-image stem (3×3 stride-1 conv1 without bias, no max pool). The peer (bench/peers/train_resnet18.py)
// builds torchvision.models.resnet18(num_classes=10) and replaces conv1 by
// nn.Conv2d(3, 64, 3, 1, 1, bias=False) and maxpool by nn.Identity(): the same architecture and
// state dict keys. (Its weights differ from Tessera's own init under the same seed, because the
// peer's replacement conv1 draws from the RNG after torchvision's init; the harness loads the
// peer's weights by name, so both sides start from the same ones.)
// Optimizer: SGD, momentum 0.9, lr 0.1, weight decay 5e-4. Batch 128 of random 3×32×32 inputs.
//
// A step takes 1–2 s on the 2-core machine, so the runs are short: 3 steps of numerics check,
// 3 warm-up steps, and 5 repetitions of 5 timed steps per side.
import { models, optim } from '../../src/index.js';
import type { Defaults, ModuleSpec } from './training.js';

export const resnet18Spec: ModuleSpec = {
  model: () => models.resnet18({ numClasses: 10, stem: 'small' }),
  optimizer: (params) => new optim.SGD(params, { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 }),
};

export const resnet18Defaults: Defaults = { batch: 128, batches: 4, steps: 5, warmup: 3, reps: 5, check: 3 };

export const resnet18Title = 'ResNet-18 (torchvision, small-image stem, 10 classes) on 32x32x3, cross-entropy, SGD momentum 0.9 lr 0.1 weight decay 5e-4, random inputs';
