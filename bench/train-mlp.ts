// Training speed of an MLP 784-500-10 (ReLU), batch 64, cross-entropy, plain SGD (lr 0.01), on
// random 784-float inputs; Tessera written with raw ops (train-mlp-nn is the same with nn modules
// and optim.SGD), against the same model in PyTorch with torch.optim.SGD (bench/peers/train_mlp.py).
// Metric: training images per second.
// The harness (bench/lib/training.ts) gives both sides the same initial weights and batches, checks
// the losses agree, warms up, and interleaves the timed repetitions.
//
//   node dist/bench/train-mlp.js [--threads N] [--reps 11] [--steps 300] [--batch 64]
import { crossEntropyLoss, linear, noGrad, relu, scope, type Tensor } from '../src/index.js';
import { runTrainingBench } from './lib/training.js';

const lr = 0.01;

await runTrainingBench({
  name: 'train-mlp',
  title: 'MLP 784-500-10 (ReLU), cross-entropy, SGD lr 0.01, random inputs',
  peerScript: 'train_mlp.py',
  goal: 1.0,
  defaults: { batch: 64, batches: 8, steps: 300, warmup: 100, reps: 11, check: 5 },
  makeStep(params) {
    const [w1, b1, w2, b2] = params as [Tensor, Tensor, Tensor, Tensor];
    // One scope per step: everything the step creates (activations, loss, gradient handles) is
    // released when it ends; the parameters were created outside and live on.
    return (x, y) =>
      scope(() => {
        for (const p of params) p.grad = null; // zero_grad(set_to_none=True)
        const loss = crossEntropyLoss(linear(relu(linear(x, w1, b1)), w2, b2), y);
        loss.backward();
        noGrad(() => {
          for (const p of params) p.add_(p.grad as Tensor, { alpha: -lr }); // torch.optim.SGD: p += -lr * g
        });
        return loss.item() as number;
      });
  },
});
