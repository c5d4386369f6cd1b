// Training speed of ResNet-18 (CIFAR variant, batch 128, SGD momentum 0.9, lr 0.1, weight decay
// 5e-4) in float32, Tessera's models.resnet18 + optim.SGD against torchvision's resnet18 +
// torch.optim.SGD (bench/peers/train_resnet18.py); see bench/lib/resnet18.ts for the model. The
// harness (bench/lib/training.ts) loads the peer's initial weights into the model by name, checks
// the losses agree, warms up, and interleaves the timed repetitions. Metric: training images per
// second. A step takes ~2 s: the whole bench runs in about 3 minutes.
//
//   node dist/bench/train-resnet18.js [--threads N] [--reps 5] [--steps 5] [--batch 128]
import { runTrainingBench } from './lib/training.js';
import { resnet18Defaults, resnet18Spec, resnet18Title } from './lib/resnet18.js';

await runTrainingBench({
  name: 'train-resnet18',
  title: `${resnet18Title}, float32`,
  peerScript: 'train_resnet18.py',
  goal: 1.0,
  defaults: resnet18Defaults,
  module: resnet18Spec,
});
