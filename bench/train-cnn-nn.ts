// Training speed of the seeds' CNN of train-cnn (32×32×3 inputs, batch 64, cross-entropy, Adam
// lr 1e-3), written the way a user writes it: nn.Sequential of nn.Conv2d / nn.ReLU / nn.MaxPool2d /
// nn.Flatten / nn.Linear, and optim.Adam, against the same model and torch.optim.Adam in PyTorch
// (bench/peers/train_cnn.py, the peer of train-cnn too):
//   conv(3→32, 3×3) ReLU maxpool2 → conv(32→64, 3×3) ReLU maxpool2 → flatten (64·6·6 = 2304)
//   → dense 128 ReLU → dense 10          ('valid' padding: 32 → 30 → 15 → 13 → 6)
// The harness (bench/lib/training.ts) loads the peer's initial weights into the model by name, runs
// zeroGrad / forward / crossEntropy / backward / step, checks the losses agree, warms up, and
// interleaves the timed repetitions. Metric: training images per second.
//
//   node dist/bench/train-cnn-nn.js [--threads N] [--reps 11] [--steps 30] [--batch 64]
import { nn, optim } from '../src/index.js';
import { runTrainingBench } from './lib/training.js';

await runTrainingBench({
  name: 'train-cnn-nn',
  title: "the seeds' CNN (conv32-pool-conv64-pool-dense128-dense10) from nn modules on 32x32x3, cross-entropy, optim.Adam lr 1e-3, random inputs",
  peerScript: 'train_cnn.py',
  goal: 1.0,
  defaults: { batch: 64, batches: 8, steps: 30, warmup: 10, reps: 11, check: 5 },
  module: {
    model: () =>
      new nn.Sequential(
        new nn.Conv2d(3, 32, 3),
        new nn.ReLU(),
        new nn.MaxPool2d(2),
        new nn.Conv2d(32, 64, 3),
        new nn.ReLU(),
        new nn.MaxPool2d(2),
        new nn.Flatten(),
        new nn.Linear(64 * 6 * 6, 128),
        new nn.ReLU(),
        new nn.Linear(128, 10),
      ),
    optimizer: (params) => new optim.Adam(params, { lr: 1e-3 }),
  },
});
