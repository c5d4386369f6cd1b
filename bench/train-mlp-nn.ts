// Training speed of the MLP of train-mlp (784-500-10, ReLU, batch 64, cross-entropy, SGD lr 0.01,
// random inputs), written the way a user writes it: nn.Sequential of nn.Linear / nn.ReLU, and
// optim.SGD, against the same model and torch.optim.SGD in PyTorch (bench/peers/train_mlp.py, the
// peer of train-mlp too). The harness (bench/lib/training.ts) loads the peer's initial weights into
// the model by name, runs zeroGrad / forward / crossEntropy / backward / step, checks the losses
// agree, warms up, and interleaves the timed repetitions. Metric: training images per second.
//
//   node dist/bench/train-mlp-nn.js [--threads N] [--reps 11] [--steps 300] [--batch 64]
import { nn, optim } from '../src/index.js';
import { runTrainingBench } from './lib/training.js';

await runTrainingBench({
  name: 'train-mlp-nn',
  title: 'MLP 784-500-10 (ReLU) from nn modules, cross-entropy, optim.SGD lr 0.01, random inputs',
  peerScript: 'train_mlp.py',
  goal: 1.2,
  defaults: { batch: 64, batches: 8, steps: 300, warmup: 100, reps: 11, check: 5 },
  module: {
    model: () => new nn.Sequential(new nn.Linear(784, 500), new nn.ReLU(), new nn.Linear(500, 10)),
    optimizer: (params) => new optim.SGD(params, { lr: 0.01 }),
  },
});
