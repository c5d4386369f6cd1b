// Training speed of a U-Net for segmentation: models.unet (milesial/Pytorch-UNet's layout: depth 4,
// first level 32 channels, transposed-convolution upsampling, 5 classes) against the same network in
// PyTorch (bench/peers/train_unet.py), per-pixel cross-entropy, Adam lr 1e-3, batch 8 of random
// 3×64×64 images with random per-pixel labels. The harness (bench/lib/training.ts) loads the peer's
// initial weights into the model by name, checks the losses agree, warms up, and interleaves the
// timed repetitions. Metric: training images per second. A step takes about a second on 2 cores.
//
//   node dist/bench/train-unet.js [--threads N] [--reps 5] [--steps 3] [--batch 8]
import { models, optim } from '../src/index.js';
import { runTrainingBench } from './lib/training.js';

await runTrainingBench({
  name: 'train-unet',
  title: 'U-Net (depth 4, width 32, transposed upsampling, 5 classes) on 64x64x3, per-pixel cross-entropy, Adam lr 1e-3, random inputs and labels',
  peerScript: 'train_unet.py',
  goal: 1.0,
  defaults: { batch: 8, batches: 2, steps: 3, warmup: 2, reps: 5, check: 3 },
  module: {
    model: () => models.unet({ inChannels: 3, numClasses: 5, baseWidth: 32, depth: 4 }),
    optimizer: (params) => new optim.Adam(params, { lr: 1e-3 }),
  },
});
